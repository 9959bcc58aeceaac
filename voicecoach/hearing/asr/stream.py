"""Streaming recognition: endpointing (where speech starts and stops) in front of an engine."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Final

import numpy as np

from voicecoach.hearing.asr import Engine, HearsAgain, Utterance
from voicecoach.hearing.asr.endpoint import (
    CHUNK_SAMPLES,
    END_S,
    SileroEndpointer,
    chunk_levels,
    loud_span,
)
from voicecoach.hearing.asr.endpointer import Endpointer
from voicecoach.hearing.asr.frontend import (
    Denoiser,
    InputGain,
    NoiseFloor,
    SegmentDenoiser,
    recording_gain,
)
from voicecoach.hearing.asr.threads import one_blas_thread
from voicecoach.hearing.audio import SAMPLE_RATE, Samples

ENDPOINTERS: Final = ("silero", "energy")
# PocketSphinx's energy endpointer (for comparison): its decision window and the share of it
# that must agree (speech or not) to switch: 0.3 s / 0.9 is PocketSphinx's default.
ENDPOINT_WINDOW_S: Final = 0.3
ENDPOINT_RATIO: Final = 0.9
# Audio kept from before the detected start: recognisers do better with a little silence before
# the words (after them, they get the endpointer's own delay of silence).
PREROLL_S: Final = 0.25
QUIET_LEAD_SEED: Final = 1
"""Seed of the noise floor that makes up a preroll the stream did not have (see `quiet_lead`)."""
WARM_UP_S: Final = 0.5
"""Audio before a segment's preroll that the segment's denoiser hears first, to learn the
room's noise."""
# Commands are short ("i would like to try the lower back rotational stretch" takes 3 s).
# Speech that goes on longer is a conversation or the TV: it is cut off and rejected.
MAX_COMMAND_S: Final = 5.0
# Partial results, when asked for, at most this often (audio time).
PARTIAL_EVERY_S: Final = 0.3
TALK_WINDOW_S: Final = 10.0
"""How far back, from the start of a command, the recogniser looks for other talk."""
TALK_S: Final = 3.0
"""Seconds of speech that was not a command within TALK_WINDOW_S that make the room a talking
one (a TV, a conversation): a person on the mat says little but commands."""
TALKING_ROOM_CONFIDENCE: Final = 0.9
"""The confidence a command needs in a talking room (the engine's own threshold is lower). A
near miss there is not asked about ("Sorry, say that again?"): the talk is not said to the
coach. Nor is a segment heard again by the engine's second opinion there (`HearsAgain`): what it
takes keeps the verifier's probability, under the verifier's threshold and so, but for `low`'s
threshold of a pain rating that was not asked for (0.96), under this one."""


class RoomTalk:
    """The speech heard lately that was not a command (rejected, or too long to be one), to tell
    a talking room: there a command must be surer to be taken."""

    def __init__(self) -> None:
        self._talk: deque[tuple[float, float]] = deque()

    def add(self, start_s: float, end_s: float) -> None:
        """Speech from `start_s` to `end_s` (stream time) that was not a command."""
        self._talk.append((start_s, end_s))
        while self._talk and self._talk[0][1] < end_s - TALK_WINDOW_S:
            self._talk.popleft()

    def talk_before(self, at_s: float) -> float:
        """Seconds of such speech in the TALK_WINDOW_S before `at_s`."""
        since = at_s - TALK_WINDOW_S
        return sum(max(0.0, min(end, at_s) - max(start, since)) for start, end in self._talk)

    def talking(self, at_s: float) -> bool:
        return self.talk_before(at_s) >= TALK_S


@dataclass
class _Segment:
    start_s: float
    denoiser: SegmentDenoiser
    next_partial_s: float = 0.0
    too_long: bool = False
    heard_again: bool = False
    """Whether the engine is given the segment's audio before noise suppression, to have it
    heard again (`HearsAgain`): not in a talking room."""
    heard: list[Samples] = field(default_factory=list)
    """The segment's audio as heard (before denoising), for the input gain to learn from (kept
    only when it learns: live input)."""


