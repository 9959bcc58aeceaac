"""The commands that hear recordings: `recognize` (WAV files -> commands) and `test` (a script
of recordings and the commands they must give)."""

from __future__ import annotations

import json
import sys

from voicecoach.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    command_index,
    engine_for,
)
from voicecoach.cli.options import Options
from voicecoach.core.errors import VoiceCoachError
from voicecoach.core.session import ANSWERS_AWAITED, QUESTIONS, awaited_as_answer


def cmd_recognize(options: Options) -> int:
    from voicecoach.hearing.audio import AudioError
    from voicecoach.hearing.recognition import hear_file

    index = command_index(options)
    engine = engine_for(options, index)
    if options.after is not None:
        engine.expect(ANSWERS_AWAITED[QUESTIONS[options.after]])
    status = EXIT_OK
    for path in options.files:
        try:
            result = hear_file(path, engine, index)
        except AudioError as error:
            print(f"voicecoach: {error}", file=sys.stderr)
            status = EXIT_USAGE
            continue
        first = result.first
        intent = first.intent if first else None
        record = {
            "file": str(path),
            "text": first.utterance.text if first else "",
            "intent": intent.name if intent else None,
            "slots": dict(intent.slots) if intent else {},
            "score": intent.score if intent else 0.0,
            "confidence": round(first.utterance.confidence, 3) if first else 0.0,
            "near_miss": first.utterance.near_miss if first else False,
            "why": first.utterance.reason if first else "no speech found",
            "engine": engine.name,
            "audio_s": round(result.audio_s, 3),
            "decode_s": round(result.decode_s, 3),
        }
        if options.json:
            print(json.dumps(record, ensure_ascii=False), flush=True)
        else:
            meaning = intent.name if intent else "(not a command)"
            why = f" [{record['why']}]" if record["why"] else ""
            print(f"{path}: heard {record['text']!r} -> {meaning}{why}", flush=True)
    return status


def cmd_test(options: Options) -> int:
    from voicecoach.hearing.audiotests import (
        format_table,
        junit_xml,
        load_script,
        run_cases,
        summarize,
    )
    from voicecoach.hearing.recognition import hear_file

    script = options.script
    assert script is not None, "SCRIPT.toml is a required argument of test"
    cases = load_script(script)
    index = command_index(options, cases[0].context)  # one context per script
    engine = engine_for(options, index)
    outcomes = []
    for number, case in enumerate(cases, 1):
        engine.expect(awaited_as_answer(case.expect))
        outcomes.extend(run_cases([case], lambda path: hear_file(path, engine, index)))
        if sys.stderr.isatty():
            print(f"\r{number}/{len(cases)}", end="", file=sys.stderr, flush=True)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(format_table(outcomes, script.parent))
    summary = summarize(outcomes)
    counts = ", ".join(f"{n} {status.lower()}" for status, n in sorted(summary.counts.items()))
    print(f"\n{len(outcomes)} cases: {counts}")
    if options.junit:
        try:
            options.junit.write_text(junit_xml(outcomes, script.stem), encoding="utf-8")
        except OSError as error:
            raise VoiceCoachError(f"cannot write: {error.strerror}", path=options.junit) from None
    return EXIT_FAILED if summary.failed else EXIT_OK
