"""Intent matching on the labelled sentence sets: accuracy, rejection, microseconds per match,
and a sweep of the matcher's thresholds (how MIN_SCORE and MIN_MARGIN were chosen).

    .venv/bin/python bench/intents.py [--sweep] [--show-errors]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from voicecoach.core.catalog import load_catalog
from voicecoach.core.grammar import INTENT_NAMES, load_grammar
from voicecoach.core.intents import (
    MIN_MARGIN,
    MIN_SCORE,
    CommandIndex,
    build_index,
    match,
    normalize,
)
from voicecoach.core.labelled import Example, Score, read_labelled, score

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SETS = {"dev": DATA / "intents_dev.tsv", "held-out": DATA / "intents_heldout.tsv"}


def evaluate(index: CommandIndex, examples: list[Example], **thresholds: float) -> Score:
    return score(examples, lambda text: match(text, index, **thresholds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sweep", action="store_true", help="also sweep the thresholds")
    parser.add_argument("--show-errors", action="store_true", help="list every error")
    args = parser.parse_args()

    started = time.perf_counter()
    grammar = load_grammar(load_catalog())
    index = build_index(grammar)
    print(
        f"grammar: {len(grammar.templates)} templates, {len(index.texts)} distinct sentences, "
        f"built in {1000 * (time.perf_counter() - started):.0f} ms"
    )
    print(f"thresholds: MIN_SCORE={MIN_SCORE} MIN_MARGIN={MIN_MARGIN}\n")

    examples = {name: read_labelled(path) for name, path in SETS.items()}
    results = {name: evaluate(index, items) for name, items in examples.items()}
    print(f"{'set':<10}{'sentences':>10}{'commands':>10}{'accuracy':>10}{'rejection':>10}")
    for name, result in results.items():
        print(
            f"{name:<10}{result.total:>10}{result.commands:>10}"
            f"{result.accuracy:>10.1%}{result.rejection:>10.1%}"
        )

    everything = [e for items in examples.values() for e in items]
    combined = evaluate(index, everything)
    print("\nby kind (both sets):")
    for kind in sorted(combined.per_kind):
        print(f"  {kind:<12}{combined.kind_accuracy(kind):>8.1%}  of {combined.per_kind[kind]}")
    print("\nby intent (both sets):")
    for intent in INTENT_NAMES:
        if combined.per_intent[intent]:
            print(
                f"  {intent:<16}{combined.intent_accuracy(intent):>8.1%}"
                f"  of {combined.per_intent[intent]}"
            )

    texts = [e.text for e in everything]
    rounds = 5
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            match(text, index)
    per_match = (time.perf_counter() - started) / (rounds * len(texts))
    exact = [text for text in texts if index.entries.get(normalize(text, grammar))]
    started = time.perf_counter()
    for _ in range(rounds):
        for text in exact:
            match(text, index)
    per_exact = (time.perf_counter() - started) / max(1, rounds * len(exact))
    print(
        f"\nspeed: {1e6 * per_match:.0f} us per match on average over {len(texts)} sentences "
        f"({1e6 * per_exact:.0f} us when the text is exactly a grammar sentence)"
    )

    if args.sweep:
        print("\nsweep on the dev set (accuracy / rejection):")
        margins = (0.0, 2.0, 4.0, 6.0, 8.0)
        print("  score " + "".join(f"   margin {m:<4}" for m in margins))
        for min_score in (76.0, 78.0, 80.0, 82.0, 84.0, 86.0, 88.0, 90.0):
            cells = []
            for margin in margins:
                r = evaluate(index, examples["dev"], min_score=min_score, min_margin=margin)
                cells.append(f"{r.accuracy:6.1%}/{r.rejection:6.1%}")
            print(f"  {min_score:5.0f} " + " ".join(cells))

    if args.show_errors:
        for name, result in results.items():
            print(f"\nerrors in {name}:")
            for example, got in result.misses:
                heard = f"{got.name} {dict(got.slots)} ({got.score})" if got else "rejected"
                print(
                    f"  missed  {example.intent} {dict(example.slots)}: {example.text!r} -> {heard}"
                )
            for example, got in result.false_accepts:
                print(f"  accepted {example.text!r} -> {got.name} ({got.score}, {got.phrase!r})")


if __name__ == "__main__":
    main()
