"""Recognition figures, every system on the same audio in the same run.

Systems (columns):
  voicecoach   the embedded default: the front end (noise floor, RNNoise), the Silero
               endpointer that tracks the room's background, PocketSphinx on the command
               grammar, the verifier (decoder scores fused with the speech embedding), and
               a second opinion on what it rejects (Whisper tiny.en, then Moonshine tiny,
               second_opinion.py)
  no-second-opinion  the same without the second opinion (as before December 6, later)
  whisper-listener, moonshine-listener
               the same with one open listener of the second opinion only
  voicecoach-low, voicecoach-high
               the same at the verifier's other sensitivities (--sensitivity)
  no-denoise   the same without RNNoise
  no-rejection the same, every decode taken as a command (what the decoder gets right)
  decoder      the same front end and endpointer with the decoder-only confidence model
  naive        PocketSphinx with the short commands (at most two words, every intent) as a
               JSGF grammar, its energy endpointer, every decode taken as a command (what a
               first attempt would do)
  jsgf         the same with every sentence of the grammar (slow: slower than real time)
  full-lm      PocketSphinx with its full English language model, then fuzzy matching
  vosk         Vosk on the grammar (needs a model, see models/README.md)
Recordings are heard as `voicecoach recognize` hears a file: the endpointer knows the
recording's background from the start (stream.recording_recognizer), except for the naive,
jsgf and full-lm systems, which hear it as it comes, with the wheel's model as it is (not
adapted by voicecoach's transform, pocketsphinx_engine.ADAPTATION).

Audio (rows):
  the test clips (tests/audio/cases.toml; synthetic test voices never used in training):
  commands and other speech, clean, in pink noise at 10 dB and babble at 15 dB; the clean
  commands again in *continuous* noise (3 s of it before the command and 1.5 s after, as in a
  room with a fan or a TV on); and, with --human DIR, real people: words that are commands
  (digits answer the pain question, and are heard as after it: Session.awaited), as recorded
  and again in the same continuous pink noise and babble as the test clips, words that are
  not, and sentences: the "eval" half of
  the human set only (bench/humanset.py), speakers the verifier never trained on. The words
  and sentences are heard a second time as if the coach had just asked a question (in turn,
  the pain question and "shall we end the session?"), when answers are taken more readily.
  With --human, the sentences are also joined into one stream, as from a TV, and played alone
  and as three-talker babble: every command heard in them is a false command (per hour).

    .venv/bin/python bench/asr.py [--systems voicecoach,naive] [--human DIR] [--limit N]

The human set is not in the repository (see bench/README.md for where its recordings come
from); its folder holds manifest.tsv (path, kind word|sentence|request|noise, text, speaker,
source, license, rate) and the 16 kHz WAV files. Requests (people ordering coffee from a voice
assistant) have rows of their own, and so has AN4 (people saying yes, no, stop, repeat, help,
and words and numbers that are not commands), every one of its recordings heard whatever
--human-every says ("yes" and "no" as answers to "shall we end the session?"), and so have
DSPSpeech-20's words (Mandarin and English, said by students into their own computers). No
figure here is used to tune anything.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final

import numpy as np

from voicecoach.core.catalog import load_catalog
from voicecoach.core.grammar import Grammar, load_grammar, to_jsgf
from voicecoach.core.intents import CommandIndex, Intent, build_index, match
from voicecoach.core.session import ANSWERS_AWAITED, SayAgain, awaited_as_answer
from voicecoach.hearing.asr import Decoded, Engine, Utterance
from voicecoach.hearing.asr.frontend import Denoiser
from voicecoach.hearing.asr.pocketsphinx_engine import (
    PocketSphinxEngine,
    clean_words,
    grammar_dictionary,
    model_paths,
    new_decoder,
    read_pronunciations,
)
from voicecoach.hearing.asr.stream import Recognizer, recording_recognizer
from voicecoach.hearing.audio import SAMPLE_RATE, Samples, read_wav, silence, to_int16
from voicecoach.hearing.audiotests import load_script
from voicecoach.hearing.recognition import AFTER_RECORDING_S, build_engine, understand
from voicecoach.hearing.synthetic import (
    PAD_S,
    TEST_VOICES,
    active_rms,
    babble,
    pink_noise,
    synthesize,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from humanset import HumanRecording, read_human_set

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "audio" / "cases.toml"
FRAME = 320  # 20 ms, as from a microphone
CONTINUOUS_LEAD_S = 3.0
CONTINUOUS_TAIL_S = 1.5
HUMAN_PAD_S = 0.5
"""Quiet added around each human clip (some are cut tight to the word), as a microphone gives."""
TV_GAP_S = (0.3, 1.2)
"""Pauses between sentences of the TV-like stream."""
BABBLE_TEXTS = [  # spoken by the test voices, for the continuous babble
    "and in other news tonight the city council voted to extend the library hours",
    "I was thinking we could have pasta for dinner unless you want something else",
    "the weather tomorrow will be cloudy with a chance of rain in the afternoon",
    "she said the meeting moved to thursday so we have a bit more time to prepare",
    "this season's final episode drew the largest audience the network has seen",
]
SYSTEM_NAMES = {
    "voicecoach": "voicecoach",
    "voicecoach-low": "sensitivity low",
    "voicecoach-high": "sensitivity high",
    "no-denoise": "no RNNoise",
    "no-second-opinion": "no second opinion",
    "whisper-listener": "whisper listener",
    "moonshine-listener": "moonshine listener",
    "no-rejection": "no rejection",
    "decoder": "decoder only",
    "naive": "naive JSGF",
    "jsgf": "JSGF, every sentence",
    "full-lm": "full LM",
    "vosk": "vosk",
}


class JsgfEngine:
    """The naive grammar decoder: the commands as JSGF, whatever it decodes is the command."""

    name = "pocketsphinx-jsgf"

    def __init__(self, grammar: Grammar, *, most_words: int = 0) -> None:
        """`most_words`: only the sentences of at most this many words (0: all of them)."""
        words = grammar.words()
        extra = read_pronunciations(grammar.path / "pronunciations.dict")
        if most_words:
            sentences = sorted({p.text for p in grammar.phrases()})
            short = [t for t in sentences if len(t.split()) <= most_words]
            jsgf = "#JSGF V1.0;\ngrammar short;\npublic <command> = " + " | ".join(short) + ";\n"
        else:
            jsgf = to_jsgf(grammar)
        with tempfile.TemporaryDirectory(prefix="voicecoach-bench-") as folder:
            path = Path(folder) / "commands.gram"
            path.write_text(jsgf, encoding="utf-8")
            small = Path(folder) / "grammar.dict"
            small.write_text(grammar_dictionary(model_paths()["dict"], words, extra), "utf-8")
            self.decoder = new_decoder(adapted=False, jsgf=str(path), dict=str(small))
        self._segment: list[bytes] = []

    def start(self) -> None:
        self._segment = []

    def feed(self, samples: Samples) -> None:
        self._segment.append(samples.tobytes())

    def partial(self) -> str:
        return ""

    def expect(self, intents: frozenset[str]) -> None:
        """Every decode is taken: nothing changes."""

    def finish(self) -> Decoded:
        self.decoder.start_utt()
        self.decoder.process_raw(b"".join(self._segment), False, True)
        self.decoder.end_utt()
        hyp = self.decoder.hyp()
        text = clean_words(hyp.hypstr) if hyp else ""
        return Decoded(text, 1.0, accepted=bool(text))


class FullLanguageModelEngine(JsgfEngine):
    """Open-vocabulary decoding; the matcher then fuzzy-matches the text."""

    name = "pocketsphinx-lm"

    def __init__(self, grammar: Grammar) -> None:
        self.decoder = new_decoder(adapted=False, lm=model_paths()["lm"])
        self._segment = []


@dataclass(frozen=True)
class System:
    engine: Engine
    endpointer: str
    denoiser: Denoiser
    primed: bool
    """Whether a recording's background is known from the start, as `voicecoach recognize`
    hears a file."""


def with_front_end(engine: Engine) -> System:
    """`engine` behind voicecoach's own front end: the Silero endpointer, RNNoise, and the
    recording's background known from its first sample."""
    return System(engine, "silero", "rnnoise", True)


