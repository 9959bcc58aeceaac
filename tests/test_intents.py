"""Understanding: grammar sentences, labelled paraphrases and slips, and rejection."""

from __future__ import annotations

from pathlib import Path

import pytest

from voicecoach.core.catalog import Catalog
from voicecoach.core.grammar import INTENT_NAMES, Grammar, expand_template
from voicecoach.core.intents import CommandIndex, conflicts, held_command, match, normalize
from voicecoach.core.labelled import read_labelled, score
from voicecoach.core.numbers import number_to_words

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def catalog(bundled_catalog: Catalog) -> Catalog:
    return bundled_catalog


@pytest.fixture(scope="module")
def grammar(bundled_grammar: Grammar) -> Grammar:
    return bundled_grammar


@pytest.fixture(scope="module")
def index(bundled_index: CommandIndex) -> CommandIndex:
    return bundled_index


def test_every_template_is_covered_by_a_test_sentence(grammar: Grammar) -> None:
    sentences = {e.text for e in read_labelled(DATA / "intents_templates.tsv")}
    for template in grammar.templates:
        texts = {p.text for p in expand_template(grammar, template)}
        assert texts & sentences, f"no test sentence for {template.intent}: {template.text!r}"


def test_every_template_sentence_means_its_intent(index: CommandIndex) -> None:
    for example in read_labelled(DATA / "intents_templates.tsv"):
        got = match(example.text, index)
        assert got is not None, example.text
        assert (got.name, dict(got.slots), got.score) == (example.intent, example.slots, 100.0)


def test_every_intent_has_templates(grammar: Grammar) -> None:
    assert {t.intent for t in grammar.templates} == set(INTENT_NAMES)


def test_no_sentence_means_two_things(grammar: Grammar) -> None:
    assert conflicts(grammar) == []


@pytest.mark.parametrize(
    "text", ["turn off the lights", "call mom", "what's for dinner", "did you feed the cat"]
)
def test_household_talk_is_not_a_command(index: CommandIndex, text: str) -> None:
    assert match(text, index) is None


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("it hurts", "pain"),
        ("that hurts", "pain"),
        ("ouch", "pain"),
        ("this is painful", "pain"),
        ("my back hurts", "pain"),
        ("my leg feels numb", "red_flag"),
        ("I have tingling in my foot", "red_flag"),
        ("my legs feel weak", "red_flag"),
        ("Okay, next one.", "next"),
        ("um, let's move on please", "next"),
        ("can I hold it longer?", "hold_longer"),
        ("This is too hard!", "easier"),
        ("What comes next?", "whats_next"),
        ("How much time is left?", "time_left"),
        ("hold long her", "hold_longer"),
    ],
)
def test_issue_examples(index: CommandIndex, text: str, intent: str) -> None:
    got = match(text, index)
    assert got is not None and got.name == intent, got


@pytest.mark.parametrize("seconds", [3, 5, 13, 20, 45, 60, 90, 120])
def test_set_hold_seconds_from_words_and_digits(index: CommandIndex, seconds: int) -> None:
    for text in (f"hold for {number_to_words(seconds)} seconds", f"hold for {seconds} seconds"):
        got = match(text, index)
        assert got is not None and got.name == "set_hold" and got.slots == {"seconds": seconds}


def test_set_hold_minute_words(index: CommandIndex) -> None:
    for text, seconds in [("hold it for a minute", 60), ("hold for half a minute", 30)]:
        got = match(text, index)
        assert got is not None and got.slots == {"seconds": seconds}, text


def test_a_command_is_keyed_by_its_intent_and_slots(index: CommandIndex) -> None:
    twenty, words, thirty = (
        match(text, index)
        for text in ("hold for 20 seconds", "hold it for twenty seconds", "hold for 30 seconds")
    )
    assert twenty is not None and words is not None and thirty is not None
    assert twenty.command == words.command == ("set_hold", (("seconds", 20),))
    assert thirty.command != twenty.command


