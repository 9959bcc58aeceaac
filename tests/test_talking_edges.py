"""A short segment the verifier rejects is decoded again without its edges when they hold talk:
in a room where people talk, the quarter second before a word and the moment after it are their
words, which the grammar can only explain as more command. Real people's digits (tests/data/human,
speakers never used for tuning) said inside babble of the test voices' own recordings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voicecoach.core.intents import CommandIndex
from voicecoach.hearing.asr import pocketsphinx_engine
from voicecoach.hearing.asr.pocketsphinx_engine import EDGE_SAMPLES, PocketSphinxEngine, edges_talk
from voicecoach.hearing.asr.silero import SileroVad
from voicecoach.hearing.asr.stream import recognize_samples
from voicecoach.hearing.audio import SAMPLE_RATE, Samples, read_wav, silence, to_int16
from voicecoach.hearing.recognition import understand
from voicecoach.hearing.synthetic import active_rms, babble

HUMAN = Path(__file__).parent / "data" / "human"
TEST_CLIPS = Path(__file__).parent / "audio" / "en"
TALKERS = (
    "oov_the bird and the dog were fighting again@espeak-en-029-f4-175-55.wav",
    "oov_she said to keep going straight past the church@flite-awb-110.wav",
    "oov_the cobra is one of the most venomous snakes@flite-rms-95.wav",
)
"""Sentences of the test clips that are not commands, spoken by three test voices."""
IN_BABBLE = {("0_nicolas_5.wav", 10000): 0, ("8_nicolas_14.wav", 12000): 8}
"""A digit, where in the babble it is said (samples into it), and the rating it says."""


def in_babble(digit: Samples, offset: int) -> Samples:
    """`digit` 2.5 s into three-talker babble, at 15 dB below it, which goes on 1 s after it."""
    lead, tail = np.zeros(round(2.5 * SAMPLE_RATE), np.int16), np.zeros(SAMPLE_RATE, np.int16)
    audio = np.concatenate([lead, digit, tail])
    talkers = [read_wav(TEST_CLIPS / name) for name in TALKERS]
    noise = babble(talkers, audio.size + offset)[offset:]
    gain = active_rms(digit) / float(np.sqrt(np.mean(noise**2))) / 10 ** (15 / 20)
    return to_int16(np.clip(audio + gain * noise, -32000, 32000))


@pytest.mark.parametrize(("name", "offset"), sorted(IN_BABBLE))
def test_a_real_digit_in_babble_is_taken_once_its_talking_edges_are_left_out(
    bundled_index: CommandIndex, monkeypatch: pytest.MonkeyPatch, name: str, offset: int
) -> None:
    engine = PocketSphinxEngine(bundled_index.grammar, index=bundled_index)
    engine.expect(frozenset({"rating"}))
    audio = in_babble(read_wav(HUMAN / name), offset)
    taken = [u for u in recognize_samples(engine, audio) if u.accepted]
    assert len(taken) == 1, taken
    intent = understand(taken[0], bundled_index).intent
    assert intent is not None and intent.name == "rating", taken[0].reason
    assert intent.slots["level"] == IN_BABBLE[name, offset]
    assert "which held talk" in taken[0].reason
    # With its edges as cut, the same segment is not taken as that rating.
    monkeypatch.setattr(pocketsphinx_engine, "EDGE_TALK", 2.0)  # no edge ever talks
    as_cut = [
        understand(u, bundled_index).intent for u in recognize_samples(engine, audio) if u.accepted
    ]
    assert all(i is None or i.slots.get("level") != IN_BABBLE[name, offset] for i in as_cut)


def test_edges_talk_when_they_hold_speech_and_not_when_they_are_quiet() -> None:
    vad = SileroVad()
    head, _ = EDGE_SAMPLES
    digit = read_wav(HUMAN / "3_theo_1.wav")
    quiet_edges = np.concatenate([silence(0.25), digit, silence(0.3)])
    assert not edges_talk(vad, quiet_edges)
    talk = read_wav(TEST_CLIPS / TALKERS[0])
    start = talk.size // 2
    talking_edges = np.concatenate(
        [talk[start - round(0.25 * SAMPLE_RATE) : start], digit, talk[start : start + head * 2]]
    )
    assert edges_talk(vad, talking_edges)
