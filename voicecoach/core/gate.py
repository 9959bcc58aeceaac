"""The half-duplex gate: when recognition may listen. Never while the coach talks, nor for a
short tail after; pure, told when the coach talks and asked about given times."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from voicecoach.core.speech import SpeechSchedule, Spoken

GATE_TAIL_S: Final = 0.3
"""How long recognition stays off after the coach stops talking. Sound keeps reaching the
microphone after the last sample leaves the program: the audio stack's output buffer (ALSA or
PulseAudio, 50-200 ms), the room's reverberation (0.1-0.3 s in a furnished room) and the
recogniser's own end-of-speech hangover; 0.3 s covers them without making the user wait."""
GATE_MEMORY_S: Final = 60.0
"""How far back the gate remembers when the coach talked: speech is asked about within seconds
of now (a recording of a command lasts at most a few seconds)."""


@dataclass
class HalfDuplexGate:
    """When recognition may listen: never while the coach talks, nor for `tail_s` after.

    Pure: it is told when the coach talks and asked about given times; it reads no clock."""

    tail_s: float = GATE_TAIL_S
    """Seconds the gate stays closed after the coach stops talking."""
    _schedule: SpeechSchedule = field(default_factory=SpeechSchedule, repr=False)

    @property
    def spans(self) -> tuple[Spoken, ...]:
        """When the coach talks, as recorded (texts are empty); spans that ended more than
        GATE_MEMORY_S before the latest one started are forgotten."""
        return tuple(self._schedule.spoken)

    def speak(self, start_s: float, duration_s: float) -> float:
        """The coach talks for `duration_s` from `start_s` (or from the end of what it is still
        saying, as every speaker queues it); returns when it will have finished."""
        if duration_s <= 0:
            return max(start_s, self._schedule.end_s)
        placed = self._schedule.place("", start_s, duration_s)
        spoken = self._schedule.spoken
        old = 0
        while old < len(spoken) and spoken[old].end_s < placed.start_s - GATE_MEMORY_S:
            old += 1
        del spoken[:old]  # a long session must not grow (nor slow down is_open)
        return placed.end_s

    def still_speaking(self, now_s: float) -> None:
        """The speaker reports it is still talking at `now_s` (a real speaker can outlast
        the estimate): the gate stays closed until `now_s` plus the tail."""
        spoken = self._schedule.spoken
        if spoken and spoken[-1].end_s < now_s < spoken[-1].end_s + self.tail_s:
            last = spoken.pop()  # the same talk, running on: lengthen it
            spoken.append(Spoken(last.text, last.start_s, now_s - last.start_s))
        elif self._schedule.end_s < now_s:
            self._schedule.place("", now_s, 0.0)

    def cut(self, now_s: float) -> None:
        """The coach was stopped at `now_s`: later speech is forgotten; the tail still runs."""
        self._schedule.cut(now_s)

    def follow(self, now_s: float, speaking: bool) -> None:
        """What the speaker says it is doing at `now_s`, which overrides the estimates the
        gate was given: still talking keeps the gate closed; finished cuts the talk short
        there (the tail still runs)."""
        if speaking:
            self.still_speaking(now_s)
        elif self._schedule.end_s > now_s:
            self._schedule.cut(now_s)

    def is_open(self, now_s: float) -> bool:
        return self.reopens_at(now_s) <= now_s

    def reopens_at(self, now_s: float) -> float:
        """`now_s` when the gate is open; otherwise when it opens (the tail after the last of
        the spans it is closed through: gaps shorter than the tail keep it closed)."""
        reopen = now_s
        for span in self._schedule.spoken:
            if span.start_s <= reopen < span.end_s + self.tail_s:
                reopen = span.end_s + self.tail_s
        return reopen
