"""How long the coach takes to say a sentence, and when it talks: pure timing, no audio.

Times are session seconds (`at_s`, `now_s`): audio time when the input is a file or a timeline."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Final

from voicecoach.core.numbers import MAX_SPOKEN_NUMBER, ONES, number_to_words

DEFAULT_RATE_WPM: Final = 165
"""Speaking rate of every speaker unless told otherwise, in espeak-ng words per minute."""

# estimate_speech_s counts in beats: one beat is 60 / words_per_minute seconds, espeak-ng's
# nominal time for one word. Fitted by least squares on espeak-ng 1.51 renderings (full WAV
# length, closing pause included) of 20 coaching sentences at 140, 165 and 200 wpm; on 10 other
# sentences the estimate is off by 7.6% on average and 29% at worst (a one-word "Bridge.").
LETTER_BEATS: Final = 0.155
"""Time per letter (or per letter of a number written out): long words take longer."""
CLAUSE_PAUSE_BEATS: Final = 1.0
"""Pause at a comma, semicolon, colon or dash inside the text."""
SENTENCE_PAUSE_BEATS: Final = 0.9
"""Pause at a full stop, question or exclamation mark followed by more text."""
END_PAUSE_BEATS: Final = 1.45
"""Onset plus the pause espeak-ng adds after the last word (0.33 s of it at 165 wpm)."""

_NUMBER: Final = re.compile(r"\d+")
_WORD: Final = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_CLAUSE_BREAK: Final = re.compile(r"[,;:](?=\s)|\s[-\u2013\u2014]\s|\u2014")
_SENTENCE_BREAK: Final = re.compile(r"[.!?\u2026]+(?=\s+\S)")


def _spoken_number(digits: str) -> str:
    value = int(digits)
    if value <= MAX_SPOKEN_NUMBER:
        return number_to_words(value)
    return " ".join(ONES[int(digit)] for digit in digits)  # an approximation: said digit by digit


def estimate_speech_s(text: str, words_per_minute: float = DEFAULT_RATE_WPM) -> float:
    """Seconds that speaking `text` takes at `words_per_minute` (espeak-ng's rate scale):
    its words, weighted by their letters, plus pauses at punctuation and after the last word.
    0.0 for text with no words (nothing is spoken)."""
    if words_per_minute <= 0:
        raise ValueError(f"words_per_minute must be positive, not {words_per_minute}")
    spoken = _NUMBER.sub(lambda found: _spoken_number(found.group()), text)
    words: list[str] = _WORD.findall(spoken)
    if not words:
        return 0.0
    letters = sum(len(word) - word.count("'") for word in words)
    beats = (
        letters * LETTER_BEATS
        + len(_CLAUSE_BREAK.findall(spoken)) * CLAUSE_PAUSE_BEATS
        + len(_SENTENCE_BREAK.findall(spoken)) * SENTENCE_PAUSE_BEATS
        + END_PAUSE_BEATS
    )
    return beats * 60.0 / words_per_minute


def speakable(text: str) -> bool:
    return _WORD.search(text) is not None


@dataclass(frozen=True)
class Spoken:
    """One utterance placed on the session's timeline."""

    text: str
    """What was said."""
    start_s: float
    """Session time the coach starts saying it (after the utterance before it, if that was
    still playing when it was asked for)."""
    duration_s: float
    """How long it lasts: estimated (MuteSpeaker, HalfDuplexGate) or rendered (WavSpeaker)."""

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


@dataclass
class SpeechSchedule:
    """Utterances in time order, each starting no earlier than the previous one ends."""

    spoken: list[Spoken] = field(default_factory=list)
    """Everything placed so far, cut short where a stop happened."""

    @property
    def end_s(self) -> float:
        return self.spoken[-1].end_s if self.spoken else -math.inf

    def place(self, text: str, at_s: float, duration_s: float) -> Spoken:
        utterance = Spoken(text, max(at_s, self.end_s), duration_s)
        self.spoken.append(utterance)
        return utterance

    def cut(self, now_s: float) -> None:
        """Drops what starts at or after `now_s` and ends the utterance in progress there."""
        while self.spoken and self.spoken[-1].start_s >= now_s:
            self.spoken.pop()
        if self.spoken and self.spoken[-1].end_s > now_s:
            last = self.spoken.pop()
            self.spoken.append(Spoken(last.text, last.start_s, now_s - last.start_s))

    def at(self, now_s: float) -> Spoken | None:
        """The utterance being said at `now_s` (start inclusive, end exclusive)."""
        for utterance in reversed(self.spoken):
            if utterance.end_s <= now_s:
                return None
            if utterance.start_s <= now_s:
                return utterance
        return None


MIN_RATE_WPM: Final = 110
MAX_RATE_WPM: Final = 240
RATE_STEP_WPM: Final = 20
"""What "slower" and "faster" take away or add."""
MIN_VOLUME: Final = 0.2
VOLUME_STEP: Final = 0.2
"""What "softer" and "louder" take away or add (volume is 0 to 1)."""


@dataclass(frozen=True)
class VoiceSettings:
    """How the coach speaks: words per minute and volume (0 to 1)."""

    rate_wpm: int = DEFAULT_RATE_WPM
    volume: float = 1.0

    def changed(self, rate_steps: int = 0, volume_steps: int = 0) -> VoiceSettings:
        """Slower, faster, softer or louder by whole steps, within the limits."""
        rate = self.rate_wpm + rate_steps * RATE_STEP_WPM
        volume = round(self.volume + volume_steps * VOLUME_STEP, 2)
        return VoiceSettings(
            max(MIN_RATE_WPM, min(MAX_RATE_WPM, rate)), max(MIN_VOLUME, min(1.0, volume))
        )
