"""Scripted sessions: a timeline of things the person says, at times or on phases.

routine = "gentle"                  # or: exercises = ["knee to chest", "bird dog"]
[[event]]
at = 12.0                           # seconds of session time, or:
on = "hold"                         # when the session enters this phase ...
nth = 2                             # ... for the nth time (default 1)
delay = 1.5                         # ... plus this many seconds
say = "hold longer"                 # text, as if recognised, or:
audio = "recordings/hold-longer.wav"  # audio fed to the recogniser at that moment
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, get_args

from voicecoach.core.catalog import Catalog, RoutineItem
from voicecoach.core.errors import CatalogError, UnknownExerciseError, VoiceCoachError
from voicecoach.core.session import Phase
from voicecoach.core.tomlfile import read_toml


class TimelineError(VoiceCoachError):
    """A timeline file that cannot be used."""


@dataclass(frozen=True)
class TimelineEvent:
    at: float | None
    """Session time in seconds; None when the event waits for a phase."""
    on: Phase | None
    nth: int
    delay: float
    say: str | None
    audio: Path | None


@dataclass(frozen=True)
class Timeline:
    items: tuple[RoutineItem, ...]
    events: tuple[TimelineEvent, ...]


MAX_TIME_S: Final = 24 * 3600.0
"""The latest session time a timeline event may have (a day: a session is under an hour)."""


def _number(entry: dict[str, Any], key: str, default: float, where: str, path: Path) -> float:
    value = entry.get(key, default)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 <= value <= MAX_TIME_S  # also false for nan
    ):
        raise TimelineError(
            f"{where}: '{key}' must be a number of seconds from 0 to {MAX_TIME_S:g}, not {value!r}",
            path=path,
        )
    return float(value)


def _text(entry: dict[str, Any], key: str, where: str, path: Path) -> str:
    value = entry[key]
    if not isinstance(value, str) or not value.strip():
        raise TimelineError(f"{where}: '{key}' must be text, not {value!r}", path=path)
    return value


def load_timeline(path: Path, catalog: Catalog) -> Timeline:
    document = read_toml(path, TimelineError)
    unknown = set(document) - {"routine", "exercises", "event"}
    if unknown:
        raise TimelineError(f"unknown field '{sorted(unknown)[0]}'", path=path)
    if ("routine" in document) == ("exercises" in document):
        raise TimelineError('give either routine = "..." or exercises = [...]', path=path)
    try:
        if "routine" in document:
            routine = document["routine"]
            if not isinstance(routine, str):
                raise TimelineError(f"routine must be a name, not {routine!r}", path=path)
            items = tuple(catalog.routine(routine).items)
        else:
            names = document["exercises"]
            if (
                not isinstance(names, list)
                or not names
                or not all(isinstance(n, str) for n in names)
            ):
                raise TimelineError("exercises must be a list of names", path=path)
            items = tuple(RoutineItem(catalog.find(name).id) for name in names)
    except (CatalogError, UnknownExerciseError) as error:  # named in this file
        raise TimelineError(error.message, path=path) from None
    events = []
    phases = get_args(Phase)
    for number, entry in enumerate(document.get("event", []), 1):
        where = f"event {number}"
        if not isinstance(entry, dict):
            raise TimelineError(f"{where}: expected a table", path=path)
        extra = set(entry) - {"at", "on", "nth", "delay", "say", "audio"}
        if extra:
            raise TimelineError(f"{where}: unknown field '{sorted(extra)[0]}'", path=path)
        if ("at" in entry) == ("on" in entry):
            raise TimelineError(f"{where}: give either 'at' or 'on'", path=path)
        if ("say" in entry) == ("audio" in entry):
            raise TimelineError(f"{where}: give either 'say' or 'audio'", path=path)
        on = entry.get("on")
        if on is not None and on not in phases:
            raise TimelineError(f"{where}: 'on' must be a phase: {', '.join(phases)}", path=path)
        nth = entry.get("nth", 1)
        if isinstance(nth, bool) or not isinstance(nth, int) or nth < 1:
            raise TimelineError(f"{where}: 'nth' must be a whole number >= 1", path=path)
        audio = _text(entry, "audio", where, path) if "audio" in entry else None
        events.append(
            TimelineEvent(
                at=_number(entry, "at", 0.0, where, path) if "at" in entry else None,
                on=on,
                nth=nth,
                delay=_number(entry, "delay", 0.0, where, path),
                say=_text(entry, "say", where, path) if "say" in entry else None,
                audio=path.parent / audio if audio is not None else None,
            )
        )
    return Timeline(items, tuple(events))
