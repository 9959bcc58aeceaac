"""Speech recognition: one streaming `Recognizer` over engines that decode one segment at a time.

An engine (PocketSphinx, Vosk) only decodes the speech it is given between `start()` and
`finish()`. The `Recognizer` finds where speech starts and ends (endpointing), feeds the engine,
and hands out `Utterance`s with times in audio seconds, so both engines endpoint alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from voicecoach.hearing.audio import Samples


@dataclass(frozen=True)
class Decoded:
    """What an engine made of one speech segment."""

    text: str
    """The sentence heard, lower case ("" when nothing like a command was heard)."""
    confidence: float
    """0-1: how likely it is that `text` is what was said."""
    accepted: bool = True
    """False when the engine judged the speech was not a command (text is then its best guess)."""
    near_miss: bool = False
    """Not accepted, but close enough that the person probably said a command."""
    reason: str = ""
    """Why it was accepted or rejected (which check, what score), for people reading logs."""


@dataclass(frozen=True)
class Utterance:
    """One stretch of speech and what was heard in it."""

    text: str
    confidence: float
    start_s: float
    """Audio time (seconds since the stream began) at which speech started."""
    end_s: float
    """Audio time at which speech ended (for a partial: the time so far)."""
    final: bool = True
    """False for a partial result while speech goes on."""
    accepted: bool = True
    """False when rejected as not a command (too long, or too unlike any command)."""
    near_miss: bool = False
    """Rejected, but probably a command not heard well: worth asking to hear it again."""
    reason: str = ""
    """Why it was accepted or rejected."""


class Engine(Protocol):
    """A speech decoder for one segment at a time (16 kHz mono int16)."""

    name: str

    def start(self) -> None:
        """Begins a new segment (dropping the last one if it was never finished: speech too
        long to be a command is not decoded)."""

    def feed(self, samples: Samples) -> None:
        """Decodes more audio of the current segment."""

    def partial(self) -> str:
        """The best guess so far in the current segment."""

    def finish(self) -> Decoded:
        """Ends the segment and returns the final result."""

    def expect(self, intents: frozenset[str]) -> None:
        """The answers the coach is waiting for (`Session.awaited`): an engine that judges
        confidence may take these intents more readily until told otherwise."""


@runtime_checkable
class HearsAgain(Protocol):
    """An engine that can have a segment heard again, by another recogniser, from its audio as
    it came (before noise suppression): PocketSphinx's second opinion (second_opinion.py)."""

    def feed_undenoised(self, samples: Samples) -> None:
        """The audio of the current segment as it came, before noise suppression: the same
        stretch as the `feed`s. Given only where the second opinion could change a decision."""
