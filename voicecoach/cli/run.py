"""`run`: a coaching session, on the microphone, typed (--text) or driven by a --script
timeline on simulated time; what it plans from the history, the simulated room of --echo, the
full-duplex audio of --barge-in, the terminal's live view (voicecoach/liveview) and `--wait`."""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from voicecoach.cli.common import (
    EXIT_OK,
    catalog_of,
    command_index,
    engine_for,
    input_device,
    output_device,
    read_history,
    settings_of,
    speaker_for,
    voice_of,
    warn,
)
from voicecoach.cli.options import Options
from voicecoach.config import check_config, scaled_holds
from voicecoach.core.catalog import Catalog, RoutineItem
from voicecoach.core.errors import VoiceCoachError

if TYPE_CHECKING:
    from voicecoach.core.progression import Resumption
    from voicecoach.core.timeline import Timeline
    from voicecoach.hearing.asr.echo import SpeexEchoCanceller
    from voicecoach.hearing.audio import Microphone
    from voicecoach.hearing.room import SimulatedRoom
    from voicecoach.memory.journal import Journal
    from voicecoach.speaking.duplex import DuplexAudio
    from voicecoach.speaking.speakers import Speaker


EXERCISES_ROUTINE = "exercises"
"""The history's name for a session of --exercise choices."""


@dataclasses.dataclass(frozen=True)
class _SessionPlan:
    """What a run does: the routine's name, the timeline and the holds (seconds by exercise)."""

    routine: str
    timeline: Timeline
    holds: dict[str, int]
    resumption: Resumption | None = None
    known: frozenset[tuple[str, str | None]] = frozenset()
    """The exercises done in earlier sessions, introduced in short."""


