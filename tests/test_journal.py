"""The history store: written as it happens, readable after a kill, corrupt files moved aside."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.test_cli import assert_one_line_error, run
from voicecoach.catalog import load_catalog
from voicecoach.home import data_dir
from voicecoach.journal import JOURNAL_FILE, Journal


def test_sessions_newest_first_with_their_exercises(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    first = journal.start_session("gentle")
    journal.record(first, 10.0, "exercise_done", "pelvic-tilt", variation=None, hold_s=10)
    journal.record(first, 20.0, "pain", "bridge")
    journal.record(first, 21.0, "pain_rating", "bridge", level=4)
    journal.record(first, 30.0, "skipped", "bridge", variation="in-bed", hold_s=5)
    journal.end_session(first, "completed")
    second = journal.start_session("core")
    journal.close()

    sessions = Journal(tmp_path / "j.sqlite3").sessions()
    assert [s.id for s in sessions] == [second, first]
    assert sessions[0].outcome is None and sessions[0].ended_at is None
    done = sessions[1]
    assert done.outcome == "completed"
    assert done.exercises == (
        {"exercise": "pelvic-tilt", "result": "done", "variation": None, "hold_s": 10},
        {
            "exercise": "bridge",
            "pain": 1,
            "ratings": [4],
            "result": "skipped",
            "variation": "in-bed",
            "hold_s": 5,
        },
    )


def test_a_corrupt_store_is_moved_aside_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    path.write_bytes(b"this is not a database, but someone's data" * 100)
    warnings: list[str] = []
    journal = Journal(path, warn=warnings.append)
    assert journal.moved_aside is not None and journal.moved_aside.exists()
    assert journal.moved_aside.read_bytes().startswith(b"this is not a database")
    assert len(warnings) == 1 and "moved aside" in warnings[0]
    journal.start_session("gentle")
    assert len(journal.sessions()) == 1


def test_history_after_a_typed_session() -> None:
    result = run("run", "--text", "--mute", "--routine", "core", stdin="skip\nskip\nstop\nyes\n")
    assert result.returncode == 0, result.stderr
    listing = run("history", "--json")
    sessions = json.loads(listing.stdout)
    assert len(sessions) == 1
    assert sessions[0]["routine"] == "core" and sessions[0]["outcome"] == "stopped"
    assert [e["result"] for e in sessions[0]["exercises"]] == ["skipped", "skipped"]
    text = run("history").stdout
    assert "core: stopped, 0 done, 2 skipped" in text


def test_history_survives_sigkill_and_the_session_resumes() -> None:
    """A live session killed with SIGKILL keeps everything up to its last completed step, and
    `run --resume` carries it on from there, in the same session."""
    process = subprocess.Popen(
        [sys.executable, "-m", "voicecoach", "run", "--text", "--mute", "--routine", "gentle"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    assert process.stdin is not None
    process.stdin.write(b"skip\nskip\nskip\n")
    process.stdin.flush()
    path = data_dir() / JOURNAL_FILE
    deadline = time.monotonic() + 30
    skipped = 0
    while time.monotonic() < deadline and skipped < 3:
        time.sleep(0.2)
        if path.exists():
            try:
                sessions = Journal(path).sessions()
            except Exception:  # the run may be creating the schema
                continue
            skipped = sum(1 for s in sessions for e in s.exercises if e.get("result") == "skipped")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    process.stdin.close()
    sessions = Journal(path).sessions()
    assert len(sessions) == 1 and sessions[0].outcome is None  # unfinished, still readable
    assert [e["result"] for e in sessions[0].exercises] == ["skipped"] * 3

    resumed = run("run", "--text", "--mute", "--resume", stdin="stop\nyes\n")
    assert resumed.returncode == 0, resumed.stderr
    assert "Welcome back. Carrying on where you stopped: 3 done, 6 to go." in resumed.stdout
    fourth = load_catalog().routine("gentle").items[3].exercise_id
    assert f"Next: {load_catalog().exercise(fourth).name}." in resumed.stdout
    sessions = Journal(path).sessions()
    assert len(sessions) == 1 and sessions[0].outcome == "stopped"
    again = run("run", "--text", "--mute", "--resume", "--routine", "core", stdin="")
    assert_one_line_error(again, "--resume carries on the 'gentle' routine")


def test_changes_made_during_an_exercise_are_kept(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    session = journal.start_session("core")
    journal.record(session, 5.0, "variation", "plank", variation="on-hands")
    journal.record(session, 6.0, "hold", "plank", hold_s=25)
    journal.end_session(session, "stopped")
    journal.reopen_session(session)
    (summary,) = journal.sessions()
    assert summary.outcome is None and summary.ended_at is None
    assert summary.exercises == ({"exercise": "plank", "variation": "on-hands", "hold_s": 25},)
    assert summary.finished == ()
