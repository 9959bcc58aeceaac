"""How many commands any rejection could take: the grammar decoder's ceiling.

The engine takes a command only when the grammar decoder heard it; the verifier and the second
opinion decide which decodes to take. This prints, for each row of command clips, how many
the engine takes, how many the grammar decoder's best sentence had right (intent and slots, the
most a perfect verifier could take from it), and how many had it anywhere among the complete
sentences of its n-best list (the most any choice among its guesses could take). The rest is
lost in the acoustic model before any rejection. Clips are heard as `bench/asr.py` hears them
(the engine's whole front end and endpointer, the awaited answer for ratings, yes and no).

    .venv/bin/python bench/ceiling.py [--dev out/dev] [--depth 30] [--jobs 2]
    .venv/bin/python bench/ceiling.py --tests   # the test clips (eval: for figures, not tuning)

The development set is made by `bench/devset.py build`.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Final

sys.path.insert(0, str(Path(__file__).resolve().parent))
from asr import (
    CASES,
    Clip,
    at_least_one,
    first_command,
    load_clip,
    recognise,
    test_clips,
    with_front_end,
)
from devset import DEFAULT_OUT, dev_clips

from voicecoach.core.catalog import load_catalog
from voicecoach.core.grammar import Grammar, Phrase, load_grammar
from voicecoach.core.intents import build_index
from voicecoach.hearing.asr import Decoded
from voicecoach.hearing.asr.pocketsphinx_engine import (
    COMMANDS_SEARCH,
    PocketSphinxEngine,
    clean_words,
)

DEFAULT_DEPTH: Final = 30
"""Entries of the n-best list read (several are often the same sentence, aligned otherwise)."""

Command = tuple[str, tuple[tuple[str, object], ...]]
"""An intent and its sorted slots."""


class NBestWitness(PocketSphinxEngine):
    """The engine as it is, that also keeps the complete sentences of each decode of the whole
    grammar's n-best list, best first."""

    def __init__(self, grammar: Grammar, depth: int) -> None:
        super().__init__(grammar)
        self.depth = depth
        self.decodes: list[tuple[str, list[str]]] = []
        """Per decode of the whole grammar since the last `forget`: the sentence decoded ("" for
        none) and the complete sentences it guessed (`nbest_sentences`)."""

    def forget(self) -> None:
        self.decodes = []

    def _decode_and_judge(self) -> Decoded:
        decoded = super()._decode_and_judge()
        if self.decoder.current_search() == COMMANDS_SEARCH:
            self.decodes.append((decoded.text, self.nbest_sentences(decoded.text)))
        return decoded

    def nbest_sentences(self, best: str) -> list[str]:
        """The decoder's sentence (`best`, "" when it decoded no whole one), then the other
        distinct complete sentences of the last decode's n-best list, in its order (which is
        not always the decoder's: the list is searched again in the decode's lattice)."""
        sentences = [best] if best else []
        for number, entry in enumerate(self.decoder.nbest()):
            if entry is None or number >= self.depth:
                break
            text = clean_words(entry.hypstr)
            if text in self.sentences and text not in sentences:
                sentences.append(text)
        return sentences


@dataclass(frozen=True)
class Heard:
    """One command clip: what the engine took and the decoder's guesses."""

    row: str
    truth: Command
    taken: Command | None
    best: list[Command | None]
    """The sentence of each decode of the whole grammar (usually one), None where it decoded
    no whole sentence."""
    guessed: list[Command]
    """Every complete sentence of those decodes' n-best lists."""


def command_of(phrase: Phrase) -> Command:
    return phrase.intent, tuple(sorted(phrase.slots.items()))


def hear(job: tuple[list[Clip], int]) -> list[Heard]:
    clips, depth = job
    grammar = load_grammar(load_catalog(), context="session")
    index = build_index(grammar)
    engine = NBestWitness(grammar, depth)
    system = with_front_end(engine)
    phrases = {p.text: p for p in grammar.phrases()}
    heard = []
    for number, clip in enumerate(clips, 1):
        assert clip.expect is not None
        engine.forget()
        engine.expect(clip.awaited)
        taken = first_command(list(recognise(system, load_clip(clip), index)))
        heard.append(
            Heard(
                clip.row,
                (clip.expect, clip.slots),
                taken,
                [command_of(phrases[best]) if best else None for best, _ in engine.decodes],
                [command_of(phrases[t]) for _, guessed in engine.decodes for t in guessed],
            )
        )
        if number % 50 == 0:
            print(f"  {number}/{len(clips)}", file=sys.stderr, flush=True)
    return heard


def tally(heard: list[Heard]) -> dict[str, Counter[str]]:
    """Per row: clips, taken right, the best sentence right, right anywhere in the n-best list,
    and right in either way (taken, or in the n-best list)."""
    rows: dict[str, Counter[str]] = {}
    for clip in heard:
        counts = rows.setdefault(clip.row, Counter())
        taken = clip.taken == clip.truth
        in_guesses = clip.truth in clip.guessed
        counts["clips"] += 1
        counts["taken"] += taken
        counts["best"] += clip.truth in clip.best
        counts["n-best"] += in_guesses
        counts["either"] += taken or in_guesses
    return rows


def share(count: int, total: int) -> str:
    return f"{100 * count / total:.1f}% ({count})" if total else "-"


def report(rows: dict[str, Counter[str]], depth: int) -> None:
    print(
        f"| row | clips | taken | best sentence right | in the n-best list ({depth}) "
        "| taken or in the list |"
    )
    print("|---|---|---|---|---|---|")
    for row in sorted(rows):
        c = rows[row]
        n = c["clips"]
        print(
            f"| {row} | {n} | {share(c['taken'], n)} | {share(c['best'], n)} "
            f"| {share(c['n-best'], n)} | {share(c['either'], n)} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dev", type=Path, default=DEFAULT_OUT, help="a development set")
    parser.add_argument("--tests", action="store_true", help="the test clips instead")
    parser.add_argument("--depth", type=at_least_one, default=DEFAULT_DEPTH)
    parser.add_argument("--jobs", type=at_least_one, default=2)
    args = parser.parse_args()
    if args.tests:
        clips = test_clips(CASES, 0)
    elif (args.dev / "manifest.tsv").is_file():
        clips = dev_clips(args.dev)
    else:
        parser.error(f"{args.dev}: no manifest.tsv (run: bench/devset.py build)")
    commands = [c for c in clips if c.expect is not None]
    parts = [(commands[k :: args.jobs], args.depth) for k in range(args.jobs)]
    with multiprocessing.Pool(args.jobs) as pool:
        heard = [h for part in pool.map(hear, parts) for h in part]
    report(tally(heard), args.depth)


if __name__ == "__main__":
    main()
