"""Progress over the last weeks (`voicecoach progress`): sessions, minutes, pain ratings and
holds, per ISO week. Pure: the history (as Journal.sessions() gives it), the time and the time
zone come in; plain data comes out.

The rules, said plainly (RULES holds them as text, for --json and the chart):

- A week is an ISO week, Monday 00:00 to Sunday 24:00, in the time zone `tz` (None: the
  machine's local time, daylight saving included, as `voicecoach ask` counts "this week"). The
  window is the week `now` is in and the `weeks - 1` weeks before it. A session belongs to the
  day, and so the week, it started on; a session that starts after `now` is left out.
- Minutes are time in session: from the session's start to its end, pauses and rests
  included (a summary has no pause times). A session with no end (killed, or running now)
  counts 0 minutes, because its summary keeps no time for its last event; such sessions are
  counted as `unfinished`, so that the 0 can be seen for what it is. A session carried on
  later with `run --resume` counts the time in between as well (a summary keeps one start and
  one end), and one that ends before it starts (the clock was changed) counts 0. All of a
  session's minutes go to the week it started in.
- Pain ratings are the 0-10 levels given at the coach's pain checks. A week shows their count
  and mean (None when there is none). The trend is the least-squares line through every rating
  in the window against the day of its session, as a slope in points per week; it needs ratings
  on at least 2 different days. It is "falling" or "rising" when the slope is at least
  STEADY_SLOPE points a week either way, else "steady". A handful of ratings make a noisy line:
  the count is given with it.
- Holds over time: for each exercise done (not skipped) with a hold of more than 0 s, the hold
  it was done with on each day; when it was done in more than one session on a day, the last
  session's hold.
- Weeks with no session are shown, with 0 sessions and 0 minutes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Final, Literal

from voicecoach.core.history import SessionSummary, is_pain_rating

DEFAULT_WEEKS: Final = 8
"""How many weeks `voicecoach progress` shows by default."""
MAX_WEEKS: Final = 520
"""The most weeks it can show (ten years)."""
STEADY_SLOPE: Final = 0.1
"""A pain trend smaller than this, in points (of 0-10) per week either way, is "steady"."""
MIN_RATING_DAYS: Final = 2
"""The pain trend needs ratings on at least this many different days."""

RULES: Final = {
    "weeks": "ISO weeks, Monday to Sunday, in local time; a session counts in the week it "
    "started in",
    "minutes": "time in session from start to end, pauses included (and, for a session carried "
    "on with run --resume, the time in between); a session with no end (killed, or running) "
    "counts 0 minutes, as its last moment is not known",
    "pain_trend": "least-squares slope of every pain rating (0-10) in the window against the "
    f"day it was given, in points per week; steady within {STEADY_SLOPE:g} a week either way; "
    f"needs ratings on {MIN_RATING_DAYS} different days",
    "holds": "the hold of each exercise done with a hold, per day (the last session's on a "
    "day with more than one)",
}
"""The rules of the figures, in words (the module's docstring says them at length)."""

Direction = Literal["falling", "rising", "steady", "not enough ratings"]


@dataclasses.dataclass(frozen=True)
class WeekProgress:
    """One ISO week of the window."""

    week: str
    """The ISO week, as "2025-W03"."""
    monday: date
    sessions: int
    """Sessions started this week, finished or not."""
    completed: int
    """Those done to the end."""
    unfinished: int
    """Those with no end (killed, or running now): they count 0 minutes."""
    minutes: float
    """Time in session, start to end (see the module's rules)."""
    pain_ratings: int
    """How many 0-10 ratings were given at pain checks."""
    pain_mean: float | None
    """Their mean; None when there were none."""
    pain_reports: int
    """How many times pain was reported during an exercise ("it hurts")."""


@dataclasses.dataclass(frozen=True)
class PainRating:
    """One 0-10 rating, on the day of its session."""

    day: date
    level: int
    exercise: str
    session: int


@dataclasses.dataclass(frozen=True)
class PainTrend:
    """The least-squares line through the window's pain ratings against their days."""

    direction: Direction
    ratings: int
    """How many ratings the line is drawn through."""
    days: int
    """On how many different days they were given."""
    slope_per_week: float | None = None
    """Points (of 0-10) per week; negative is less pain. None: not enough ratings."""
    first_day: date | None = None
    """The day of the first rating, where the line starts..."""
    first_level: float | None = None
    """...at this level,"""
    last_day: date | None = None
    """...and the day of the last one, where it ends..."""
    last_level: float | None = None
    """...at this level."""


@dataclasses.dataclass(frozen=True)
class Hold:
    """The hold an exercise was done with on a day."""

    day: date
    hold_s: int
    session: int


@dataclasses.dataclass(frozen=True)
class ExerciseHolds:
    """One exercise's holds in the window, oldest first."""

    exercise: str
    holds: tuple[Hold, ...]


@dataclasses.dataclass(frozen=True)
class Progress:
    """The window's figures: every week (oldest first, empty ones included), the pain ratings
    and their trend, and the holds of each exercise."""

    first_day: date
    """The Monday the window starts on."""
    last_day: date
    """The day of `now`, where it ends."""
    weeks: tuple[WeekProgress, ...]
    sessions: int
    minutes: float
    unfinished: int
    earlier_sessions: int
    """Sessions before the window (not counted in it)."""
    ratings: tuple[PainRating, ...]
    """Every pain rating in the window, oldest first."""
    pain: PainTrend
    holds: tuple[ExerciseHolds, ...]
    """By exercise id, in alphabetical order."""


def progress(
    sessions: Iterable[SessionSummary],
    now: float,
    tz: tzinfo | None = None,
    weeks: int = DEFAULT_WEEKS,
) -> Progress:
    """The figures of the `weeks` ISO weeks up to the one `now` is in, in time zone `tz`
    (None: the machine's local time)."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValueError(f"weeks must be from 1 to {MAX_WEEKS}, not {weeks}")
    today = datetime.fromtimestamp(now, tz).date()
    first_day = _monday(today) - timedelta(weeks=weeks - 1)
    mondays = [first_day + timedelta(weeks=i) for i in range(weeks)]
    in_week: dict[date, list[tuple[date, SessionSummary]]] = {m: [] for m in mondays}
    earlier = 0
    for session in sessions:
        day = _day(session.started_at, tz)
        if day is None:  # a start time no calendar has (a damaged journal): not counted
            continue
        if day < first_day:
            earlier += 1
        elif session.started_at <= now:
            in_week[_monday(day)].append((day, session))
    dated = sorted(
        (pair for pairs in in_week.values() for pair in pairs),
        key=lambda pair: (pair[1].started_at, pair[1].id),
    )
    week_figures = tuple(_week(monday, [s for _, s in in_week[monday]]) for monday in mondays)
    ratings = tuple(
        PainRating(day, level, str(entry.get("exercise")), session.id)
        for day, session in dated
        for entry in session.exercises
        for level in _levels(entry)
    )
    return Progress(
        first_day=first_day,
        last_day=today,
        weeks=week_figures,
        sessions=sum(w.sessions for w in week_figures),
        minutes=sum((w.minutes for w in week_figures), 0.0),
        unfinished=sum(w.unfinished for w in week_figures),
        earlier_sessions=earlier,
        ratings=ratings,
        pain=pain_trend(ratings),
        holds=_holds(dated),
    )


def pain_trend(ratings: Sequence[PainRating]) -> PainTrend:
    """The least-squares line through `ratings` against their days (see the module's rules)."""
    days = len({r.day for r in ratings})
    if days < MIN_RATING_DAYS:
        return PainTrend("not enough ratings", len(ratings), days)
    origin = min(r.day for r in ratings)
    xs = [(r.day - origin).days / 7 for r in ratings]  # in weeks
    ys = [float(r.level) for r in ratings]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)  # > 0: at least 2 different days
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    first, last = min(xs), max(xs)
    if slope <= -STEADY_SLOPE:
        direction: Direction = "falling"
    elif slope >= STEADY_SLOPE:
        direction = "rising"
    else:
        direction = "steady"
    return PainTrend(
        direction,
        len(ratings),
        days,
        slope,
        origin,
        mean_y + slope * (first - mean_x),
        max(r.day for r in ratings),
        mean_y + slope * (last - mean_x),
    )


def session_minutes(session: SessionSummary) -> float:
    """Time in session, start to end; 0 for a session with no end (see the module's rules)."""
    if session.ended_at is None:
        return 0.0
    return max(0.0, session.ended_at - session.started_at) / 60


def as_json(figures: Progress) -> dict[str, Any]:
    """`figures` as JSON data: days as ISO dates, tuples as lists, minutes and means rounded
    to 2 decimals, and the rules the figures follow."""

    def value(item: Any) -> Any:
        if isinstance(item, date):
            return item.isoformat()
        if isinstance(item, float):
            return round(item, 2)
        if isinstance(item, tuple):
            return list(item)
        return item

    data = dataclasses.asdict(
        figures, dict_factory=lambda pairs: {key: value(item) for key, item in pairs}
    )
    return {**data, "rules": dict(RULES)}


def _day(at: float, tz: tzinfo | None) -> date | None:
    try:
        return datetime.fromtimestamp(at, tz).date()
    except (OverflowError, OSError, ValueError):
        return None


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _week(monday: date, sessions: Sequence[SessionSummary]) -> WeekProgress:
    levels = [level for s in sessions for entry in s.exercises for level in _levels(entry)]
    year, week, _ = monday.isocalendar()
    return WeekProgress(
        week=f"{year}-W{week:02d}",
        monday=monday,
        sessions=len(sessions),
        completed=sum(1 for s in sessions if s.outcome == "completed"),
        unfinished=sum(1 for s in sessions if s.ended_at is None),
        minutes=sum((session_minutes(s) for s in sessions), 0.0),
        pain_ratings=len(levels),
        pain_mean=sum(levels) / len(levels) if levels else None,
        pain_reports=sum(_count(entry.get("pain")) for s in sessions for entry in s.exercises),
    )


def _levels(entry: dict[str, Any]) -> list[int]:
    """An exercise's readable 0-10 ratings (the history keeps an unreadable one as None)."""
    ratings = entry.get("ratings")
    if not isinstance(ratings, list):
        return []
    return [r for r in ratings if is_pain_rating(r)]


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _holds(dated: Sequence[tuple[date, SessionSummary]]) -> tuple[ExerciseHolds, ...]:
    """Each exercise's hold per day, from sessions oldest first (a later one on a day wins)."""
    by_exercise: dict[str, dict[date, Hold]] = {}
    for day, session in dated:
        for entry in session.exercises:
            hold, exercise = entry.get("hold_s"), entry.get("exercise")
            if (
                entry.get("result") == "done"
                and isinstance(exercise, str)
                and isinstance(hold, int)
                and not isinstance(hold, bool)
                and hold > 0
            ):
                by_exercise.setdefault(exercise, {})[day] = Hold(day, hold, session.id)
    return tuple(
        ExerciseHolds(exercise, tuple(days[d] for d in sorted(days)))
        for exercise, days in sorted(by_exercise.items())
    )
