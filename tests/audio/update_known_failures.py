"""Rewrites tests/audio/known_failures.toml: the clips the embedded engine gets wrong today,
each with what it heard. Run after a change to the engine, the grammar or the clips:

    .venv/bin/python tests/audio/update_known_failures.py

tests/test_recognition.py then fails on any other failure (a regression) and on any listed clip
that now passes (remove it: run this again)."""

from __future__ import annotations

from pathlib import Path

from voicecoach.audiotests import load_script, run_cases
from voicecoach.catalog import load_catalog
from voicecoach.grammar import load_grammar
from voicecoach.hearing import build_engine, hear_file
from voicecoach.intents import build_index

HERE = Path(__file__).resolve().parent


def main() -> None:
    index = build_index(load_grammar(load_catalog()))
    engine = build_engine("pocketsphinx", index.grammar, index)
    outcomes = run_cases(load_script(HERE / "cases.toml"), lambda p: hear_file(p, engine, index))
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
    (HERE / "known_failures.toml").write_text("\n".join(lines), encoding="utf-8")
    print(f"{len(failed)} of {len(outcomes)} clips are known failures")


if __name__ == "__main__":
    main()
