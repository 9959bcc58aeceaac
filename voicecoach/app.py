"""The shell that wires a run: session + speaker + gate + log, on simulated time (a timeline)."""

from __future__ import annotations

import json
import math
import os
import select
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final, Protocol

import numpy as np

from voicecoach.core.catalog import Catalog
from voicecoach.core.clock import Clock, MonotonicClock
from voicecoach.core.display import status_line
from voicecoach.core.errors import VoiceCoachError
from voicecoach.core.gate import HalfDuplexGate
from voicecoach.core.intents import CommandIndex, Intent, match
from voicecoach.core.session import Action, Record, Say, Session, StateChanged, VoiceChanged
from voicecoach.core.speech import VoiceSettings
from voicecoach.core.timeline import Timeline, TimelineEvent
from voicecoach.hearing.asr import Engine, Utterance
from voicecoach.hearing.asr.stream import Recognizer
from voicecoach.hearing.audio import SAMPLE_RATE, InputWatch, Samples, read_wav, silence
from voicecoach.hearing.recognition import AFTER_RECORDING_S, understand
from voicecoach.hearing.room import SimulatedRoom
from voicecoach.memory.journal import Journal
from voicecoach.speaking.speakers import Speaker

STEP_S: Final = 0.1
"""Simulated time advances in steps of this much."""


class JsonLog:
    """One JSON object per line, flushed as written: nothing is lost when the run dies."""

    def __init__(self, handle: IO[str] | None) -> None:
        self.handle = handle

    def write(self, t: float, event: str, **data: Any) -> None:
        if self.handle is not None:
            try:
                self.handle.write(json.dumps({"t": round(t, 2), "event": event, **data}) + "\n")
                self.handle.flush()
            except OSError as error:  # a full disk, a removed drive
                raise LogError(
                    f"cannot write the log: {error.strerror or error}", path=self.handle.name
                ) from None


BARGE_IN_INTENTS: Final = frozenset({"stop", "pause", "next"})
"""Commands that cut the coach mid-sentence."""
LEARN_ROOM_S: Final = 5.0
"""Seconds of the coach's voice an echo canceller hears before the person is listened to while
the coach talks: until its filter has learnt the room, the echo is barely reduced (speexdsp,
simulated room at 0 dB: 2 dB in the first 2 s, 9 dB by 8 s, 20 dB after), so the half-duplex
gate stays in charge."""


class EchoCanceller(Protocol):
    """Takes the coach's voice (`reference`, what the speaker played) out of the microphone."""

    def process(self, microphone: Samples, reference: Samples) -> Samples: ...

    def close(self) -> None: ...

    @property
    def learnt_s(self) -> float:
        """Seconds of the coach's voice it has learnt the room from."""
        ...


@dataclass
class EchoMeter:
    """Echo reduction, measured where the coach talks alone: the energy of its voice at the
    microphone against what is left of it after echo cancellation."""

    echo_energy: float = 0.0
    left_energy: float = 0.0
    seconds: float = 0.0

    def add(self, echo: Samples, left: Samples) -> None:
        self.echo_energy += float(np.sum(echo.astype(np.float64) ** 2))
        self.left_energy += float(np.sum(left.astype(np.float64) ** 2))
        self.seconds += echo.size / SAMPLE_RATE

    @property
    def reduction_db(self) -> float | None:
        if self.echo_energy <= 0:
            return None
        return 10 * math.log10(self.echo_energy / max(self.left_energy, 1.0))


@dataclass
class _Heard:
    at: float
    text: str
    intent: Intent | None
    near_miss: bool = False
    """Rejected, but probably a command said unclearly: the coach asks to hear it again."""
    reason: str = ""
    sounded_like: str | None = None
    """For a near miss, the command it was decoded as (awaited when said again)."""


