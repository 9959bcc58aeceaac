"""Progression rules and `voicecoach next`, from a history written to the journal."""

from __future__ import annotations

import json
from typing import Any

from tests.test_cli import run
from voicecoach.catalog import Catalog, RoutineItem
from voicecoach.journal import Journal, SessionSummary
from voicecoach.progression import STEP_UP_SESSIONS, next_step, plan_from_history


def summary(
    number: int, routine: str, outcome: str | None, *exercises: dict[str, Any]
) -> SessionSummary:
    return SessionSummary(number, routine, float(number), None, outcome, tuple(exercises))


def done(exercise: str, hold_s: int, variation: str | None = None, **more: Any) -> dict[str, Any]:
    return {
        "exercise": exercise,
        "result": "done",
        "hold_s": hold_s,
        "variation": variation,
        **more,
    }


def test_a_lengthened_hold_carries_over(bundled_catalog: Catalog) -> None:
    history = [summary(2, "gentle", "completed", done("pelvic-tilt", 15)),
               summary(1, "gentle", "completed", done("pelvic-tilt", 5))]  # fmt: skip
    assert plan_from_history(bundled_catalog, history).holds == {"pelvic-tilt": 15}


def test_harder_without_pain_carries_over_and_pain_steps_back(bundled_catalog: Catalog) -> None:
    plan = plan_from_history(
        bundled_catalog,
        [summary(1, "core", "completed", done("plank", 10, "on-hands"), done("bridge", 5, pain=1))],
    )
    assert plan.variations["plank"] == "on-hands"
    assert plan.variations["bridge"] is not None
    easier = bundled_catalog.exercise("bridge").variation(str(plan.variations["bridge"]))
    assert easier is not None and easier.direction == "easier"
    items = plan.apply([RoutineItem("plank"), RoutineItem("bird-dog")])
    assert items == [RoutineItem("plank", "on-hands"), RoutineItem("bird-dog")]


def test_step_up_suggested_after_sessions_without_pain(bundled_catalog: Catalog) -> None:
    clean = [
        summary(n, "core", "completed", done("bird-dog", 5)) for n in range(STEP_UP_SESSIONS, 0, -1)
    ]
    plan = plan_from_history(bundled_catalog, clean)
    assert any("Bird dog" in s and "harder" in s for s in plan.suggestions)
    sore = [summary(9, "core", "completed", done("bird-dog", 5, pain=1)), *clean]
    assert plan_from_history(bundled_catalog, sore).suggestions == ()


def test_next_step_rules(bundled_catalog: Catalog) -> None:
    assert next_step(bundled_catalog, []).routine == "gentle"
    unfinished = summary(1, "core", None, done("deep-breathing", 0))
    step = next_step(bundled_catalog, [unfinished])
    assert step.routine == "core" and step.exercise == "abdominal-bracing"
    assert "left off" in step.why
    hurt = summary(2, "core", "completed", done("plank", 10, pain=1))
    assert next_step(bundled_catalog, [hurt]).routine == "gentle"
    flagged = summary(3, "core", "red_flag", done("plank", 10))
    assert "doctor" in next_step(bundled_catalog, [flagged]).why


def test_next_command_reads_the_journal() -> None:
    journal = Journal()
    session = journal.start_session("core")
    journal.record(session, 60.0, "exercise_done", "deep-breathing", variation=None, hold_s=0)
    journal.close()
    result = run("next", "--json")
    assert result.returncode == 0, result.stderr
    step = json.loads(result.stdout)
    assert step["routine"] == "core" and step["exercise"] == "abdominal-bracing"
    assert "left off" in run("next").stdout
