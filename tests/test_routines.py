"""`voicecoach routines`, and sessions of exercises of one's own choosing (`run --exercise`)."""

from __future__ import annotations

import json

from voicecoach.core.catalog import Catalog
from voicecoach.core.session import session_length_s
from voicecoach.memory.journal import Journal
from voicecoach.testing import assert_one_line_error, run_cli


def test_routines_lists_each_routine_with_its_exercises_and_length(
    bundled_catalog: Catalog,
) -> None:
    listing = run_cli("routines")
    assert listing.returncode == 0, listing.stderr
    for routine in bundled_catalog.routines:
        assert f"{routine.id}: {routine.name}, about " in listing.stdout
    data = json.loads(run_cli("routines", "--json").stdout)
    assert [r["id"] for r in data] == [r.id for r in bundled_catalog.routines]
    desk = next(r for r in data if r["id"] == "desk")
    items = list(bundled_catalog.routine("desk").items)
    assert desk["minutes"] == round(session_length_s(bundled_catalog, items) / 60, 1)
    assert len(desk["exercises"]) == len(items)


def test_a_session_of_chosen_exercises_in_their_order() -> None:
    typed = run_cli(
        "run", "--text", "--mute", "--exercise", "cat cow", "bridge", stdin="next\nstop\nyes\n"
    )
    assert typed.returncode == 0, typed.stderr
    nexts = [line for line in typed.stdout.splitlines() if "coach: Next:" in line]
    assert "Cat" in nexts[0] and "Bridge" in nexts[1]
    (session,) = Journal().sessions()
    assert session.routine == "exercises"


def test_chosen_exercises_are_checked() -> None:
    assert_one_line_error(run_cli("run", "--text", "--exercise", "moonwalk"), "moonwalk")
    assert_one_line_error(
        run_cli("run", "--text", "--exercise", "bridge", "--routine", "core"), "--exercise"
    )
