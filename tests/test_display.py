"""The live status line."""

from __future__ import annotations

from voicecoach.core.catalog import Catalog, RoutineItem
from voicecoach.core.display import countdown_bar, status_line
from voicecoach.core.session import Session


def test_countdown_bar() -> None:
    assert countdown_bar(10, 10, width=10) == "[##########]"
    assert countdown_bar(5, 10, width=10) == "[#####-----]"
    assert countdown_bar(0, 10, width=10) == "[----------]"
    assert countdown_bar(30, 10, width=4) == "[####]"
    assert countdown_bar(3, 0) == ""


def test_status_line_through_a_hold(bundled_catalog: Catalog) -> None:
    session = Session(bundled_catalog, [RoutineItem("knee-to-chest")])
    now = 0.0
    session.start(now)
    assert status_line(session, now).startswith("Knee to chest | left side | rep 1/5 | set 1/2")
    while session.phase != "hold":
        now += 0.1
        session.tick(now)
    line = status_line(session, now, last_heard="hold longer")
    assert "| hold [" in line and line.endswith("| heard: hold longer")
    end = session.timed.ends_at
    assert status_line(session, end - 5).split(" | ")[4].endswith("] 5 s")


def test_status_line_when_done(bundled_catalog: Catalog) -> None:
    session = Session(bundled_catalog, [RoutineItem("walking")])
    session.start(0.0)
    now = 0.0
    while session.phase != "done":
        now += 1.0
        session.tick(now)
    assert status_line(session, now) == "session over"
