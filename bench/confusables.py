"""Words that sound like a short command but are not one ("sixth" and "six", "garton" and
"pardon", "witte" and "wait"): other speech the verifier must learn to reject, and the
development set must measure.

A word is kept when its pronunciation in PocketSphinx's dictionary is one phone away from a
command sentence of one or two words (two phones for a sentence of six phones or more), when the
matcher does not read it as a command, and when it is not already one of the common or everyday
words the verifier trains on. Words that sound the same as a command ("won" and "one") are left
out: the decoder is right to hear the command, and nobody could tell them apart. Half of the
words (by a hash of the word) are for training (`train_verifier.py --confusables`), the other
half for the development set (`devset.py`), so that it measures words training never heard.

    .venv/bin/python bench/confusables.py            # counts, by the command they sound like
    .venv/bin/python bench/confusables.py --write    # bench/data/confusable_words.txt
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from voicecoach.core.catalog import load_catalog
from voicecoach.core.grammar import load_grammar
from voicecoach.core.intents import build_index, match
from voicecoach.hearing.asr.pocketsphinx_engine import model_paths, read_dictionary

ROOT = Path(__file__).resolve().parent.parent
WORDS_FILE = ROOT / "bench" / "data" / "confusable_words.txt"
TRAINED_WORDS = [
    ROOT / "bench" / "data" / f for f in ("common_words.txt", "verifier_negatives.txt")
]
"""Words the verifier already trains on as other speech (and the development set hears)."""
MAX_SENTENCE_WORDS = 2
LONG_SENTENCE_PHONES = 6
"""From this many phones a sentence's neighbours may be two phones away."""


@dataclass(frozen=True)
class Confusable:
    word: str
    sentence: str
    """The command sentence it sounds like."""
    distance: int
    """Phones changed, added or dropped between the two."""


def find_confusables(
    sentences: Iterable[str],
    pronunciations: Mapping[str, str],
    is_command: Callable[[str], bool],
) -> list[Confusable]:
    """The dictionary's words (of letters alone, three or more) near one of `sentences` (the
    first in alphabetical order when several are), in alphabetical order."""
    spoken = {
        sentence: tuple(p for word in sentence.split() for p in pronunciations[word].split())
        for sentence in sorted(set(sentences))
        if len(sentence.split()) <= MAX_SENTENCE_WORDS
        and all(word in pronunciations for word in sentence.split())
    }
    found = []
    for word in sorted(pronunciations):
        if not re.fullmatch(r"[a-z]{3,}", word):
            continue
        phones = tuple(pronunciations[word].split())
        for sentence, target in spoken.items():
            if abs(len(target) - len(phones)) > 1:
                continue
            limit = 2 if len(target) >= LONG_SENTENCE_PHONES else 1
            distance = Levenshtein.distance(phones, target, score_cutoff=limit)
            if 0 < distance <= limit:
                if not is_command(word):
                    found.append(Confusable(word, sentence, distance))
                break
    return found


def for_training(word: str) -> bool:
    """Whether `word` is in the training half (else the development set's)."""
    return int(hashlib.sha256(word.encode()).hexdigest(), 16) % 2 == 0


def read_confusables(path: Path = WORDS_FILE) -> list[Confusable]:
    confusables = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            word, sentence, distance = line.split("\t")
            confusables.append(Confusable(word, sentence, int(distance)))
    return confusables


def build() -> list[Confusable]:
    grammar = load_grammar(load_catalog())
    index = build_index(grammar)
    trained = {word for path in TRAINED_WORDS for word in path.read_text(encoding="utf-8").split()}
    found = find_confusables(
        (phrase.text for phrase in grammar.phrases()),
        read_dictionary(model_paths()["dict"]),
        lambda word: word in grammar.fillers or match(word, index) is not None,
    )
    return [c for c in found if c.word not in trained]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--write", action="store_true", help=f"write {WORDS_FILE.name}")
    args = parser.parse_args()
    found = build()
    training = sum(for_training(c.word) for c in found)
    print(f"{len(found)} words ({training} for training, {len(found) - training} held out)")
    for sentence, count in collections.Counter(c.sentence for c in found).most_common(12):
        print(f"  {count:4d} like {sentence!r}")
    if args.write:
        lines = [
            "# Words one or two phones from a short command (bench/confusables.py --write):",
            "# word, the command sentence it sounds like, the phones between them.",
        ]
        lines += [f"{c.word}\t{c.sentence}\t{c.distance}" for c in found]
        WORDS_FILE.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"wrote {WORDS_FILE}")


if __name__ == "__main__":
    main()
