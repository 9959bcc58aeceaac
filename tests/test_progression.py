"""Progression rules and `voicecoach next`, from a history written to the journal."""

from __future__ import annotations

import json
from typing import Any

import pytest

from voicecoach.core.catalog import Catalog, RoutineItem
from voicecoach.core.history import SessionSummary
from voicecoach.core.progression import (
    STEP_UP_SESSIONS,
    NothingToResumeError,
    next_step,
    plan_from_history,
    practised,
    resume_point,
)
from voicecoach.memory.home import mark_first_session_done
from voicecoach.memory.journal import Journal
from voicecoach.testing import run_cli as run


def summary(
    number: int, routine: str, outcome: str | None, *exercises: dict[str, Any]
) -> SessionSummary:
    finished = tuple(e["exercise"] for e in exercises if e.get("result") in ("done", "skipped"))
    return SessionSummary(number, routine, float(number), None, outcome, tuple(exercises), finished)


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


def test_practised_is_what_was_done_in_the_form_it_was_done() -> None:
    sessions = [
        summary(2, "core", "completed", done("bridge", 5, "bridge-march")),
        summary(
            1, "core", "stopped", done("plank", 10), {"exercise": "bird-dog", "result": "skipped"}
        ),
    ]
    assert practised(sessions) == {("bridge", "bridge-march"), ("plank", None)}


def test_a_second_typed_session_introduces_what_was_done_in_short() -> None:
    mark_first_session_done()  # not the first session on this machine: no notice
    journal = Journal()
    session = journal.start_session("core")
    journal.record(session, 60.0, "exercise_done", "deep-breathing", variation=None, hold_s=0)
    journal.end_session(session, "stopped")
    journal.close()
    typed = run(
        "run", "--text", "--mute", "--routine", "core", stdin="how do i do this\nstop\nyes\n"
    )
    assert typed.returncode == 0, typed.stderr
    intro = typed.stdout.split("heard:")[0]
    assert "coach: Next: Deep breathing." in intro and "how do I do this" in intro
    assert "Take a nice, long breath in." not in intro  # the steps come when asked
    asked = typed.stdout.split("-> how_to")[1].split("heard:")[0]
    assert "Take a nice, long breath in." in asked


def test_next_and_resume_agree_and_a_partial_exercise_is_done_again(
    bundled_catalog: Catalog,
) -> None:
    partial = {"exercise": "deep-breathing", "result": "partial", "reps_done": 1}
    stopped = summary(1, "core", "stopped", partial)
    assert next_step(bundled_catalog, [stopped]).exercise == "deep-breathing"
    assert resume_point(bundled_catalog, [stopped]).items[0].exercise_id == "deep-breathing"
    skipped = summary(2, "core", "stopped", {"exercise": "deep-breathing", "result": "skipped"})
    step, resumed = next_step(bundled_catalog, [skipped]), resume_point(bundled_catalog, [skipped])
    assert step.exercise == resumed.items[0].exercise_id == "abdominal-bracing"


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


def test_resume_carries_on_after_what_was_done_or_skipped(bundled_catalog: Catalog) -> None:
    killed = SessionSummary(
        2,
        "gentle",
        2.0,
        None,
        None,
        (
            done("deep-breathing", 0),
            {"exercise": "pelvic-tilt", "result": "skipped", "hold_s": 5, "variation": None},
            {"exercise": "knee-to-chest", "hold_s": 20, "variation": "hold-tops-of-knees"},
        ),
        ("deep-breathing", "pelvic-tilt"),
    )
    earlier = summary(1, "gentle", "completed", done("figure-four", 12))
    point = resume_point(bundled_catalog, [killed, earlier])
    assert point.session_id == 2 and point.routine == "gentle"
    routine = [i.exercise_id for i in bundled_catalog.routine("gentle").items]
    assert [i.exercise_id for i in point.items] == routine[2:]
    # the exercise in progress keeps the variation and hold it was switched to
    assert point.items[0] == RoutineItem("knee-to-chest", "hold-tops-of-knees")
    assert point.holds == {"knee-to-chest": 20, "figure-four": 12}
    assert point.opening == "Welcome back. Carrying on where you stopped: 2 done, 7 to go."


def test_resume_counts_an_exercise_a_routine_has_twice(bundled_catalog: Catalog) -> None:
    routine = bundled_catalog.routine("desk").items
    assert [i.exercise_id for i in routine].count("neural-glide") > 1
    once = SessionSummary(
        1, "desk", 1.0, None, None, tuple(done(i.exercise_id, 0) for i in routine[:3]),
        tuple(i.exercise_id for i in routine[:3]),
    )  # fmt: skip
    assert resume_point(bundled_catalog, [once]).items == routine[3:]


@pytest.mark.parametrize(
    ("outcome", "finished", "message"),
    [
        ("completed", 1, "your last session was finished"),
        ("red_flag", 1, "see a doctor"),
        ("stopped", 9, "every exercise of your last session was done"),
    ],
)
def test_what_cannot_be_resumed(
    bundled_catalog: Catalog, outcome: str, finished: int, message: str
) -> None:
    items = bundled_catalog.routine("gentle").items[:finished]
    last = SessionSummary(
        1, "gentle", 1.0, 2.0, outcome, tuple(done(i.exercise_id, 0) for i in items),
        tuple(i.exercise_id for i in items),
    )  # fmt: skip
    with pytest.raises(NothingToResumeError, match=message):
        resume_point(bundled_catalog, [last])
    with pytest.raises(NothingToResumeError, match="no sessions yet"):
        resume_point(bundled_catalog, [])


def test_history_reads_a_partial_exercise_as_partial_and_unfinished() -> None:
    from voicecoach.core.history import summarize

    events = [
        ("exercise_done", "bridge", json.dumps({"hold_s": 5, "reps_done": 20, "reps_planned": 20})),
        ("partial", "plank", json.dumps({"hold_s": 10, "reps_done": 2, "reps_planned": 3})),
        ("skipped", "bird-dog", json.dumps({"hold_s": 5, "reps_done": 0})),
    ]
    summary_ = summarize((1, "core", 0.0, None, "stopped"), events)
    results = {e["exercise"]: (e["result"], e.get("reps_done")) for e in summary_.exercises}
    assert results == {"bridge": ("done", 20), "plank": ("partial", 2), "bird-dog": ("skipped", 0)}
    assert summary_.finished == ("bridge", "bird-dog")