def make_system(key: str, grammar: Grammar, index: CommandIndex) -> System:
    if key == "voicecoach":
        return with_front_end(PocketSphinxEngine(grammar, index=index))
    if key.startswith("voicecoach-"):  # at another sensitivity: voicecoach-low, voicecoach-high
        engine = PocketSphinxEngine(grammar, sensitivity=key.split("-", 1)[1], index=index)
        return with_front_end(engine)
    if key.endswith("-listener"):  # one open listener only: whisper-listener, moonshine-listener
        listener = key.removesuffix("-listener")
        return with_front_end(PocketSphinxEngine(grammar, listeners=(listener,), index=index))
    if key == "no-second-opinion":
        return with_front_end(PocketSphinxEngine(grammar, second_opinion=False))
    if key == "no-denoise":
        return System(PocketSphinxEngine(grammar, index=index), "silero", "none", True)
    if key == "no-rejection":
        return with_front_end(PocketSphinxEngine(grammar, rejection="none"))
    if key == "decoder":
        return with_front_end(PocketSphinxEngine(grammar, rejection="decoder"))
    if key == "naive":
        return System(JsgfEngine(grammar, most_words=2), "energy", "none", False)
    if key == "jsgf":
        return System(JsgfEngine(grammar), "energy", "none", False)
    if key == "full-lm":
        return System(FullLanguageModelEngine(grammar), "energy", "none", False)
    return with_front_end(build_engine("vosk", grammar, index))