@dataclass
class ScriptedRun:
    """Runs a session on simulated time: a 15-minute routine takes seconds, the same each time."""

    catalog: Catalog
    index: CommandIndex
    timeline: Timeline
    speaker: Speaker
    log: JsonLog
    engine_factory: Callable[[], Engine] | None = None
    first_session: bool = False
    until_s: float | None = None
    show: Callable[[str], None] = print
    gate: HalfDuplexGate = field(default_factory=HalfDuplexGate)
    realtime: bool = False
    """Pace session time to the wall clock (--realtime, typed commands, the microphone)."""
    clock: Clock = field(default_factory=MonotonicClock)
    """The clock a realtime run keeps pace with (started when the run starts)."""
    typed: IO[str] | None = None
    """Typed commands, one per line (--text); the run ends when the input ends."""
    listen: Callable[[], list[Samples]] | None = None
    """Live audio: returns the frames captured since the last call (the microphone)."""
    reconnect: Callable[[], bool] | None = None
    """Tries to open live audio again after it stopped coming; True when it could."""
    status: Callable[[str], None] | None = None
    """Receives the live status line (display.status_line) after every step."""
    journal: Journal | None = None
    """The history store: every step is written as it happens."""
    routine_name: str = "exercises"
    hold_overrides: dict[str, int] = field(default_factory=dict)
    """Holds carried over from earlier sessions (progression)."""
    resume_session: int | None = None
    """The journal's id of an unfinished session this run carries on (`run --resume`)."""
    opening: str = ""
    """Said before the first exercise (the welcome back of a resumed session)."""
    known: frozenset[tuple[str, str | None]] = frozenset()
    """Exercises (id, variation) done in earlier sessions: introduced in short."""
    voice: VoiceSettings | None = None
    """How the coach starts speaking (the speaker is set up the same way)."""
    room: SimulatedRoom | None = None
    """A simulated microphone (--echo): it hears the coach's voice and the person's
    recordings, which are then said into it rather than heard alone."""
    echo_canceller: EchoCanceller | None = None
    """Barge-in: the microphone is heard while the coach talks, with its voice taken out by
    this; without one, recognition is off while the coach talks (the half-duplex gate)."""

    def __post_init__(self) -> None:
        self.session = Session(
            self.catalog,
            list(self.timeline.items),
            first_session=self.first_session,
            hold_overrides=self.hold_overrides,
            opening=self.opening,
            known=self.known,
            voice=self.voice,
        )
        self.now = 0.0
        self._engine: Engine | None = None
        self._pending = list(self.timeline.events)
        self._heard: list[_Heard] = []
        self._entered: dict[str, int] = {}
        self._phase_times: dict[tuple[str, int], float] = {}
        self._last_phase = ""
        self._typed_buffer = ""
        self._typed_ended = False
        self._live: Recognizer | None = None
        self._last_heard = ""
        self._journal_session = 0
        self._outcome: str | None = None
        self._input = InputWatch(self.reconnect)
        self.echo_meter = EchoMeter()

    @property
    def last_heard(self) -> str:
        """The last command heard and what it meant, for the live view."""
        return self._last_heard

    def run(self) -> None:
        if self.journal is not None and self.resume_session is not None:
            self.journal.reopen_session(self.resume_session)
            self._journal_session = self.resume_session
        elif self.journal is not None:
            self._journal_session = self.journal.start_session(self.routine_name)
        started = self.clock.now()
        self._execute(self.session.start(self.now))
        while self.session.phase != "done" or self.speaker.speaking(self.now):
            if self.until_s is not None and self.now >= self.until_s:
                break
            if self.typed is not None:
                self._read_typed()
                if self._typed_ended and not self._heard:
                    break  # the input has ended and everything typed has been answered
            self.now = round(self.now + STEP_S, 6)
            if self.realtime:
                self.clock.wait_until(started + self.now)
            self.gate.follow(self.now, self.speaker.speaking(self.now))
            if self.listen is not None:
                frames = self.listen()
                self._watch_input(bool(frames))
                self._hear_live(frames)
            if self.room is not None:
                self._hear_room(self.room)
            if self.status is not None:
                self.status(status_line(self.session, self.now, self._last_heard))
            self._execute(self.session.tick(self.now))
            for event in self._due_events():
                self._fire(event)
            for heard in [h for h in self._heard if h.at <= self.now]:
                self._heard.remove(heard)
                self._deliver(heard)

    # --- actions ---------------------------------------------------------------------------

    def _execute(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Say):
                duration = self.speaker.say(action.text, self.now)
                self.gate.speak(self.now, duration)
                self.log.write(self.now, "say", text=action.text)
                self.show(f"[{self.now:7.1f}] coach: {action.text}")
            elif isinstance(action, VoiceChanged):
                self.speaker.adjust(action.voice)
                self.log.write(
                    self.now, "voice", rate_wpm=action.voice.rate_wpm, volume=action.voice.volume
                )
            elif isinstance(action, StateChanged):
                if action.phase != self._last_phase:
                    self._last_phase = action.phase
                    entered = self._entered[action.phase] = self._entered.get(action.phase, 0) + 1
                    if any(e.on == action.phase and e.nth == entered for e in self._pending):
                        self._phase_times[(action.phase, entered)] = self.now  # awaited
                self.log.write(
                    self.now,
                    "state",
                    exercise=action.exercise,
                    phase=action.phase,
                    variation=action.variation,
                    side=action.side,
                    rep=action.rep,
                    set=action.set,
                    hold_s=action.hold_s,
                )
            elif isinstance(action, Record):
                self.log.write(self.now, action.event, **dict(action.data))
                self._journal_record(action)

    def _journal_record(self, record: Record) -> None:
        if self.journal is None:
            return
        data = dict(record.data)
        exercise = data.pop("exercise", None)
        self.journal.record(
            self._journal_session,
            self.now,
            record.event,
            None if exercise is None else str(exercise),
            **data,
        )
        if record.event == "red_flag":
            self._outcome = "red_flag"
        if record.event == "ended":
            outcome = self._outcome or ("completed" if data.get("completed") else "stopped")
            self.journal.end_session(self._journal_session, outcome)

    # --- the person ------------------------------------------------------------------------

    def _read_typed(self) -> None:
        """Takes the lines typed so far (read from the file descriptor, so lines that arrive
        together are not held back in a buffer)."""
        assert self.typed is not None
        descriptor = self.typed.fileno()
        while not self._typed_ended and select.select([descriptor], [], [], 0)[0]:
            data = os.read(descriptor, 4096)
            if not data:
                self._typed_ended = True
                return
            self._typed_buffer += data.decode("utf-8", errors="replace")
            *lines, self._typed_buffer = self._typed_buffer.split("\n")
            for line in lines:
                if line.strip():
                    self._heard.append(_Heard(self.now, line.strip(), match(line, self.index)))

    def _shared_engine(self) -> Engine | None:
        """The one speech engine of the run, built when first needed (None without a factory)."""
        if self._engine is None and self.engine_factory is not None:
            self._engine = self.engine_factory()
        return self._engine

    def _watch_input(self, audio_came: bool) -> None:
        """A microphone that stops sending audio (unplugged) pauses the session until it is
        back (audio.InputWatch)."""
        change = self._input.update(self.now, audio_came)
        if change == "lost":
            self.show(f"[{self.now:7.1f}] no audio from the microphone: pausing")
            self._execute(self.session.microphone_lost(self.now))
        elif change == "back":
            self.show(f"[{self.now:7.1f}] the microphone is back")
            self._execute(self.session.microphone_back(self.now))

    def _hear_room(self, room: SimulatedRoom) -> None:
        """The simulated microphone since the last step, through the echo canceller."""
        frames = room.listen(round(self.now * SAMPLE_RATE) - room.position)
        heard = frames.microphone
        if self.echo_canceller is not None:
            heard = self.echo_canceller.process(frames.microphone, frames.reference)
            if not frames.person_speaking:
                self.echo_meter.add(frames.echo[: heard.size], heard)
        self._hear_live([heard])

    def _hear_live(self, frames: list[Samples]) -> None:
        """Feeds live audio to the recogniser. Without an echo canceller that has learnt the
        room, the audio heard while the coach speaks is dropped and any speech in progress
        forgotten (half-duplex)."""
        if self._live is None:
            engine = self._shared_engine()
            assert engine is not None, "listening needs an engine_factory"
            self._live = Recognizer(engine)
        barge_in = self.echo_canceller is not None and self.echo_canceller.learnt_s >= LEARN_ROOM_S
        if not barge_in and not self.gate.is_open(self.now):
            if self._live.in_speech:
                self._live.reset()
            return
        coach_speaking = not self.gate.is_open(self.now)
        # A command awaited after "Sorry, say that again?" is not awaited while the coach
        # speaks: its own words ("say that again") must not be taken more readily.
        awaited = self.session.awaited if coach_speaking else self.session.listening_for(self.now)
        self._live.engine.expect(awaited)
        self._live.coach_speaking = coach_speaking
        for frame in frames:
            for utterance in self._live.accept(frame):
                if utterance.final:
                    self._deliver(self._heard_at(self.now, utterance))

    def _due_events(self) -> list[TimelineEvent]:
        due = []
        for event in list(self._pending):
            if event.at is not None:
                when = event.at + event.delay
            else:
                entered = self._phase_times.get((str(event.on), event.nth))
                if entered is None:
                    continue
                when = entered + event.delay
            if when <= self.now:
                due.append(event)
                self._pending.remove(event)
        return due

    def _fire(self, event: TimelineEvent) -> None:
        if event.say is not None:
            self._heard.append(_Heard(self.now, event.say, match(event.say, self.index)))
            return
        assert event.audio is not None
        engine = self._shared_engine()
        if engine is None:
            return
        samples = read_wav(event.audio)
        self.log.write(self.now, "audio", file=str(event.audio), seconds=samples.size / SAMPLE_RATE)
        if self.room is not None:
            self.room.say(samples, round(self.now * SAMPLE_RATE))
            return
        engine.expect(self.session.listening_for(self.now))
        recognizer = Recognizer(engine)
        started = self.now
        for chunk in (samples, silence(AFTER_RECORDING_S)):
            for start in range(0, chunk.size, 320):
                for utterance in recognizer.accept(chunk[start : start + 320]):
                    self._hear_utterance(started, recognizer.time_s, utterance)
        for utterance in recognizer.flush():
            self._hear_utterance(started, recognizer.time_s, utterance)

    def _hear_utterance(self, started: float, decided_s: float, utterance: Utterance) -> None:
        if not utterance.final:
            return
        speech = (started + utterance.start_s, started + utterance.end_s)
        if not (self.gate.is_open(speech[0]) and self.gate.is_open(speech[1])):
            self.log.write(speech[1], "gated", text=utterance.text)
            return
        self._heard.append(self._heard_at(started + decided_s, utterance))

    def _heard_at(self, at: float, utterance: Utterance) -> _Heard:
        heard = understand(utterance, self.index)
        near_miss = heard.intent is None and utterance.near_miss
        guess = match(utterance.text, self.index) if near_miss and utterance.text else None
        return _Heard(
            at,
            utterance.text,
            heard.intent,
            near_miss,
            utterance.reason,
            sounded_like=guess.name if guess else None,
        )

    def _deliver(self, heard: _Heard) -> None:
        intent = heard.intent
        self.log.write(
            self.now,
            "heard",
            text=heard.text,
            intent=intent.name if intent else None,
            slots=dict(intent.slots) if intent else {},
            score=intent.score if intent else 0.0,
            near_miss=heard.near_miss,
            sounded_like=heard.sounded_like,
            reason=heard.reason,
        )
        meaning = intent.name if intent else "(near miss)" if heard.near_miss else "(not a command)"
        self._last_heard = f"{heard.text} -> {meaning}"
        self.show(f"[{self.now:7.1f}] heard: {heard.text!r} -> {meaning}")
        if intent is not None:
            if intent.name in BARGE_IN_INTENTS:
                self.speaker.stop()  # cut the coach short
                self.gate.cut(self.now)
            self._execute(self.session.handle(intent, self.now))
        elif heard.near_miss:
            self._execute(self.session.misheard(self.now, heard.sounded_like))


class LogError(VoiceCoachError):
    """The --log file cannot be opened or written."""


def open_log(path: Path | None) -> IO[str] | None:
    """`path` opened to append to (None: no log); LogError when it cannot be."""
    if path is None:
        return None
    try:
        if path.is_dir():
            raise IsADirectoryError
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("a", encoding="utf-8")
    except IsADirectoryError:
        raise LogError("is a folder, not a log file", path=path) from None
    except OSError as error:
        raise LogError(f"cannot write the log: {error.strerror or error}", path=path) from None
