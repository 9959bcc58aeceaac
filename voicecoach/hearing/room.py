"""A simulated room for scripted runs (`run --script T.toml --echo DB`): the microphone hears
the coach's own voice, as the speaker played it, through the room (a short delay and
reverberation), mixed with the person's recordings. Barge-in and echo cancellation are tested
end to end with it, on simulated time, with no audio device.

Sample positions count from session time 0 at SAMPLE_RATE."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from voicecoach.core.speech import Spoken
from voicecoach.hearing.audio import SAMPLE_RATE, Samples

ROOM_DELAY_S: Final = 0.03
"""From the program's output to the microphone: the audio stack's output buffer (about 25 ms)
and 1.5 m of air (4 ms)."""
ROOM_RT60_S: Final = 0.3
"""Reverberation time of a furnished living room (0.3-0.5 s)."""
ROOM_RESPONSE_S: Final = 0.25
"""Length of the simulated room response (delay plus the reverberation tail that matters)."""
PERSON_LEVEL_DBFS: Final = -20.0
"""Active speech level that --echo counts from: the level of the bundled recordings of the
person (-17 to -23 dBFS). --echo 0 puts the coach at the microphone as loud as the person."""
CALIBRATION_SENTENCE: Final = "Rep one of five. Hold for ten seconds, then relax."
"""Rendered once to measure the coach's voice level."""


def room_response(seed: int = 0) -> np.ndarray:
    """A speaker-to-microphone impulse response: silence for ROOM_DELAY_S, a direct path, then
    exponentially decaying noise (ROOM_RT60_S); scaled to unit energy, so the coach's level at
    the microphone is set by the gain alone."""
    rng = np.random.default_rng(seed)
    delay = round(ROOM_DELAY_S * SAMPLE_RATE)
    length = round(ROOM_RESPONSE_S * SAMPLE_RATE)
    t = np.arange(length - delay) / SAMPLE_RATE
    tail = rng.standard_normal(t.size) * np.exp(-6.91 * t / ROOM_RT60_S) * 0.25
    tail[0] = 1.0
    response = np.concatenate([np.zeros(delay), tail])
    scaled: np.ndarray = response / np.sqrt(np.sum(response**2))
    return scaled


def active_rms(samples: Samples) -> float:
    """RMS of the 20 ms frames within 30 dB of the loudest one (the speech, not the pauses)."""
    x = samples.astype(np.float64)
    frames = x[: x.size - x.size % 320].reshape(-1, 320)
    if frames.size == 0:
        return 0.0
    energy = np.mean(frames**2, axis=1)
    active = energy[energy >= energy.max() * 1e-3]
    return float(np.sqrt(np.mean(active)))


@dataclass
class PlayedSpeech:
    """What the coach's speaker played, sample by sample: rebuilt from the speaker's timeline
    (`spoken`, cut short where the coach was stopped) and `synthesize`, the same renderer."""

    spoken: Callable[[], tuple[Spoken, ...]]
    synthesize: Callable[[str], Samples]
    _rendered: dict[tuple[int, str], Samples] = field(default_factory=dict)
    _first: int = 0
    """Index of the first utterance that may still reach the samples asked for."""

    def between(self, start: int, end: int) -> Samples:
        """Samples `start` to `end` (asked for in increasing order)."""
        block = np.zeros(end - start, np.int16)
        spoken = self.spoken()
        while self._first < len(spoken) and spoken[self._first].end_s * SAMPLE_RATE < start:
            self._rendered.pop((self._first, spoken[self._first].text), None)
            self._first += 1
        for index in range(self._first, len(spoken)):
            utterance = spoken[index]
            offset = round(utterance.start_s * SAMPLE_RATE)
            if offset >= end:
                break
            key = (index, utterance.text)
            if key not in self._rendered:
                self._rendered[key] = self.synthesize(utterance.text)
            samples = self._rendered[key][: round(utterance.duration_s * SAMPLE_RATE)]
            first, last = max(offset, start), min(offset + samples.size, end)
            if first < last:
                block[first - start : last - start] = samples[first - offset : last - offset]
        return block


@dataclass(frozen=True)
class RoomFrames:
    microphone: Samples
    """What the microphone hears: the coach through the room, and the person."""
    reference: Samples
    """What the speaker played meanwhile (an echo canceller's reference)."""
    echo: Samples
    """The coach's part of `microphone` alone (to measure echo reduction)."""
    person_speaking: bool
    """Whether the person's recordings are in `microphone`."""


class SimulatedRoom:
    """The microphone of a room where the coach's speaker plays at `echo_db` (see
    PERSON_LEVEL_DBFS) and the person's recordings are said at given times."""

    def __init__(self, played: PlayedSpeech, echo_db: float, seed: int = 0) -> None:
        self.played = played
        self.echo_db = echo_db
        self._response = room_response(seed)
        voice = active_rms(played.synthesize(CALIBRATION_SENTENCE))
        target = 32768.0 * 10 ** ((PERSON_LEVEL_DBFS + echo_db) / 20)
        self.gain = target / voice if voice > 0 else 0.0
        """Scale from the played samples to the coach's voice at the microphone."""
        self._history = np.zeros(self._response.size - 1)
        self._person: list[tuple[int, Samples]] = []
        self.position = 0
        """The next sample the microphone gives."""

    def say(self, samples: Samples, at: int) -> None:
        """The person says `samples` from sample `at` (not before the microphone's position)."""
        self._person.append((max(at, self.position), samples))

    def listen(self, samples: int) -> RoomFrames:
        """The next `samples` samples of the microphone."""
        start, end = self.position, self.position + samples
        dry = self.played.between(start, end)
        signal = np.concatenate([self._history, dry.astype(np.float64)])
        size = 1 << int(signal.size + self._response.size - 1).bit_length()
        wet = np.fft.irfft(np.fft.rfft(signal, size) * np.fft.rfft(self._response, size), size)
        echo = wet[self._history.size : self._history.size + samples] * self.gain
        self._history = signal[signal.size - self._history.size :]
        microphone = echo.copy()
        person = False
        for at, speech in self._person:
            first, last = max(at, start), min(at + speech.size, end)
            if first < last:
                microphone[first - start : last - start] += speech[first - at : last - at]
                person = True
        self._person = [(at, s) for at, s in self._person if at + s.size > end]
        self.position = end
        return RoomFrames(_to_int16(microphone), dry, _to_int16(echo), person)


def _to_int16(signal: np.ndarray) -> Samples:
    return np.clip(np.round(signal), -32768, 32767).astype(np.int16)
