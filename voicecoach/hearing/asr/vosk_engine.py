"""Vosk (Kaldi) in grammar mode: the phrase list from the templates plus "[unk]".

Used when a Vosk model is installed (see models/README.md). Vosk's Python API (0.3.45) has no
endpointer settings, so segments come from the same endpointer as PocketSphinx's
(`asr.stream.Recognizer`), and each one is finished with `FinalResult()`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from voicecoach.core.errors import VoiceCoachError
from voicecoach.core.grammar import Grammar, vosk_phrases
from voicecoach.hearing.asr import Decoded
from voicecoach.hearing.audio import SAMPLE_RATE, Samples

UNKNOWN_WORD: Final = "[unk]"
# A word Vosk is less sure of than this (its posterior, 0-1) makes the utterance rejected.
MIN_WORD_CONFIDENCE: Final = 0.6


def parse_result(result: str | Mapping[str, Any]) -> Decoded:
    """Vosk's JSON result -> Decoded. Pure, so recorded outputs can test it.

    `{"text": "hold longer", "result": [{"word": ..., "conf": ...}, ...]}` (with SetWords), or
    `{"text": ...}` alone, or `{"partial": ...}`. "[unk]" anywhere means speech outside the
    grammar: rejected."""
    data: Mapping[str, Any] = json.loads(result) if isinstance(result, str) else result
    text = str(data.get("text", data.get("partial", ""))).strip()
    words = data.get("result") or []
    confidences = [float(w.get("conf", 1.0)) for w in words if isinstance(w, Mapping)]
    confidence = min(confidences) if confidences else (1.0 if text else 0.0)
    if not text:
        return Decoded("", 0.0, accepted=False)
    if UNKNOWN_WORD in text.split():
        heard = " ".join(w for w in text.split() if w != UNKNOWN_WORD)
        return Decoded(heard, 0.0, accepted=False)
    return Decoded(text, confidence, accepted=confidence >= MIN_WORD_CONFIDENCE)


def combine(pieces: list[Decoded]) -> Decoded:
    """One result for a segment that Vosk finished in several pieces."""
    heard = [p for p in pieces if p.text]
    if not heard:
        return Decoded("", 0.0, accepted=False)
    return Decoded(
        " ".join(p.text for p in heard),
        min(p.confidence for p in heard),
        accepted=all(p.accepted for p in heard),
    )


class VoskEngine:
    name = "vosk"

    def __init__(self, model_path: Path, grammar: Grammar) -> None:
        try:
            import vosk
        except ImportError as error:  # pragma: no cover - a dependency of the package
            raise VoiceCoachError(f"Vosk is not installed ({error}): pip install vosk") from None
        vosk.SetLogLevel(-1)
        self.model_path = model_path
        try:
            self.model = vosk.Model(str(model_path))
        except Exception as error:  # vosk raises a bare Exception
            raise VoiceCoachError(f"cannot load Vosk model: {error}", path=model_path) from None
        # One recogniser, reset for each segment: building the grammar graph is the slow part.
        self._recognizer: Any = vosk.KaldiRecognizer(
            self.model, SAMPLE_RATE, json.dumps(vosk_phrases(grammar))
        )
        self._recognizer.SetWords(True)
        self._pieces: list[Decoded] = []

    def start(self) -> None:
        self._recognizer.Reset()
        self._pieces = []

    def feed(self, samples: Samples) -> None:
        if self._recognizer.AcceptWaveform(samples.tobytes()):
            # Vosk's own endpointer closed a piece inside our segment: keep it.
            self._pieces.append(parse_result(self._recognizer.Result()))

    def partial(self) -> str:
        return parse_result(self._recognizer.PartialResult()).text

    def expect(self, intents: frozenset[str]) -> None:
        """Vosk's confidence is not calibrated per intent: nothing changes."""

    def finish(self) -> Decoded:
        self._pieces.append(parse_result(self._recognizer.FinalResult()))
        return combine(self._pieces)