def quiet_lead(preroll_s: float) -> Samples:
    """Quiet (the noise floor alone) that makes a segment's preroll of `preroll_s` up to
    PREROLL_S: what the decoder hears before speech that began with the stream (a recording cut
    tight to its first word) or just after a reset, as a microphone would have given it.
    PocketSphinx needs a little silence before the first word: on every eighth of the human
    set's tune-half words heard as cut, digits taken as the right answer went from 59.0% to 81.9%
    with it (80.9% with half a second of quiet added around each recording; other words
    rejected 99.3% both). Warming the denoiser up on quiet instead did nothing (59.6%), and
    half a second of quiet did less (78.2%). The quiet goes through the segment's denoiser like
    the rest of the segment."""
    lacking = round((PREROLL_S - preroll_s) * SAMPLE_RATE)
    if lacking <= 0:
        return np.zeros(0, np.int16)
    return NoiseFloor(QUIET_LEAD_SEED)(np.zeros(lacking, np.int16))


class Recognizer:
    """Feed it 16 kHz mono int16 audio in frames of any size; it returns utterances.

    Each final `Utterance` is one stretch of speech; its text is "" when the engine rejected it
    or the speech was too long to be a command."""

    def __init__(
        self,
        engine: Engine,
        *,
        partials: bool = False,
        endpointer: str = "silero",
        denoiser: Denoiser = "rnnoise",
        floored: bool = False,
    ) -> None:
        """`denoiser`: the noise suppression of each speech segment before it is decoded
        (frontend.py); `floored`: the audio given has its gain and the noise floor in it
        already (see `recording_recognizer`); otherwise the gain is learnt from the speech
        heard (frontend.InputGain)."""
        if endpointer not in ENDPOINTERS:
            raise ValueError(f"unknown endpointer {endpointer!r}")
        one_blas_thread()
        self.engine = engine
        self._hears_again = engine if isinstance(engine, HearsAgain) else None
        self.partials = partials
        self.endpointer = endpointer
        self.denoiser = denoiser
        self._floor = None if floored else NoiseFloor()
        self.gain = InputGain(1.0 if floored else None)
        self._primed: list[float] | None = None
        self._consumed = 0
        self._new_vad()
        self._frame = self._vad.frame_bytes // 2
        self._pending = np.zeros(0, np.int16)
        self._history = np.zeros(0, np.int16)
        self._segment: _Segment | None = None
        self.room = RoomTalk()
        """Other talk heard lately (kept when the recogniser is reset: it is the room's)."""
        self.coach_speaking = False
        """Set while the coach's own voice may be in the audio (barge-in, through the echo
        canceller): speech then heard that is not a command is its echo, not the room's talk."""
        self.recording: Samples | None = None
        """The whole recording being heard, when it is one (`recording_recognizer`): if the
        endpointer finds no speech in all of it, `flush` decodes its loud part."""
        self._segments = 0

    def prime_background(self, levels_db: list[float]) -> None:
        """Tells the endpointer the room's background from the levels of the whole recording
        about to be heard (`endpoint.chunk_levels` of it with the noise floor), as a microphone
        knows it from the room before anyone speaks: noise that runs from a recording's first
        sample is then background from the start, not speech."""
        self._primed = list(levels_db)
        if isinstance(self._vad, SileroEndpointer):
            self._vad.levels.prime(self._primed)

    def _new_vad(self) -> None:
        """A fresh voice activity detector: Silero's (endpoint.py, reset and reused), or
        PocketSphinx's energy detector ("energy", for comparison; freed when replaced, see
        asr.endpointer). Its times count from its own start, so the audio time at that start
        is kept to turn them into stream time."""
        previous = getattr(self, "_vad", None)
        if isinstance(previous, SileroEndpointer):
            previous.reset()
            if self._primed is not None:
                previous.levels.prime(self._primed)
        elif self.endpointer == "silero":
            self._vad: SileroEndpointer | Endpointer = SileroEndpointer()
        else:
            if isinstance(previous, Endpointer):
                previous.close()
            self._vad = Endpointer(window=ENDPOINT_WINDOW_S, ratio=ENDPOINT_RATIO)
        self._vad_origin_s = self.time_s

    @property
    def time_s(self) -> float:
        """Audio time consumed so far."""
        return self._consumed / SAMPLE_RATE

    @property
    def in_speech(self) -> bool:
        return self._segment is not None

    def reset(self) -> None:
        """Forgets any speech in progress (used when the gate closes while the coach speaks)."""
        if self._segment is not None:
            self._segment.denoiser.close()  # the engine drops the segment at its next start
        self._segment = None
        self._pending = np.zeros(0, np.int16)
        self._history = np.zeros(0, np.int16)
        self._new_vad()

    def accept(self, samples: Samples) -> list[Utterance]:
        heard = self.gain(samples)
        heard = self._floor(heard) if self._floor is not None else heard
        self._pending = np.concatenate([self._pending, heard])
        results: list[Utterance] = []
        while self._pending.size >= self._frame:
            frame, self._pending = self._pending[: self._frame], self._pending[self._frame :]
            results.extend(self._step(frame))
        return results

    def flush(self) -> list[Utterance]:
        """Ends the stream: finishes any speech in progress."""
        results: list[Utterance] = []
        if self._pending.size:
            pad = np.zeros(self._frame - self._pending.size, np.int16)
            results.extend(self._step(np.concatenate([self._pending, pad])))
            self._pending = np.zeros(0, np.int16)
        if self._segment is not None:
            results.append(self._finish(self.time_s))
        if self.recording is not None and self._segments == 0:
            results.extend(self._loud_part(self.recording))
        return results

    def _loud_part(self, recording: Samples) -> list[Utterance]:
        """A recording in which the endpointer found no speech (Silero is unsure of some short
        words, such as an 8 kHz "four"): the span of its chunks that stand out from its
        background (`endpoint.loud_span`), with a preroll before and END_S after, decoded as
        one segment and judged as any other; nothing when no chunk stands out or the span is
        too long to be a command. A live stream never ends, so this is for recordings alone.
        The levels are those the background was primed with (`recording_recognizer`), when it
        was."""
        span = loud_span(self._primed or chunk_levels(recording))
        if span is None:
            return []
        first = span[0] * CHUNK_SAMPLES
        start = max(0, first - round(PREROLL_S * SAMPLE_RATE))
        end = min(recording.size, (span[1] + 1) * CHUNK_SAMPLES + round(END_S * SAMPLE_RATE))
        if (end - start) / SAMPLE_RATE > MAX_COMMAND_S:
            return []
        denoiser = SegmentDenoiser(self.denoiser)
        self._segment = self._new_segment(start / SAMPLE_RATE, denoiser)
        self._segments += 1
        self.engine.start()
        denoiser.warm_up(recording[max(0, start - round(WARM_UP_S * SAMPLE_RATE)) : start])
        self._feed(quiet_lead((first - start) / SAMPLE_RATE))
        self._feed(recording[start:end])
        heard = self._finish(end / SAMPLE_RATE)
        found = "no speech found by the endpointer: the recording's loud part decoded"
        return [replace(heard, reason=f"{heard.reason} ({found})")]

    def _step(self, frame: Samples) -> Iterator[Utterance]:
        was_in_speech = self._vad.in_speech
        self._vad.process(frame.tobytes())
        self._consumed += frame.size
        keep = round((WARM_UP_S + PREROLL_S + ENDPOINT_WINDOW_S + 0.1) * SAMPLE_RATE)
        self._history = np.concatenate([self._history, frame])[-keep:]

        if not was_in_speech and self._vad.in_speech:
            speech_s = self._vad_origin_s + float(self._vad.speech_start)
            start_s = max(0.0, speech_s - PREROLL_S)
            denoiser = SegmentDenoiser(self.denoiser)
            self._segment = self._new_segment(
                start_s, denoiser, next_partial_s=self.time_s + PARTIAL_EVERY_S
            )
            self._segments += 1
            self.engine.start()
            history_start_s = self.time_s - self._history.size / SAMPLE_RATE
            skip = max(0, round((start_s - history_start_s) * SAMPLE_RATE))
            warm = max(0, skip - round(WARM_UP_S * SAMPLE_RATE))
            denoiser.warm_up(self._history[warm:skip])
            self._feed(quiet_lead(speech_s - max(start_s, history_start_s)))
            self._feed(self._history[skip:])
            return
        segment = self._segment
        if segment is None:
            return
        if self._vad.in_speech:
            self._feed(frame)
            if self.time_s - segment.start_s > MAX_COMMAND_S:
                segment.too_long = True
            if self.partials and self.time_s >= segment.next_partial_s and not segment.too_long:
                segment.next_partial_s = self.time_s + PARTIAL_EVERY_S
                yield Utterance(
                    self.engine.partial(), 0.0, segment.start_s, self.time_s, final=False
                )
            return
        yield self._finish(self._vad_origin_s + float(self._vad.speech_end))

    def _new_segment(
        self, start_s: float, denoiser: SegmentDenoiser, next_partial_s: float = 0.0
    ) -> _Segment:
        again = self._hears_again is not None and not self.room.talking(start_s)
        return _Segment(start_s, denoiser, next_partial_s, heard_again=again)

    def _feed(self, samples: Samples) -> None:
        segment = self._segment
        if segment is None or segment.too_long or samples.size == 0:
            return
        if self.gain.adapts:
            segment.heard.append(samples)
        if segment.heard_again and self._hears_again is not None:
            self._hears_again.feed_undenoised(samples)
        clean = segment.denoiser.process(samples)
        if clean.size:
            self.engine.feed(clean)

    def _heard_talk(self, start_s: float, end_s: float) -> None:
        """Speech that was not a command: the room's talk, unless the coach was speaking."""
        if not self.coach_speaking:
            self.room.add(start_s, end_s)

    def _finish(self, end_s: float) -> Utterance:
        segment = self._segment
        assert segment is not None
        self._segment = None
        segment.denoiser.close()
        if segment.too_long:
            # Not decoded: whatever it holds, it is not a command (the engine drops it at its
            # next start).
            self._heard_talk(segment.start_s, end_s)
            reason = f"rejected: over {MAX_COMMAND_S:.0f} s of speech, too long for a command"
            return Utterance("", 0.0, segment.start_s, end_s, accepted=False, reason=reason)
        decoded = self.engine.finish()
        if segment.heard and not self.coach_speaking:
            self.gain.heard(np.concatenate(segment.heard))
        accepted, near_miss, reason = decoded.accepted, decoded.near_miss, decoded.reason
        if (
            accepted
            and decoded.confidence < TALKING_ROOM_CONFIDENCE
            and self.room.talking(segment.start_s)
        ):
            talk = self.room.talk_before(segment.start_s)
            accepted, near_miss = False, False
            reason = (
                f"rejected: the room is talking ({talk:.0f} s of other speech in the last "
                f"{TALK_WINDOW_S:.0f} s), {decoded.confidence:.2f} < {TALKING_ROOM_CONFIDENCE}"
            )
        if near_miss and self.room.talking(segment.start_s):
            # Talk in the room is not said to the coach: it does not ask to hear it again.
            talk = self.room.talk_before(segment.start_s)
            near_miss = False
            reason = (
                f"{reason} (not asked again: the room is talking, {talk:.0f} s of other speech "
                f"in the last {TALK_WINDOW_S:.0f} s)"
            )
        if not accepted:
            self._heard_talk(segment.start_s, end_s)
        return Utterance(
            decoded.text,
            decoded.confidence,
            segment.start_s,
            end_s,
            accepted=accepted,
            near_miss=near_miss,
            reason=reason,
        )


