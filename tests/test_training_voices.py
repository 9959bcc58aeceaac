"""The verifier's training voices (bench/train_verifier.py draws them): every engine is drawn,
and no test voice or held-out voice is among them, so test and development figures stay on
speakers the training never heard."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from voicecoach.hearing.synthetic import (
    HELD_OUT_VOICES,
    TEST_VOICES,
    Voice,
    training_voice,
)

DRAWS = 4000


def drawn_voices() -> list[Voice]:
    rng = np.random.default_rng(3)
    return [training_voice(rng) for _ in range(DRAWS)]


def test_every_engine_is_drawn_at_its_share() -> None:
    engines = Counter(voice.engine for voice in drawn_voices())
    assert set(engines) == {"espeak", "flite", "festival", "pico"}
    assert engines["pico"] / DRAWS == pytest.approx(0.10, abs=0.02)
    assert (engines["flite"] + engines["festival"]) / DRAWS == pytest.approx(0.20, abs=0.02)


def test_no_test_or_held_out_voice_is_drawn() -> None:
    kept_out = {(v.engine, v.name) for v in TEST_VOICES + HELD_OUT_VOICES}
    drawn = {(v.engine, v.name) for v in drawn_voices()}
    assert not drawn & kept_out
    # nor a test voice's espeak-ng variant in another accent ("en-us+m3" in "en-gb+m3")
    test_variants = {v.name.split("+")[1] for v in TEST_VOICES if "+" in v.name}
    drawn_variants = {name.split("+")[1] for engine, name in drawn if "+" in name}
    assert drawn_variants and not drawn_variants & test_variants
