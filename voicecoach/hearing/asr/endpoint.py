"""Where speech starts and ends, with a neural voice activity detector.

Silero VAD (silero.py; Home Assistant's voice pipeline uses it too) gives each 32 ms chunk
a probability of speech. It tells speech from steady noise (a fan, traffic, pink noise) that an
energy detector takes for speech: with pink noise at 10 dB under speech, PocketSphinx's own
endpointer never found the end of a command on six of the eight clips tried (the segment runs
on until it is too long to be one), this one found all eight. Speech from a TV is speech to
both. What tells the person from a TV or a conversation further off is loudness: the person
speaks to the coach from a metre or two, the room's other speech is quieter. So a chunk counts
as speech only when it is also FOREGROUND_MARGIN_DB above the room's background level, the
BACKGROUND_PERCENTILE of the smoothed chunk levels of the last BACKGROUND_WINDOW_S (noise-floor
tracking); it stays speech down to END_MARGIN_DB below that. In a quiet room the background is
the microphone's own noise and nothing changes. Measured on commands from the training voices
(never the test voices) inside 3-talker babble at 15 dB, 3 s of it before and 1.5 s after, the
decodes right before rejection went from 1.6% to 27.1% (pink noise at 10 dB: 53.7% to 52.1%;
quiet: 61.2% both; margins of 6, 9 and 12 dB and the 20th and 50th percentile were tried:
9 dB, 20th, 3 chunks was best on babble for a loss of at most 2 points in pink noise).

A segment starts when START_CHUNKS of the last START_WINDOW chunks are at least START_PROB,
and ends after END_S of chunks below END_PROB (hysteresis: a word's quiet consonants do not
end it).
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections import deque
from typing import Final

import numpy as np
import numpy.typing as npt

from voicecoach.hearing.asr.silero import SileroVad
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
FOREGROUND_MARGIN_DB: Final = 9.0
"""How far above the background level a chunk must be to start speech."""
END_MARGIN_DB: Final = 3.0
"""Hysteresis: speech goes on while chunks stay above background + margin - this."""
BACKGROUND_WINDOW_S: Final = 4.0
BACKGROUND_CHUNKS: Final = math.ceil(BACKGROUND_WINDOW_S / CHUNK_S)
"""How many chunk levels the background is the percentile of (125)."""
BACKGROUND_PERCENTILE: Final = 20.0
LEVEL_SMOOTH_CHUNKS: Final = 3
"""Chunk levels are the mean power of the last this many chunks (about 0.1 s)."""
BACKGROUND_MIN_S: Final = 0.25
"""The background is not known before this much audio. Speech that starts before then (a
recording that starts with the command) is Silero's alone for its first UNGATED_S: its own
level would otherwise be taken for the background. Measured on the test clips (decodes right
before rejection): of 85 quiet commands cut to start at their first sound, 49 were right with
the background taken from the first chunk on, 74 with Silero alone for the whole segment; of 70
commands with babble from the recording's first sample, 24 and 13. A microphone hears the room
before anyone speaks, so live input is gated from the start; only recordings are not."""
UNGATED_S: Final = 1.5
"""How long a segment that started before the background was known is Silero's alone: a word
said at once is whole; babble or a TV that was on from the first sample is cut after it."""


WARM_UP_CHUNKS: Final = 3
"""Skipped chunks Silero hears before a loud one (about 0.1 s)."""


class BackgroundLevel:
    """The room's background level (dB of mean power in 16-bit steps), tracked chunk by chunk:
    a low percentile of the recent smoothed levels, so it follows a fan or a TV going on and
    does not rise while the person speaks for a second or two."""

    def __init__(self) -> None:
        self._powers: deque[float] = deque(maxlen=LEVEL_SMOOTH_CHUNKS)
        self._levels: deque[float] = deque(maxlen=BACKGROUND_CHUNKS)
        self._sorted: list[float] = []
        """The same levels in order, for the percentile (np.percentile on every chunk cost 3%
        of all the computing in bench/asr.py's mix)."""
        self.level_db = 0.0
        """The last chunk's smoothed level."""

    def add(self, frame: bytes) -> None:
        samples = np.frombuffer(frame, dtype=np.int16).astype(np.float64)
        self._powers.append(float(np.mean(samples * samples)) if samples.size else 0.0)
        self.level_db = 10.0 * math.log10(sum(self._powers) / len(self._powers) + 1.0)
        self._keep(self.level_db)

    def _keep(self, level_db: float) -> None:
        """Adds a level to the window (and its sorted copy), dropping the oldest when full."""
        if len(self._levels) == self._levels.maxlen:
            del self._sorted[bisect_left(self._sorted, self._levels[0])]
        self._levels.append(level_db)
        insort(self._sorted, level_db)

    def prime(self, levels_db: list[float]) -> None:
        """Starts from a known background: the distribution of `levels_db` (the smoothed chunk
        levels of a whole recording, `chunk_levels`), as many of them as the window holds,
        evenly spread over their quantiles; the chunks heard from now on replace them."""
        if not levels_db:
            return
        size = self._levels.maxlen or len(levels_db)
        points = np.linspace(0.0, 1.0, min(size, len(levels_db)))
        spread = np.quantile(np.asarray(levels_db), points)
        self._levels.clear()
        self._sorted.clear()
        for level in spread:
            self._keep(float(level))

    @property
    def background_db(self) -> float:
        """The BACKGROUND_PERCENTILE of the levels kept, as np.percentile computes it
        (linear interpolation, the same arithmetic); 0 before any."""
        return sorted_percentile(self._sorted, BACKGROUND_PERCENTILE)

    @property
    def known(self) -> bool:
        """Whether enough audio has been heard to know the background."""
        return len(self._levels) * CHUNK_S >= BACKGROUND_MIN_S

    def above(self, margin_db: float) -> bool:
        """Whether the last chunk is at least `margin_db` above the background (True while
        the background is not known yet)."""
        return not self.known or self.level_db >= self.background_db + margin_db


def sorted_percentile(ordered: list[float], percent: float) -> float:
    """The `percent` percentile of `ordered` (ascending), as np.percentile's default (linear)
    method computes it, to the last bit: its position (n - 1) * q, and the same two-sided
    interpolation between the values either side. 0.0 when `ordered` is empty."""
    if not ordered:
        return 0.0
    position = (len(ordered) - 1) * (percent / 100.0)
    below = math.floor(position)
    if below >= len(ordered) - 1:
        return ordered[-1]
    low, high = ordered[below], ordered[below + 1]
    weight = position - below
    if weight >= 0.5:
        return high - (high - low) * (1.0 - weight)
    return low + (high - low) * weight


def loud_span(levels_db: list[float]) -> tuple[int, int] | None:
    """The first and last chunk of a whole recording's `levels_db` (`chunk_levels`) that stand
    FOREGROUND_MARGIN_DB above its background (their BACKGROUND_PERCENTILE), or None when none
    does: where a recording's speech must be, when Silero found none in it."""
    if not levels_db:
        return None
    levels = np.asarray(levels_db)
    loud = np.flatnonzero(
        levels >= float(np.percentile(levels, BACKGROUND_PERCENTILE)) + FOREGROUND_MARGIN_DB
    )
    return (int(loud[0]), int(loud[-1])) if loud.size else None


def chunk_levels(samples: npt.NDArray[np.int16]) -> list[float]:
    """The smoothed level of every CHUNK_SAMPLES chunk of `samples`, as BackgroundLevel
    computes them one by one (for priming it with a whole recording)."""
    levels = BackgroundLevel()
    found = []
    for start in range(0, samples.size - CHUNK_SAMPLES + 1, CHUNK_SAMPLES):
        levels.add(samples[start : start + CHUNK_SAMPLES].tobytes())
        found.append(levels.level_db)
    return found


class SileroEndpointer:
    """Feed it CHUNK_SAMPLES of 16-bit mono audio at a time (`frame_bytes`); it tracks whether
    speech is going on, and when the current or last segment started and ended (seconds
    since the first chunk)."""

    frame_bytes: Final = CHUNK_SAMPLES * 2

    def __init__(self) -> None:
        self._vad = SileroVad()
        self.reset()

    def _speech_probability(self, frame: bytes) -> float:
        """Silero's probability for `frame`; when the chunks before it were skipped, Silero
        first hears the last WARM_UP_CHUNKS of them, so its memory is of what came just before
        (skipped chunks must not make a word's start look like a sudden change)."""
        for skipped in self._skipped:
            self._vad(skipped)
            self.model_calls += 1
        self._skipped.clear()
        probability = float(self._vad(frame))
        self.last_probability = probability
        self.model_calls += 1
        return probability

    def _skip(self, frame: bytes) -> float:
        self._skipped.append(frame)
        return 0.0

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
        self._skipped: deque[bytes] = deque(maxlen=WARM_UP_CHUNKS)
        self.model_calls: int = 0
        """How many chunks Silero was asked about (the others were too quiet to matter)."""
        self.levels = BackgroundLevel()
        self._gated = False
        """Whether the current segment started with the background known (see BACKGROUND_MIN_S)."""

    def process(self, frame: bytes) -> None:
        """Reads one chunk. Silero is asked only about chunks loud enough to matter: one below
        the start margin cannot start speech, one below the end margin ends it, whatever
        Silero says (in a quiet room it runs only while someone speaks)."""
        self.levels.add(frame)
        now = self._chunks * CHUNK_S
        self._chunks += 1
        if not self.in_speech:
            loud = self.levels.above(FOREGROUND_MARGIN_DB)
            probability = self._speech_probability(frame) if loud else self._skip(frame)
            self._recent.append(probability >= START_PROB)
            if sum(self._recent) >= START_CHUNKS:
                first = len(self._recent) - list(self._recent).index(True)
                self.in_speech = True
                self._gated = self.levels.known
                self.speech_start = max(0.0, now - (first - 1) * CHUNK_S)
                self._quiet_chunks = 0
            return
        if not self._gated and now - self.speech_start >= UNGATED_S:
            self._gated = self.levels.known
        faded = self._gated and not self.levels.above(FOREGROUND_MARGIN_DB - END_MARGIN_DB)
        probability = self._skip(frame) if faded else self._speech_probability(frame)
        if probability < END_PROB:
            self._quiet_chunks += 1
            if self._quiet_chunks >= math.ceil(END_S / CHUNK_S):
                self.in_speech = False
                self.speech_end = now - (self._quiet_chunks - 1) * CHUNK_S
                self._recent.clear()
        else:
            self._quiet_chunks = 0
