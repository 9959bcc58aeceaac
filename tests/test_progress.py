"""`voicecoach progress`: the weekly figures (core.progress) on hand-made histories, and the
command on a journal: the text chart, --json, --png and its errors, --weeks."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from voicecoach.cli.progress import chart
from voicecoach.core.grammar import Grammar
from voicecoach.core.history import PAIN_SCALE_MAX, SessionSummary, is_pain_rating
from voicecoach.core.progress import (
    DEFAULT_WEEKS,
    MAX_WEEKS,
    PainRating,
    as_json,
    pain_trend,
    progress,
)
from voicecoach.memory.journal import Journal
from voicecoach.testing import assert_one_line_error, run_cli

UTC = timezone.utc
NOW = datetime(2025, 3, 5, 12, 0, tzinfo=UTC).timestamp()
"""A Wednesday, in ISO week 2025-W10: 8 weeks back, the window starts on Monday 2025-01-13."""
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> float:
    return datetime(2025, month, day, hour, minute, tzinfo=UTC).timestamp()


def session(
    number: int,
    started_at: float,
    minutes: float | None = 20.0,
    *exercises: dict[str, Any],
    outcome: str | None = "completed",
) -> SessionSummary:
    """A session of `minutes` (None: it has no end, and no outcome)."""
    ended_at = None if minutes is None else started_at + minutes * 60
    return SessionSummary(
        number,
        "gentle",
        started_at,
        ended_at,
        None if minutes is None else outcome,
        tuple(exercises),
        tuple(e["exercise"] for e in exercises if e.get("result") in ("done", "skipped")),
    )


def done(
    exercise: str, hold_s: int | None = 0, *ratings: int | None, result: str = "done", pain: int = 0
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "exercise": exercise,
        "result": result,
        "variation": None,
        "hold_s": hold_s,
    }
    if ratings:
        entry["ratings"] = list(ratings)
    if pain:
        entry["pain"] = pain
    return entry


def test_weeks_are_iso_weeks_oldest_first_and_empty_weeks_show_zero() -> None:
    sessions = [  # newest first, as the journal gives them
        session(3, at(3, 3, 0, 10), 30.0),  # Monday of this week, just after midnight
        session(2, at(3, 2, 23, 30), 10.0),  # the Sunday before: last week
        session(1, at(1, 14), 15.0),
    ]
    figures = progress(sessions, NOW, UTC)
    assert len(figures.weeks) == DEFAULT_WEEKS
    assert figures.first_day == date(2025, 1, 13) and figures.last_day == date(2025, 3, 5)
    assert [w.monday for w in figures.weeks] == [
        date(2025, 1, 13) + timedelta(weeks=i) for i in range(8)
    ]
    assert [w.week for w in figures.weeks] == [f"2025-W{n:02d}" for n in range(3, 11)]
    assert [w.sessions for w in figures.weeks] == [1, 0, 0, 0, 0, 0, 1, 1]
    assert [w.minutes for w in figures.weeks] == [15.0, 0.0, 0.0, 0.0, 0.0, 0.0, 10.0, 30.0]
    empty = figures.weeks[1]
    assert (empty.completed, empty.unfinished, empty.pain_ratings) == (0, 0, 0)
    assert empty.pain_mean is None
    assert figures.sessions == 3 and figures.minutes == 55.0 and figures.earlier_sessions == 0


def test_the_time_zone_decides_the_day_and_so_the_week() -> None:
    late_sunday = session(1, at(3, 2, 23, 30))  # 01:30 on Monday at UTC+2
    in_utc = progress([late_sunday], NOW, UTC, weeks=2)
    assert [w.sessions for w in in_utc.weeks] == [1, 0]
    east = progress([late_sunday], NOW, timezone(timedelta(hours=2)), weeks=2)
    assert [w.sessions for w in east.weeks] == [0, 1]


def test_minutes_run_from_start_to_end_and_a_session_with_no_end_counts_zero() -> None:
    killed = session(3, at(3, 4), None, done("pelvic-tilt", 5))
    backwards = SessionSummary(2, "gentle", at(3, 3, 10), at(3, 3, 9), "completed", ())
    finished = session(1, at(3, 3), 25.5)
    week = progress([killed, backwards, finished], NOW, UTC, weeks=1).weeks[0]
    assert week.sessions == 3 and week.completed == 2 and week.unfinished == 1
    assert week.minutes == 25.5  # the killed one and the one that ends before it starts: 0


def test_sessions_before_the_window_or_after_now_are_not_counted() -> None:
    sessions = [
        session(3, NOW + 3600),  # later today: a clock that was wrong
        session(2, at(3, 3)),
        session(1, at(1, 12, 23, 59)),  # the Sunday before the window
    ]
    figures = progress(sessions, NOW, UTC)
    assert figures.sessions == 1 and figures.earlier_sessions == 1
    assert figures.weeks[0].sessions == 0


def test_pain_per_week_and_a_falling_trend() -> None:
    sessions = [
        session(3, at(3, 3), 20.0, done("bridge", 0, 2)),
        session(2, at(2, 24), 20.0, done("bridge", 0, 4), done("pelvic-tilt", 5, None, pain=2)),
        session(1, at(2, 17), 20.0, done("bridge", 0, 6, 6)),
    ]
    figures = progress(sessions, NOW, UTC, weeks=3)
    assert [w.pain_ratings for w in figures.weeks] == [2, 1, 1]
    assert [w.pain_mean for w in figures.weeks] == [6.0, 4.0, 2.0]
    assert [w.pain_reports for w in figures.weeks] == [0, 2, 0]
    assert [(r.day, r.level) for r in figures.ratings] == [
        (date(2025, 2, 17), 6),
        (date(2025, 2, 17), 6),
        (date(2025, 2, 24), 4),
        (date(2025, 3, 3), 2),
    ]  # oldest first; an unreadable rating (None) is left out
    trend = figures.pain
    assert trend.direction == "falling" and trend.ratings == 4 and trend.days == 3
    assert trend.slope_per_week == pytest.approx(-2.0)
    assert trend.first_day == date(2025, 2, 17) and trend.last_day == date(2025, 3, 3)
    assert trend.first_level == pytest.approx(6.0) and trend.last_level == pytest.approx(2.0)


def rating(day: int, level: int) -> PainRating:
    """A rating `day` days after Monday 2025-02-03."""
    return PainRating(date(2025, 2, 3) + timedelta(days=day), level, "bridge", day)


def test_a_pain_trend_needs_ratings_on_two_days_and_is_steady_when_flat() -> None:
    assert pain_trend([]).direction == "not enough ratings"
    one_day = pain_trend([rating(3, 2), rating(3, 8)])
    assert one_day.direction == "not enough ratings" and one_day.slope_per_week is None
    assert (one_day.ratings, one_day.days) == (2, 1)
    flat = pain_trend([rating(3, 3), rating(10, 3)])
    assert flat.direction == "steady" and flat.slope_per_week == 0.0
    assert pain_trend([rating(3, 3), rating(10, 4)]).direction == "rising"
    barely = pain_trend([rating(0, 3), rating(0, 3), rating(42, 3), rating(42, 4)])
    assert barely.slope_per_week == pytest.approx(1 / 12)  # +0.5 on average over 6 weeks
    assert barely.direction == "steady"  # under 0.1 a week


def test_holds_over_time_per_exercise_and_day() -> None:
    sessions = [
        session(5, at(3, 4, 18), 20.0, done("bird-dog", 12)),  # later the same day: it wins
        session(4, at(3, 4, 8), 20.0, done("bird-dog", 10), done("bridge", 8, result="skipped")),
        session(3, at(2, 26), None, done("bird-dog", 8), done("knee-to-chest", 20)),
        session(2, at(2, 19), 20.0, done("deep-breathing", 0), done("knee-to-chest", None)),
        session(1, at(1, 1), 20.0, done("bird-dog", 5)),  # before the window
    ]
    holds = progress(sessions, NOW, UTC).holds
    assert [e.exercise for e in holds] == ["bird-dog", "knee-to-chest"]
    bird_dog, knee = holds
    assert [(h.day, h.hold_s, h.session) for h in bird_dog.holds] == [
        (date(2025, 2, 26), 8, 3),
        (date(2025, 3, 4), 12, 5),
    ]
    assert [(h.day, h.hold_s) for h in knee.holds] == [(date(2025, 2, 26), 20)]


def test_no_sessions_says_so() -> None:
    figures = progress([], NOW, UTC)
    assert [w.sessions for w in figures.weeks] == [0] * DEFAULT_WEEKS
    assert figures.minutes == 0.0 and figures.ratings == () and figures.holds == ()
    assert figures.pain.direction == "not enough ratings" and figures.pain.ratings == 0
    text = chart(figures)
    assert text[-1] == "No sessions yet."
    assert "2025-01-13    0" in "\n".join(text)
    earlier = chart(progress([session(1, at(1, 1))], NOW, UTC))
    assert earlier[-1] == "No sessions in these weeks (1 earlier)."
    assert json.loads(json.dumps(as_json(figures)))["weeks"][0]["pain_mean"] is None


def test_weeks_must_be_from_one_to_the_most() -> None:
    for weeks in (0, MAX_WEEKS + 1):
        with pytest.raises(ValueError, match="weeks"):
            progress([], NOW, UTC, weeks=weeks)
    assert len(progress([], NOW, UTC, weeks=MAX_WEEKS).weeks) == MAX_WEEKS


def test_the_chart_is_plain_text_with_bars_pain_and_holds() -> None:
    sessions = [
        session(2, at(3, 3), None, done("bird-dog", 10)),
        session(1, at(2, 24), 30.0, done("bird-dog", 8, 4), done("bridge", 0, 2)),
    ]
    text = "\n".join(chart(progress(sessions, NOW, UTC, weeks=2)))
    assert text.isascii() and "\x1b" not in text
    assert "2025-02-24    1 ##" in text and "30 ####################  3.0 (2)" in text
    assert "2025-03-03    1 ##              0" in text
    assert "1 session with no end (killed, or running) counts 0 minutes." in text
    assert "Pain: 2 ratings on 1 day, not enough for a trend" in text
    assert "02-24  03-03" in text and "bird-dog      8     10" in text


def test_json_has_iso_days_and_the_rules() -> None:
    sessions = [session(1, at(3, 3), 12.345, done("bird-dog", 10, 3))]
    data = as_json(progress(sessions, NOW, UTC, weeks=1))
    assert data["weeks"][0]["monday"] == "2025-03-03" and data["weeks"][0]["minutes"] == 12.35
    assert data["holds"] == [
        {"exercise": "bird-dog", "holds": [{"day": "2025-03-03", "hold_s": 10, "session": 1}]}
    ]
    assert set(data["rules"]) == {"weeks", "minutes", "pain_trend", "holds"}
    assert "0 minutes" in data["rules"]["minutes"]


# The command, on a journal in the private VOICECOACH_HOME of tests/conftest.py.


def write_journal() -> None:
    """Two sessions today: one of 10 minutes with a pelvic tilt held 15 s and a pain rating of 3,
    and one killed after a knee to chest held 20 s."""
    journal = Journal()
    first = journal.start_session("gentle")
    journal.record(first, 30.0, "pain_rating", "pelvic-tilt", level=3)
    journal.record(first, 60.0, "exercise_done", "pelvic-tilt", variation=None, hold_s=15)
    journal.end_session(first, "completed")
    killed = journal.start_session("gentle")
    journal.record(killed, 60.0, "exercise_done", "knee-to-chest", variation=None, hold_s=20)
    path = journal.path
    journal.close()
    with sqlite3.connect(path) as db:  # the first session started 10 minutes before its end
        db.execute("UPDATE session SET started_at = ended_at - 600 WHERE id = ?", (first,))
    db.close()


def test_progress_command_charts_the_journal() -> None:
    write_journal()
    result = run_cli("progress")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Progress, the last 8 weeks: ")
    assert "total         2                10" in out
    assert "1 session with no end (killed, or running) counts 0 minutes." in out
    assert "Pain: 1 rating on 1 day, not enough for a trend" in out
    assert "knee-to-chest     20" in out and "pelvic-tilt       15" in out
    assert "\x1b" not in out  # a pipe gets plain text


def test_progress_json_and_weeks() -> None:
    write_journal()
    result = run_cli("progress", "--json", "--weeks", "3")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data["weeks"]) == 3
    assert data["sessions"] == 2 and data["unfinished"] == 1
    assert data["minutes"] == pytest.approx(10.0, abs=0.01)
    assert [r["level"] for r in data["ratings"]] == [3]
    assert {e["exercise"]: [h["hold_s"] for h in e["holds"]] for e in data["holds"]} == {
        "knee-to-chest": [20],
        "pelvic-tilt": [15],
    }


def test_progress_png_writes_a_figure(tmp_path: Path) -> None:
    write_journal()
    figure = tmp_path / "progress.png"
    result = run_cli("progress", "--png", str(figure))
    assert result.returncode == 0, result.stderr
    assert figure.read_bytes().startswith(PNG_SIGNATURE)
    assert f"voicecoach: figure written to {figure}" in result.stdout
    # with --json, stdout stays one JSON document and the note goes to stderr
    again = run_cli("progress", "--json", "--png", str(figure))
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["sessions"] == 2
    assert "figure written to" in again.stderr


def test_progress_png_with_no_history(tmp_path: Path) -> None:
    figure = tmp_path / "empty.png"
    result = run_cli("progress", "--png", str(figure))
    assert result.returncode == 0, result.stderr
    assert "No sessions yet." in result.stdout
    assert figure.read_bytes().startswith(PNG_SIGNATURE)


def test_a_png_that_cannot_be_written_is_a_one_line_error(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("progress", "--png", str(tmp_path)), str(tmp_path), "folder")
    missing = tmp_path / "no-such-folder" / "p.png"
    assert_one_line_error(run_cli("progress", "--png", str(missing)), str(missing), "cannot write")


@pytest.mark.parametrize("weeks", ["0", "521", "-3", "2.5", "eight", ""])
def test_weeks_must_be_a_whole_number_from_1_to_520(weeks: str) -> None:
    result = run_cli("progress", "--weeks", weeks)
    assert_one_line_error(result, "--weeks", "whole number of weeks from 1 to 520")


def test_the_pain_scale_is_the_one_the_grammar_hears(bundled_grammar: Grammar) -> None:
    """The history keeps exactly the ratings the coach can hear: 0 to PAIN_SCALE_MAX."""
    heard = {int(value) for _, value in bundled_grammar.slots["level"].values}
    assert heard == set(range(PAIN_SCALE_MAX + 1))
    assert [
        v
        for v in (-1, 0, 7, PAIN_SCALE_MAX, PAIN_SCALE_MAX + 1, True, 3.0, "5")
        if is_pain_rating(v)
    ] == [0, 7, PAIN_SCALE_MAX]
