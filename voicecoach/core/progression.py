"""Progression from the history (pure): what the next session starts with, and what to do next.

- A hold the person lengthened (or shortened) carries over to the next session.
- A harder variation that was done without pain carries over; pain steps back to the easier one.
- An exercise done without pain in the last STEP_UP_SESSIONS sessions suggests its harder form.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from voicecoach.core.catalog import Catalog, RoutineItem
from voicecoach.core.errors import UnknownExerciseError, VoiceCoachError
from voicecoach.core.history import SessionSummary

STEP_UP_SESSIONS: Final = 3
"""Sessions in a row without pain before the harder form is suggested."""
DEFAULT_ROUTINE: Final = "gentle"


@dataclass(frozen=True)
class Plan:
    """What a session starts with, from the history."""

    holds: dict[str, int] = field(default_factory=dict)
    """Exercise id -> hold in seconds, where the person changed it."""
    variations: dict[str, str | None] = field(default_factory=dict)
    """Exercise id -> the variation to start with (None: the plain form)."""
    suggestions: tuple[str, ...] = ()
    """Spoken suggestions ("You've done ... : say harder to try ...")."""

    def apply(self, items: Sequence[RoutineItem]) -> list[RoutineItem]:
        return [
            RoutineItem(item.exercise_id, self.variations.get(item.exercise_id, item.variation_id))
            for item in items
        ]


def plan_from_history(catalog: Catalog, sessions: Sequence[SessionSummary]) -> Plan:
    """`sessions` newest first, as Journal.sessions() returns them."""
    holds: dict[str, int] = {}
    variations: dict[str, str | None] = {}
    clean_streak: dict[str, int] = {}
    broken: set[str] = set()
    for session in sessions:  # newest first: the first record of an exercise is its latest
        for entry in session.exercises:
            exercise_id = str(entry["exercise"])
            try:
                exercise = catalog.exercise(exercise_id)
            except UnknownExerciseError:  # an exercise no longer in the catalog
                continue
            pain = bool(entry.get("pain")) or bool(entry.get("red_flag"))
            if exercise_id not in variations and entry.get("result") == "done":
                hold = entry.get("hold_s")
                variation = (
                    exercise.variation(str(entry.get("variation")))
                    if entry.get("variation")
                    else None
                )
                base = variation.dose.hold_s if variation else exercise.dose.hold_s
                if isinstance(hold, int) and hold and hold != base:
                    holds[exercise_id] = hold
                if pain:
                    easier = next((v for v in exercise.variations if v.direction == "easier"), None)
                    variations[exercise_id] = easier.id if easier else None
                elif variation is not None and variation.direction == "harder":
                    variations[exercise_id] = variation.id
            if exercise_id in broken:
                continue
            if pain or entry.get("result") != "done":
                broken.add(exercise_id)
            else:
                clean_streak[exercise_id] = clean_streak.get(exercise_id, 0) + 1
    suggestions = []
    for exercise_id, streak in clean_streak.items():
        exercise = catalog.exercise(exercise_id)
        harder = next((v for v in exercise.variations if v.direction == "harder"), None)
        if streak >= STEP_UP_SESSIONS and harder and variations.get(exercise_id) != harder.id:
            suggestions.append(
                f"You've done {exercise.name} {streak} times without pain: "
                f"say harder to try {harder.name}."
            )
    return Plan(holds, variations, tuple(suggestions))


@dataclass(frozen=True)
class NextStep:
    routine: str
    exercise: str
    """The exercise id to start with."""
    why: str


def practised(sessions: Sequence[SessionSummary]) -> frozenset[tuple[str, str | None]]:
    """The exercises done (not only skipped) in `sessions`, each with the variation it was
    done in (None: the standard form)."""
    return frozenset(
        (str(entry["exercise"]), entry.get("variation"))
        for session in sessions
        for entry in session.exercises
        if entry.get("result") == "done"
    )


def not_finished(items: Sequence[RoutineItem], session: SessionSummary) -> list[RoutineItem]:
    """The routine's items `session` did not finish, in order: each occurrence of an exercise
    done or skipped passes one item of it; a partial one is done again. `next` and
    `run --resume` both go by this."""
    to_pass = Counter(session.finished)
    remaining: list[RoutineItem] = []
    for item in items:
        if to_pass[item.exercise_id]:
            to_pass[item.exercise_id] -= 1
        else:
            remaining.append(item)
    return remaining


def next_step(catalog: Catalog, sessions: Sequence[SessionSummary]) -> NextStep:
    """The routine and exercise to do next, and why."""
    if not sessions:
        first = catalog.routine(DEFAULT_ROUTINE).items[0].exercise_id
        return NextStep(DEFAULT_ROUTINE, first, "No sessions yet: start with the gentle routine.")
    last = sessions[0]
    known = {r.id for r in catalog.routines}
    routine_id = last.routine if last.routine in known else DEFAULT_ROUTINE
    routine = catalog.routine(routine_id)
    if last.outcome == "red_flag":
        return NextStep(
            DEFAULT_ROUTINE,
            catalog.routine(DEFAULT_ROUTINE).items[0].exercise_id,
            "Your last session ended with a warning sign: please see a doctor before exercising "
            "again, then start gently.",
        )
    if any(e.get("pain") for e in last.exercises) and routine_id != DEFAULT_ROUTINE:
        return NextStep(
            DEFAULT_ROUTINE,
            catalog.routine(DEFAULT_ROUTINE).items[0].exercise_id,
            "Something hurt last time: step back to the gentle routine.",
        )
    if last.outcome is None or last.outcome == "stopped":
        remaining = not_finished(routine.items, last)
        if remaining:
            return NextStep(
                routine_id,
                remaining[0].exercise_id,
                f"Your last {routine.name} session stopped early: carry on where you left off.",
            )
    return NextStep(
        routine_id,
        routine.items[0].exercise_id,
        f"You finished the {routine.name} routine last time: do it again, and keep it regular.",
    )


class NothingToResumeError(VoiceCoachError):
    """`run --resume` when the last session cannot be carried on."""


@dataclass(frozen=True)
class Resumption:
    """Where an unfinished session carries on."""

    session_id: int
    routine: str
    items: tuple[RoutineItem, ...]
    """The routine's exercises not yet done or skipped, with the variation last used."""
    holds: dict[str, int]
    """Holds changed in that session (and carried over from before it)."""
    finished: int
    """Exercises already done or skipped."""

    @property
    def opening(self) -> str:
        return (
            f"Welcome back. Carrying on where you stopped: {self.finished} done, "
            f"{len(self.items)} to go."
        )


