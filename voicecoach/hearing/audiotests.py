"""Scripted intent tests on recordings: `voicecoach test SCRIPT.toml`.

A script lists cases; each is a WAV file and the command it must give:

    known_failures = "known_failures.toml"   # optional: cases expected to fail, with reasons
    context = "ask"                          # optional: what is listened for, "session" (the
                                             # default: session commands) or "ask" (questions)

    [[case]]
    audio = "recordings/hold-longer.wav"     # relative to the script
    expect = "hold_longer"                   # an intent name, or "none": must be rejected
    slots = { seconds = 20 }                 # optional

A known-failures file has `[[failure]] audio = "..." reason = "..."` entries.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from voicecoach.core.errors import VoiceCoachError
from voicecoach.core.grammar import CONTEXTS, SlotValue
from voicecoach.core.tomlfile import read_toml
from voicecoach.hearing.audio import AudioError
from voicecoach.hearing.recognition import FileResult

REJECTED: Final = "none"


class ScriptError(VoiceCoachError):
    """A test script that cannot be read."""


@dataclass(frozen=True)
class Case:
    audio: Path
    expect: str | None
    """The intent the recording must give; None when it must be rejected."""
    slots: Mapping[str, SlotValue]
    known_failure: str | None = None
    """Why this case is expected to fail, when it is."""
    context: str = "session"
    """What the recogniser listens for (grammar.CONTEXTS): session commands or questions."""


@dataclass(frozen=True)
class Outcome:
    case: Case
    heard: str
    intent: str | None
    slots: Mapping[str, SlotValue]
    error: str | None = None
    """Why the recording could not be tested (missing or corrupt file)."""
    why: str = ""
    """Why the recogniser accepted or rejected what it heard (which check, what score)."""

    @property
    def passed(self) -> bool:
        return (
            self.error is None
            and self.intent == self.case.expect
            and (self.intent is None or dict(self.slots) == dict(self.case.slots))
        )

    @property
    def status(self) -> str:
        """PASS, FAIL, ERROR, XFAIL (a known failure that failed) or XPASS (one that passed)."""
        if self.error is not None:
            return "ERROR"
        if self.case.known_failure is not None:
            return "XPASS" if self.passed else "XFAIL"
        return "PASS" if self.passed else "FAIL"


def load_script(path: Path) -> list[Case]:
    document = read_toml(path, ScriptError)
    known: dict[str, str] = {}
    if "known_failures" in document:
        if not isinstance(document["known_failures"], str):
            raise ScriptError("known_failures must be a file name", path=path)
        known_path = path.parent / document["known_failures"]
        failures = read_toml(known_path, ScriptError).get("failure", [])
        if not isinstance(failures, list):
            raise ScriptError("expected [[failure]] entries", path=known_path)
        for index, entry in enumerate(failures):
            if not isinstance(entry, dict) or "audio" not in entry or "reason" not in entry:
                raise ScriptError(f"failure {index + 1}: needs audio and reason", path=known_path)
            known[str(entry["audio"])] = str(entry["reason"])
    context = document.get("context", "session")
    if not isinstance(context, str) or context not in CONTEXTS:
        raise ScriptError(
            f"context must be one of {', '.join(map(repr, CONTEXTS))}, not {context!r}", path=path
        )
    intents = CONTEXTS[context]
    raw_cases = document.get("case")
    if not isinstance(raw_cases, list) or not raw_cases:
        raise ScriptError("no [[case]] entries", path=path)
    cases = []
    for index, entry in enumerate(raw_cases, 1):
        if not isinstance(entry, dict):
            raise ScriptError(f"case {index}: expected a table", path=path)
        unknown = set(entry) - {"audio", "expect", "slots"}
        if unknown:
            raise ScriptError(f"case {index}: unknown field '{sorted(unknown)[0]}'", path=path)
        audio, expect, slots = entry.get("audio"), entry.get("expect"), entry.get("slots", {})
        if not isinstance(audio, str) or not audio:
            raise ScriptError(f"case {index}: 'audio' must be a file name", path=path)
        if expect != REJECTED and (not isinstance(expect, str) or expect not in intents):
            raise ScriptError(
                f'case {index}: expect must be an intent of the "{context}" context or '
                f'"{REJECTED}", not {expect!r}',
                path=path,
            )
        if not isinstance(slots, dict):
            raise ScriptError(f"case {index}: 'slots' must be a table", path=path)
        cases.append(
            Case(
                audio=path.parent / audio,
                expect=None if expect == REJECTED else str(expect),
                slots=dict(slots),
                known_failure=known.get(audio),
                context=context,
            )
        )
    return cases


def run_cases(cases: Iterable[Case], hear: Callable[[Path], FileResult]) -> list[Outcome]:
    outcomes = []
    for case in cases:
        try:
            result = hear(case.audio)
        except AudioError as error:
            outcomes.append(Outcome(case, "", None, {}, error=str(error)))
            continue
        first = result.first
        intent = first.intent if first is not None else None
        outcomes.append(
            Outcome(
                case,
                heard=first.utterance.text if first is not None else "",
                intent=intent.name if intent is not None else None,
                slots=dict(intent.slots) if intent is not None else {},
                why=first.utterance.reason if first is not None else "no speech found",
            )
        )
    return outcomes


@dataclass
class Summary:
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return bool(self.counts.get("FAIL") or self.counts.get("ERROR"))


def summarize(outcomes: Iterable[Outcome]) -> Summary:
    summary = Summary()
    for outcome in outcomes:
        summary.counts[outcome.status] = summary.counts.get(outcome.status, 0) + 1
    return summary


def format_table(outcomes: list[Outcome], root: Path) -> str:
    def name(case: Case) -> str:
        try:
            return str(case.audio.relative_to(root))
        except ValueError:
            return str(case.audio)

    rows = [("file", "heard", "intent", "expected", "result", "why")]
    for o in outcomes:
        got = o.intent or "-"
        if o.slots:
            got += " " + " ".join(f"{k}={v}" for k, v in o.slots.items())
        want = o.case.expect or "-"
        if o.case.slots:
            want += " " + " ".join(f"{k}={v}" for k, v in o.case.slots.items())
        rows.append((name(o.case), o.error or o.heard or "-", got, want, o.status, o.why))
    widths = [min(48, max(len(r[i]) for r in rows)) for i in range(5)]
    lines = []
    for row in rows:
        cells = [row[i][: widths[i]].ljust(widths[i]) for i in range(5)]
        lines.append("  ".join([*cells, row[5]]).rstrip())
    return "\n".join(lines)


def junit_xml(outcomes: list[Outcome], suite: str) -> str:
    summary = summarize(outcomes)
    root = ElementTree.Element(
        "testsuite",
        name=suite,
        tests=str(len(outcomes)),
        failures=str(summary.counts.get("FAIL", 0)),
        errors=str(summary.counts.get("ERROR", 0)),
        skipped=str(summary.counts.get("XFAIL", 0)),
    )
    for o in outcomes:
        case = ElementTree.SubElement(root, "testcase", classname=suite, name=o.case.audio.name)
        expected = o.case.expect or "no command"
        detail = f"heard {o.heard!r} -> {o.intent or 'no command'}; expected {expected}"
        if o.why:
            detail += f" ({o.why})"
        if o.status == "FAIL":
            ElementTree.SubElement(case, "failure", message=detail).text = detail
        elif o.status == "ERROR":
            ElementTree.SubElement(case, "error", message=o.error or "").text = o.error
        elif o.status == "XFAIL":
            reason = f"known failure: {o.case.known_failure}"
            ElementTree.SubElement(case, "skipped", message=reason).text = detail
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
