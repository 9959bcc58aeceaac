"""bench/confusables.py: words that sound like a short command, for training and measuring the
verifier, kept apart between the two."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from voicecoach.core.catalog import load_catalog
from voicecoach.core.grammar import load_grammar
from voicecoach.core.intents import build_index, match

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import devset
import train_verifier
from confusables import Confusable, find_confusables, for_training, read_confusables

PRONUNCIATIONS = {
    "six": "S IH K S",
    "sixth": "S IH K S TH",  # one phone added
    "seeks": "S IY K S",  # one phone changed
    "sicks": "S IH K S",  # the same sounds: left out
    "sister": "S IH S T ER",  # two phones from a word of four: too far
    "pardon": "P AA R D AH N",
    "garden": "G AA R D AH N",
    "carton": "K AA R T AH N",  # two phones from a sentence of six
    "hold": "HH OW L D",
    "on": "AA N",
    "holden": "HH OW L D AH N",  # "hold on" of two words
    "stop": "S T AA P",
    "stops": "S T AA P S",  # a command to the matcher
    "ox": "AA K S",  # under three letters
}


def test_words_a_phone_or_two_from_a_short_command_are_found() -> None:
    found = find_confusables(
        ["six", "pardon", "hold on", "stop", "hold on please now"],
        PRONUNCIATIONS,
        lambda word: word == "stops",
    )
    assert found == [
        Confusable("carton", "pardon", 2),
        Confusable("garden", "pardon", 1),
        Confusable("holden", "hold on", 1),
        Confusable("seeks", "six", 1),
        Confusable("sixth", "six", 1),
    ]


def test_the_bundled_words_are_no_commands_and_split_in_two() -> None:
    index = build_index(load_grammar(load_catalog()))
    words = read_confusables()
    assert len(words) > 1000
    assert [c.word for c in words if match(c.word, index) is not None] == []
    assert all(1 <= c.distance <= 2 for c in words)
    training = sum(for_training(c.word) for c in words) / len(words)
    assert 0.4 < training < 0.6


def test_training_hears_one_half_and_the_development_set_the_other() -> None:
    near = {c.word for c in read_confusables()}
    assert not any(item.text in near for item in train_verifier.synthetic_items())
    trained = [item.text for item in train_verifier.synthetic_items(800) if item.text in near]
    measured = [row[1] for row in devset.planned_rows() if row[4] == "near-command"]
    assert len(measured) == devset.CONFUSABLE_CLIPS
    assert len(trained) == 800
    assert all(for_training(word) for word in trained)
    assert not any(for_training(word) for word in measured)


def test_confusable_words_do_not_set_the_thresholds() -> None:
    items = [
        train_verifier.Item("hold on", "pause", {}),
        train_verifier.Item("the weather", None, {}),
        train_verifier.Item(read_confusables()[0].word, None, {}),
    ]
    rows = [{"item": n} for n in (0, 1, 1, 2, 2)]
    command = np.array([True, False, False, False, False])
    pool = train_verifier.threshold_pool(items, rows, command)
    assert pool.tolist() == [False, True, True, False, False]
