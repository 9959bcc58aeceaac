"""Labelled sentence sets (text, expected intent and slots) and scoring a matcher against them."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from voicecoach.core.errors import VoiceCoachError
from voicecoach.core.grammar import INTENT_NAMES, SlotValue
from voicecoach.core.intents import Intent

REJECT = "-"


@dataclass(frozen=True)
class Example:
    text: str
    intent: str | None
    """The expected intent; None when the text must be rejected."""
    slots: Mapping[str, SlotValue]
    kind: str
    """paraphrase | slip | ood | near."""


def read_labelled(path: Path) -> list[Example]:
    """Reads the tab-separated `text intent slots kind` file (header line first)."""
    examples = []
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    except OSError as error:
        raise VoiceCoachError(f"cannot read: {error.strerror}", path=path) from None
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != 4:
            raise VoiceCoachError(f"line {number}: expected 4 tab-separated columns", path=path)
        text, intent, slot_text, kind = row
        if intent != REJECT and intent not in INTENT_NAMES:
            raise VoiceCoachError(f"line {number}: unknown intent '{intent}'", path=path)
        slots: dict[str, SlotValue] = {}
        if slot_text != REJECT:
            for pair in slot_text.split(";"):
                key, _, value = pair.partition("=")
                slots[key] = int(value) if value.isdigit() else value
        examples.append(Example(text, None if intent == REJECT else intent, slots, kind))
    return examples


@dataclass
class Score:
    """How a matcher did on a labelled set."""

    total: int = 0
    commands: int = 0
    commands_right: int = 0
    """Right intent and right slots."""
    non_commands: int = 0
    rejected: int = 0
    """Non-commands correctly given no intent."""
    false_accepts: list[tuple[Example, Intent]] = field(default_factory=list)
    misses: list[tuple[Example, Intent | None]] = field(default_factory=list)
    per_intent: Counter[str] = field(default_factory=Counter)
    per_intent_right: Counter[str] = field(default_factory=Counter)
    per_kind: Counter[str] = field(default_factory=Counter)
    per_kind_right: Counter[str] = field(default_factory=Counter)

    @property
    def accuracy(self) -> float:
        return self.commands_right / self.commands if self.commands else 0.0

    @property
    def rejection(self) -> float:
        return self.rejected / self.non_commands if self.non_commands else 0.0

    def intent_accuracy(self, intent: str) -> float:
        return self.per_intent_right[intent] / self.per_intent[intent]

    def kind_accuracy(self, kind: str) -> float:
        return self.per_kind_right[kind] / self.per_kind[kind]


def score(examples: Iterable[Example], matcher: Callable[[str], Intent | None]) -> Score:
    result = Score()
    for example in examples:
        got = matcher(example.text)
        result.total += 1
        result.per_kind[example.kind] += 1
        if example.intent is None:
            result.non_commands += 1
            if got is None:
                result.rejected += 1
                result.per_kind_right[example.kind] += 1
            else:
                result.false_accepts.append((example, got))
            continue
        result.commands += 1
        result.per_intent[example.intent] += 1
        if got is not None and got.name == example.intent and dict(got.slots) == example.slots:
            result.commands_right += 1
            result.per_intent_right[example.intent] += 1
            result.per_kind_right[example.kind] += 1
        else:
            result.misses.append((example, got))
    return result
