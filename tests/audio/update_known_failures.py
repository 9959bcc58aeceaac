"""Rewrites the known-failures files of the recorded-audio tests: the clips the embedded engine
gets wrong today, each with what it heard. Run after a change to the engine, the grammar or the
clips:

    .venv/bin/python tests/audio/update_known_failures.py

It rewrites known_failures.toml (session commands, cases.toml) and
questions_known_failures.toml (the questions of `voicecoach ask`, questions.toml) and
idle_known_failures.toml ("start" to a waiting coach, idle.toml).
tests/test_recognition.py and tests/test_ask.py then fail on any other failure (a regression)
and on any listed clip that now passes (remove it: run this again)."""

from __future__ import annotations

from pathlib import Path

from voicecoach.core.catalog import load_catalog
from voicecoach.core.grammar import load_grammar
from voicecoach.core.intents import build_index
from voicecoach.core.tomlfile import read_toml
from voicecoach.hearing.audiotests import load_script, run_cases
from voicecoach.hearing.recognition import build_engine, hear_file

HERE = Path(__file__).resolve().parent
SCRIPTS = ("cases.toml", "questions.toml", "idle.toml")


def update(script: Path) -> None:
    known_failures = script.parent / str(read_toml(script)["known_failures"])
    if not known_failures.exists():
        known_failures.write_text("", encoding="utf-8")
    cases = load_script(script)
    index = build_index(load_grammar(load_catalog(), context=cases[0].context))
    engine = build_engine("pocketsphinx", index.grammar, index)
    outcomes = run_cases(cases, lambda p: hear_file(p, engine, index))
    lines = [
        "# Clips the embedded PocketSphinx engine gets wrong today, with what it heard.",
        "# Written by tests/audio/update_known_failures.py; bench/asr.py gives the figures.",
        "",
    ]
    failed = [o for o in outcomes if not o.passed]
    for outcome in failed:
        audio = outcome.case.audio.relative_to(HERE).as_posix()
        got = outcome.intent or "no command"
        if outcome.slots:
            got += " " + " ".join(f"{k}={v}" for k, v in outcome.slots.items())
        reason = f"heard {outcome.heard!r} -> {got}".replace('"', "'")
        lines += ["[[failure]]", f'audio = "{audio}"', f'reason = "{reason}"', ""]
    known_failures.write_text("\n".join(lines), encoding="utf-8")
    print(f"{script.name}: {len(failed)} of {len(outcomes)} clips are known failures")


def main() -> None:
    for script in SCRIPTS:
        update(HERE / script)


if __name__ == "__main__":
    main()