@dataclass(frozen=True)
class Clip:
    row: str
    """The row of the table it counts in."""
    expect: str | None
    slots: tuple[tuple[str, object], ...]
    path: Path
    setting: str = "as recorded"
    """"as recorded", "pink" or "babble" (continuous noise around it), "human" (padded)."""
    seed: int = 0
    speech_end_s: float | None = None
    """Where speech ends in the audio (known for the test clips): for the latency."""
    awaited: frozenset[str] = frozenset()
    """What the coach is waiting for when it is said (`Session.awaited`): the human digits are
    heard as the answer to "how bad is it, from zero to ten?"."""
    pad_s: float = HUMAN_PAD_S
    """Quiet added around a human clip."""
    level_db: float = 0.0
    """How much louder (or, below 0, quieter) than recorded it is heard (--level-db)."""


_talkers: list[Samples] = []


def load_clip(clip: Clip) -> Samples:
    samples = read_wav(clip.path)
    if clip.level_db:
        samples = to_int16(samples * 10 ** (clip.level_db / 20))
    if clip.setting == "human":
        pad = silence(clip.pad_s)
        return np.concatenate([pad, samples, pad])
    if clip.setting == "pink":
        return in_noise(samples, pink_noise(samples.size + 5 * SAMPLE_RATE, clip.seed), 10.0)
    if clip.setting == "babble":
        if not _talkers:
            voices = TEST_VOICES[-len(BABBLE_TEXTS) :]
            _talkers.extend(synthesize(t, v) for t, v in zip(BABBLE_TEXTS, voices, strict=True))
        rng = np.random.default_rng(clip.seed)
        chosen = [_talkers[i] for i in rng.choice(len(_talkers), 3, replace=False)]
        offset = int(rng.integers(SAMPLE_RATE))
        noise = babble(chosen, samples.size + 6 * SAMPLE_RATE)[offset:]
        return in_noise(samples, noise, 15.0)
    return samples


@dataclass
class Tally:
    right: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    audio_s: float = 0.0
    decode_s: float = 0.0
    latency_audio_s: list[float] = field(default_factory=list)
    latency_compute_s: list[float] = field(default_factory=list)
    false_heard: dict[str, list[tuple[float, str]]] = field(default_factory=dict)
    """Per stream, the audio time (seconds) and intent of each false command."""
    asked_again: Counter[str] = field(default_factory=Counter)
    """Per stream, how often the coach would ask "Sorry, say that again?" (recognise)."""
    near_missed: Counter[str] = field(default_factory=Counter)
    """Per row of other speech, the clips rejected with a near miss among them: where a
    session's coach would ask "Sorry, say that again?" (at most once every 20 s, and not while
    the room talks)."""
    stream_s: dict[str, float] = field(default_factory=dict)
    load_s: float = 0.0
    peak_mb: float = 0.0
    clips: list[dict[str, object]] = field(default_factory=list)
    """Per clip, what was expected and taken, and every final decode with why it was taken or
    not (`--clips`)."""

    def add(self, other: Tally) -> None:
        """Counts in `other`'s clips and streams too (a system's clips heard in shares by
        several processes, `--split`): sums and lists joined; load time and peak memory are
        the largest of one process."""
        self.right.update(other.right)
        self.total.update(other.total)
        self.audio_s += other.audio_s
        self.decode_s += other.decode_s
        self.latency_audio_s += other.latency_audio_s
        self.latency_compute_s += other.latency_compute_s
        self.false_heard |= other.false_heard
        self.asked_again.update(other.asked_again)
        self.near_missed.update(other.near_missed)
        self.stream_s |= other.stream_s
        self.load_s = max(self.load_s, other.load_s)
        self.peak_mb = max(self.peak_mb, other.peak_mb)
        self.clips += other.clips

    def rate(self, key: str) -> str:
        if not self.total[key]:
            return "-"
        return f"{self.right[key] / self.total[key]:.1%} ({self.right[key]}/{self.total[key]})"


