"""The second opinion (second_opinion.py): Moonshine tiny hears a segment the verifier rejected
again, and the decode is taken when both heard the same command. Real recognition on real
recordings: CMU AN4's people saying "stop" (tests/data/human/an4) and the test voices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.test_awaited import SECOND_OPINION
from tests.test_human_commands import AN4
from tests.test_human_commands import STOPS as REAL_STOPS
from voicecoach.core.intents import CommandIndex, match
from voicecoach.hearing.asr.pocketsphinx_engine import PocketSphinxEngine
from voicecoach.hearing.asr.second_opinion import MoonshineListener, same_command
from voicecoach.hearing.asr.stream import recognize_samples
from voicecoach.hearing.audio import Samples, read_wav, silence
from voicecoach.hearing.recognition import understand

TEST_CLIPS = Path(__file__).parent / "audio" / "en"
OTHER_SPEECH = TEST_CLIPS / "oov_go to the kitchen and get a spoon@flite-slt-100.wav"


def recorded(path: Path) -> Samples:
    return np.concatenate([silence(0.5), read_wav(path), silence(1.0)])


@pytest.fixture(scope="module")
def listener() -> MoonshineListener:
    return MoonshineListener()


def test_the_open_listener_writes_down_real_people(
    listener: MoonshineListener, bundled_index: CommandIndex
) -> None:
    for name in REAL_STOPS:
        words = listener.transcribe(recorded(AN4 / name))
        heard = match(words, bundled_index)
        assert heard is not None and heard.name == "stop", f"{name}: '{words}'"
    assert listener.transcribe(silence(0.0)) == ""


def test_the_same_command_means_the_same_intent_and_slots(bundled_index: CommandIndex) -> None:
    phrase_of = {p.text: p for p in bundled_index.grammar.phrases()}
    assert same_command("Hang on.", "hang on", phrase_of, bundled_index)
    assert same_command("Pause the session, please.", "pause it", phrase_of, bundled_index)
    assert not same_command("Pause.", "hold it for three", phrase_of, bundled_index)
    assert not same_command("Hold it for four.", "hold it for three", phrase_of, bundled_index)
    assert not same_command("", "pause it", phrase_of, bundled_index)
    assert not same_command("Pause.", "not a sentence of the grammar", phrase_of, bundled_index)


def test_a_real_stop_the_verifier_doubts_is_taken_at_once(bundled_index: CommandIndex) -> None:
    """Without the second opinion each is a near miss (the coach would ask again); with it,
    Moonshine heard "stop" too, and the command is taken the first time."""
    alone = PocketSphinxEngine(bundled_index.grammar, second_opinion=False)
    both = PocketSphinxEngine(bundled_index.grammar)
    assert both.listener is not None
    for name in REAL_STOPS:
        (doubted,) = recognize_samples(alone, recorded(AN4 / name))
        assert not doubted.accepted and doubted.near_miss, doubted.reason
        (taken,) = recognize_samples(both, recorded(AN4 / name))
        intent = understand(taken, bundled_index).intent
        assert taken.accepted and intent is not None and intent.name == "stop", taken.reason
        assert SECOND_OPINION in taken.reason
        assert taken.confidence == doubted.confidence


class SaysPause:
    """An open listener that always hears "pause", and counts the segments it is asked."""

    name = "always pause"

    def __init__(self) -> None:
        self.asked = 0

    def transcribe(self, samples: Samples) -> str:
        self.asked += 1
        return "Pause."


def test_a_different_command_from_the_open_listener_leaves_a_rejection(
    bundled_index: CommandIndex,
) -> None:
    engine = PocketSphinxEngine(bundled_index.grammar)
    fake = SaysPause()
    engine.listener = fake
    heard = recognize_samples(engine, recorded(OTHER_SPEECH))
    assert heard and fake.asked == len(heard)
    for utterance in heard:
        intent = match(utterance.text, bundled_index) if utterance.text else None
        if intent is None or intent.name != "pause":
            assert not utterance.accepted, utterance.reason
