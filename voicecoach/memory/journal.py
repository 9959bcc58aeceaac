"""The session history, in SQLite: written as things happen, so a killed run loses nothing
before its last completed step, and the store stays readable.

A store that SQLite cannot read (not a database, or damaged) is moved aside (never
overwritten) and a new one started. Any other problem (a full disk, a read-only folder, a store
locked by another program) is a JournalError, and the store is left as it is.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any, Final

from voicecoach.core.errors import VoiceCoachError
from voicecoach.core.history import RecordEvent, SessionSummary, summarize
from voicecoach.memory.home import data_dir

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


BUSY_TIMEOUT_S: Final = 5.0
"""How long a write waits for another process (another voicecoach) to finish with the store."""
# SQLite's primary result codes (the low byte of an extended one) that mean the file itself is
# not a database SQLite can read: only then is it moved aside. Anything else (full, read-only,
# locked, an I/O error) leaves the store as it is.
_SQLITE_CORRUPT: Final = 11
_SQLITE_NOTADB: Final = 26
_SQLITE_BUSY: Final = 5
_SQLITE_LOCKED: Final = 6


class _Unreadable(Exception):
    """The store is damaged: SQLite cannot read it."""


def _damaged(error: sqlite3.Error) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)


def _problem(error: sqlite3.Error) -> str:
    """A one-line reason for a store that cannot be used as it is (it is left untouched)."""
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return (
            f"in use by another program ({error}): is another voicecoach running? "
            "Try again when it has finished"
        )
    return f"cannot use the history ({error}); it is left as it is"


class Journal:
    """One SQLite file; every write is its own transaction, synced before returning.

    Only a file SQLite cannot read (not a database, or damaged) is moved aside, with a warning,
    and a new one started. A full disk, a read-only folder or a store locked by another program
    raise JournalError and leave the store as it is."""

    def __init__(
        self, path: Path | None = None, *, warn: Any = None, timeout_s: float | None = None
    ) -> None:
        """`timeout_s`: how long to wait for another program using the store (None:
        BUSY_TIMEOUT_S)."""
        self.path = path or data_dir() / JOURNAL_FILE
        self.moved_aside: Path | None = None
        self.timeout_s = BUSY_TIMEOUT_S if timeout_s is None else timeout_s
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._db = self._open()
            except _Unreadable:
                self.moved_aside = self._move_aside()
                if warn is not None:
                    warn(f"{self.path}: unreadable history moved aside to {self.moved_aside.name}")
                self._db = self._open()
        except _Unreadable:
            raise JournalError("a new history cannot be started here", path=self.path) from None
        except sqlite3.Error as error:
            raise JournalError(_problem(error), path=self.path) from None
        except OSError as error:
            raise JournalError(f"cannot open: {error.strerror or error}", path=self.path) from None

    def _open(self) -> sqlite3.Connection:
        """The store, checked and ready; _Unreadable when SQLite cannot read it."""
        db = sqlite3.connect(self.path, isolation_level=None, timeout=self.timeout_s)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise _Unreadable
            db.executescript(SCHEMA)
        except sqlite3.Error as error:
            db.close()
            if _damaged(error):
                raise _Unreadable from None
            raise
        except _Unreadable:
            db.close()
            raise
        return db

    def _move_aside(self) -> Path:
        target = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
        for suffix in ("", "-wal", "-shm"):
            source = Path(str(self.path) + suffix)
            if source.exists():
                source.rename(Path(str(target) + suffix))
        return target

    def _execute(self, sql: str, parameters: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        """Runs one statement; a store that cannot take it raises JournalError."""
        try:
            return self._db.execute(sql, parameters)
        except sqlite3.Error as error:
            raise JournalError(_problem(error), path=self.path) from None

    def close(self) -> None:
        self._db.close()

    def start_session(self, routine: str) -> int:
        cursor = self._execute(
            "INSERT INTO session (routine, started_at) VALUES (?, ?)", (routine, time.time())
        )
        return int(cursor.lastrowid or 0)

    def record(
        self,
        session_id: int,
        session_s: float,
        kind: RecordEvent,
        exercise: str | None,
        **data: Any,
    ) -> None:
        self._execute(
            "INSERT INTO event (session_id, at, session_s, kind, exercise, data) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (session_id, time.time(), session_s, kind, exercise, json.dumps(data)),
        )

    def reopen_session(self, session_id: int) -> None:
        """Marks a session unfinished again, to carry on with it (`run --resume`). Its events
        after the "resumed" one count session time from the resumption."""
        self._execute(
            "UPDATE session SET ended_at = NULL, outcome = NULL WHERE id = ?", (session_id,)
        )
        self.record(session_id, 0.0, "resumed", None)

    def end_session(self, session_id: int, outcome: str) -> None:
        self._execute(
            "UPDATE session SET ended_at = ?, outcome = ? WHERE id = ?",
            (time.time(), outcome, session_id),
        )

    def sessions(self) -> list[SessionSummary]:
        """Every session, newest first, with what happened to each exercise. An event whose
        data cannot be read (not JSON, or values of the wrong kind) counts without them."""
        rows = self._execute(
            "SELECT id, routine, started_at, ended_at, outcome FROM session ORDER BY id DESC"
        ).fetchall()
        events: dict[int, list[tuple[Any, Any, Any]]] = {}
        for session_id, kind, exercise, data in self._execute(
            "SELECT session_id, kind, exercise, data FROM event ORDER BY id"
        ):
            events.setdefault(session_id, []).append((kind, exercise, data))
        return [summarize(row, events.get(row[0], [])) for row in rows]