def _plan_session(options: Options, catalog: Catalog, journal: Journal | None) -> _SessionPlan:
    """What the run does: a --script's timeline, the resumed session, or the routine adjusted
    by the history (progression)."""
    from voicecoach.core.progression import plan_from_history, practised, resume_point
    from voicecoach.core.timeline import Timeline, load_timeline

    if options.script is not None and options.exercises:
        raise VoiceCoachError("--exercise makes its own session: not with --script")
    if options.script is not None:
        if options.resume:
            raise VoiceCoachError("--resume carries on a live or typed session, not a --script")
        timeline = load_timeline(options.script, catalog)
        if journal is None:
            return _SessionPlan(options.script.stem, timeline, {})
    elif options.exercises:
        if options.routine is not None or options.resume:
            raise VoiceCoachError(
                "--exercise makes its own session: not with --routine or --resume"
            )
        chosen = tuple(RoutineItem(catalog.find(name).id) for name in options.exercises)
        timeline = Timeline(chosen, ())
    else:
        timeline = Timeline(tuple(catalog.routine(_routine(options)).items), ())
    assert journal is not None, "live and typed runs are journaled"
    sessions = journal.sessions()
    if options.resume:
        resumption = resume_point(catalog, sessions)
        if options.routine not in (None, resumption.routine):
            raise VoiceCoachError(
                f"--resume carries on the '{resumption.routine}' routine, not "
                f"'{options.routine}': leave out --routine"
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
    routine = (
        options.script.stem
        if options.script is not None
        else EXERCISES_ROUTINE
        if options.exercises
        else _routine(options)
    )
    return _SessionPlan(
        routine,
        Timeline(tuple(plan.apply(timeline.items)), timeline.events),
        plan.holds,
        known=practised(sessions),
    )


def cmd_run(options: Options) -> int:
    from voicecoach.app import JsonLog, ScriptedRun, open_log
    from voicecoach.core.session import summary_lines
    from voicecoach.memory.home import is_first_session, mark_first_session_done
    from voicecoach.memory.journal import Journal

    index = command_index(options)
    catalog = catalog_of(options)
    check_config(settings_of(options), catalog)
    live = options.script is None
    with contextlib.ExitStack() as resources:  # closed in reverse order, on error too
        handle = open_log(options.log)  # a log that cannot be written fails before the session
        if handle is not None:
            resources.callback(handle.close)
        journal = None
        if live or options.realtime:  # simulated runs (tests, the demo) are not the history
            journal = Journal(warn=warn)
            resources.callback(journal.close)
        plan = _plan_session(options, catalog, journal)
        holds = scaled_holds(catalog, plan.timeline.items, plan.holds, settings_of(options))
        if options.echo is not None and options.script is None:
            raise VoiceCoachError("--echo simulates the room of a --script run")
        room, canceller, duplex = None, None, None
        if options.barge_in and (not live or options.typed or options.wait):
            raise VoiceCoachError("--barge-in is for a session on the microphone, without --wait")
        if options.echo is not None:
            speaker, room, canceller = _simulated_room(options, options.echo, resources)
        elif options.barge_in:
            speaker, duplex = _duplex(options, resources)
            canceller = duplex.canceller
        else:
            speaker = speaker_for(options)
        resources.callback(speaker.close)
        microphone = None
        if live and not options.typed and duplex is None:
            from voicecoach.hearing.audio import Microphone

            microphone = resources.enter_context(Microphone(input_device(options)))
        if options.wait:
            if microphone is None:
                raise VoiceCoachError("--wait listens on the microphone: not with --text")
            _wait_for_start(options, catalog, microphone, speaker)
        resumption = plan.resumption
        run = ScriptedRun(
            catalog,
            index,
            plan.timeline,
            speaker,
            JsonLog(handle),
            engine_factory=lambda: engine_for(options, index),
            first_session=options.first_session or (live and is_first_session()),
            until_s=options.until,
            realtime=options.realtime or live,
            typed=sys.stdin if options.typed else None,
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
            voice=voice_of(options),
            room=room,
            echo_canceller=canceller,
        )
        terminal: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
        if sys.stdout.isatty() and live:  # the full-screen live view, readable from 2 m
            from voicecoach.core.display import live_view
            from voicecoach.liveview import LiveTerminal

            live_terminal = LiveTerminal(
                lambda: live_view(run.session, run.now, run.last_heard), typed=options.typed
            )
            run.show, run.status = live_terminal.show, live_terminal.status
            terminal = live_terminal
        else:  # a pipe or a file (the service's log): each line as it happens
            run.show = lambda text: print(text, flush=True)
        if live:
            mark_first_session_done()  # the notice is said once, in the first live session
        with terminal:  # the live view ends with the session (it prints the transcript)
            run.run()
        print("\n".join(summary_lines(run.session.report(run.now))))
        reduction = run.echo_meter.reduction_db
        if reduction is not None:
            print(
                f"echo reduction: {reduction:.1f} dB over {run.echo_meter.seconds:.0f} s "
                "of the coach talking alone"
            )
    if options.speak_to is not None:
        print(f"the coach's speech is in {options.speak_to}")
    return EXIT_OK


def _duplex(options: Options, resources: contextlib.ExitStack) -> tuple[Speaker, DuplexAudio]:
    """--barge-in: the microphone and the speaker as one full-duplex stream with echo
    cancellation, and the coach's voice played through it."""
    from voicecoach.hearing.asr.echo import SpeexEchoCanceller
    from voicecoach.speaking.duplex import DuplexAudio, DuplexSpeaker

    if options.mute or options.speak_to is not None:
        raise VoiceCoachError("--barge-in plays the coach's voice: not with --mute or --speak-to")
    canceller = SpeexEchoCanceller()
    resources.callback(canceller.close)
    voice = voice_of(options)
    duplex = DuplexAudio(canceller, input_device(options), output_device(options))
    resources.enter_context(duplex)
    speaker = DuplexSpeaker(duplex, rate=voice.rate_wpm, volume=voice.volume)
    return speaker, duplex


def _simulated_room(
    options: Options, echo_db: float, resources: contextlib.ExitStack
) -> tuple[Speaker, SimulatedRoom, SpeexEchoCanceller | None]:
    """--echo `echo_db`: the coach's rendered speech heard back through a simulated room (a WAV
    speaker, to a temporary file unless --speak-to), and the echo canceller (not with
    --no-aec)."""
    from voicecoach.hearing.asr.echo import SpeexEchoCanceller
    from voicecoach.hearing.room import PlayedSpeech, SimulatedRoom
    from voicecoach.speaking.speakers import WavSpeaker

    path = options.speak_to
    if path is None:
        folder = resources.enter_context(tempfile.TemporaryDirectory(prefix="voicecoach-"))
        path = Path(folder) / "coach.wav"
    voice = voice_of(options)
    speaker = WavSpeaker(path, voice.rate_wpm)
    speaker.adjust(voice)
    played = PlayedSpeech(lambda: speaker.spoken, speaker.synthesize)
    room = SimulatedRoom(played, echo_db)
    canceller = None if options.no_aec else SpeexEchoCanceller()
    if canceller is not None:
        resources.callback(canceller.close)
    return speaker, room, canceller


def _wait_for_start(
    options: Options, catalog: Catalog, microphone: Microphone, speaker: Speaker
) -> None:
    """Waits for "start" on the microphone, answering questions meanwhile (`run --wait`)."""
    from voicecoach.core.answers import answer
    from voicecoach.idle import wait_for_start

    index = command_index(options, "idle")
    wait_for_start(
        microphone.read_available,
        engine_for(options, index),
        index,
        speaker,
        lambda question: answer(question, catalog, read_history(), time.time()),
        show=lambda text: print(text, flush=True),
        reconnect=microphone.reopen,
    )


def _routine(options: Options) -> str:
    """The routine of --routine, or of the settings."""
    return str(options.routine or settings_of(options).routine)
