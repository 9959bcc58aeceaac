"""Helpers for testing voicecoach (the project's tests and your own): the command line in a
subprocess, its one-line errors, a run's JSONL log, and a session driven by a fake clock."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from voicecoach.core.catalog import Catalog, RoutineItem
from voicecoach.core.clock import FakeClock
from voicecoach.core.grammar import SlotValue
from voicecoach.core.intents import Intent
from voicecoach.core.session import Action, Phase, Say, Session

CLI_TIMEOUT_S = 60.0
"""Longest one command line may take before the test fails (a hang is a failure)."""


def run_cli(
    *args: str, stdin: str = "", timeout_s: float = CLI_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    """`voicecoach ARGS...` in a new interpreter, with `stdin` as its input."""
    return subprocess.run(
        [sys.executable, "-m", "voicecoach", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *parts: str) -> None:
    """The command failed as a user's mistake should: exit 2, one line on stderr that holds
    every one of `parts`, no traceback."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for part in parts:
        assert part in lines[0], lines[0]


def read_log(path: Path) -> list[dict[str, object]]:
    """The events of a `run --log` file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def intent(name: str, **slots: SlotValue) -> Intent:
    """A command as if heard with full confidence."""
    return Intent(name, slots, 100.0, name)


def said(actions: list[Action]) -> str:
    """What the coach says in `actions`, as one text."""
    return " ".join(a.text for a in actions if isinstance(a, Say))


def items(*ids: str) -> list[RoutineItem]:
    """Routine items from exercise ids, "exercise/variation" for a variation."""
    return [RoutineItem(*i.split("/")) if "/" in i else RoutineItem(i) for i in ids]


class SessionDriver:
    """A session driven by a fake clock in 100 ms steps, keeping every action."""

    def __init__(self, catalog: Catalog, routine: list[RoutineItem], **options: object) -> None:
        self.clock = FakeClock()
        self.session = Session(catalog, routine, **options)  # type: ignore[arg-type]
        self.actions: list[Action] = self.session.start(self.clock.now())

    def until(self, phase: Phase, limit_s: float = 3600.0) -> list[Action]:
        """Advances until the session is in `phase`."""
        got: list[Action] = []
        while self.session.phase != phase:
            assert self.clock.now() < limit_s, f"never reached {phase}"
            got += self.session.tick(self.clock.advance_ms(100))
        self.actions += got
        return got

    def phase(self) -> str:
        return self.session.phase

    def say(self, name: str, **slots: SlotValue) -> list[Action]:
        """The person says command `name` now."""
        got = self.session.handle(intent(name, **slots), self.clock.now())
        self.actions += got
        return got

    def wait_ms(self, milliseconds: float) -> list[Action]:
        got: list[Action] = []
        for _ in range(int(milliseconds // 100)):
            got += self.session.tick(self.clock.advance_ms(100))
        self.actions += got
        return got
