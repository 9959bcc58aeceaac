"""A talking room (a TV, a conversation): after seconds of speech that was not a command, a
command must be surer to be taken."""

from __future__ import annotations

import numpy as np
import pytest

from voicecoach.hearing.asr import Decoded
from voicecoach.hearing.asr.stream import (
    TALK_S,
    TALK_WINDOW_S,
    TALKING_ROOM_CONFIDENCE,
    Recognizer,
    RoomTalk,
    recognize_samples,
)
from voicecoach.hearing.audio import SAMPLE_RATE, Samples, silence
from voicecoach.hearing.synthetic import TEST_VOICES, synthesize


def test_talk_is_counted_within_the_window_before_a_moment() -> None:
    room = RoomTalk()
    room.add(0.0, 2.0)
    room.add(5.0, 6.5)
    assert room.talk_before(7.0) == pytest.approx(3.5)
    assert room.talking(7.0) == (TALK_S <= 3.5)
    # Only what falls inside the window counts: at 11 s the window starts at 1 s.
    assert room.talk_before(1.0 + TALK_WINDOW_S) == pytest.approx(1.0 + 1.5)
    assert room.talk_before(30.0) == 0.0 and not room.talking(30.0)


def test_old_talk_is_forgotten() -> None:
    room = RoomTalk()
    for start in range(0, 600, 3):
        room.add(float(start), start + 2.0)
    assert len(room._talk) <= TALK_WINDOW_S / 3 + 2


class ShortCommandsEngine:
    """Every segment under 2 s is heard as "next", accepted at `confidence` (or, `near_miss`,
    rejected as a near miss); longer speech is rejected (it is talk)."""

    name = "fake"

    def __init__(self, confidence: float, near_miss: bool = False) -> None:
        self.confidence = confidence
        self.near_miss = near_miss
        self.samples = 0

    def start(self) -> None:
        self.samples = 0

    def feed(self, samples: Samples) -> None:
        self.samples += samples.size

    def partial(self) -> str:
        return ""

    def expect(self, intents: frozenset[str]) -> None:
        pass

    def finish(self) -> Decoded:
        if self.samples > 2 * SAMPLE_RATE:
            return Decoded("stop", 0.1, accepted=False, reason="rejected: talk")
        if self.near_miss:
            return Decoded("next", self.confidence, False, near_miss=True, reason="near miss")
        return Decoded("next", self.confidence, accepted=True, reason="accepted")


@pytest.fixture(scope="module")
def talk_then_command() -> tuple[Samples, Samples]:
    voice = TEST_VOICES[0]
    talk = synthesize(
        "and in other news tonight the city council voted to extend the library hours", voice
    )
    words = [
        synthesize("we will be back after the break with the weather", voice),
        synthesize("next", voice),
    ]
    return np.concatenate([silence(1.0), talk, silence(0.6), words[0], silence(0.6)]), words[1]


def test_a_command_right_after_talk_needs_a_surer_decode(
    talk_then_command: tuple[Samples, Samples],
) -> None:
    talk, command = talk_then_command
    audio = np.concatenate([talk, command, silence(1.0)])
    unsure = recognize_samples(ShortCommandsEngine(TALKING_ROOM_CONFIDENCE - 0.1), audio)
    assert [u.accepted for u in unsure][-1] is False
    assert unsure[-1].reason.startswith("rejected: the room is talking")
    sure = recognize_samples(ShortCommandsEngine(TALKING_ROOM_CONFIDENCE + 0.05), audio)
    assert sure[-1].accepted and sure[-1].text == "next"


def test_the_same_command_after_a_quiet_spell_is_taken(
    talk_then_command: tuple[Samples, Samples],
) -> None:
    talk, command = talk_then_command
    audio = np.concatenate([talk, silence(TALK_WINDOW_S + 1.0), command, silence(1.0)])
    heard = recognize_samples(ShortCommandsEngine(TALKING_ROOM_CONFIDENCE - 0.1), audio)
    assert heard[-1].accepted and heard[-1].text == "next"
    alone = recognize_samples(ShortCommandsEngine(0.5), np.concatenate([silence(1.0), command]))
    assert [u.accepted for u in alone] == [True]


def test_the_coachs_own_echo_is_not_the_rooms_talk(
    talk_then_command: tuple[Samples, Samples],
) -> None:
    """While the coach speaks (barge-in, through the echo canceller), speech that is not a
    command is its echo: the room does not become a talking one."""
    talk, command = talk_then_command
    engine = ShortCommandsEngine(TALKING_ROOM_CONFIDENCE - 0.1)
    recognizer = Recognizer(engine)
    recognizer.coach_speaking = True
    for start in range(0, talk.size, 320):
        recognizer.accept(talk[start : start + 320])
    recognizer.coach_speaking = False
    heard = []
    for piece in (command, silence(1.0)):
        for start in range(0, piece.size, 320):
            heard += recognizer.accept(piece[start : start + 320])
    heard += recognizer.flush()
    assert heard and heard[-1].accepted and heard[-1].text == "next"


def test_a_near_miss_in_a_talking_room_is_not_asked_about(
    talk_then_command: tuple[Samples, Samples],
) -> None:
    """The coach asks "Sorry, say that again?" after a near miss, but not of a TV."""
    talk, command = talk_then_command
    after_talk = np.concatenate([talk, command, silence(1.0)])
    heard = recognize_samples(ShortCommandsEngine(0.5, near_miss=True), after_talk)
    assert not heard[-1].accepted and not heard[-1].near_miss
    assert "not asked again: the room is talking" in heard[-1].reason
    alone = np.concatenate([silence(1.0), command, silence(1.0)])
    heard = recognize_samples(ShortCommandsEngine(0.5, near_miss=True), alone)
    assert [(u.accepted, u.near_miss) for u in heard] == [(False, True)]
