"""The recogniser's word graph accepts exactly the grammar's sentences."""

from __future__ import annotations

from collections import defaultdict

from voicecoach.core.grammar import Automaton, phrase_automaton


def sentences_of(automaton: Automaton) -> set[str]:
    edges: dict[int, list[tuple[int, str | None]]] = defaultdict(list)
    for source, target, word in automaton.transitions:
        edges[source].append((target, word))
    found: set[str] = set()

    def walk(state: int, words: tuple[str, ...]) -> None:
        if state == automaton.final:
            found.add(" ".join(words))
        for target, word in edges[state]:
            walk(target, (*words, word) if word else words)

    walk(automaton.start, ())
    return found


def test_accepts_exactly_the_sentences() -> None:
    sentences = [
        "next",
        "next one",
        "hold for twenty seconds",
        "hold for thirty seconds",
        "hold for twenty",
        "go back",
        "go back one",
    ]
    automaton = phrase_automaton(sentences)
    assert sentences_of(automaton) == set(sentences)


def test_shared_endings_are_merged() -> None:
    sentences = [f"hold for {n} seconds" for n in ("five", "six", "seven", "eight")]
    automaton = phrase_automaton(sentences)
    # start -hold-> -for-> (one state) -number-> (one state) -seconds-> final
    assert automaton.states == 5
    assert len(automaton.transitions) == 3 + len(sentences)


def test_bundled_grammar_graph_is_small(grammar_sentences: list[str]) -> None:
    automaton = phrase_automaton(grammar_sentences)
    assert sentences_of(automaton) == set(grammar_sentences)
    assert automaton.states < len(grammar_sentences) / 10
