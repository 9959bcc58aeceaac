"""The `voicecoach` command line. Every user-caused error ends in one line on stderr, exit 2."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import shutil
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final, NoReturn

from voicecoach import __version__
from voicecoach.asr import Engine
from voicecoach.catalog import (
    DEFAULT_CATALOG_PATH,
    Catalog,
    Exercise,
    describe_dose,
    exercise_to_dict,
    load_catalog,
)
from voicecoach.config import Config, check_config, load_config, scaled_holds
from voicecoach.errors import VoiceCoachError
from voicecoach.grammar import DEFAULT_GRAMMAR_DIR, load_grammar
from voicecoach.hearing import ENGINES
from voicecoach.intents import CommandIndex, Intent, build_index, match
from voicecoach.journal import SessionSummary
from voicecoach.timeline import MAX_TIME_S

if TYPE_CHECKING:
    from voicecoach.asr.echo import SpeexEchoCanceller
    from voicecoach.audio import Microphone, Samples
    from voicecoach.doctor import Check
    from voicecoach.duplex import DuplexAudio
    from voicecoach.journal import Journal
    from voicecoach.progression import Resumption
    from voicecoach.room import SimulatedRoom
    from voicecoach.timeline import Timeline
    from voicecoach.voice import Speaker

DEFAULT_VOSK_MODEL = "vosk-model-small-en-us-0.15"
MAX_LISTEN_S = 600.0
"""The longest `ask --timeout` and `doctor --seconds`."""

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error in one line (and exit code 2) like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _seconds(low: float, high: float, *, zero: bool = False) -> Callable[[str], float]:
    """An argparse type: a number of seconds above `low` (or equal to it, with `zero`) and at
    most `high`; nan and inf are not numbers of seconds."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
        above = value >= low if zero else value > low
        if not (math.isfinite(value) and above and value <= high):
            bound = "from" if zero else "above"
            raise argparse.ArgumentTypeError(
                f"must be a number of seconds {bound} {low:g} to {high:g}, not {text!r}"
            )
        return value

    return parse


ECHO_DB_RANGE: Final = (-60.0, 20.0)
"""--echo levels accepted, in dB from the person's speech level."""


def _decibels(text: str) -> float:
    """An argparse type: a level in dB within ECHO_DB_RANGE."""
    low, high = ECHO_DB_RANGE
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a level in dB: {text!r}") from None
    if not (math.isfinite(value) and low <= value <= high):
        raise argparse.ArgumentTypeError(f"must be from {low:g} to {high:g} dB, not {text!r}")
    return value


def _print_json(data: object) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _catalog(args: argparse.Namespace) -> Catalog:
    """The catalog of --data (read once per run)."""
    catalog: Catalog | None = getattr(args, "catalog", None)
    if catalog is None:
        catalog = args.catalog = load_catalog(args.data)
    return catalog


