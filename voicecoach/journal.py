"""The session history, in SQLite: written as things happen, so a killed run loses nothing
before its last completed step, and the store stays readable.

A store that SQLite cannot read is moved aside (never overwritten) and a new one started.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from voicecoach.errors import VoiceCoachError
from voicecoach.home import data_dir

JOURNAL_FILE: Final = "journal.sqlite3"
SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS session (
    id INTEGER PRIMARY KEY,
    routine TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL,
    outcome TEXT
);
CREATE TABLE IF NOT EXISTS event (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES session(id),
    at REAL NOT NULL,
    session_s REAL NOT NULL,
    kind TEXT NOT NULL,
    exercise TEXT,
    data TEXT NOT NULL
);
"""


class JournalError(VoiceCoachError):
    """The history store cannot be opened or written."""


@dataclass(frozen=True)
class SessionSummary:
    id: int
    routine: str
    started_at: float
    ended_at: float | None
    outcome: str | None
    """"completed", "stopped", "red_flag", or None for an unfinished session."""
    exercises: tuple[dict[str, Any], ...]
    """What happened to each exercise: done, skipped, pain, ratings, variation, hold."""
    finished: tuple[str, ...] = ()
    """The exercises done or skipped, in order (one a routine has twice appears twice)."""


class Journal:
    """One SQLite file; every write is its own transaction, synced before returning."""

    def __init__(self, path: Path | None = None, *, warn: Any = None) -> None:
        self.path = path or data_dir() / JOURNAL_FILE
        self.moved_aside: Path | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = self._open()
        except sqlite3.DatabaseError:
            self.moved_aside = self._move_aside()
            if warn is not None:
                warn(f"{self.path}: unreadable history moved aside to {self.moved_aside.name}")
            self._db = self._open()
        except OSError as error:
            raise JournalError(f"cannot open: {error.strerror or error}", path=self.path) from None

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            db.close()
            raise sqlite3.DatabaseError("integrity check failed")
        db.executescript(SCHEMA)
        return db

    def _move_aside(self) -> Path:
        target = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
        for suffix in ("", "-wal", "-shm"):
            source = Path(str(self.path) + suffix)
            if source.exists():
                source.rename(Path(str(target) + suffix))
        return target

    def close(self) -> None:
        self._db.close()

    def start_session(self, routine: str) -> int:
        cursor = self._db.execute(
            "INSERT INTO session (routine, started_at) VALUES (?, ?)", (routine, time.time())
        )
        return int(cursor.lastrowid or 0)

    def record(
        self, session_id: int, session_s: float, kind: str, exercise: str | None, **data: Any
    ) -> None:
        self._db.execute(
            "INSERT INTO event (session_id, at, session_s, kind, exercise, data) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (session_id, time.time(), session_s, kind, exercise, json.dumps(data)),
        )

    def reopen_session(self, session_id: int) -> None:
        """Marks a session unfinished again, to carry on with it (`run --resume`). Its events
        after the "resumed" one count session time from the resumption."""
        self._db.execute(
            "UPDATE session SET ended_at = NULL, outcome = NULL WHERE id = ?", (session_id,)
        )
        self.record(session_id, 0.0, "resumed", None)

    def end_session(self, session_id: int, outcome: str) -> None:
        self._db.execute(
            "UPDATE session SET ended_at = ?, outcome = ? WHERE id = ?",
            (time.time(), outcome, session_id),
        )

    def sessions(self) -> list[SessionSummary]:
        """Every session, newest first, with what happened to each exercise."""
        found = []
        for row in self._db.execute(
            "SELECT id, routine, started_at, ended_at, outcome FROM session ORDER BY id DESC"
        ):
            exercises: dict[str, dict[str, Any]] = {}
            finished: list[str] = []
            for kind, exercise, data in self._db.execute(
                "SELECT kind, exercise, data FROM event WHERE session_id = ? ORDER BY id",
                (row[0],),
            ):
                if exercise is None:
                    continue
                entry = exercises.setdefault(exercise, {"exercise": exercise})
                values = json.loads(data)
                if kind == "variation":  # switched to during the exercise
                    entry["variation"] = values.get("variation")
                elif kind == "hold":  # changed during the exercise
                    entry["hold_s"] = values.get("hold_s")
                elif kind in ("exercise_done", "skipped"):
                    entry["result"] = "done" if kind == "exercise_done" else "skipped"
                    finished.append(exercise)
                    entry["variation"] = values.get("variation")
                    entry["hold_s"] = values.get("hold_s")
                elif kind == "pain":
                    entry["pain"] = entry.get("pain", 0) + 1
                elif kind == "pain_rating":
                    entry.setdefault("ratings", []).append(values.get("level"))
                elif kind == "red_flag":
                    entry["red_flag"] = True
            session_id, routine, started_at, ended_at, outcome = row
            found.append(
                SessionSummary(
                    session_id,
                    routine,
                    started_at,
                    ended_at,
                    outcome,
                    tuple(exercises.values()),
                    tuple(finished),
                )
            )
        return found