def condition_of(name: str) -> str:
    return "pink 10 dB" if "+pink" in name else "babble 15 dB" if "+babble" in name else "clean"


def in_noise(samples: Samples, noise: np.ndarray, snr_db: float) -> Samples:
    """`samples` with CONTINUOUS_LEAD_S before and CONTINUOUS_TAIL_S after, all of it under
    `noise` at `snr_db` below the speech's active level."""
    lead = np.zeros(round(CONTINUOUS_LEAD_S * SAMPLE_RATE), np.int16)
    tail = np.zeros(round(CONTINUOUS_TAIL_S * SAMPLE_RATE), np.int16)
    audio = np.concatenate([lead, samples, tail])
    noise = np.resize(noise, audio.size)
    gain = active_rms(samples) / float(np.sqrt(np.mean(noise**2)) or 1.0) / 10 ** (snr_db / 20)
    return to_int16(np.clip(audio + gain * noise, -32000, 32000))


def test_clips(script: Path, limit: int) -> list[Clip]:
    cases = load_script(script)
    if limit:
        cases = cases[:limit]
    clips = []
    for number, case in enumerate(cases):
        condition = condition_of(case.audio.name)
        kind = "commands" if case.expect else "other speech rejected"
        slots = tuple(sorted(case.slots.items()))
        clip_s = read_wav(case.audio).size / SAMPLE_RATE
        row = f"{kind}, {condition}"
        # A rating, yes or no is heard as the answer to the coach's question, as `voicecoach
        # test` hears it.
        awaited = awaited_as_answer(case.expect)
        clips.append(
            Clip(row, case.expect, slots, case.audio, speech_end_s=clip_s - PAD_S, awaited=awaited)
        )
        if case.expect and condition == "clean" and number % 2 == 0:
            for noise, name in (("pink", "pink 10 dB"), ("babble", "babble 15 dB")):
                row = f"commands, {name}, continuous"
                clips.append(
                    Clip(row, case.expect, slots, case.audio, noise, number, awaited=awaited)
                )
    return clips


def awaited_in_turn(number: int) -> frozenset[str]:
    """The answers the coach waits for after one of its questions, the questions taken in turn
    by `number` (a pain rating, then yes or no): other speech is heard so a second time."""
    return ANSWERS_AWAITED[sorted(ANSWERS_AWAITED)[number % len(ANSWERS_AWAITED)]]


REQUESTS_ROW: Final = "human requests to a voice assistant (coffee orders) rejected"
AN4_SOURCE: Final = "CMU AN4"
"""The human-set source too small to thin: every recording of AN4's is heard, whatever
--human-every says, in rows of its own."""
AN4_COMMANDS_ROW: Final = "human commands other than digits (AN4)"
AN4_OTHER_ROW: Final = "human words and numbers, not commands, rejected (AN4)"


DSPSPEECH_SOURCE: Final = "zhongyuchen/DSPSpeech-20"
DSPSPEECH_ROW: Final = "human words said into web browsers, not commands, rejected (DSPSpeech-20)"
"""Isolated words, Mandarin and English, that students recorded on their own computers: rows of
their own, so the rows of the sources before them keep their totals."""


def from_an4(recording: HumanRecording) -> bool:
    return recording.source.startswith(AN4_SOURCE)


def human_row(recording: HumanRecording, command: bool) -> str:
    """The row a human recording is counted in, heard as it comes."""
    if from_an4(recording):
        return AN4_COMMANDS_ROW if command else AN4_OTHER_ROW
    if recording.source == DSPSPEECH_SOURCE and not command:
        return DSPSPEECH_ROW
    if command:
        return "human commands"
    if recording.kind == "word":
        return "human words, not commands, rejected"
    if recording.kind == "request":
        return REQUESTS_ROW
    return "human sentences rejected"


def human_awaited_row(recording: HumanRecording) -> str:
    """The row it is counted in when heard while the coach waits for an answer."""
    if from_an4(recording):
        return f"{AN4_OTHER_ROW} while an answer is awaited"
    if recording.source == DSPSPEECH_SOURCE:
        return f"{DSPSPEECH_ROW} while an answer is awaited"
    if recording.kind == "request":
        return f"{REQUESTS_ROW} while an answer is awaited"
    return "human words and sentences rejected while an answer is awaited"