def cmd_list(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    if args.json:
        _print_json([exercise_to_dict(e) for e in catalog.exercises])
        return EXIT_OK
    width = max(len(e.id) for e in catalog.exercises)
    for exercise in catalog.exercises:
        print(
            f"{exercise.id:<{width}}  {exercise.name} ({exercise.category}, {exercise.position}) "
            f"- {describe_dose(exercise.dose)}"
        )
    routines = ", ".join(r.id for r in catalog.routines)
    print(f"\n{len(catalog.exercises)} exercises; routines: {routines}")
    return EXIT_OK


def _show_text(exercise: Exercise, catalog: Catalog) -> str:
    lines = [exercise.name]
    if exercise.aliases:
        lines.append(f"  also called: {', '.join(exercise.aliases)}")
    lines.append(
        f"  {exercise.category}, {exercise.position}; targets {', '.join(exercise.targets)}"
    )
    lines.append(f"  why: {exercise.benefit}")
    lines.append("  steps:")
    lines += [f"    {n}. {step}" for n, step in enumerate(exercise.steps, 1)]
    lines.append(f"  dose: {describe_dose(exercise.dose)}")
    if exercise.dose.note:
        lines.append(f"        ({exercise.dose.note})")
    for variation in exercise.variations:
        lines.append(f"  {variation.direction} version: {variation.name} [{variation.id}]")
        lines += [f"    - {step}" for step in variation.steps]
    for caution in exercise.cautions:
        lines.append(f"  caution: {caution.text}")
    lines.append("  sources:")
    lines += [f"    {key}: {catalog.sources[key]}" for key in exercise.sources]
    return "\n".join(lines)


def cmd_show(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    exercise = catalog.find(" ".join(args.name))
    if args.json:
        _print_json(exercise_to_dict(exercise))
    else:
        print(_show_text(exercise, catalog))
    return EXIT_OK


def _command_index(args: argparse.Namespace, context: str = "session") -> CommandIndex:
    """The sentences listened for in `context` (grammar.CONTEXTS), ready for matching."""
    return build_index(load_grammar(_catalog(args), args.grammar, context=context))


def cmd_parse(args: argparse.Namespace) -> int:
    index = _command_index(args)
    lines = [" ".join(args.text)] if args.text else (line.rstrip("\n") for line in sys.stdin)
    for text in lines:
        if not text.strip():
            continue
        intent = match(text, index)
        if args.json:
            record = {
                "text": text,
                "intent": intent.name if intent else None,
                "slots": dict(intent.slots) if intent else {},
                "score": intent.score if intent else 0.0,
            }
            print(json.dumps(record, ensure_ascii=False), flush=True)
        elif intent is None:
            print(f"{text}\t-> (not a command)", flush=True)
        else:
            slots = " ".join(f"{k}={v}" for k, v in intent.slots.items())
            print(f"{text}\t-> {intent.name} {slots} ({intent.score:.0f})".rstrip(), flush=True)
    return EXIT_OK


def _engine(args: argparse.Namespace, index: CommandIndex) -> Engine:
    from voicecoach.hearing import build_engine

    settings = _settings(args)
    name = args.engine or settings.engine
    engine = build_engine(name, index.grammar, index, model=args.model or settings.model)
    if name == "auto":
        print(f"voicecoach: using the {engine.name} engine", file=sys.stderr)
    return engine


def cmd_recognize(args: argparse.Namespace) -> int:
    from voicecoach.audio import AudioError
    from voicecoach.hearing import hear_file

    index = _command_index(args)
    engine = _engine(args, index)
    status = EXIT_OK
    for path in args.files:
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
        if args.json:
            print(json.dumps(record, ensure_ascii=False), flush=True)
        else:
            meaning = intent.name if intent else "(not a command)"
            why = f" [{record['why']}]" if record["why"] else ""
            print(f"{path}: heard {record['text']!r} -> {meaning}{why}", flush=True)
    return status


def cmd_test(args: argparse.Namespace) -> int:
    from voicecoach.audiotests import format_table, junit_xml, load_script, run_cases, summarize
    from voicecoach.hearing import hear_file

    cases = load_script(args.script)
    index = _command_index(args, cases[0].context)  # one context per script
    engine = _engine(args, index)
    outcomes = []
    for number, case in enumerate(cases, 1):
        outcomes.extend(run_cases([case], lambda path: hear_file(path, engine, index)))
        if sys.stderr.isatty():
            print(f"\r{number}/{len(cases)}", end="", file=sys.stderr, flush=True)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(format_table(outcomes, args.script.parent))
    summary = summarize(outcomes)
    counts = ", ".join(f"{n} {status.lower()}" for status, n in sorted(summary.counts.items()))
    print(f"\n{len(outcomes)} cases: {counts}")
    if args.junit:
        try:
            args.junit.write_text(junit_xml(outcomes, args.script.stem), encoding="utf-8")
        except OSError as error:
            raise VoiceCoachError(f"cannot write: {error.strerror}", path=args.junit) from None
    return EXIT_FAILED if summary.failed else EXIT_OK


def cmd_model_install(args: argparse.Namespace) -> int:
    from voicecoach.models import install_vosk_model

    path = install_vosk_model(args.name)
    print(f"installed {args.name} in {path}")
    return EXIT_OK


class _Terminal:
    """Transcript lines scroll; the status line stays at the bottom, redrawn in place."""

    def __init__(self) -> None:
        self.status_text = ""

    def show(self, text: str) -> None:
        sys.stdout.write("\r\033[K" + text + "\n")
        self.status(self.status_text)

    def status(self, text: str) -> None:
        self.status_text = text
        width = shutil.get_terminal_size().columns - 1
        sys.stdout.write("\r\033[K" + text[:width])
        sys.stdout.flush()


def _speaker(args: argparse.Namespace) -> Speaker:
    """The voice the options and settings ask for: --speak-to a WAV file, --mute, a chosen
    output device, or the computer's default voice (pyttsx3)."""
    from voicecoach.voice import (
        DEFAULT_RATE_WPM,
        DeviceSpeaker,
        MuteSpeaker,
        Pyttsx3Speaker,
        WavSpeaker,
    )

    settings = _settings(args)
    rate = settings.speech_rate or DEFAULT_RATE_WPM
    if args.speak_to is not None:
        return WavSpeaker(args.speak_to, rate)
    if args.mute:
        return MuteSpeaker(rate)
    output = _device(args.output_device or settings.output_device)
    if output is not None:
        return DeviceSpeaker(output, rate=rate, volume=settings.volume)
    return Pyttsx3Speaker(rate=rate, volume=settings.volume)


@dataclasses.dataclass(frozen=True)
class _SessionPlan:
    routine: str
    timeline: Timeline
    holds: dict[str, int]
    resumption: Resumption | None = None
    known: frozenset[tuple[str, str | None]] = frozenset()
    """The exercises done in earlier sessions, introduced in short."""


def _plan_session(
    args: argparse.Namespace, catalog: Catalog, journal: Journal | None
) -> _SessionPlan:
    """What the run does: a --script's timeline, the resumed session, or the routine adjusted
    by the history (progression)."""
    from voicecoach.progression import plan_from_history, practised, resume_point
    from voicecoach.timeline import Timeline, load_timeline

    if args.script is not None:
        if args.resume:
            raise VoiceCoachError("--resume carries on a live or typed session, not a --script")
        timeline = load_timeline(args.script, catalog)
        if journal is None:
            return _SessionPlan(args.script.stem, timeline, {})
    else:
        timeline = Timeline(tuple(catalog.routine(_routine(args)).items), ())
    assert journal is not None, "live and typed runs are journaled"
    sessions = journal.sessions()
    if args.resume:
        resumption = resume_point(catalog, sessions)
        if args.routine not in (None, resumption.routine):
            raise VoiceCoachError(
                f"--resume carries on the '{resumption.routine}' routine, not "
                f"'{args.routine}': leave out --routine"
            )
        return _SessionPlan(
            resumption.routine,
            Timeline(resumption.items, ()),
            resumption.holds,
            resumption,
            practised(sessions),
        )
    plan = plan_from_history(catalog, sessions)
    for suggestion in plan.suggestions:
        print(f"voicecoach: {suggestion}")
    routine = args.script.stem if args.script is not None else _routine(args)
    return _SessionPlan(
        routine,
        Timeline(tuple(plan.apply(timeline.items)), timeline.events),
        plan.holds,
        known=practised(sessions),
    )


def cmd_run(args: argparse.Namespace) -> int:
    from voicecoach.app import JsonLog, ScriptedRun, open_log
    from voicecoach.home import is_first_session, mark_first_session_done
    from voicecoach.journal import Journal

    index = _command_index(args)
    catalog = _catalog(args)
    check_config(_settings(args), catalog)
    live = args.script is None
    with contextlib.ExitStack() as resources:  # closed in reverse order, on error too
        handle = open_log(args.log)  # a log that cannot be written fails before the session
        if handle is not None:
            resources.callback(handle.close)
        journal = None
        if live or args.realtime:  # simulated runs (tests, the demo) are not the history
            journal = Journal(warn=_warn)
            resources.callback(journal.close)
        plan = _plan_session(args, catalog, journal)
        holds = scaled_holds(catalog, plan.timeline.items, plan.holds, _settings(args))
        if args.echo is not None and args.script is None:
            raise VoiceCoachError("--echo simulates the room of a --script run")
        room, canceller, duplex = None, None, None
        if args.barge_in and (not live or args.text or args.wait):
            raise VoiceCoachError("--barge-in is for a session on the microphone, without --wait")
        if args.echo is not None:
            speaker, room, canceller = _simulated_room(args, resources)
        elif args.barge_in:
            speaker, duplex = _duplex(args, resources)
            canceller = duplex.canceller
        else:
            speaker = _speaker(args)
        resources.callback(speaker.close)
        microphone = None
        if live and not args.text and duplex is None:
            from voicecoach.audio import Microphone

            microphone = resources.enter_context(Microphone(_input_device(args)))
        if args.wait:
            if microphone is None:
                raise VoiceCoachError("--wait listens on the microphone: not with --text")
            _wait_for_start(args, catalog, microphone, speaker)
        resumption = plan.resumption
        run = ScriptedRun(
            catalog,
            index,
            plan.timeline,
            speaker,
            JsonLog(handle),
            engine_factory=lambda: _engine(args, index),
            first_session=args.first_session or (live and is_first_session()),
            until_s=args.until,
            realtime=args.realtime or live,
            typed=sys.stdin if args.text else None,
            listen=microphone.read_available
            if microphone is not None
            else duplex.read_available
            if duplex is not None
            else None,
            reconnect=microphone.reopen if microphone is not None else None,
            journal=journal,
            routine_name=plan.routine,
            hold_overrides=holds,
            resume_session=resumption.session_id if resumption else None,
            opening=resumption.opening if resumption else "",
            known=plan.known,
            room=room,
            echo_canceller=canceller,
        )
        if sys.stdout.isatty() and live:
            terminal = _Terminal()
            run.show, run.status = terminal.show, terminal.status
        else:  # a pipe or a file (the service's log): each line as it happens
            run.show = lambda text: print(text, flush=True)
        if live:
            mark_first_session_done()  # the notice is said once, in the first live session
        run.run()
        reduction = run.echo_meter.reduction_db
        if reduction is not None:
            print(
                f"echo reduction: {reduction:.1f} dB over {run.echo_meter.seconds:.0f} s "
                "of the coach talking alone"
            )
    if args.speak_to is not None:
        print(f"the coach's speech is in {args.speak_to}")
    return EXIT_OK


def _duplex(
    args: argparse.Namespace, resources: contextlib.ExitStack
) -> tuple[Speaker, DuplexAudio]:
    """--barge-in: the microphone and the speaker as one full-duplex stream with echo
    cancellation, and the coach's voice played through it."""
    from voicecoach.asr.echo import SpeexEchoCanceller
    from voicecoach.duplex import DuplexAudio, DuplexSpeaker

    if args.mute or args.speak_to is not None:
        raise VoiceCoachError("--barge-in plays the coach's voice: not with --mute or --speak-to")
    canceller = SpeexEchoCanceller()
    resources.callback(canceller.close)
    settings = _settings(args)
    duplex = DuplexAudio(
        canceller,
        _input_device(args),
        _device(args.output_device or settings.output_device),
    )
    resources.enter_context(duplex)
    speaker = DuplexSpeaker(duplex, rate=settings.speech_rate, volume=settings.volume)
    return speaker, duplex


def _simulated_room(
    args: argparse.Namespace, resources: contextlib.ExitStack
) -> tuple[Speaker, SimulatedRoom, SpeexEchoCanceller | None]:
    """--echo: the coach's rendered speech heard back through a simulated room (a WAV
    speaker, to a temporary file unless --speak-to), and the echo canceller (not with
    --no-aec)."""
    from voicecoach.asr.echo import SpeexEchoCanceller
    from voicecoach.room import PlayedSpeech, SimulatedRoom
    from voicecoach.voice import DEFAULT_RATE_WPM, WavSpeaker

    path = args.speak_to
    if path is None:
        folder = resources.enter_context(tempfile.TemporaryDirectory(prefix="voicecoach-"))
        path = Path(folder) / "coach.wav"
    speaker = WavSpeaker(path, _settings(args).speech_rate or DEFAULT_RATE_WPM)
    played = PlayedSpeech(lambda: speaker.spoken, speaker.synthesize)
    room = SimulatedRoom(played, args.echo)
    canceller = None if args.no_aec else SpeexEchoCanceller()
    if canceller is not None:
        resources.callback(canceller.close)
    return speaker, room, canceller


def _wait_for_start(
    args: argparse.Namespace, catalog: Catalog, microphone: Microphone, speaker: Speaker
) -> None:
    """Waits for "start" on the microphone, answering questions meanwhile (`run --wait`)."""
    from voicecoach.answers import answer
    from voicecoach.idle import wait_for_start

    index = _command_index(args, "idle")
    wait_for_start(
        microphone.read_available,
        _engine(args, index),
        index,
        speaker,
        lambda question: answer(question, catalog, _read_history(), time.time()),
        show=lambda text: print(text, flush=True),
        reconnect=microphone.reopen,
    )


def _warn(message: str) -> None:
    print(f"voicecoach: {message}", file=sys.stderr)


def _read_history() -> list[SessionSummary]:
    from voicecoach.journal import Journal

    journal = Journal(warn=_warn)
    try:
        return journal.sessions()
    finally:
        journal.close()


def cmd_history(args: argparse.Namespace) -> int:
    sessions = _read_history()
    if args.json:
        _print_json([dataclasses.asdict(s) for s in sessions])
        return EXIT_OK
    if not sessions:
        print("no sessions yet")
    for session in sessions:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(session.started_at))
        outcome = session.outcome or "unfinished"
        done = sum(1 for e in session.exercises if e.get("result") == "done")
        skipped = sum(1 for e in session.exercises if e.get("result") == "skipped")
        print(f"{when}  {session.routine}: {outcome}, {done} done, {skipped} skipped")
    return EXIT_OK


def cmd_next(args: argparse.Namespace) -> int:
    from voicecoach.progression import next_step, plan_from_history

    catalog = _catalog(args)
    sessions = _read_history()
    step = next_step(catalog, sessions)
    plan = plan_from_history(catalog, sessions)
    if args.json:
        _print_json({**dataclasses.asdict(step), "suggestions": list(plan.suggestions)})
        return EXIT_OK
    name = catalog.exercise(step.exercise).name
    print(f"Next: the {catalog.routine(step.routine).name} routine, starting with {name}.")
    print(step.why)
    for suggestion in plan.suggestions:
        print(suggestion)
    return EXIT_OK


ASK_HINT = "You can ask: what's next, what did I do last time, or how many sessions this week."


def _hear_question(args: argparse.Namespace, index: CommandIndex) -> tuple[str, Intent | None]:
    """What was asked, from --text, --audio or the microphone: (what was heard, its intent)."""
    if args.text is not None:
        text = " ".join(args.text)
        return text, match(text, index)
    from voicecoach.hearing import hear_file, listen_for_command

    engine = _engine(args, index)
    if args.audio is not None:
        heard = hear_file(args.audio, engine, index).heard
    else:
        import itertools

        from voicecoach.audio import SAMPLE_RATE, Microphone

        print(f"voicecoach: listening for {args.timeout:g} s. {ASK_HINT}", file=sys.stderr)
        with Microphone(_input_device(args)) as microphone:
            limit = round(args.timeout * SAMPLE_RATE / microphone.frame_samples)
            heard = listen_for_command(itertools.islice(microphone, limit), engine, index)
    asked = next((h for h in heard if h.intent is not None), None)
    if asked is None:
        return " / ".join(h.utterance.text for h in heard if h.utterance.text), None
    return asked.utterance.text, asked.intent


def cmd_ask(args: argparse.Namespace) -> int:
    from voicecoach.answers import answer

    catalog = _catalog(args)
    index = _command_index(args, "ask")
    speaker = _speaker(args)  # a voice that cannot work fails before listening
    try:
        heard, question = _hear_question(args, index)
        if question is None:
            what = f"heard {heard!r} -> not a question" if heard else "heard no question"
            print(f"voicecoach: {what}", file=sys.stderr)
            reply = f"Sorry, I didn't catch a question. {ASK_HINT}"
            status = EXIT_FAILED
        else:
            print(f"voicecoach: heard {heard!r} -> {question.name}", file=sys.stderr)
            reply = answer(question.name, catalog, _read_history(), time.time())
            status = EXIT_OK
        print(reply, flush=True)
        speaker.say(reply, 0.0)
    finally:
        speaker.close()  # returns when the answer has been said
    return status


def cmd_devices(args: argparse.Namespace) -> int:
    from voicecoach.audio import list_devices

    devices = list_devices()
    if args.json:
        _print_json([dataclasses.asdict(d) for d in devices])
        return EXIT_OK
    if not devices:
        print("no audio devices found (is a microphone or a sound card connected?)")
    for device in devices:
        roles = []
        if device.inputs:
            roles.append("input" + (" (default)" if device.default_input else ""))
        if device.outputs:
            roles.append("output" + (" (default)" if device.default_output else ""))
        print(f"{device.index:>3}  {device.name}  [{', '.join(roles)}; {device.host_api}]")
    return EXIT_OK


def cmd_config(args: argparse.Namespace) -> int:
    from voicecoach.config import config_path, config_to_toml

    if args.action == "path":
        print(config_path())
        return EXIT_OK
    settings = _settings(args)
    where = settings.path or f"{config_path()} (no such file: the defaults)"
    print(f"# settings from {where}; command-line flags override them")
    print(config_to_toml(settings), end="")
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    from voicecoach.audio import Microphone
    from voicecoach.config import config_path
    from voicecoach.doctor import check_microphone, check_writable, guarded
    from voicecoach.home import data_dir

    checks: list[Check] = []

    def report(check: Check) -> None:
        checks.append(check)
        if sys.stderr.isatty():
            sys.stderr.write("\r\033[K")
        print(check.line(), flush=True)

    def read_settings() -> str:
        settings = _settings(args)
        try:
            catalog = _catalog(args)
        except VoiceCoachError:  # the grammar check reports a bad catalog
            catalog = None
        if catalog is not None:
            check_config(settings, catalog)
        path = settings.path
        return f"read {path}" if path else f"none at {config_path()}: the defaults"

    report(guarded("config file", f"correct or remove {config_path()}", read_settings))
    settings_ok = checks[-1].ok
    report(check_writable(data_dir()))

    indexes: dict[str, CommandIndex] = {}

    def grammar() -> str:
        for context in ("session", "ask"):
            indexes[context] = _command_index(args, context)
        sizes = [len(indexes[c].grammar.phrases()) for c in ("session", "ask")]
        return f"{sizes[0]} session commands and {sizes[1]} questions"

    report(guarded("grammar", "reinstall voicecoach, or fix the file named", grammar))

    def engine() -> str:
        index = indexes.get("session") or _command_index(args)
        built = _engine(args, index)
        model = getattr(built, "model_path", None)
        return f"{built.name}" + (f", model {model}" if model else " (model from its wheel)")

    fix = "pip install pocketsphinx, or see models/README.md for a Vosk model"
    report(guarded("speech engine", fix, engine) if settings_ok else _skipped("speech engine"))

    def show_level(text: str) -> None:
        if sys.stderr.isatty():
            sys.stderr.write(f"\r\033[K  listening: {text}")
            sys.stderr.flush()

    def frames() -> Iterator[Samples]:
        with Microphone(_input_device(args)) as microphone:
            yield from microphone

    report(check_microphone(frames, show_level, args.seconds) if settings_ok else _skipped("mic"))

    def speak() -> str:
        speaker = _speaker(args)
        try:
            speaker.say("voicecoach is ready.", 0.0)
        finally:
            speaker.close()
        return f"said 'voicecoach is ready.' ({type(speaker).__name__})"

    fix = (
        "apt-get install espeak-ng alsa-utils, connect a speaker, and choose it with "
        "--output-device or output_device in the config file"
    )
    report(guarded("speech out", fix, speak) if settings_ok else _skipped("speech out"))
    failed = [c for c in checks if not c.ok]
    print("a session can run here" if not failed else f"{len(failed)} problem(s) to fix")
    return EXIT_OK if not failed else EXIT_FAILED


def _skipped(name: str) -> Check:
    from voicecoach.doctor import Check

    return Check(name, False, "not checked: the config file must be fixed first")


def _device(name: str | int | None) -> str | int | None:
    """A device setting: an index when it is a number, else (part of) a name."""
    return int(name) if isinstance(name, str) and name.isdigit() else name


def _settings(args: argparse.Namespace) -> Config:
    """The config file's settings (read once per run; flags override them)."""
    settings: Config | None = getattr(args, "settings", None)
    if settings is None:
        settings = args.settings = load_config()
    return settings


def _input_device(args: argparse.Namespace) -> str | int | None:
    return _device(args.input_device or _settings(args).input_device)


def _routine(args: argparse.Namespace) -> str:
    return str(args.routine or _settings(args).routine)


def _add_device_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--input-device",
        metavar="D",
        help="microphone: a device name (or part of it) or index (see voicecoach devices)",
    )
    parser.add_argument(
        "--output-device",
        metavar="D",
        help="speaker: a device name (or part of it) or index; speech is then rendered by "
        "espeak-ng and played with sounddevice (default: pyttsx3 on the default device)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="voicecoach",
        description="An offline, hands-free voice coach for lower back exercises.",
        epilog=textwrap.dedent(
            """\
            This is general guidance from published articles, not medical advice.
            See a doctor for numbness, tingling or weakness in the legs, trouble controlling
            your bladder or bowels, pain after an injury, or pain that does not get better."""
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"voicecoach {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    data = _Parser(add_help=False)
    data.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_CATALOG_PATH,
        metavar="FILE",
        help="the exercise catalog (default: the bundled data/exercises.toml)",
    )

    listing = commands.add_parser(
        "list", parents=[data], help="list the exercises", description="List the exercises."
    )
    listing.add_argument("--json", action="store_true", help="print one JSON document")
    listing.set_defaults(handler=cmd_list)

    show = commands.add_parser(
        "show",
        parents=[data],
        help="show one exercise",
        description="Show one exercise: steps, dose, variations, cautions and sources.",
    )
    show.add_argument("name", nargs="+", help="the exercise's name or an alias (fuzzy)")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=cmd_show)

    grammar = _Parser(add_help=False, parents=[data])
    grammar.add_argument(
        "--grammar",
        type=Path,
        default=DEFAULT_GRAMMAR_DIR,
        metavar="DIR",
        help="the folder of command grammar files (default: the bundled grammars/en)",
    )

    parse = commands.add_parser(
        "parse",
        parents=[grammar],
        help="text -> command",
        description="Show which command a sentence means (or that it is not one). "
        "With no TEXT, reads one sentence per line from stdin.",
    )
    parse.add_argument("text", nargs="*", metavar="TEXT", help="the sentence")
    parse.add_argument("--json", action="store_true", help="one JSON object per sentence")
    parse.set_defaults(handler=cmd_parse)

    engine = _Parser(add_help=False, parents=[grammar])
    engine.add_argument(
        "--engine",
        choices=ENGINES,
        default=None,
        help="speech engine: auto (the default, unless the config file says) uses Vosk when a "
        "model is found, else PocketSphinx",
    )
    engine.add_argument(
        "--model",
        type=Path,
        metavar="DIR",
        help="a Vosk model folder (default: $VOICECOACH_VOSK_MODEL, models/vosk-model-*, "
        "or Vosk's cache)",
    )

    recognize = commands.add_parser(
        "recognize",
        parents=[engine],
        help="WAV files -> commands",
        description="Recognise the command in each WAV file (any rate or channel count). "
        "A missing or unreadable file is reported on stderr; the others are still processed "
        "and the exit code is 2.",
    )
    recognize.add_argument("files", nargs="+", type=Path, metavar="FILE.wav")
    recognize.add_argument("--json", action="store_true", help="one JSON object per file")
    recognize.set_defaults(handler=cmd_recognize)

    test = commands.add_parser(
        "test",
        parents=[engine],
        help="scripted intent tests on your recordings",
        description="Run the cases of a test script: each a WAV file and the command it must "
        'give (expect = "none": must be rejected). Prints a table and a summary; exit 1 when '
        "a case fails.",
        epilog='Script format:\n  [[case]]\n  audio = "recordings/hold-longer.wav"\n'
        '  expect = "hold_longer"\n  slots = { seconds = 20 }   # optional',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    test.add_argument("script", type=Path, metavar="SCRIPT.toml")
    test.add_argument("--junit", type=Path, metavar="FILE", help="also write JUnit XML")
    test.set_defaults(handler=cmd_test)

    run = commands.add_parser(
        "run",
        parents=[engine],
        help="a coaching session",
        description="A coaching session, hands-free on the microphone by default. With "
        "--script, the session runs on simulated time from a timeline of what the person says "
        "(text, or recordings heard by the recogniser): a whole routine takes seconds and "
        "gives the same log every time. With --text, commands are typed.",
    )
    run.add_argument("--script", type=Path, metavar="TIMELINE.toml", help="drive the session")
    run.add_argument(
        "--text", action="store_true", help="type commands (one per line) instead of speaking"
    )
    run.add_argument("--routine", help="the routine (default: gentle)")
    run.add_argument(
        "--wait",
        action="store_true",
        help="on the microphone, wait for 'start' before the session (answering questions "
        "meanwhile): the always-ready mode of packaging/voicecoach.service",
    )
    run.add_argument(
        "--resume",
        action="store_true",
        help="carry on your last session where it stopped (unfinished, or stopped with 'stop')",
    )
    _add_device_options(run)
    run.add_argument("--realtime", action="store_true", help="play a --script at wall-clock speed")
    run.add_argument("--log", type=Path, metavar="FILE.jsonl", help="append a JSON line log")
    voice = run.add_mutually_exclusive_group()
    voice.add_argument("--mute", action="store_true", help="speak nothing")
    voice.add_argument(
        "--speak-to", type=Path, metavar="FILE.wav", help="render the coach's speech to a WAV"
    )
    run.add_argument(
        "--barge-in",
        action="store_true",
        help="on the microphone: hear commands while the coach talks (one full-duplex audio "
        "stream with echo cancellation; stop, pause and next cut the coach short)",
    )
    run.add_argument(
        "--echo",
        type=_decibels,
        metavar="DB",
        help="with --script: the simulated microphone also hears the coach's own speech, "
        "through a room (30 ms delay, 0.3 s reverberation), DB decibels from the person's "
        "level (0: as loud as the person); the person's recordings are said into the same "
        "microphone, and echo cancellation lets them be heard while the coach talks",
    )
    run.add_argument(
        "--no-aec",
        action="store_true",
        help="with --echo: no echo cancellation (the coach is not heard while it talks)",
    )
    run.add_argument(
        "--until",
        type=_seconds(0.0, MAX_TIME_S, zero=True),
        metavar="SECONDS",
        help="stop at this session time",
    )
    run.add_argument(
        "--first-session",
        action="store_true",
        help="say the not-medical-advice notice (live and typed runs say it in the first "
        "session on this machine)",
    )
    run.set_defaults(handler=cmd_run)

    history = commands.add_parser(
        "history",
        help="past sessions, newest first",
        description="Past sessions, newest first, with what happened to each exercise.",
    )
    history.add_argument("--json", action="store_true", help="a JSON list of sessions")
    history.set_defaults(handler=cmd_history)

    following = commands.add_parser(
        "next",
        parents=[data],
        help="what to do next, and why",
        description="The routine and exercise to do next, and why, from your history.",
    )
    following.add_argument("--json", action="store_true", help="print JSON")
    following.set_defaults(handler=cmd_next)

    ask = commands.add_parser(
        "ask",
        parents=[engine],
        help="ask a question about your sessions, out loud",
        description="Listen once for a spoken question and answer it aloud and on stdout: "
        '"what\'s next", "what did I do last time", "how many sessions this week". Listens '
        "on the microphone, or to a recording with --audio. Exit 1 when no question was "
        "heard.",
    )
    heard = ask.add_mutually_exclusive_group()
    heard.add_argument("--audio", type=Path, metavar="FILE.wav", help="a recording of the question")
    heard.add_argument("--text", nargs="+", metavar="WORD", help="type the question instead")
    ask.add_argument(
        "--timeout",
        type=_seconds(0.0, MAX_LISTEN_S),
        default=8.0,
        metavar="SECONDS",
        help="how long to listen on the microphone (default: 8)",
    )
    _add_device_options(ask)
    answer_voice = ask.add_mutually_exclusive_group()
    answer_voice.add_argument("--mute", action="store_true", help="answer on stdout only")
    answer_voice.add_argument(
        "--speak-to", type=Path, metavar="FILE.wav", help="render the spoken answer to a WAV"
    )
    ask.set_defaults(handler=cmd_ask)

    devices = commands.add_parser(
        "devices",
        help="list microphones and speakers",
        description="List the audio input and output devices, with the index and name that "
        "--input-device, --output-device and the config file take.",
    )
    devices.add_argument("--json", action="store_true", help="print JSON")
    devices.set_defaults(handler=cmd_devices)

    doctor = commands.add_parser(
        "doctor",
        parents=[engine],
        help="check that a session can run here",
        description="Check, one line each with a fix for anything wrong: the config file, the "
        "data folder, the grammar, the speech engine and model, the microphone (a level meter "
        "for 3 seconds: speak or clap) and speech out (it says a sentence). Exit 0 only when a "
        "session can run.",
    )
    _add_device_options(doctor)
    doctor.add_argument(
        "--seconds",
        type=_seconds(0.0, MAX_LISTEN_S),
        default=3.0,
        help="how long to listen (default: 3)",
    )
    doctor.set_defaults(handler=cmd_doctor, mute=False, speak_to=None)

    config = commands.add_parser(
        "config",
        help="the settings file",
        description="The settings file (TOML): engine, model, input_device, output_device, "
        "speech_rate, volume, routine, hold_multiplier and [holds]. It lives in "
        "$VOICECOACH_HOME, or the platform's config folder; command-line flags override it. "
        "'show' prints the settings in effect, 'path' where the file is.",
    )
    config.add_argument("action", choices=("show", "path"))
    config.set_defaults(handler=cmd_config)

    model = commands.add_parser("model", help="speech models", description="Speech models.")
    model_commands = model.add_subparsers(dest="model_command", metavar="ACTION", required=True)
    install = model_commands.add_parser(
        "install",
        help="download and install a Vosk model",
        description="Download a Vosk model with Vosk's own downloader (into ~/.cache/vosk), "
        "showing progress. Needs internet access; see models/README.md for installing one "
        "by hand.",
    )
    install.add_argument(
        "name", nargs="?", default=DEFAULT_VOSK_MODEL, help=f"default: {DEFAULT_VOSK_MODEL}"
    )
    install.set_defaults(handler=cmd_model_install)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return handler(args)
    except VoiceCoachError as error:
        print(f"voicecoach: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("voicecoach: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