def test_start_exercise_by_every_name_and_alias(index: CommandIndex, catalog: Catalog) -> None:
    for exercise in catalog.exercises:
        for name in exercise.names:
            got = match(f"let's do the {name}", index)
            assert got is not None, name
            assert (got.name, dict(got.slots)) == ("start_exercise", {"exercise": exercise.id})


def test_issue_slot_examples(index: CommandIndex) -> None:
    got = match("let's do the bird dog", index)
    assert got is not None and dict(got.slots) == {"exercise": "bird-dog"}
    got = match("go to child's pose", index)
    assert got is not None and dict(got.slots) == {"exercise": "childs-pose"}


def test_normalize(grammar: Grammar) -> None:
    assert normalize("Um, what's NEXT, please?", grammar) == "what is next"
    assert normalize("okay", grammar) == "okay"
    assert normalize("Child's pose", grammar) == "childs pose"
    assert normalize("hold 45", grammar) == "hold forty five"
    assert normalize("...", grammar) == ""


def test_empty_and_noise_text(index: CommandIndex) -> None:
    for text in ["", "   ", "?!", "um", "uh uh"]:
        assert match(text, index) is None


# Floors under what bench/intents.py measured (dev 93.1% / 100%, held-out 84.0% / 96.2%, at
# MIN_SCORE 82, MIN_MARGIN 4), with room for small grammar changes.
FLOORS = {
    "intents_dev.tsv": (0.90, 0.97),
    "intents_heldout.tsv": (0.80, 0.93),
}


@pytest.mark.parametrize(("name", "floors"), FLOORS.items())
def test_labelled_set_accuracy_and_rejection(
    index: CommandIndex, name: str, floors: tuple[float, float]
) -> None:
    examples = read_labelled(DATA / name)
    assert len(examples) >= 280
    result = score(examples, lambda text: match(text, index))
    accuracy, rejection = floors
    assert result.accuracy >= accuracy, [(e.text, g) for e, g in result.misses]
    assert result.rejection >= rejection, [(e.text, g.name) for e, g in result.false_accepts]


# Per-intent floors over both sets (each intent has 16-45 sentences; measured lowest: harder
# and yes at 70.6%).
INTENT_FLOOR = 0.65


def test_accuracy_per_intent(index: CommandIndex) -> None:
    examples = [e for f in FLOORS for e in read_labelled(DATA / f)]
    assert len(examples) >= 400
    result = score(examples, lambda text: match(text, index))
    for intent in INTENT_NAMES:
        assert result.per_intent[intent] >= 12, intent
        assert result.intent_accuracy(intent) >= INTENT_FLOOR, intent


@pytest.mark.parametrize(
    ("text", "intent", "sentence"),
    [
        # Open recognisers' words for real commands, with words that were not said around them.
        ("I'm ready, let's go again.", "resume", "let us go again"),
        ("and what's next goch.", "whats_next", "what is next"),
        ("Uncoach it's too hard.", "easier", "it is too hard"),
    ],
)
def test_a_sentence_held_among_other_words_names_its_command(
    index: CommandIndex, text: str, intent: str, sentence: str
) -> None:
    held = held_command(text, index)
    assert held is not None and (held.name, held.phrase) == (intent, sentence)
    assert 50.0 < held.score < 100.0  # the share of the words the sentence is


@pytest.mark.parametrize(
    "text",
    [
        "Press up on the lid and it should open.",  # "press up": a fifth of the words
        "Alexa, skip this song.",  # "skip this": half of the words, not more
        "stop stop",  # one-word sentences are not looked for
        "Next one, moment.",  # "next one" (next) and "one moment" (pause): two commands
        "",
    ],
)
def test_no_command_is_held_in_half_the_words_or_less_or_in_two_commands(
    index: CommandIndex, text: str
) -> None:
    assert held_command(text, index) is None
