"""Barge-in on devices (`run --barge-in`): one full-duplex stream, driven here by a stand-in for
PortAudio that plays the speaker's blocks back into the microphone through a simulated room."""

from __future__ import annotations

import shutil
import time
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np
import pytest

from tests.test_bargein import energy_db
from voicecoach.hearing.asr.echo import SpeexEchoCanceller
from voicecoach.hearing.audio import AudioError, Samples
from voicecoach.hearing.room import room_response
from voicecoach.speaking import duplex as duplex_module
from voicecoach.speaking.duplex import DuplexAudio, DuplexSpeaker
from voicecoach.speaking.speakers import render_espeak
from voicecoach.testing import assert_one_line_error
from voicecoach.testing import run_cli as run

BLOCK = 320
SENTENCE = (
    "Lie on your back with your knees bent and both feet flat, about hip-width apart. "
    "Tighten your stomach muscles and gently roll your pelvis up, then hold."
)


class _PortAudioError(Exception):
    pass


class _FakeStream:
    """Calls back like PortAudio: the microphone block hears what the speaker played before,
    through the room, at a gain."""

    made: ClassVar[list[_FakeStream]] = []

    def __init__(self, callback: Any, blocksize: int, **options: Any) -> None:
        self.callback = callback
        self.blocksize = blocksize
        self.options = options
        self.response = room_response(seed=5) * 0.5
        self.played = np.zeros(self.response.size, np.float64)
        self.person = np.zeros(0, np.int16)
        self.started = self.closed = False
        _FakeStream.made.append(self)

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        self.closed = True

    def tick(self) -> Samples:
        """One callback; returns the block the speaker played."""
        history = self.played[-self.response.size :]
        echo = np.convolve(history, self.response)[history.size - self.blocksize : history.size]
        captured = echo
        if self.person.size:
            said, self.person = self.person[: self.blocksize], self.person[self.blocksize :]
            captured = captured + np.pad(said, (0, self.blocksize - said.size))
        out = bytearray(self.blocksize * 2)
        mic = np.clip(np.round(captured), -32768, 32767).astype(np.int16)
        self.callback(mic.tobytes(), memoryview(out), self.blocksize, None, None)
        block = np.frombuffer(bytes(out), np.int16)
        self.played = np.concatenate([self.played, block.astype(np.float64)])[
            -self.response.size - self.blocksize :
        ]
        return block


@pytest.fixture
def fake_portaudio(monkeypatch: pytest.MonkeyPatch) -> None:
    _FakeStream.made = []
    module = SimpleNamespace(RawStream=_FakeStream, PortAudioError=_PortAudioError)
    monkeypatch.setattr(duplex_module, "load_sounddevice", lambda: module)


def wait_until(condition: Any) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
def test_the_coach_is_played_cancelled_and_cut(fake_portaudio: None) -> None:
    canceller = SpeexEchoCanceller()
    with DuplexAudio(canceller, frame_samples=BLOCK) as audio:
        stream = _FakeStream.made[-1]
        assert stream.started and stream.options["device"] == (None, None)
        speaker = DuplexSpeaker(audio)
        speaker.say(SENTENCE, 0.0)
        speaker.say(SENTENCE, 0.0)
        wait_until(lambda: len(speaker.spoken) == 2)
        assert speaker.speaking(0.0)
        played, microphone = [], []
        for _ in range(300):  # 6 s
            played.append(stream.tick())
        microphone = audio.read_available()
        assert len(microphone) == 300
        heard = np.concatenate(microphone[150:])
        assert energy_db(np.concatenate(played[150:])) > 50  # the coach was talking
        # The echo is the played audio through the room, about as loud; cancelled, it drops.
        echo_level = energy_db(np.concatenate(played[150:])) + 20 * np.log10(0.5)
        assert echo_level - energy_db(heard) > 10

        # A stop cuts the sentence within a block and ends speaking at once.
        speaker.stop()
        assert not speaker.speaking(0.0)
        assert not stream.tick().any()
        speaker.close()
    assert stream.closed


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
def test_speaking_ends_when_the_last_block_is_played(fake_portaudio: None) -> None:
    with DuplexAudio(SpeexEchoCanceller(), frame_samples=BLOCK) as audio:
        stream = _FakeStream.made[-1]
        speaker = DuplexSpeaker(audio)
        speaker.say("Relax.", 0.0)
        wait_until(lambda: speaker.spoken)
        blocks = 0
        while speaker.speaking(0.0):
            stream.tick()
            blocks += 1
            assert blocks < 200
        program = shutil.which("espeak-ng")
        assert program is not None
        rendered = render_espeak(program, "Relax.", speaker.rate)
        assert blocks == -(-rendered.size // BLOCK)  # every block of it, and no more
        speaker.close()


def test_no_duplex_device_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(**options: Any) -> None:
        raise _PortAudioError("Invalid number of channels")

    module = SimpleNamespace(RawStream=refuse, PortAudioError=_PortAudioError)
    monkeypatch.setattr(duplex_module, "load_sounddevice", lambda: module)
    with pytest.raises(AudioError, match="no full-duplex audio"):
        DuplexAudio(SpeexEchoCanceller()).__enter__()


def test_barge_in_is_for_the_microphone() -> None:
    assert_one_line_error(run("run", "--text", "--barge-in"), "--barge-in")
    assert_one_line_error(run("run", "--barge-in", "--mute"), "--barge-in")