def recording_recognizer(
    engine: Engine, samples: Samples, *, endpointer: str = "silero", denoiser: Denoiser = "rnnoise"
) -> tuple[Recognizer, Samples]:
    """A recogniser for a whole recording, its background primed from the recording's own
    levels, and the recording brought to the speech level with the noise floor under it (what
    to give it)."""
    heard = NoiseFloor()(InputGain(recording_gain(samples))(samples))
    recognizer = Recognizer(engine, endpointer=endpointer, denoiser=denoiser, floored=True)
    recognizer.prime_background(chunk_levels(heard))
    recognizer.recording = heard
    return recognizer, heard


def recognize_samples(
    engine: Engine,
    samples: Samples,
    frame: int = 320,
    *,
    denoiser: Denoiser = "rnnoise",
    loud_part: bool = True,
) -> list[Utterance]:
    """Every final utterance in a whole recording (for files and tests): the endpointer knows
    its background from the start, and it is heard `frame` samples at a time, as live.
    `loud_part`: when the endpointer finds no speech in it, its loud part is decoded
    (`Recognizer.flush`); without, only what the endpointer cuts, as live listening hears."""
    recognizer, heard = recording_recognizer(engine, samples, denoiser=denoiser)
    if not loud_part:
        recognizer.recording = None
    found: list[Utterance] = []
    for start in range(0, heard.size, frame):
        found.extend(u for u in recognizer.accept(heard[start : start + frame]) if u.final)
    found.extend(recognizer.flush())
    return found