def human_clips(
    folder: Path, index: CommandIndex, every: int, pad_s: float = HUMAN_PAD_S
) -> list[Clip]:
    """The eval half's human words that are commands, words that are not, and sentences
    (never commands), with `pad_s` of quiet around each: every `every`th, and all of AN4's."""
    clips = []
    recordings = [r for r in read_human_set(folder) if r.half == "eval" and r.kind != "noise"]
    for number, recording in enumerate(recordings):
        if number % every and not from_an4(recording):
            continue
        word = recording.kind == "word" and recording.text
        intent = match(recording.text, index) if word else None
        if word and intent is not None and intent.score >= 100:
            expect, slots = intent.name, tuple(sorted(intent.slots.items()))
        else:
            expect, slots = None, ()
        awaited = awaited_as_answer(expect)
        name = human_row(recording, expect is not None)
        clips.append(
            Clip(name, expect, slots, recording.path, "human", awaited=awaited, pad_s=pad_s)
        )
        if expect is not None:
            # The same command in a room with a fan, or people talking, on (as the test clips'
            # continuous rows): real voices in noise.
            for noise, condition in (("pink", "pink 10 dB"), ("babble", "babble 15 dB")):
                clips.append(
                    Clip(
                        f"{name}, {condition}, continuous", expect, slots, recording.path,
                        noise, number, awaited=awaited,
                    )
                )  # fmt: skip
        if expect is None:
            # The same speech while the coach waits for an answer (in turn: a pain rating, yes
            # or no), when an answer is taken more readily.
            clips.append(
                Clip(
                    human_awaited_row(recording), None, (), recording.path, "human",
                    awaited=awaited_in_turn(len(clips)), pad_s=pad_s,
                )
            )  # fmt: skip
    return clips


def tv_streams(folder: Path, minutes: float) -> dict[str, Samples]:
    """The eval half's human sentences (not AN4's spelled names and numbers) joined into a
    TV-like stream (one talker at a time) of at most `minutes`, and three such streams, offset,
    as babble."""
    recordings = read_human_set(folder)
    paths = [
        r.path for r in recordings if r.half == "eval" and r.kind == "sentence" and not from_an4(r)
    ]
    return joined_as_tv(paths, minutes, "")


