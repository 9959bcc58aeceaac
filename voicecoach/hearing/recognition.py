"""From sound to commands: picks and builds an engine, and turns utterances into intents."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from voicecoach.core.errors import VoiceCoachError
from voicecoach.core.grammar import Grammar
from voicecoach.core.intents import CommandIndex, Intent, match
from voicecoach.hearing.asr import Engine, Utterance
from voicecoach.hearing.asr.stream import Recognizer, recognize_samples
from voicecoach.hearing.asr.verifier import DEFAULT_SENSITIVITY
from voicecoach.hearing.audio import SAMPLE_RATE, Samples, read_wav, silence

ENGINES: Final = ("auto", "pocketsphinx", "vosk")
AFTER_RECORDING_S: Final = 1.0
"""Silence heard after a recording, as a microphone would give, so that the end of its speech
is found by the endpointer (as it is live) rather than by the end of the file. It is part of the
recording whose levels prime the endpointer's background (`stream.recording_recognizer`): a
recording cut tight to a word of half a second would otherwise have its own speech taken for
the background. On every eighth word of the human set's tune half heard as cut (December 5),
digits taken as the right answer: 81.9% (154 of 188) with it, 60.1% without it, 61.7% with
half a second of quiet after the file that the background is not primed with; other words
rejected 99.3% in all three."""
PROJECT_MODELS: Final = Path(__file__).resolve().parents[2] / "models"


@dataclass(frozen=True)
class Heard:
    """An utterance and the command it means (None when rejected or not a command)."""

    utterance: Utterance
    intent: Intent | None


def find_vosk_model(explicit: Path | None = None) -> Path | None:
    """--model, then $VOICECOACH_VOSK_MODEL, then models/vosk-model-* in the project, then
    Vosk's own cache folders."""
    if explicit is not None:
        if not (explicit / "am").is_dir() and not (explicit / "conf").is_dir():
            raise VoiceCoachError("not a Vosk model folder (no am/ or conf/ inside)", path=explicit)
        return explicit
    from_env = os.environ.get("VOICECOACH_VOSK_MODEL")
    if from_env:
        return find_vosk_model(Path(from_env))
    candidates = sorted(PROJECT_MODELS.glob("vosk-model-*"))
    for cache in (Path.home() / ".cache" / "vosk", Path("/usr/share/vosk")):
        candidates += sorted(cache.glob("vosk-model-*"))
    return next((c for c in candidates if c.is_dir()), None)


def build_engine(
    name: str,
    grammar: Grammar,
    index: CommandIndex,
    *,
    model: Path | None = None,
    sensitivity: str = DEFAULT_SENSITIVITY,
    second_opinion: bool = True,
) -> Engine:
    """The engine called `name` ("auto": Vosk when a model is found, else PocketSphinx).
    `sensitivity` (SENSITIVITIES) sets how readily PocketSphinx's verifier takes a command;
    Vosk has no verifier and hears the same at every sensitivity. `second_opinion`: whether
    PocketSphinx has what its verifier rejects heard again (second_opinion.py)."""
    if name not in ENGINES:
        raise VoiceCoachError(f"unknown engine '{name}' (engines: {', '.join(ENGINES)})")
    vosk_model = find_vosk_model(model) if name in ("auto", "vosk") else None
    if name == "vosk" or (name == "auto" and vosk_model is not None):
        if vosk_model is None:
            raise VoiceCoachError(
                "no Vosk model found: pass --model DIR, set VOICECOACH_VOSK_MODEL, or run "
                "'voicecoach model install' (see models/README.md)"
            )
        from voicecoach.hearing.asr.vosk_engine import VoskEngine

        return VoskEngine(vosk_model, grammar)
    from voicecoach.hearing.asr.pocketsphinx_engine import PocketSphinxEngine

    return PocketSphinxEngine(
        grammar, sensitivity=sensitivity, second_opinion=second_opinion, index=index
    )


def understand(utterance: Utterance, index: CommandIndex) -> Heard:
    if not utterance.accepted or not utterance.text:
        return Heard(utterance, None)
    return Heard(utterance, match(utterance.text, index))


@dataclass(frozen=True)
class FileResult:
    """What one recording gave (the first command heard in it, or the first utterance)."""

    path: Path
    heard: list[Heard]
    audio_s: float
    decode_s: float

    @property
    def command(self) -> Heard | None:
        return next((h for h in self.heard if h.intent is not None), None)

    @property
    def first(self) -> Heard | None:
        return self.command or (self.heard[0] if self.heard else None)


def hear_samples(samples: Samples, engine: Engine, index: CommandIndex) -> list[Heard]:
    return [understand(u, index) for u in recognize_samples(engine, samples)]


def hear_file(path: Path, engine: Engine, index: CommandIndex) -> FileResult:
    samples = read_wav(path)
    started = time.process_time()
    heard = hear_samples(np.concatenate([samples, silence(AFTER_RECORDING_S)]), engine, index)
    return FileResult(path, heard, samples.size / SAMPLE_RATE, time.process_time() - started)


def hear_until_command(
    recognizer: Recognizer, frames: Iterable[Samples], index: CommandIndex
) -> list[Heard]:
    """Feeds `frames` to `recognizer` until a command is heard. Returns the utterances heard,
    the command last when there was one; frames after the command are not read."""
    heard: list[Heard] = []
    for frame in frames:
        for utterance in recognizer.accept(frame):
            if utterance.final:
                heard.append(understand(utterance, index))
                if heard[-1].intent is not None:
                    return heard
    return heard


def listen_for_command(
    frames: Iterable[Samples], engine: Engine, index: CommandIndex
) -> list[Heard]:
    """Listens to `frames` (a microphone, up to a time limit) until a command is heard.

    Returns every utterance heard, the command last; when the frames end first, whatever was
    heard (noise, other talk), none of it a command. Frames after the command are not read."""
    recognizer = Recognizer(engine)
    heard = hear_until_command(recognizer, frames, index)
    if heard and heard[-1].intent is not None:
        return heard
    return heard + [understand(u, index) for u in recognizer.flush()]
