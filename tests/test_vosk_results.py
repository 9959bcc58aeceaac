"""Vosk's result handling on outputs in its JSON format, and a real model when one is given."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from voicecoach.core.grammar import Grammar
from voicecoach.core.intents import CommandIndex
from voicecoach.hearing.asr import Decoded
from voicecoach.hearing.asr.vosk_engine import MIN_WORD_CONFIDENCE, combine, parse_result

FIXTURES = Path(__file__).parent / "data" / "vosk"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_words_with_confidence() -> None:
    decoded = parse_result(fixture("hold-longer.json"))
    assert decoded == Decoded("hold longer", 0.973412, accepted=True)


def test_unknown_word_means_rejected() -> None:
    decoded = parse_result(fixture("unknown-speech.json"))
    assert decoded.text == "next" and not decoded.accepted


def test_low_confidence_is_rejected() -> None:
    decoded = parse_result(fixture("low-confidence.json"))
    assert decoded.confidence < MIN_WORD_CONFIDENCE and not decoded.accepted


def test_empty_and_partial() -> None:
    assert parse_result(fixture("empty.json")) == Decoded("", 0.0, accepted=False)
    assert parse_result(fixture("partial.json")).text == "hold for twenty"
    assert parse_result(json.loads(fixture("hold-longer.json"))).text == "hold longer"


def test_pieces_of_one_segment_combine() -> None:
    pieces = [Decoded("hold for", 0.9), Decoded("", 0.0, accepted=False), Decoded("twenty", 0.8)]
    assert combine(pieces) == Decoded("hold for twenty", 0.8, accepted=True)
    assert combine([Decoded("", 0.0, accepted=False)]).accepted is False


@pytest.mark.skipif(
    not os.environ.get("VOICECOACH_VOSK_MODEL"),
    reason="set VOICECOACH_VOSK_MODEL to a Vosk model folder to run Vosk on real audio",
)
def test_real_vosk_model_on_recordings(
    bundled_grammar: Grammar, bundled_index: CommandIndex
) -> None:  # pragma: no cover - needs a model
    from voicecoach.hearing.asr.vosk_engine import VoskEngine
    from voicecoach.hearing.recognition import hear_file

    engine = VoskEngine(Path(os.environ["VOICECOACH_VOSK_MODEL"]), bundled_grammar)
    clips = sorted((Path(__file__).parent / "audio" / "en").glob("hold longer@*.wav"))
    assert clips
    results = [hear_file(clip, engine, bundled_index) for clip in clips]
    heard = [r.command.intent.name for r in results if r.command and r.command.intent]
    assert heard.count("hold_longer") >= len(clips) // 2
