"""Broken data files give one clear CatalogError naming file, item and field (or line/column)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from voicecoach.core.catalog import load_catalog
from voicecoach.core.errors import CatalogError, VoiceCoachError

MINIMAL = """\
schema = 1
general_cautions = [{ text = "Back off if it hurts.", sources = ["a"] }]

[sources]
a = "Article A"

[[red_flag]]
id = "numb-legs"
text = "Numbness in the legs."
urgent = true
sources = ["a"]

[[avoid]]
id = "sit-ups"
name = "Sit-ups"
reason = "They pull on the hip flexors."
sources = ["a"]

[[exercise]]
id = "bridge"
name = "Bridge"
aliases = ["hip bridge"]
category = "strength"
position = "supine"
targets = ["glutes"]
benefit = "Strengthens the glutes."
steps = ["Lie on your back.", "Lift your hips."]
sources = ["a"]

[exercise.dose]
hold_s = 5
reps = 10
sets = 2
rest_s = 60
per_side = false

[[exercise.variation]]
id = "low"
name = "Lift a few inches"
direction = "easier"
sources = ["a"]

[exercise.variation.dose]
hold_s = 3

[[routine]]
id = "core"
name = "Core"
description = "Strength."
exercises = ["bridge", "bridge/low"]
"""

BRIDGE_NAME_LINE = MINIMAL.splitlines().index('name = "Bridge"') + 1


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "exercises.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_file_loads_with_variation_dose_merged(tmp_path: Path) -> None:
    catalog = load_catalog(write(tmp_path, MINIMAL))
    bridge = catalog.find("hip bridge")
    low = bridge.variation("low")
    assert low is not None
    assert (low.dose.hold_s, low.dose.reps, low.dose.sets) == (3, 10, 2)
    assert low.position == "supine"
    assert catalog.routine("core").items[1].variation_id == "low"


BROKEN = [
    pytest.param(
        MINIMAL.replace('name = "Bridge"', 'name = "Bridge'),
        rf"line {BRIDGE_NAME_LINE}, column 15: invalid TOML",
        id="toml-syntax",
    ),
    pytest.param(
        MINIMAL.replace('benefit = "Strengthens', 'colour = "red"\nbenefit = "Strengthens'),
        "exercise 'bridge': field 'colour': unknown field",
        id="unknown-field",
    ),
    pytest.param(
        MINIMAL.replace('benefit = "Strengthens the glutes."\n', ""),
        "exercise 'bridge': field 'benefit': missing",
        id="missing-field",
    ),
    pytest.param(
        MINIMAL.replace('direction = "easier"', 'direction = "sideways"'),
        "exercise 'bridge': field 'variation 'low'.direction': 'sideways' is not one of",
        id="bad-direction",
    ),
    pytest.param(
        MINIMAL.replace(
            'steps = ["Lie on your back.", "Lift your hips."]\nsources = ["a"]',
            'steps = ["Lie on your back."]\nsources = ["b"]',
        ),
        "exercise 'bridge': field 'sources': unknown source 'b'",
        id="unknown-source",
    ),
    pytest.param(
        MINIMAL.replace('exercises = ["bridge", "bridge/low"]', 'exercises = ["plank"]'),
        "routine 'core': field 'exercises': unknown exercise 'plank'",
        id="routine-unknown-exercise",
    ),
    pytest.param(
        MINIMAL.replace('exercises = ["bridge", "bridge/low"]', 'exercises = ["bridge/high"]'),
        "routine 'core': field 'exercises': exercise 'bridge' has no variation 'high'",
        id="routine-unknown-variation",
    ),
    pytest.param(
        MINIMAL.replace('exercises = ["bridge", "bridge/low"]', 'exercises = ["sit-ups"]'),
        "routine 'core': field 'exercises': 'sit-ups' is on the avoid list",
        id="avoid-in-routine",
    ),
    pytest.param(
        MINIMAL.replace("reps = 10", 'reps = "ten"'),
        "exercise 'bridge': field 'dose.reps': expected a whole number >= 1, got 'ten'",
        id="wrong-type",
    ),
    pytest.param(
        MINIMAL.replace("reps = 10", "reps = 0"),
        "field 'dose.reps': expected a whole number >= 1, got 0",
        id="out-of-range",
    ),
    pytest.param(
        MINIMAL.replace('id = "bridge"', 'id = "Bridge Pose"'),
        "exercise: field 'id': 'Bridge Pose' is not a lower-case-dashed id",
        id="bad-id",
    ),
    pytest.param(
        MINIMAL.replace('aliases = ["hip bridge"]', 'aliases = ["hip bridge", "Bridge"]'),
        "exercise 'bridge': field 'aliases': name 'Bridge' is listed twice",
        id="alias-twice",
    ),
    pytest.param(
        MINIMAL.replace(
            "[[routine]]",
            MINIMAL[MINIMAL.index("[[exercise]]") : MINIMAL.index("[[routine]]")].replace(
                'id = "bridge"', 'id = "glute-bridge"'
            )
            + "[[routine]]",
        ),
        "exercise 'glute-bridge': field 'aliases': name 'Bridge' is already used by exercise "
        "'bridge'",
        id="alias-clash",
    ),
    pytest.param(
        MINIMAL.replace("schema = 1", "schema = 7"),
        "top level: field 'schema': unsupported schema version 7",
        id="schema-version",
    ),
    pytest.param(
        MINIMAL.replace('position = "supine"', 'position = "upside down"'),
        "exercise 'bridge': field 'position': 'upside down' is not one of",
        id="bad-position",
    ),
    pytest.param(
        MINIMAL.replace(
            '[{ text = "Back off if it hurts.", sources = ["a"] }]',
            '[{ text = "Back off if it hurts.", sources = [] }]',
        ),
        "top level: field 'general_cautions[0].sources': needs at least one source",
        id="caution-without-source",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BROKEN)
def test_broken_file_names_file_item_and_field(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert "\n" not in message
    assert caught.value.path == path
    assert re.search(expected, message) or expected in message, message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no such file"):
        load_catalog(tmp_path / "nope.toml")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "exercises.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CatalogError, match="not UTF-8"):
        load_catalog(path)


def test_catalog_error_is_a_voicecoach_error() -> None:
    assert issubclass(CatalogError, VoiceCoachError)
