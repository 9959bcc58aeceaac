"""What the history says: a session's summary from its recorded events (plain data in)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeGuard

from voicecoach.core.catalog import MAX_HOLD_S, MAX_REPS, MAX_SETS

PAIN_SCALE_MAX: Final = 10
"""Pain ratings run from 0 to this (the grammar's level slot says the same)."""


def is_pain_rating(value: object) -> TypeGuard[int]:
    """Whether a stored value is a readable pain rating: a whole number 0-PAIN_SCALE_MAX."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= PAIN_SCALE_MAX


OUTCOMES: Final = ("completed", "stopped", "red_flag")

RecordEvent = Literal[
    "exercise_done", "partial", "skipped", "variation", "hold", "pain", "pain_rating",
    "red_flag", "ended", "microphone_lost", "microphone_back", "resumed",
]  # fmt: skip
"""What the session records and the journal stores, as the history reads it back."""


@dataclass(frozen=True)
class SessionSummary:
    id: int
    routine: str
    started_at: float
    ended_at: float | None
    outcome: str | None
    """"completed", "stopped", "red_flag", or None for an unfinished session."""
    exercises: tuple[dict[str, Any], ...]
    """What happened to each exercise: its result (done, partial or skipped) with the reps done
    of planned, pain, ratings, variation, hold."""
    finished: tuple[str, ...] = ()
    """The exercises done or skipped, in order (one a routine has twice appears twice)."""


def _values(data: object) -> dict[str, Any]:
    """An event's data, with only values of the kinds the history uses ({} when unreadable)."""
    try:
        values = json.loads(data) if isinstance(data, str | bytes) else None
    except ValueError:  # not JSON (RecursionError is not possible: a nested JSON is not ours)
        return {}
    if not isinstance(values, dict):
        return {}
    checked: dict[str, Any] = {}
    variation = values.get("variation")
    if variation is None or isinstance(variation, str):
        checked["variation"] = variation
    hold = values.get("hold_s")
    if isinstance(hold, int) and not isinstance(hold, bool) and 0 <= hold <= MAX_HOLD_S:
        checked["hold_s"] = hold
    for count in ("reps_done", "reps_planned"):
        reps = values.get(count)
        if (
            isinstance(reps, int)
            and not isinstance(reps, bool)
            and 0 <= reps <= MAX_REPS * MAX_SETS * 2
        ):
            checked[count] = reps
    level = values.get("level")
    if is_pain_rating(level):
        checked["level"] = level
    return checked


def summarize(row: tuple[Any, ...], events: list[tuple[Any, Any, Any]]) -> SessionSummary:
    exercises: dict[str, dict[str, Any]] = {}
    finished: list[str] = []
    for kind, exercise, data in events:
        if not isinstance(exercise, str):
            continue
        entry = exercises.setdefault(exercise, {"exercise": exercise})
        values = _values(data)
        if kind == "variation":  # switched to during the exercise
            entry["variation"] = values.get("variation")
        elif kind == "hold":  # changed during the exercise
            entry["hold_s"] = values.get("hold_s")
        elif kind in ("exercise_done", "skipped", "partial"):
            entry["result"] = {"exercise_done": "done"}.get(kind, kind)
            if kind != "partial":  # a partial exercise is carried on next time
                finished.append(exercise)
            for count in ("reps_done", "reps_planned"):
                if count in values:
                    entry[count] = values[count]
            entry["variation"] = values.get("variation")
            entry["hold_s"] = values.get("hold_s")
        elif kind == "pain":
            entry["pain"] = entry.get("pain", 0) + 1
        elif kind == "pain_rating":
            entry.setdefault("ratings", []).append(values.get("level"))
        elif kind == "red_flag":
            entry["red_flag"] = True
    session_id, routine, started_at, ended_at, outcome = row
    return SessionSummary(
        session_id,
        str(routine),
        _time(started_at) or 0.0,
        _time(ended_at),
        outcome if outcome in OUTCOMES else None,
        tuple(exercises.values()),
        tuple(finished),
    )


def _time(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
