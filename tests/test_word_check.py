"""Whisper's word-by-word check (word_check.py) on real recordings, and how the verifier takes
its `word_fit`: from the engine for every whole decode, and as the feature's mean where it is
missing."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from voicecoach.core.catalog import Catalog
from voicecoach.core.grammar import Grammar, load_grammar
from voicecoach.core.intents import CommandIndex
from voicecoach.hearing.asr.pocketsphinx_engine import PocketSphinxEngine
from voicecoach.hearing.asr.stream import recognize_samples
from voicecoach.hearing.asr.verifier import WHISPER_FEATURES, load_verifier
from voicecoach.hearing.asr.word_check import (
    MAX_TOKENS,
    MELS,
    MIN_TOKENS,
    WINDOW_FRAMES,
    WhisperCheck,
    frames_given,
    load_whisper,
    log_mel,
    token_budget,
    without_repeats,
    written,
)
from voicecoach.hearing.audio import read_wav

AUDIO = Path(__file__).parent / "audio" / "en"


@pytest.fixture(scope="module")
def check() -> WhisperCheck:
    return WhisperCheck()


def test_log_mel_is_the_start_of_whispers_window() -> None:
    speech = read_wav(AUDIO / "how long is left@flite-awb-110.wav")
    features, held = log_mel(speech)
    assert held == speech.size // 160
    assert features.shape == (MELS, frames_given(held))
    whole, _ = log_mel(speech, WINDOW_FRAMES)
    assert whole.shape == (MELS, WINDOW_FRAMES)
    assert np.array_equal(features, whole[:, : features.shape[1]])
    assert np.all(np.isfinite(whole))


def test_words_written_over_and_over_are_taken_once() -> None:
    assert without_repeats("Stop! Stop! Stop! Stop") == "Stop!"
    assert without_repeats("Can we skip now? Can we skip now? Can we") == "Can we skip now?"
    assert without_repeats("pause the countdown pause the countdown") == "pause the countdown"
    assert without_repeats("I wear myself. I wear myself") == "I wear myself."
    assert without_repeats("no no") == "no"
    assert without_repeats("Hold it for ten, ten seconds.") == "Hold it for ten, ten seconds."
    assert without_repeats("Next step") == "Next step"
    assert without_repeats("") == ""


def test_the_words_written_down_are_bounded_but_hold_any_command(
    check: WhisperCheck, bundled_index: CommandIndex
) -> None:
    longest = max(len(check.sentence_tokens(p.text)) for p in bundled_index.grammar.phrases())
    assert longest + 1 < MAX_TOKENS  # with its full stop, and room for a word more
    assert token_budget(0.5) == MIN_TOKENS + 3
    assert token_budget(10.0) == MAX_TOKENS


def test_written_as_whisper_writes() -> None:
    assert written("i'm done for today") == "I'm done for today"
    assert written("can i skip this") == "Can I skip this"


@pytest.mark.parametrize(
    ("clip", "own", "other"),
    [
        ("how long is left@flite-awb-110.wav", "how long is left", "let's do the bird dog"),
        ("pause@espeak-en-gb-scotland-m1-140-40.wav", "pause", "repeat"),
    ],
)
def test_a_recording_fits_its_own_sentence_better(
    check: WhisperCheck, clip: str, own: str, other: str
) -> None:
    samples = read_wav(AUDIO / clip)
    fits = check.mean_log_probability(samples, own), check.mean_log_probability(samples, other)
    assert fits[0] > fits[1] + 2.0


def test_a_segment_asked_about_again_gets_the_same_fit_and_another_its_own(
    check: WhisperCheck,
) -> None:
    pause = read_wav(AUDIO / "pause@espeak-en-gb-scotland-m1-140-40.wav")
    other = read_wav(AUDIO / "how long is left@flite-awb-110.wav")
    first = check.mean_log_probability(pause, "pause")
    elsewhere = check.mean_log_probability(other, "pause")
    assert check.mean_log_probability(pause.copy(), "pause") == first
    assert elsewhere < first - 2.0


def test_the_engine_gives_the_verifier_whispers_fit_of_each_whole_decode(
    bundled_grammar: Grammar,
) -> None:
    engine = PocketSphinxEngine(bundled_grammar, second_opinion=False)
    assert engine.word_check is not None
    heard = recognize_samples(engine, read_wav(AUDIO / "how long is left@flite-awb-110.wav"))
    assert [u.text for u in heard] == ["how long is left"]
    assert set(WHISPER_FEATURES) <= set(engine.last_features)
    assert engine.last_features["word_fit"] > -2.0


def test_the_verifier_takes_the_mean_fit_where_whispers_is_missing() -> None:
    verifier = load_verifier()
    assert set(WHISPER_FEATURES) <= set(verifier.fusion.features)
    probabilities = np.full(len(verifier.classifier.classes), 1 / len(verifier.classifier.classes))
    values = verifier.fusion_features({}, probabilities, verifier.classifier.classes, "pause")
    assert "word_fit" not in values
    mean = dict(zip(verifier.fusion.features, verifier.fusion.mean, strict=True))["word_fit"]
    assert verifier.fusion.probability(values) == pytest.approx(
        verifier.fusion.probability({**values, "word_fit": float(mean)})
    )


def test_without_its_wheels_there_is_no_check_and_the_engine_judges_without_it(
    bundled_grammar: Grammar, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ctranslate2", None)  # import ctranslate2: ImportError
    assert load_whisper() is None
    engine = PocketSphinxEngine(bundled_grammar, second_opinion=False)
    assert engine.word_check is None
    heard = recognize_samples(engine, read_wav(AUDIO / "how long is left@flite-awb-110.wav"))
    assert [u.text for u in heard] == ["how long is left"]
    assert "word_fit" not in engine.last_features


def test_a_question_the_verifier_does_not_know_is_not_checked(
    bundled_catalog: Catalog,
) -> None:
    """`ask`'s questions of the history are judged by the decoder's own model, so Whisper is not
    asked about them (its "what's next" is a session command, judged and checked as one)."""
    engine = PocketSphinxEngine(load_grammar(bundled_catalog, context="ask"))
    assert engine.word_check is not None
    clip = "what did i do last time@espeak-en-us-nyc-m5-170-35.wav"  # not a session command
    question = read_wav(AUDIO.parent / "questions" / clip)
    heard = recognize_samples(engine, question)
    assert [u.text for u in heard if u.accepted], [u.reason for u in heard]
    assert engine.last_features and "word_fit" not in engine.last_features
