"""The history store: written as it happens, readable after a kill, corrupt files moved aside."""

from __future__ import annotations

import functools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from voicecoach.cli import main
from voicecoach.core.catalog import load_catalog
from voicecoach.memory.home import data_dir
from voicecoach.memory.journal import JOURNAL_FILE, Journal, JournalError
from voicecoach.testing import assert_one_line_error
from voicecoach.testing import run_cli as run


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
    assert "coach: Welcome back.\n" in resumed.stdout
    assert "coach: Carrying on where you stopped: 3 done, 6 to go.\n" in resumed.stdout
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


# A store that is healthy but cannot be used just now is left as it is.


def files_in(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def healthy_journal() -> Path:
    """The user's own journal, with one finished session."""
    journal = Journal(warn=None)
    session = journal.start_session("core")
    journal.record(session, 5.0, "exercise_done", "plank", variation=None, hold_s=20)
    journal.end_session(session, "completed")
    journal.close()
    return data_dir() / JOURNAL_FILE


def voicecoach(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line(code: int, err: str, *parts: str) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for part in parts:
        assert part in lines[0]


class FullDiskConnection(sqlite3.Connection):
    """What SQLite says on a full disk: every statement that must write fails."""

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql.split()[0].upper() in ("INSERT", "UPDATE", "CREATE") or "journal_mode" in sql:
            raise sqlite3.OperationalError("database or disk is full")
        return super().execute(sql, *args)

    def executescript(self, sql: str) -> sqlite3.Cursor:
        raise sqlite3.OperationalError("database or disk is full")


@pytest.mark.parametrize("command", [["history"], ["next"], ["history", "--json"]])
def test_a_full_disk_at_start_up_leaves_the_history_as_it_is(
    command: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """It once moved a healthy journal aside as "corrupt" and started an empty one."""
    path = healthy_journal()
    before = files_in(path.parent)
    real_connect = sqlite3.connect
    monkeypatch.setattr(
        sqlite3, "connect", functools.partial(real_connect, factory=FullDiskConnection)
    )
    code, _, err = voicecoach(capsys, *command)
    assert_one_line(code, err, str(path), "database or disk is full", "left as it is")
    monkeypatch.setattr(sqlite3, "connect", real_connect)
    assert files_in(path.parent) == before  # nothing moved aside, nothing written
    assert [s.routine for s in Journal().sessions()] == ["core"]


def test_a_store_that_fills_up_keeps_what_it_has(tmp_path: Path) -> None:
    """SQLite's own "database or disk is full" (SQLITE_FULL), from a store that cannot grow."""
    path = tmp_path / "j.sqlite3"
    journal = Journal(path)
    session = journal.start_session("gentle")
    journal.record(session, 1.0, "exercise_done", "bridge", variation=None, hold_s=10)
    pages = journal._db.execute("PRAGMA page_count").fetchone()[0]
    journal._db.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full now
    with pytest.raises(JournalError, match="database or disk is full") as error:
        journal.record(session, 2.0, "pain", "bridge", note="x" * 100_000)
    assert len(str(error.value).splitlines()) == 1
    journal.close()
    (summary,) = Journal(path).sessions()
    assert summary.exercises == (
        {"exercise": "bridge", "result": "done", "variation": None, "hold_s": 10},
    )


def test_a_new_store_on_a_full_disk_is_an_error_not_a_move(tmp_path: Path) -> None:
    real_connect = sqlite3.connect

    def full(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        db: sqlite3.Connection = real_connect(*args, **kwargs)
        db.execute("PRAGMA max_page_count = 1")
        return db

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sqlite3, "connect", full)
        with pytest.raises(JournalError, match="database or disk is full"):
            Journal(tmp_path / "j.sqlite3", warn=pytest.fail)
    assert not list(tmp_path.glob("*corrupt*"))


def test_a_store_locked_by_another_program_is_left_alone(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = healthy_journal()
    other = sqlite3.connect(path, isolation_level=None)  # another program, holding the store
    other.execute("PRAGMA locking_mode = EXCLUSIVE")
    other.execute("BEGIN EXCLUSIVE")
    other.execute("INSERT INTO session (routine, started_at) VALUES ('desk', 1.0)")
    try:
        with pytest.raises(JournalError, match="in use by another program"):
            Journal(path, warn=pytest.fail, timeout_s=0.0)
        monkeypatch.setattr("voicecoach.memory.journal.BUSY_TIMEOUT_S", 0.0)
        code, _, err = voicecoach(capsys, "history")
        assert_one_line(code, err, str(path), "database is locked", "another voicecoach")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert not list(path.parent.glob("*corrupt*"))
    assert [s.routine for s in Journal(path).sessions()] == ["core"]


def test_a_read_only_store_is_read_but_not_written(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A home that cannot be written (SQLite opened read-only says what a read-only folder
    makes it say; chmod does not stop root, who runs the tests here)."""
    path = healthy_journal()
    before = path.read_bytes()
    real_connect = sqlite3.connect

    def read_only(database: Path, **kwargs: Any) -> sqlite3.Connection:
        db: sqlite3.Connection = real_connect(f"file:{database}?mode=ro", uri=True, **kwargs)
        return db

    monkeypatch.setattr(sqlite3, "connect", read_only)
    code, out, _ = voicecoach(capsys, "history")
    assert code == 0 and "core: completed, 1 done" in out
    code, _, err = voicecoach(capsys, "run", "--text", "--mute")
    assert_one_line(code, err, str(path), "readonly database")
    monkeypatch.setattr(sqlite3, "connect", real_connect)
    assert path.read_bytes() == before
    assert not list(path.parent.glob("*corrupt*"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to a read-only folder")
def test_a_read_only_home_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = data_dir()
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o555)
    try:
        code, _, err = voicecoach(capsys, "history")
    finally:
        home.chmod(0o755)
    assert_one_line(code, err, str(home / JOURNAL_FILE))
    assert not list(home.iterdir())


def test_a_damaged_store_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = Journal(path)
    session = journal.start_session("gentle")
    for second in range(300):
        journal.record(session, float(second), "hold", "bridge", hold_s=10, note="x" * 100)
    journal._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    journal.close()
    data = bytearray(path.read_bytes())
    data[4096 * 2 : 4096 * 4] = b"\xa5" * (4096 * 2)  # pages 3 and 4 overwritten
    path.write_bytes(bytes(data))
    warnings: list[str] = []
    journal = Journal(path, warn=warnings.append)
    assert journal.moved_aside is not None
    assert journal.moved_aside.read_bytes() == bytes(data)
    assert journal.sessions() == [] and len(warnings) == 1


def test_events_with_bad_data_do_not_break_history_next_or_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = healthy_journal()
    db = sqlite3.connect(path, isolation_level=None)
    session = db.execute(
        "INSERT INTO session (routine, started_at, outcome) VALUES ('gentle', 'soon', 'odd')"
    ).lastrowid
    for kind, exercise, data in [
        ("exercise_done", "knee-to-chest", "{not json"),
        ("exercise_done", "pelvic-tilt", "[1, 2]"),
        ("hold", "bridge", '{"hold_s": 1000000000000000000}'),
        ("variation", "bridge", '{"variation": ["in-bed"]}'),
        ("pain_rating", "bridge", '{"level": "ten"}'),
        ("skipped", 42, "{}"),
    ]:
        db.execute(
            "INSERT INTO event (session_id, at, session_s, kind, exercise, data) "
            "VALUES (?, 1.0, 1.0, ?, ?, ?)",
            (session, kind, exercise, data),
        )
    db.close()
    latest = Journal(path).sessions()[0]
    assert latest.outcome is None and latest.started_at == 0.0
    assert latest.exercises == (
        {"exercise": "knee-to-chest", "result": "done", "variation": None, "hold_s": None},
        {"exercise": "pelvic-tilt", "result": "done", "variation": None, "hold_s": None},
        {"exercise": "bridge", "hold_s": None, "variation": None, "ratings": [None]},
        {"exercise": "42", "result": "skipped", "variation": None, "hold_s": None},  # TEXT
    )
    for command in (["history"], ["history", "--json"], ["next"], ["next", "--json"]):
        code, _, err = voicecoach(capsys, *command)
        assert code == 0 and err == "", (command, err)
    resumed = run("run", "--text", "--mute", "--resume", stdin="stop\nyes\n")
    assert resumed.returncode == 0 and "Traceback" not in resumed.stderr, resumed.stderr
    fresh = run("run", "--text", "--mute", stdin="stop\nyes\n")
    assert fresh.returncode == 0 and "Traceback" not in fresh.stderr, fresh.stderr
