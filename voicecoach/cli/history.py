"""The commands about the person's sessions: `history` (past sessions), `next` (what to do
next, and why) and `ask` (a spoken question about them, answered aloud)."""

from __future__ import annotations

import dataclasses
import sys
import time

from voicecoach.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    catalog_of,
    command_index,
    engine_for,
    input_device,
    print_json,
    read_history,
    speaker_for,
)
from voicecoach.cli.options import Options
from voicecoach.core.intents import CommandIndex, Intent, match


def cmd_history(options: Options) -> int:
    sessions = read_history()
    if options.json:
        print_json([dataclasses.asdict(s) for s in sessions])
        return EXIT_OK
    if not sessions:
        print("no sessions yet")
    for session in sessions:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(session.started_at))
        outcome = session.outcome or "unfinished"
        done = sum(1 for e in session.exercises if e.get("result") == "done")
        skipped = sum(1 for e in session.exercises if e.get("result") == "skipped")
        partial = sum(1 for e in session.exercises if e.get("result") == "partial")
        part = f", {partial} partly done" if partial else ""
        print(f"{when}  {session.routine}: {outcome}, {done} done{part}, {skipped} skipped")
    return EXIT_OK


def cmd_next(options: Options) -> int:
    from voicecoach.core.progression import next_step, plan_from_history

    catalog = catalog_of(options)
    sessions = read_history()
    step = next_step(catalog, sessions)
    plan = plan_from_history(catalog, sessions)
    if options.json:
        print_json({**dataclasses.asdict(step), "suggestions": list(plan.suggestions)})
        return EXIT_OK
    name = catalog.exercise(step.exercise).name
    print(f"Next: the {catalog.routine(step.routine).name} routine, starting with {name}.")
    print(step.why)
    for suggestion in plan.suggestions:
        print(suggestion)
    return EXIT_OK


ASK_HINT = "You can ask: what's next, what did I do last time, or how many sessions this week."


def _hear_question(options: Options, index: CommandIndex) -> tuple[str, Intent | None]:
    """What was asked, from --text, --audio or the microphone: (what was heard, its intent)."""
    if options.text:  # --text takes one word or more
        text = " ".join(options.text)
        return text, match(text, index)
    from voicecoach.hearing.recognition import hear_file, listen_for_command

    engine = engine_for(options, index)
    if options.audio is not None:
        heard = hear_file(options.audio, engine, index).heard
    else:
        import itertools

        from voicecoach.hearing.audio import SAMPLE_RATE, Microphone

        print(f"voicecoach: listening for {options.timeout:g} s. {ASK_HINT}", file=sys.stderr)
        with Microphone(input_device(options)) as microphone:
            limit = round(options.timeout * SAMPLE_RATE / microphone.frame_samples)
            heard = listen_for_command(itertools.islice(microphone, limit), engine, index)
    asked = next((h for h in heard if h.intent is not None), None)
    if asked is None:
        return " / ".join(h.utterance.text for h in heard if h.utterance.text), None
    return asked.utterance.text, asked.intent


def cmd_ask(options: Options) -> int:
    from voicecoach.core.answers import answer

    catalog = catalog_of(options)
    index = command_index(options, "ask")
    speaker = speaker_for(options)  # a voice that cannot work fails before listening
    try:
        heard, question = _hear_question(options, index)
        if question is None:
            what = f"heard {heard!r} -> not a question" if heard else "heard no question"
            print(f"voicecoach: {what}", file=sys.stderr)
            reply = f"Sorry, I didn't catch a question. {ASK_HINT}"
            status = EXIT_FAILED
        else:
            print(f"voicecoach: heard {heard!r} -> {question.name}", file=sys.stderr)
            reply = answer(question.name, catalog, read_history(), time.time())
            status = EXIT_OK
        print(reply, flush=True)
        speaker.say(reply, 0.0)
    finally:
        speaker.close()  # returns when the answer has been said
    return status
