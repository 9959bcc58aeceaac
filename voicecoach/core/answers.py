"""Answers to the questions `voicecoach ask` hears outside a session (grammar.QUESTION_NAMES).

Pure: the catalog, the history (newest first, as Journal.sessions() gives it) and the time come
in; a sentence to say comes out. `tz` is the time zone that "today" and "this week" are in
(None: the machine's).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

from voicecoach.core.catalog import Catalog
from voicecoach.core.errors import UnknownExerciseError
from voicecoach.core.history import SessionSummary
from voicecoach.core.progression import next_step, plan_from_history

NO_HISTORY = "You haven't done a session yet."


def answer(
    question: str,
    catalog: Catalog,
    sessions: Sequence[SessionSummary],
    now: float,
    tz: tzinfo | None = None,
) -> str:
    """The spoken answer to `question`, an intent name of grammar.QUESTION_NAMES."""
    if question == "whats_next":
        return whats_next(catalog, sessions)
    if question == "last_session":
        return last_session(catalog, sessions, now, tz)
    if question == "sessions_this_week":
        return sessions_this_week(sessions, now, tz)
    raise ValueError(f"not a question: {question!r}")


def whats_next(catalog: Catalog, sessions: Sequence[SessionSummary]) -> str:
    step = next_step(catalog, sessions)
    routine = catalog.routine(step.routine).name
    first = _exercise_name(catalog, step.exercise)
    parts = [f"Next is the {routine} routine, starting with {first}.", step.why]
    parts += plan_from_history(catalog, sessions).suggestions
    return " ".join(parts)


def last_session(
    catalog: Catalog, sessions: Sequence[SessionSummary], now: float, tz: tzinfo | None = None
) -> str:
    if not sessions:
        return NO_HISTORY
    last = sessions[0]
    routine = _routine_name(catalog, last.routine)
    when = spoken_day(last.started_at, now, tz)
    outcome = {
        "completed": "and finished it",
        "stopped": "and stopped early",
        "red_flag": "and stopped because of a warning sign",
    }.get(last.outcome or "", "and it was left unfinished")
    parts = [f"{when.capitalize()} you did the {routine} routine {outcome}."]
    done = [_done_name(catalog, e) for e in last.exercises if e.get("result") == "done"]
    skipped = [
        _exercise_name(catalog, str(e["exercise"]))
        for e in last.exercises
        if e.get("result") == "skipped"
    ]
    if done:
        parts.append(f"You did {join_words(done)}.")
    if skipped:
        parts.append(f"You skipped {join_words(skipped)}.")
    if not done and not skipped:
        parts.append("No exercise was finished.")
    for entry in last.exercises:
        if entry.get("pain"):
            ratings = [r for r in entry.get("ratings", []) if isinstance(r, int)]
            rated = f", and you rated it {max(ratings)} out of 10" if ratings else ""
            parts.append(f"{_exercise_name(catalog, str(entry['exercise']))} hurt{rated}.")
    if last.outcome == "red_flag":
        parts.append("Please see a doctor before you exercise again.")
    elif last.outcome is None:
        parts.append("You can carry on where you stopped: voicecoach run --resume.")
    return " ".join(parts)


def sessions_this_week(
    sessions: Sequence[SessionSummary], now: float, tz: tzinfo | None = None
) -> str:
    start = week_start(now, tz)
    this_week = [s for s in sessions if start <= s.started_at <= now]
    if not this_week:
        return "No sessions yet this week."
    count = len(this_week)
    finished = sum(1 for s in this_week if s.outcome == "completed")
    minutes = round(
        sum(s.ended_at - s.started_at for s in this_week if s.ended_at is not None) / 60
    )
    if count == 1:
        text = "You've done one session this week"
        text += ", and finished it." if finished else ", and didn't finish it."
    else:
        ended = "all of them" if finished == count else f"{finished} of them"
        text = f"You've done {count} sessions this week, {ended} to the end."
    if minutes:
        text += f" That's {minutes} {'minute' if minutes == 1 else 'minutes'} of exercise."
    return text


def week_start(now: float, tz: tzinfo | None = None) -> float:
    """The start of the week (Monday, 00:00) that `now` is in, as a Unix time."""
    day = datetime.fromtimestamp(now, tz).replace(hour=0, minute=0, second=0, microsecond=0)
    monday = day - timedelta(days=day.weekday())
    return monday.timestamp()  # a naive (local) time is taken as local time here


def spoken_day(at: float, now: float, tz: tzinfo | None = None) -> str:
    """When `at` was, as said: "today", "yesterday", "on Monday", "on 3 November"."""
    then, today = datetime.fromtimestamp(at, tz).date(), datetime.fromtimestamp(now, tz).date()
    days = (today - then).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"on {then:%A}"
    return f"on {then.day} {then:%B}"


def join_words(items: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _exercise_name(catalog: Catalog, exercise_id: str) -> str:
    try:
        return catalog.exercise(exercise_id).name
    except UnknownExerciseError:  # no longer in the catalog
        return exercise_id.replace("-", " ")


def _routine_name(catalog: Catalog, routine_id: str) -> str:
    known = {r.id: r.name for r in catalog.routines}
    return known.get(routine_id, routine_id)


def _done_name(catalog: Catalog, entry: dict[str, Any]) -> str:
    exercise_id = str(entry["exercise"])
    name = _exercise_name(catalog, exercise_id)
    variation_id = entry.get("variation")
    if not variation_id:
        return name
    try:
        variation = catalog.exercise(exercise_id).variation(str(variation_id))
    except UnknownExerciseError:
        return name
    return f"{name} ({variation.direction} version: {variation.name})" if variation else name