def joined_as_tv(paths: list[Path], minutes: float, label: str) -> dict[str, Samples]:
    """The recordings at `paths`, shuffled, at one level, one after another with short pauses
    (looped until `minutes`), and three such streams, offset, as babble; none when there are
    no recordings (a human set of words only, say)."""
    if not paths:
        return {}
    rng = np.random.default_rng(7)
    order = list(paths)
    rng.shuffle(order)
    parts: list[Samples] = []
    total = 0
    while total <= minutes * 60 * SAMPLE_RATE:
        if parts:
            # Each loop in a new order, so that the babble's three offset talkers do not say
            # the same sentences together again when the stream is longer than its recordings.
            rng.shuffle(order)
        for path in order:
            speech = read_wav(path)
            speech = to_int16(speech * (3000 / (active_rms(speech) or 1.0)))
            parts += [speech, silence(float(rng.uniform(*TV_GAP_S)))]
            total += speech.size
            if total > minutes * 60 * SAMPLE_RATE:
                break
    stream = np.concatenate(parts)
    mixed = sum(np.roll(stream.astype(np.float64), k * stream.size // 3) for k in range(3))
    return {
        f"TV-like speech{label}": stream,
        f"three-talker babble{label}": to_int16(np.asarray(mixed) / 2),
    }


def recognise(
    system: System,
    samples: Samples,
    index: CommandIndex,
    *,
    asks_again: bool = False,
    asked: list[float] | None = None,
    near_misses: list[float] | None = None,
    heard: list[tuple[str, str]] | None = None,
) -> Iterator[tuple[str | None, tuple[tuple[str, object], ...], float, float]]:
    """(intent, slots, audio time decided, compute seconds for that frame) per final
    utterance, as live: 20 ms frames, then a second of quiet (a primed system's front end runs
    over the whole recording first, to know its background). `asks_again`: as in a session, a
    near miss makes the coach ask to hear it again and await the command it sounded like
    (session.SayAgain); the times it asks are added to `asked`. The times of every near miss
    that took no command are added to `near_misses`, asked about or not; the words and reason
    of every final utterance to `heard`."""
    audio = np.concatenate([samples, silence(AFTER_RECORDING_S)])
    if system.primed:
        recognizer, audio = recording_recognizer(
            system.engine, audio, endpointer=system.endpointer, denoiser=system.denoiser
        )
    else:
        recognizer = Recognizer(
            system.engine, endpointer=system.endpointer, denoiser=system.denoiser
        )
    say_again = SayAgain()

    def judged(utterance: Utterance) -> tuple[Intent | None, tuple[tuple[str, object], ...]]:
        """The command an utterance gives and its slots; a final near miss that gives none is
        added to `near_misses`."""
        intent = understand(utterance, index).intent
        if heard is not None and utterance.final:
            heard.append((utterance.text, utterance.reason))
        missed = utterance.final and intent is None and utterance.near_miss
        if near_misses is not None and missed:
            near_misses.append(recognizer.time_s)
        return intent, tuple(sorted(intent.slots.items())) if intent else ()

    for start in range(0, audio.size, FRAME):
        before = time.process_time()
        if asks_again:
            system.engine.expect(say_again.awaited(recognizer.time_s))
        piece = audio[start : start + FRAME]
        for utterance in recognizer.accept(piece):
            intent, slots = judged(utterance)
            took = time.process_time() - before
            if asks_again and utterance.final:
                if intent is not None:
                    say_again.heard()
                    system.engine.expect(frozenset())
                elif utterance.near_miss:
                    guess = match(utterance.text, index) if utterance.text else None
                    if say_again.ask(recognizer.time_s, guess.name if guess else None):
                        if asked is not None:
                            asked.append(recognizer.time_s)
                        system.engine.expect(say_again.awaited(recognizer.time_s))
            yield (intent.name if intent else None, slots, recognizer.time_s, took)
    for utterance in recognizer.flush():
        intent, slots = judged(utterance)
        yield (intent.name if intent else None, slots, recognizer.time_s, 0.0)
    if asks_again:
        system.engine.expect(frozenset())


def first_command(
    decisions: list[tuple[str | None, tuple[tuple[str, object], ...], float, float]],
) -> tuple[str, tuple[tuple[str, object], ...]] | None:
    """The first command (intent and slots) among a clip's decisions (`recognise`), if any."""
    return next(((i, s) for i, s, _, _ in decisions if i is not None), None)


def run_system(
    job: tuple[str, str, list[Clip], dict[str, Samples]],
) -> tuple[str, Tally]:
    key, context, clips, streams = job
    grammar = load_grammar(load_catalog(), context=context)
    index = build_index(grammar)
    tally = Tally()
    started = time.perf_counter()
    system = make_system(key, grammar, index)
    tally.load_s = time.perf_counter() - started
    name = SYSTEM_NAMES[key]
    for number, clip in enumerate(clips, 1):
        samples = load_clip(clip)
        system.engine.expect(clip.awaited)
        started = time.process_time()
        near: list[float] = []
        heard: list[tuple[str, str]] = []
        decisions = list(recognise(system, samples, index, near_misses=near, heard=heard))
        tally.decode_s += time.process_time() - started
        tally.audio_s += samples.size / SAMPLE_RATE
        got = first_command(decisions)
        if clip.expect is None:
            right = got is None
            tally.near_missed[clip.row] += right and bool(near)
        else:
            right = got == (clip.expect, clip.slots)
            tally.total[f"intent {clip.expect}"] += 1
            tally.right[f"intent {clip.expect}"] += right
        if clip.speech_end_s is not None and decisions:
            tally.latency_audio_s.append(decisions[0][2] - clip.speech_end_s)
            tally.latency_compute_s.append(decisions[0][3])
        tally.total[clip.row] += 1
        tally.right[clip.row] += right
        tally.clips.append(
            {
                "system": name,
                "row": clip.row,
                "path": str(clip.path),
                "awaited": sorted(clip.awaited),
                "expect": [clip.expect, dict(clip.slots)] if clip.expect else None,
                "taken": [got[0], dict(got[1])] if got else None,
                "right": right,
                "heard": [{"words": words, "reason": reason} for words, reason in heard],
            }
        )
        if number % 20 == 0:
            print(f"  {name}: {number}/{len(clips)}", file=sys.stderr, flush=True)
    system.engine.expect(frozenset())  # nothing asked while the TV talks
    for stream_name, samples in streams.items():
        started = time.process_time()
        asked: list[float] = []
        decided = recognise(system, samples, index, asks_again=True, asked=asked)
        taken = [d for d in decided if d[0] is not None]
        tally.asked_again[stream_name] = len(asked)
        tally.decode_s += time.process_time() - started
        tally.audio_s += samples.size / SAMPLE_RATE
        tally.false_heard[stream_name] = [(d[2], str(d[0])) for d in taken]
        tally.stream_s[stream_name] = samples.size / SAMPLE_RATE
        print(f"  {name}: {stream_name} done", file=sys.stderr, flush=True)
    tally.peak_mb = peak_rss_mb()
    return name, tally


def run_systems(
    keys: list[str],
    context: str,
    clips: list[Clip],
    streams: dict[str, Samples],
    *,
    jobs: int,
    split: int = 1,
) -> dict[str, Tally]:
    """Each system's tally (by its name), `jobs` processes at a time. With `split` above 1,
    a system's clips and streams are dealt out to that many processes, each with its own
    engine, and their tallies added: quicker, but the processes share the cores, which
    slows each one's computing (the real-time factor of the README is measured with a
    system to a process, alone on the machine)."""
    names = list(streams)
    work = [
        (
            key,
            context,
            clips[share::split],
            {name: streams[name] for name in names[share::split]},
        )
        for key in keys
        for share in range(split)
    ]
    results: dict[str, Tally] = {}
    with multiprocessing.Pool(min(jobs, len(work))) as pool:
        for name, tally in pool.map(run_system, work, chunksize=1):
            if name in results:
                results[name].add(tally)
            else:
                results[name] = tally
    return results


def write_clips(results: dict[str, Tally], path: Path) -> None:
    """Every system's clips, one JSON object a line (`Tally.clips`)."""
    with path.open("w", encoding="utf-8") as out:
        for tally in results.values():
            for record in tally.clips:
                out.write(json.dumps(record) + "\n")
    print(f"each clip's decodes and reasons: {path}")


def at_least_one(text: str) -> int:
    """An argparse type: a whole number of 1 or more (processes, shares, depths)."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {number}")
    return number


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM)."""
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024


def bare_python_rss_mb() -> float:
    code = (
        "print(next(int(line.split()[1]) for line in open('/proc/self/status') "
        "if line.startswith('VmHWM')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout) / 1024


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def report(results: dict[str, Tally], clips: list[Clip]) -> None:
    names = list(results)
    rows = list(dict.fromkeys(clip.row for clip in clips))
    width = 32
    print(f"\n{'':<40}" + "".join(f"{n:<{width}}" for n in names))
    for row in rows:
        print(f"{row:<40}" + "".join(f"{results[n].rate(row):<{width}}" for n in names))
    for row in rows:
        if any(clip.row == row and clip.expect is None for clip in clips):
            cells = [
                f"{t.near_missed[row] / t.total[row]:.1%} ({t.near_missed[row]}/{t.total[row]})"
                for t in (results[n] for n in names)
            ]
            label = f"near misses, {row}"
            print(f"{label:<40}" + "".join(f"{c:<{width}}" for c in cells))
    streams = list(results[names[0]].false_heard) if names else []
    for stream in streams:
        cells = []
        for name in names:
            t = results[name]
            hours = t.stream_s[stream] / 3600
            false = len(t.false_heard[stream])
            cells.append(f"{false / hours:.1f}/h ({false} in {60 * hours:.0f} min)")
        print(f"{'false commands, ' + stream:<40}" + "".join(f"{c:<{width}}" for c in cells))
    for stream in streams:
        cells = []
        for name in names:
            t = results[name]
            per_hour = t.asked_again[stream] / (t.stream_s[stream] / 3600)
            cells.append(f"{per_hour:.1f}/h ({t.asked_again[stream]})")
        print(f"{'asks again, ' + stream:<40}" + "".join(f"{c:<{width}}" for c in cells))
    for name in names:
        for stream, heard in results[name].false_heard.items():
            for at_s, intent in heard:
                minutes, seconds = divmod(at_s, 60)
                print(f"  {name}: {stream} at {minutes:.0f}:{seconds:04.1f} taken as {intent}")
    print()
    for name in names:
        t = results[name]
        compute_ms = [1000 * s for s in t.latency_compute_s]
        latency = (
            f"; after the end of speech the command is decided "
            f"{percentile(t.latency_audio_s, 0.5):.2f} s later in audio time (90th percentile "
            f"{percentile(t.latency_audio_s, 0.9):.2f} s), {percentile(compute_ms, 0.5):.0f} ms "
            f"of computing (90th percentile {percentile(compute_ms, 0.9):.0f} ms)"
            if t.latency_audio_s
            else ""  # where speech ends is known for the test clips only
        )
        print(
            f"{name}: real-time factor {t.decode_s / t.audio_s:.3f} ({t.decode_s:.0f} s CPU for "
            f"{t.audio_s:.0f} s of audio){latency}; "
            f"load {t.load_s:.2f} s, peak memory {t.peak_mb:.0f} MB"
        )
    print(f"(bare Python: {bare_python_rss_mb():.0f} MB)")
    print("\ncommands right per intent (all conditions):")
    intents = sorted({k for t in results.values() for k in t.total if k.startswith("intent ")})
    print(f"  {'':<16}" + "".join(f"{n:<{width}}" for n in names))
    for key in intents:
        print(f"  {key[7:]:<16}" + "".join(f"{results[n].rate(key):<{width}}" for n in names))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--systems",
        default="voicecoach,naive",
        help="comma-separated, of: " + ", ".join(SYSTEM_NAMES) + " (default: %(default)s)",
    )
    parser.add_argument("--script", type=Path, default=CASES, help="the test clips' script")
    parser.add_argument("--limit", type=int, default=0, help="only the first N test clips")
    parser.add_argument("--human", type=Path, help="a folder of human recordings (manifest.tsv)")
    parser.add_argument("--human-every", type=int, default=1, help="take every Nth human clip")
    parser.add_argument(
        "--human-pad",
        type=float,
        default=HUMAN_PAD_S,
        help="seconds of quiet around each human clip (0: as cut, often tight to the word)",
    )
    parser.add_argument(
        "--tv-minutes", type=float, default=15.0, help="length of the TV-like stream"
    )
    parser.add_argument(
        "--tv-from-tests",
        action="store_true",
        help="also a TV-like stream of the test clips' other speech (test voices, quiet)",
    )
    parser.add_argument(
        "--level-db",
        type=float,
        default=0.0,
        help="hear every clip this many dB louder than recorded (below 0: quieter, as from a "
        "microphone further away or turned down)",
    )
    parser.add_argument(
        "--babble-only",
        action="store_true",
        help="of the streams, hear only the three-talker babble (for a long one: --tv-minutes)",
    )
    parser.add_argument("--jobs", type=at_least_one, default=2, help="processes run in parallel")
    parser.add_argument(
        "--split",
        type=at_least_one,
        default=1,
        help="deal each system's clips out to this many processes (quicker; the real-time "
        "factor is then measured on shared cores)",
    )
    parser.add_argument(
        "--clips", type=Path, help="write each clip's decodes and reasons here (JSON lines)"
    )
    args = parser.parse_args()

    keys = [k.strip() for k in args.systems.split(",") if k.strip()]
    unknown = [k for k in keys if k not in SYSTEM_NAMES]
    if unknown:
        parser.error(f"unknown systems: {', '.join(unknown)}")
    context = load_script(args.script)[0].context
    clips = test_clips(args.script, args.limit)
    streams: dict[str, Samples] = {}
    if args.human is not None:
        if not (args.human / "manifest.tsv").is_file():
            parser.error(f"{args.human}: no manifest.tsv")
        index = build_index(load_grammar(load_catalog(), context=context))
        clips += human_clips(args.human, index, args.human_every, args.human_pad)
        streams = tv_streams(args.human, args.tv_minutes)
    if args.tv_from_tests:
        other = [c.path for c in clips if c.row == "other speech rejected, clean"]
        streams |= joined_as_tv(other, args.tv_minutes, " (test voices)")
    if args.level_db:
        clips = [replace(clip, level_db=args.level_db) for clip in clips]
    if args.babble_only:
        streams = {name: audio for name, audio in streams.items() if "babble" in name}
    results = run_systems(keys, context, clips, streams, jobs=args.jobs, split=args.split)
    if args.clips is not None:
        write_clips(results, args.clips)
    print(
        f"{sum(1 for c in clips if c.expect)} command clips, "
        f"{sum(1 for c in clips if not c.expect)} of other speech"
    )
    report({SYSTEM_NAMES[k]: results[SYSTEM_NAMES[k]] for k in keys}, clips)


if __name__ == "__main__":
    main()
