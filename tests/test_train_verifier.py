"""bench/train_verifier.py: what a rendition of the training speech depends on."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import numpy as np
import pytest

from voicecoach.core.intents import CommandIndex, normalize
from voicecoach.hearing import synthetic

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import train_verifier
from train_verifier import Item, item_key, rendition_seed

from voicecoach.hearing.asr.verifier import OperatingPoint


def test_a_rendition_is_seeded_by_its_item_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    item = Item("hold on", "pause", {}, group="hold on")
    seeds = [rendition_seed(item, k) for k in range(4)]
    key = item_key(item, 4, 0)
    monkeypatch.setattr(train_verifier, "hearing_code", lambda: ("rendering", ("changed",)))
    assert item_key(item, 4, 0) != key  # new hearing code: decoded again...
    assert [rendition_seed(item, k) for k in range(4)] == seeds  # ...from the same speech
    assert len(set(seeds)) == 4
    assert rendition_seed(Item("hang on", "pause", {}, group="hang on"), 0) != seeds[0]


def test_a_human_recording_is_known_by_its_place_in_the_set() -> None:
    here = Item("three", "rating", {"level": 3}, "/a/fsdd/3_x_0.wav", "fsdd-x", "fsdd/3_x_0.wav")
    there = Item("three", "rating", {"level": 3}, "/b/fsdd/3_x_0.wav", "fsdd-x", "fsdd/3_x_0.wav")
    other = Item("three", "rating", {"level": 3}, "/a/fsdd/3_x_1.wav", "fsdd-x", "fsdd/3_x_1.wav")
    assert rendition_seed(here, 0) == rendition_seed(there, 0) != rendition_seed(other, 0)
    assert item_key(here, 1, 5) == item_key(there, 1, 5)


def test_a_change_to_the_training_voices_renders_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The voices a rendition draws (synthetic.training_voice and its lists) are part of what it
    depends on: before commit d7ff539 a change to them reused the renditions of the old voices."""
    item = Item("hold on", "pause", {}, group="hold on")
    key = item_key(item, 4, 0)
    source = inspect.getsource(synthetic)
    changed = source.replace('"en-us", "en-gb"', '"en-gb", "en-us"')
    assert changed != source
    train_verifier.hearing_code.cache_clear()
    real_getsource = inspect.getsource
    monkeypatch.setattr(
        inspect, "getsource", lambda obj: changed if obj is synthetic else real_getsource(obj)
    )
    try:
        assert item_key(item, 4, 0) != key
    finally:
        train_verifier.hearing_code.cache_clear()


def test_an_intent_gets_its_own_threshold_only_from_enough_other_speech() -> None:
    """The 97th percentile of a dozen scores lies between the two highest: an intent needs 100
    other segments decoded as it (three above its threshold) before its own threshold is set."""
    rng = np.random.default_rng(0)
    common_scores = rng.uniform(0.0, 0.6, 2000)
    few_high = np.full(12, 0.95)
    many_high = rng.uniform(0.5, 0.9, 150)
    scores = np.concatenate([common_scores, few_high, many_high])
    decoded = np.array(["none"] * 2000 + ["time_left"] * 12 + ["yes"] * 150)
    other = np.ones(scores.size, dtype=bool)
    point = train_verifier.operating_point(scores, other, decoded, 0.97)
    assert "time_left" not in point.intent_thresholds
    assert point.intent_thresholds["yes"] > point.threshold
    above = scores[decoded == "yes"] > point.intent_thresholds["yes"] + 1e-4  # rounded to 4 places
    assert float(np.mean(above)) <= 0.03


def test_a_stricter_sensitivity_never_takes_an_intent_more_readily() -> None:
    """'no' has a threshold of its own at medium (enough segments at 97%) and not at low (300
    needed at 99%): at low it keeps at least medium's."""
    points = train_verifier.nested(
        {
            "low": OperatingPoint(0.85, {"rating": 0.95}, 0.4),
            "medium": OperatingPoint(0.67, {"no": 0.86, "rating": 0.9}, 0.3),
            "high": OperatingPoint(0.44, {}, 0.2),
        }
    )
    assert list(points) == ["low", "medium", "high"]
    assert points["high"] == OperatingPoint(0.44, {}, 0.2)
    assert points["medium"] == OperatingPoint(0.67, {"no": 0.86, "rating": 0.9}, 0.3)
    assert points["low"] == OperatingPoint(0.85, {"no": 0.86, "rating": 0.95}, 0.4)


def test_ratings_by_embedding_are_counted_where_the_verifier_rejects(
    capsys: pytest.CaptureFixture[str],
) -> None:
    classes = ("yes", "rating:6", "rating:8", "none")
    rows = [
        {"decoded": "rating:8", "truth": "rating:6", "human": True},  # misheard, embedding right
        {"decoded": "rating:6", "truth": "rating:6", "human": True},  # taken by the verifier
        {"decoded": "yes", "truth": "none", "human": False},  # other speech, embedding unsure
        {"decoded": "rating:8", "truth": "none", "human": True},  # other speech, embedding sure
    ]
    scores = np.array([0.1, 0.9, 0.1, 0.1])
    out_of_fold = np.array(
        [[0.1, 0.8, 0.05, 0.05], [0.1, 0.2, 0.6, 0.1], [0.5, 0.2, 0.2, 0.1], [0.0, 0.0, 0.9, 0.1]]
    )
    train_verifier.print_ratings_by_embedding(rows, classes, scores, out_of_fold, 0.5)
    lines = capsys.readouterr().out.splitlines()
    # Never: only the verifier's decode of the second row is a right rating.
    assert "human digits right 50.0%, wrong 0 of 2" in lines[1]
    assert "synthetic 0.0%, human 0.0%" in lines[1]
    # At 0.7 the first row's embedding (0.8) is taken, and so is the last row's (0.9).
    assert lines[4].startswith("  at 0.7: human digits right 100.0%, wrong 0 of 2")
    assert "synthetic 0.0%, human 100.0%" in lines[4]


def test_no_negative_is_a_sentence_of_the_grammar(bundled_index: CommandIndex) -> None:
    """The verifier learns to reject what bench/data/verifier_negatives.txt says, and the
    development set counts it as other speech: a line the session grammar takes as a command
    ("goodbye" is stop, "bridge" starts the bridge) would teach it to ignore a person who said
    it."""
    grammar, index = bundled_index.grammar, bundled_index
    negatives = train_verifier.read_lines(
        train_verifier.ROOT / "bench" / "data" / "verifier_negatives.txt"
    )
    assert len(negatives) > 100
    commands = [text for text in negatives if normalize(text, grammar) in index.entries]
    assert commands == []


def test_a_text_that_is_a_command_in_any_list_is_trained_as_that_command() -> None:
    """intents_dev.tsv has a bare "seven" as no command (nothing was asked); the verifier
    judges the words heard, and a "seven" heard right is a rating of 7, as the other ten are."""
    items = {item.text: item for item in train_verifier.synthetic_items()}
    ratings = [items[name] for name in ("zero", "three", "seven", "ten")]
    assert [(item.intent, item.slots) for item in ratings] == [
        ("rating", {"level": 0}),
        ("rating", {"level": 3}),
        ("rating", {"level": 7}),
        ("rating", {"level": 10}),
    ]
    assert items["who was that on the phone"].intent is None
