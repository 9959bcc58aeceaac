"""Answers to the questions asked outside a session: pure, on a fixed time and time zone."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from voicecoach.core.answers import (
    answer,
    join_words,
    last_session,
    sessions_this_week,
    spoken_day,
    week_start,
)
from voicecoach.core.catalog import Catalog
from voicecoach.core.history import SessionSummary

UTC = timezone.utc
# Friday 20 November 2026, 18:00 UTC.
NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC).timestamp()
HOUR = 3600.0
DAY = 24 * HOUR


def session(
    number: int,
    started: float,
    outcome: str | None,
    *exercises: dict[str, Any],
    minutes: float = 20.0,
    routine: str = "gentle",
) -> SessionSummary:
    ended = started + minutes * 60 if outcome else None
    return SessionSummary(number, routine, started, ended, outcome, exercises)


def test_the_week_starts_on_monday_at_midnight() -> None:
    assert week_start(NOW, UTC) == datetime(2026, 11, 16, tzinfo=UTC).timestamp()
    monday = datetime(2026, 11, 16, 0, 0, 1, tzinfo=UTC).timestamp()
    assert week_start(monday, UTC) == datetime(2026, 11, 16, tzinfo=UTC).timestamp()


def test_days_are_said_the_way_people_say_them() -> None:
    assert spoken_day(NOW - HOUR, NOW, UTC) == "today"
    assert spoken_day(NOW - DAY, NOW, UTC) == "yesterday"
    assert spoken_day(NOW - 3 * DAY, NOW, UTC) == "on Tuesday"
    assert spoken_day(NOW - 17 * DAY, NOW, UTC) == "on 3 November"
    assert join_words(["a"]) == "a" and join_words(["a", "b", "c"]) == "a, b and c"


def test_sessions_this_week_counts_from_monday() -> None:
    history = [
        session(4, NOW - HOUR, None),  # today, unfinished
        session(3, NOW - 2 * DAY, "completed", minutes=25),  # Wednesday
        session(2, NOW - 3 * DAY, "completed", minutes=15),  # Tuesday
        session(1, NOW - 5 * DAY, "completed"),  # Sunday: last week
    ]
    assert sessions_this_week(history, NOW, UTC) == (
        "You've done 3 sessions this week, 2 of them to the end. That's 40 minutes of exercise."
    )
    assert sessions_this_week(history[3:], NOW, UTC) == "No sessions yet this week."
    assert sessions_this_week(history[1:2], NOW, UTC).startswith(
        "You've done one session this week, and finished it."
    )


def test_last_session_says_what_was_done_skipped_and_what_hurt(bundled_catalog: Catalog) -> None:
    last = session(
        2,
        NOW - DAY,
        "stopped",
        {"exercise": "plank", "result": "done", "variation": "on-hands", "hold_s": 10},
        {"exercise": "bridge", "result": "skipped", "pain": 1, "ratings": [3, 5]},
        routine="core",
    )
    said = last_session(bundled_catalog, [last], NOW, UTC)
    assert said.startswith("Yesterday you did the Core strength routine and stopped early.")
    assert "You did Plank (harder version: " in said
    assert "You skipped Bridge." in said
    assert "Bridge hurt, and you rated it 5 out of 10." in said


def test_last_session_unfinished_or_red_flag(bundled_catalog: Catalog) -> None:
    assert last_session(bundled_catalog, [], NOW, UTC) == "You haven't done a session yet."
    killed = session(1, NOW - HOUR, None)
    said = last_session(bundled_catalog, [killed], NOW, UTC)
    assert "left unfinished" in said and "No exercise was finished." in said
    assert "--resume" in said
    flagged = session(1, NOW - HOUR, "red_flag", {"exercise": "bridge", "red_flag": True})
    assert "see a doctor" in last_session(bundled_catalog, [flagged], NOW, UTC)


def test_whats_next_follows_the_progression_rules(bundled_catalog: Catalog) -> None:
    said = answer("whats_next", bundled_catalog, [], NOW, UTC)
    assert said.startswith("Next is the Gentle stretches routine, starting with Deep breathing.")
    with pytest.raises(ValueError, match="not a question"):
        answer("pause", bundled_catalog, [], NOW, UTC)
