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
# `held_command`: the least words of a sentence held in longer text, and the share of the text's
# words it must make up more than. Chosen on the development set's rejected decodes with both open
# listeners' words (bench/README.md, "Commands held among other words"): one-word sentences
# ("not", "yeah", "one") are in most of the listeners' words for other speech, and a sentence
# that is a fifth of the words ("press up" in "press up on the lid and it should open") or half
# of them ("skip this" in "alexa skip this song") is talk to someone else.
HELD_MIN_WORDS: Final = 2
HELD_OVER_SHARE: Final = 0.5


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


def held_command(
    text: str,
    index: CommandIndex,
    *,
    min_words: int = HELD_MIN_WORDS,
    over_share: float = HELD_OVER_SHARE,
) -> Intent | None:
    """The command of the sentences `text` holds whole, word for word, among other words ("I'm
    ready, let's go again." holds "let us go again"), or None: when it holds none of at least
    `min_words` words that make up more than `over_share` of its words, or sentences of more than
    one command. Its score is the share of the words, 0-100."""
    words = normalize(text, index.grammar).split()
    found: dict[CommandKey, tuple[int, str]] = {}
    for start in range(len(words)):
        for end in range(start + min_words, len(words) + 1):
            if end - start <= over_share * len(words):
                continue
            sentence = " ".join(words[start:end])
            entry = index.entries.get(sentence)
            if entry is not None:
                longest = found.get(entry.key, (0, ""))
                found[entry.key] = max(longest, (end - start, sentence))
    if len(found) != 1:
        return None
    [(length, sentence)] = found.values()
    entry = index.entries[sentence]
    return Intent(entry.intent, dict(entry.slots), round(100.0 * length / len(words), 1), sentence)
