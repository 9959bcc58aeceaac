"""`voicecoach progress`: the last weeks from the journal (core.progress computes the figures),
as a text chart that reads the same in a terminal and in a pipe, as JSON (--json), and as a
matplotlib figure (--png FILE)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Final

from voicecoach.cli.common import EXIT_OK, print_json, read_history
from voicecoach.cli.options import Options
from voicecoach.core.errors import VoiceCoachError
from voicecoach.core.progress import (
    MIN_RATING_DAYS,
    Progress,
    WeekProgress,
    as_json,
    progress,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

SESSIONS_BAR: Final = 10
"""The widest bar of sessions in a week, in characters."""
SESSIONS_SCALE: Final = 5
"""A week of this many sessions (or the most of the weeks shown, if more) fills the bar."""
MINUTES_BAR: Final = 20
"""The widest bar of minutes in a week."""
HOLD_COLUMNS: Final = 8
"""The most days the table of holds shows (the latest ones; --json has them all)."""


class FigureError(VoiceCoachError):
    """The --png file cannot be written."""


def cmd_progress(options: Options) -> int:
    # tz None: the machine's local time, daylight saving included, as `ask` counts weeks
    figures = progress(read_history(), time.time(), None, options.weeks)
    if options.png is not None:
        write_png(figures, options.png)
    if options.json:
        print_json(as_json(figures))
    else:
        print("\n".join(chart(figures)))
    if options.png is not None:  # on stderr after JSON, which stays one document
        where = sys.stderr if options.json else sys.stdout
        print(f"voicecoach: figure written to {options.png}", file=where)
    return EXIT_OK


def chart(figures: Progress) -> list[str]:
    """The text chart: sessions and minutes per week as bars, pain per week and its trend,
    and the table of holds; plain text (no colour, no box drawing)."""
    count = len(figures.weeks)
    lines = [
        f"Progress, the last {count} {_plural(count, 'week')}: {figures.first_day} to "
        f"{figures.last_day} (weeks start on Monday)",
        "",
        *_weeks_table(figures),
        "",
    ]
    if figures.sessions == 0:
        earlier = figures.earlier_sessions
        lines.append(
            f"No sessions in these weeks ({earlier} earlier)." if earlier else "No sessions yet."
        )
        return lines
    if figures.unfinished:
        unfinished = _plural(figures.unfinished, "session")
        lines.append(
            f"{figures.unfinished} {unfinished} with no end (killed, or running) "
            f"{'counts' if figures.unfinished == 1 else 'count'} 0 minutes."
        )
    lines += _pain_lines(figures)
    lines += ["", *_holds_table(figures)]
    return lines


def _weeks_table(figures: Progress) -> list[str]:
    most_sessions = max(SESSIONS_SCALE, *(w.sessions for w in figures.weeks))
    most_minutes = max(w.minutes for w in figures.weeks)
    rows = [
        f"{'week of':<10}  {'sessions':<{SESSIONS_BAR + 4}}  "
        f"{'minutes in session':<{MINUTES_BAR + 6}}  pain (ratings)"
    ]
    for week in figures.weeks:
        sessions = _bar(week.sessions, most_sessions, SESSIONS_BAR)
        minutes = _bar(week.minutes, most_minutes, MINUTES_BAR)
        rows.append(
            f"{week.monday}  {week.sessions:>3} {sessions:<{SESSIONS_BAR}}  "
            f"{_minutes(week.minutes):>5} {minutes:<{MINUTES_BAR}}  {_pain(week)}".rstrip()
        )
    ratings = [r.level for r in figures.ratings]
    mean = f"{sum(ratings) / len(ratings):.1f} ({len(ratings)})" if ratings else "-"
    total_minutes = _minutes(figures.minutes)
    rows.append(
        f"{'total':<10}  {figures.sessions:>3} {'':<{SESSIONS_BAR}}  "
        f"{total_minutes:>5} {'':<{MINUTES_BAR}}  {mean}"
    )
    return rows


def _pain_lines(figures: Progress) -> list[str]:
    trend = figures.pain
    if trend.ratings == 0:
        return ["Pain: no ratings in these weeks."]
    ratings = f"{trend.ratings} {_plural(trend.ratings, 'rating')}"
    days = f"{trend.days} {_plural(trend.days, 'day')}"
    if trend.slope_per_week is None:
        return [
            f"Pain: {ratings} on {days}, not enough for a trend (it needs ratings on "
            f"{MIN_RATING_DAYS} different days)."
        ]
    return [
        f"Pain trend: {trend.direction}, {trend.slope_per_week:+.2f} points a week, from "
        f"{trend.first_level:.1f} on {trend.first_day} to {trend.last_level:.1f} on "
        f"{trend.last_day}",
        f"  (least-squares line through {ratings} on {days}).",
    ]


def _holds_table(figures: Progress) -> list[str]:
    if not figures.holds:
        return ["Holds: none recorded in these weeks."]
    days = sorted({h.day for e in figures.holds for h in e.holds})
    shown = days[-HOLD_COLUMNS:]
    width = max(len("exercise"), *(len(e.exercise) for e in figures.holds))
    title = "Holds over time (seconds, by day"
    title += (
        f"; {len(days) - len(shown)} earlier days in --json):" if len(days) > len(shown) else "):"
    )
    rows = [title, f"{'exercise':<{width}}" + "".join(f"  {d:%m-%d}" for d in shown)]
    for exercise in figures.holds:
        held = {h.day: h.hold_s for h in exercise.holds}
        cells = "".join(f"  {held.get(d, '-'):>5}" for d in shown)
        rows.append(f"{exercise.exercise:<{width}}{cells}")
    return rows


def _bar(value: float, most: float, width: int) -> str:
    """`value` as a bar of '#', `most` being `width` long; a value above 0 shows at least one."""
    if value <= 0 or most <= 0:
        return ""
    return "#" * max(1, round(value / most * width))


def _minutes(minutes: float) -> str:
    return "<1" if 0 < minutes < 0.5 else f"{minutes:.0f}"


def _pain(week: WeekProgress) -> str:
    return "-" if week.pain_mean is None else f"{week.pain_mean:.1f} ({week.pain_ratings})"


def _plural(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"


def write_png(figures: Progress, path: Path) -> None:
    """Draws sessions and minutes per week, the pain ratings with their trend line, and the
    holds of each exercise into a PNG file (matplotlib's Agg renderer: no display needed)."""
    if path.is_dir():
        raise FigureError("is a folder, not a PNG file", path=path)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8.0, 9.0), layout="constrained")
    FigureCanvasAgg(figure)
    weeks_axes, pain_axes, holds_axes = figure.subplots(3, 1, sharex=True)
    figure.suptitle(f"voicecoach: {figures.first_day} to {figures.last_day}")
    _draw_weeks(weeks_axes, figures)
    _draw_pain(pain_axes, figures)
    _draw_holds(holds_axes, figures)
    mondays = [(w.monday - figures.first_day).days for w in figures.weeks]
    step = max(1, len(mondays) // 12)  # at most about 12 labels
    holds_axes.set_xticks(
        mondays[::step], [f"{w.monday:%Y-%m-%d}" for w in figures.weeks][::step], rotation=45
    )
    holds_axes.set_xlim(-1, len(figures.weeks) * 7)
    holds_axes.set_xlabel("week starting on Monday")
    try:
        figure.savefig(path, format="png", dpi=100)
    except OSError as error:
        raise FigureError(f"cannot write: {error.strerror or error}", path=path) from None


def _draw_weeks(axes: Axes, figures: Progress) -> None:
    from matplotlib.ticker import MaxNLocator

    middles = [(w.monday - figures.first_day).days + 3 for w in figures.weeks]
    axes.bar(middles, [w.sessions for w in figures.weeks], width=5.0, color="tab:blue")
    axes.set_ylabel("sessions", color="tab:blue")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    minutes = axes.twinx()
    minutes.plot(middles, [w.minutes for w in figures.weeks], "o-", color="tab:orange")
    minutes.set_ylabel("minutes in session", color="tab:orange")
    minutes.set_ylim(bottom=0)
    axes.set_title("Sessions and minutes per week")


def _draw_pain(axes: Axes, figures: Progress) -> None:
    axes.set_title("Pain ratings (0-10)")
    axes.set_ylim(-0.5, 10.5)
    axes.set_ylabel("rating")
    if not figures.ratings:
        _no_data(axes, "no pain ratings in these weeks")
        return
    days = [(r.day - figures.first_day).days for r in figures.ratings]
    axes.plot(days, [r.level for r in figures.ratings], "o", alpha=0.6, label="rating")
    rated = [w for w in figures.weeks if w.pain_mean is not None]
    axes.plot(
        [(w.monday - figures.first_day).days + 3 for w in rated],
        [w.pain_mean for w in rated if w.pain_mean is not None],
        "s--",
        color="gray",
        label="weekly mean",
    )
    trend = figures.pain
    if (
        trend.first_day is not None
        and trend.last_day is not None
        and trend.first_level is not None
        and trend.last_level is not None
    ):
        axes.plot(
            [(trend.first_day - figures.first_day).days, (trend.last_day - figures.first_day).days],
            [trend.first_level, trend.last_level],
            "-",
            color="tab:red",
            label=f"trend: {trend.direction} ({trend.slope_per_week:+.2f} a week)",
        )
    axes.legend(loc="upper right", fontsize="small")


def _draw_holds(axes: Axes, figures: Progress) -> None:
    axes.set_title("Holds over time")
    axes.set_ylabel("seconds")
    if not figures.holds:
        _no_data(axes, "no holds in these weeks")
        return
    for exercise in figures.holds:
        axes.plot(
            [(h.day - figures.first_day).days for h in exercise.holds],
            [h.hold_s for h in exercise.holds],
            "o-",
            label=exercise.exercise,
        )
    axes.set_ylim(bottom=0)
    axes.legend(loc="upper left", fontsize="small")


def _no_data(axes: Axes, text: str) -> None:
    axes.text(0.5, 0.5, text, transform=axes.transAxes, ha="center", va="center", color="gray")
