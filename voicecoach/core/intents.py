"""Text -> Intent: a pure function over the expanded grammar, with rejection of non-commands.

`match(text, index)` normalises what was heard (case, punctuation, contractions, fillers) and
compares it with every sentence the grammar accepts: first exactly, then fuzzily with rapidfuzz.
Anything not close enough to one command is not a command, and gives None.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from rapidfuzz import fuzz, process

from voicecoach.core.grammar import Grammar, Phrase, SlotValue, spoken_form

# Thresholds on rapidfuzz's ratio (0-100, normalised Indel similarity), chosen on
# tests/data/intents_labelled.tsv with bench/intents.py (see the sweep table in its output):
# MIN_SCORE is the lowest similarity taken as a command; below it the text is rejected.
MIN_SCORE: Final = 82.0
# A fuzzy match must also beat the best sentence of any *other* intent (or other slot value) by
# this much, so that text half-way between two commands is rejected rather than guessed.
MIN_MARGIN: Final = 4.0
# Short texts have few characters to be wrong in: one edit in "no" is 50% of it. Texts of at
# most this many letters must match exactly (after normalisation).
EXACT_ONLY_MAX_LETTERS: Final = 4


CommandKey = tuple[str, tuple[tuple[str, SlotValue], ...]]
"""A command as a hashable key: its intent and its slots in order."""


@dataclass(frozen=True)
class Intent:
    """What a person meant by an utterance."""

    name: str
    """One of grammar.INTENT_NAMES."""
    slots: Mapping[str, SlotValue]
    """Slot values: "seconds" -> int, "exercise" -> catalog id."""
    score: float
    """Similarity of the heard text with the matched sentence, 0-100 (100: exact)."""
    phrase: str
    """The grammar sentence it matched, normalised."""

    @property
    def command(self) -> CommandKey:
        """The command it names (`CommandKey`)."""
        return self.name, tuple(sorted(self.slots.items()))


@dataclass(frozen=True)
class _Entry:
    intent: str
    slots: Mapping[str, SlotValue]

    @property
    def key(self) -> CommandKey:
        return self.intent, tuple(sorted(self.slots.items()))


@dataclass(frozen=True)
class CommandIndex:
    """The grammar's sentences in normal form, ready for matching (build with `build_index`)."""

    grammar: Grammar
    entries: Mapping[str, _Entry]
    texts: tuple[str, ...] = field(repr=False)
    squashed: tuple[str, ...] = field(repr=False)
    """The same texts without spaces: "hold long her" is close to "holdlonger"."""


def normalize(text: str, grammar: Grammar) -> str:
    """The form matching compares: spoken form, contractions expanded, no apostrophes, no
    fillers (unless the text is nothing but fillers: "okay" alone is an answer)."""
    words: list[str] = []
    for word in spoken_form(text).split():
        words.extend(grammar.contractions.get(word, word).replace("'", "").split())
    kept = [w for w in words if w not in grammar.fillers]
    return " ".join(kept or words)


def build_index(grammar: Grammar) -> CommandIndex:
    entries: dict[str, _Entry] = {}
    for phrase in grammar.phrases():
        entries.setdefault(normalize(phrase.text, grammar), _Entry(phrase.intent, phrase.slots))
    texts = tuple(entries)
    return CommandIndex(grammar, entries, texts, tuple(t.replace(" ", "") for t in texts))


def conflicts(grammar: Grammar) -> list[tuple[str, Phrase, Phrase]]:
    """Sentences that normalise to the same text but mean different things (a grammar bug)."""
    seen: dict[str, Phrase] = {}
    found = []
    for phrase in grammar.phrases():
        text = normalize(phrase.text, grammar)
        first = seen.setdefault(text, phrase)
        if (first.intent, dict(first.slots)) != (phrase.intent, dict(phrase.slots)):
            found.append((text, first, phrase))
    return found


def match(
    text: str,
    index: CommandIndex,
    *,
    min_score: float = MIN_SCORE,
    min_margin: float = MIN_MARGIN,
) -> Intent | None:
    """The command `text` means, or None when it is not a command.

    `min_score` and `min_margin` are for measuring other thresholds (bench/intents.py)."""
    normal = normalize(text, index.grammar)
    if not normal:
        return None
    exact = index.entries.get(normal)
    if exact is not None:
        return Intent(exact.intent, dict(exact.slots), 100.0, normal)
    if sum(c.isalpha() for c in normal) <= EXACT_ONLY_MAX_LETTERS:
        return None

    candidates: dict[str, float] = {}
    for query, choices in ((normal, index.texts), (normal.replace(" ", ""), index.squashed)):
        cutoff = min_score - min_margin
        for _, score, position in process.extract(
            query, choices, scorer=fuzz.ratio, score_cutoff=cutoff, limit=20
        ):
            sentence = index.texts[position]
            candidates[sentence] = max(score, candidates.get(sentence, 0.0))
    if not candidates:
        return None
    ranked = sorted(candidates.items(), key=lambda item: -item[1])
    best_text, best_score = ranked[0]
    if best_score < min_score:
        return None
    best = index.entries[best_text]
    rival = next((s for t, s in ranked[1:] if index.entries[t].key != best.key), 0.0)
    if best_score - rival < min_margin:
        return None
    return Intent(best.intent, dict(best.slots), round(best_score, 1), best_text)