def resume_point(catalog: Catalog, sessions: Sequence[SessionSummary]) -> Resumption:
    """Where the newest session carries on; NothingToResumeError when it cannot (there is none,
    it was finished, it ended on a warning sign, or its routine is no longer in the catalog)."""
    if not sessions:
        raise NothingToResumeError("nothing to resume: no sessions yet")
    last = sessions[0]
    if last.outcome == "red_flag":
        raise NothingToResumeError(
            "not resuming: your last session ended with a warning sign; please see a doctor "
            "before exercising again"
        )
    if last.outcome == "completed":
        raise NothingToResumeError("nothing to resume: your last session was finished")
    if last.routine not in {r.id for r in catalog.routines}:
        raise NothingToResumeError(
            f"cannot resume: your last session's routine '{last.routine}' is not in the catalog"
        )
    plan = plan_from_history(catalog, sessions[1:])
    entries = {str(e["exercise"]): e for e in last.exercises}
    holds = dict(plan.holds)
    items: list[RoutineItem] = []
    for item in not_finished(plan.apply(catalog.routine(last.routine).items), last):
        entry = entries.get(item.exercise_id, {})
        if isinstance(entry.get("hold_s"), int):
            holds[item.exercise_id] = entry["hold_s"]
        if not items and "variation" in entry and entry.get("result") in (None, "partial"):
            item = RoutineItem(item.exercise_id, entry["variation"])  # switched to, mid-way
        items.append(item)
    if not items:
        raise NothingToResumeError(
            "nothing to resume: every exercise of your last session was done"
        )
    return Resumption(last.id, last.routine, tuple(items), holds, len(last.finished))
