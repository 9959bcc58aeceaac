"""bench/train_verifier.py: what a rendition of the training speech depends on."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import train_verifier
from train_verifier import Item, item_key, rendition_seed


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
