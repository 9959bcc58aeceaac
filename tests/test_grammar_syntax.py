"""The template language on its own: parsing, expansion, JSGF, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_catalog_errors import MINIMAL
from voicecoach.core.catalog import load_catalog
from voicecoach.core.grammar import (
    INTENT_NAMES,
    Chain,
    Choice,
    GrammarError,
    RuleRef,
    SlotRef,
    Word,
    load_grammar,
    parse_template,
    spoken_form,
    to_jsgf,
    vosk_phrases,
)


def test_parse_template_tree() -> None:
    tree = parse_template("[okay] (next | go on) <one> {exercise}")
    assert tree == Chain(
        (
            Choice((Chain((Word("okay"),)), Chain(()))),
            Chain((Choice((Chain((Word("next"),)), Chain((Word("go"), Word("on"))))),)),
            RuleRef("one"),
            SlotRef("exercise"),
        )
    )


@pytest.mark.parametrize("bad", ["(next | back", "next ]", "[", "", "next)"])
def test_bad_templates_raise(bad: str) -> None:
    with pytest.raises(GrammarError):
        parse_template(bad)


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("Child's Pose", "child's pose"),
        ("Cat-Cow", "cat cow"),
        ("Figure 4!", "figure four"),
        ("'quoted'", "quoted"),
        ("Knee\u2019s", "knee's"),
    ],
)
def test_spoken_form(text: str, spoken: str) -> None:
    assert spoken_form(text) == spoken


GRAMMAR_FILE = """
language = "en"
fillers = ["please"]
[rules]
one = "(one | exercise)"
[slots.seconds]
kind = "number"
min = 5
max = 6
unit = "seconds"
[slots.exercise]
kind = "exercise"
[intents.next]
templates = ["next [<one>]"]
[intents.set_hold]
templates = ["hold for {seconds}"]
[intents.start_exercise]
templates = ["do the {exercise}"]
"""

OTHER_INTENTS = "".join(
    f'[intents.{name}]\ntemplates = ["{name.replace("_", " ")}"]\n'
    for name in INTENT_NAMES
    if name not in ("next", "set_hold", "start_exercise")  # in GRAMMAR_FILE
)


def small_grammar(tmp_path: Path, text: str = GRAMMAR_FILE + OTHER_INTENTS) -> Path:
    (tmp_path / "catalog.toml").write_text(MINIMAL, encoding="utf-8")
    folder = tmp_path / "grammar"
    folder.mkdir()
    (folder / "commands.toml").write_text(text, encoding="utf-8")
    return folder


def test_expansion_and_recogniser_grammars(tmp_path: Path) -> None:
    folder = small_grammar(tmp_path)
    grammar = load_grammar(load_catalog(tmp_path / "catalog.toml"), folder)
    texts = {p.text: (p.intent, dict(p.slots)) for p in grammar.phrases()}
    assert texts["next exercise"] == ("next", {})
    assert texts["hold for five seconds"] == ("set_hold", {"seconds": 5})
    assert texts["hold for six"] == ("set_hold", {"seconds": 6})
    assert texts["do the hip bridge"] == ("start_exercise", {"exercise": "bridge"})
    phrases = vosk_phrases(grammar)
    assert phrases[-1] == "[unk]"
    assert set(phrases[:-1]) == set(texts)
    jsgf = to_jsgf(grammar)
    assert jsgf.startswith("#JSGF V1.0;")
    assert "<intent_next> = (next [<rule_one>]);" in jsgf
    assert "<slot_seconds> = (five | five seconds | six | six seconds);" in jsgf


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace("<one>", "<two>"), "unknown rule <two>"),
        (lambda t: t.replace("{seconds}", "{minutes}"), "unknown slot {minutes}"),
        (lambda t: t.replace("[intents.yes]", "[intents.maybe]"), "unknown intent 'maybe'"),
        (
            lambda t: t.replace('templates = ["no"]', "templates = []"),
            "no templates for intents: no",
        ),
        (lambda t: t.replace('kind = "number"', 'kind = "colour"'), "kind must be number"),
        (lambda t: t.replace("[rules]", "[rules"), "cannot read grammar"),
    ],
)
def test_grammar_file_errors(tmp_path: Path, change: object, message: str) -> None:
    assert callable(change)
    folder = small_grammar(tmp_path, change(GRAMMAR_FILE + OTHER_INTENTS))
    with pytest.raises(GrammarError, match=message):
        load_grammar(load_catalog(tmp_path / "catalog.toml"), folder)


def test_empty_grammar_folder(tmp_path: Path) -> None:
    (tmp_path / "catalog.toml").write_text(MINIMAL, encoding="utf-8")
    (tmp_path / "empty").mkdir()
    with pytest.raises(GrammarError, match="no grammar files"):
        load_grammar(load_catalog(tmp_path / "catalog.toml"), tmp_path / "empty")
