"""The coaching session: a pure state machine over a list of exercises.

Events in (`handle(intent, now)`, `tick(now)`), actions out (`Say`, `StateChanged`,
`Record`). Time is passed in; nothing here sleeps, reads a clock or does I/O. How long the
coach takes to say something comes from an injected estimate, so instructions are never talked
over by a countdown.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final, Literal

from voicecoach.core.catalog import MAX_HOLD_S as MAX_HOLD_S
from voicecoach.core.catalog import Catalog, Caution, Dose, Exercise, RoutineItem, Variation
from voicecoach.core.grammar import SessionIntent, SlotValue, session_intent
from voicecoach.core.history import RecordEvent
from voicecoach.core.intents import Intent
from voicecoach.core.speech import VoiceSettings, estimate_speech_s

Phase = Literal[
    "intro", "get_ready", "hold", "relax", "reps", "switch_side", "rest", "paused",
    "confirm_stop", "pain_check", "done",
]  # fmt: skip
Side = Literal["left", "right"]

GET_READY_S: Final = 3.0
"""The moment between the instructions and the first rep."""
RELAX_S: Final = 3.0
"""Between two held reps."""
SWITCH_SIDE_S: Final = 5.0
REP_PACE_S: Final = 4.0
"""Time given to one rep of a movement that is not held (cat-cow, leg lifts)."""
BREATH_IN_S: Final = 4.0
BREATH_OUT_S: Final = 6.0
"""A breathing exercise is paced breath by breath: in for BREATH_IN_S, out for BREATH_OUT_S (the
coach's pacing: the articles give none, only "a nice, long breath in" and "a long exhale")."""
HOLD_STEP_S: Final = 5
"""What "hold longer" and "hold shorter" add or take away."""
MIN_HOLD_S: Final = 3
PAIN_ANSWER_TIMEOUT_S: Final = 10.0
"""After "it hurts", how long the coach waits for an answer before carrying on gently."""
MILD_PAIN_MAX: Final = 3
"""A pain rating up to this goes on; up to MODERATE_PAIN_MAX goes on gently; above, skips."""
MODERATE_PAIN_MAX: Final = 5
SPEECH_GAP_S: Final = 0.5
"""Silence after the coach speaks, before the next timed phase starts."""
MISHEARD_GAP_S: Final = 20.0
"""After asking "Sorry, say that again?", near misses are not answered again for this long (a
TV in the room must not make the coach apologise over and over)."""
MISHEARD_SAY: Final = "Sorry, say that again?"
REPEAT_AWAITED_S: Final = 8.0
"""After "Sorry, say that again?", how long the command the near miss sounded like is awaited
(`listening_for`): the person is most likely saying it again, so it is taken as readily as an
answer to a question. The coach asks at most once every MISHEARD_GAP_S, so talk in the room
opens such a window at most that often."""
# Phases that wait for the person and stop the clock.
WAITING_PHASES: Final = ("paused", "confirm_stop", "pain_check", "done")
ANSWERED_WHEN_DONE: Final[frozenset[SessionIntent]] = frozenset(
    {
        "repeat",
        "why",
        "how_to",
        "pain",
        "red_flag",
        "rating",
        "louder",
        "softer",
        "slower",
        "faster",
    }
)
"""What the coach still answers once the session is over; anything else gets "The session is
over." ("previous" or an exercise name does not start exercising again)."""
ANSWERS_AWAITED: Final[Mapping[str, frozenset[SessionIntent]]] = {
    "pain_check": frozenset({"rating"}),
    "confirm_stop": frozenset({"yes", "no"}),
}
"""The answers the coach waits for in a phase, after its question ("how bad is it, from zero to
ten?", "shall we end the session?"): the recogniser may take them more readily then."""
QUESTIONS: Final[Mapping[str, Phase]] = {"pain": "pain_check", "stop": "confirm_stop"}
"""The coach's questions by a short name (`recognize --after`), and the phase that waits for
the answer."""


def awaited_as_answer(intent: str | None) -> frozenset[SessionIntent]:
    """What the coach would be waiting for when `intent` is heard on its own, out of a session:
    a pain rating means something only as the answer to the pain question, yes or no only as
    the answer to a question such as "shall we end the session?" (`test` and the benchmarks
    hear them so); anything else, nothing."""
    for answers in ANSWERS_AWAITED.values():
        if intent in answers:
            return answers
    return frozenset()


@dataclass
class SayAgain:
    """The coach's "Sorry, say that again?" after a near miss: at most once every
    MISHEARD_GAP_S, and then, for REPEAT_AWAITED_S, the command the near miss sounded like is
    awaited (the session's, and bench/asr.py's streams heard as a session hears them)."""

    asked_at: float = -math.inf
    awaiting: SessionIntent | None = None
    """The command awaited again (None: nothing)."""
    until: float = -math.inf
    """Until when (session time) it is awaited."""

    def ask(self, now: float, sounded_like: str | None) -> bool:
        """Whether the coach asks again at `now`; if it does, the command the near miss
        `sounded_like` (an intent name) is awaited from then on, if it is a session command."""
        if now - self.asked_at < MISHEARD_GAP_S:
            return False
        self.asked_at = now
        self.awaiting = session_intent(sounded_like) if sounded_like else None
        self.until = now + REPEAT_AWAITED_S
        return True

    def awaited(self, now: float) -> frozenset[SessionIntent]:
        if self.awaiting is None or now >= self.until:
            return frozenset()
        return frozenset({self.awaiting})

    def heard(self) -> None:
        """A command was heard: nothing is awaited again any more."""
        self.awaiting = None


HOW_TO_HINT: Final = "Say: how do I do this, to hear the steps."
"""Said after the first short introduction of a session."""
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")

DISCLAIMER: Final = (
    "Before we start: this is general guidance from published articles, not medical advice. "
    "Stop if anything hurts."
)


@dataclass(frozen=True)
class Say:
    """Speak this."""

    text: str


@dataclass(frozen=True)
class StateChanged:
    """The session moved on: logged as a "state" event."""

    exercise: str | None
    phase: Phase
    variation: str | None
    side: Side | None
    rep: int
    set: int
    hold_s: int


@dataclass(frozen=True)
class Record:
    """Something for the history (the journal stores it as it happens)."""

    event: RecordEvent
    data: Mapping[str, SlotValue | None]


@dataclass(frozen=True)
class VoiceChanged:
    """The person asked the coach to speak louder, softer, slower or faster: from now on."""

    voice: VoiceSettings


Action = Say | StateChanged | Record | VoiceChanged


@dataclass(frozen=True)
class Step:
    """One exercise of the session, in the form being done."""

    exercise: Exercise
    variation: Variation | None = None

    @property
    def dose(self) -> Dose:
        return self.variation.dose if self.variation else self.exercise.dose

    @property
    def name(self) -> str:
        return self.variation.name if self.variation else self.exercise.name

    @property
    def reps_planned(self) -> int:
        """Reps of the whole exercise: every set, on each side."""
        dose = self.dose
        return dose.reps * dose.sets * (2 if dose.per_side else 1)

    @property
    def variation_id(self) -> str | None:
        return self.variation.id if self.variation else None

    @property
    def cautions(self) -> tuple[Caution, ...]:
        """The exercise's cautions, then its variation's."""
        return (*self.exercise.cautions, *(self.variation.cautions if self.variation else ()))

    @property
    def steps(self) -> tuple[str, ...]:
        if self.variation is not None and self.variation.steps:
            return self.variation.steps
        return self.exercise.steps


@dataclass
class _Timed:
    """The phase now, when it ends, and the cues still to come in it."""

    phase: Phase
    ends_at: float
    cues: list[tuple[float, Action]] = field(default_factory=list)


class Session:
    """A coaching session. Create it, call `start(now)`, then `handle` and `tick`."""

    def __init__(
        self,
        catalog: Catalog,
        items: list[RoutineItem],
        *,
        first_session: bool = False,
        speech_s: Callable[[str, float], float] = estimate_speech_s,
        hold_overrides: Mapping[str, int] | None = None,
        opening: str = "",
        known: Collection[tuple[str, str | None]] = (),
        voice: VoiceSettings | None = None,
    ) -> None:
        """`opening`: said first (e.g. "Welcome back" when an unfinished session resumes).
        `known`: the exercises (id, variation id or None) the person has done before, which
        are introduced in short."""
        if not items:
            raise ValueError("a session needs at least one exercise")
        self.catalog = catalog
        self.steps = [
            Step(
                catalog.exercise(item.exercise_id),
                catalog.exercise(item.exercise_id).variation(item.variation_id)
                if item.variation_id
                else None,
            )
            for item in items
        ]
        self.first_session = first_session
        self.opening = opening
        self.known = frozenset(known)
        self.voice = voice or VoiceSettings()
        """How the coach speaks now ("louder", "slower"... change it)."""
        self._hinted_how_to = False
        self.speech_s = speech_s
        self.hold_for: dict[str, int] = dict(hold_overrides or {})
        """Hold targets changed by the person, per exercise id: kept for the whole session."""
        self.index = 0
        self.side: Side | None = None
        self.set = 1
        self.rep = 1
        self.timed = _Timed("intro", 0.0)
        self.reps_done = 0
        """Reps finished of the exercise being done (each side and set counts)."""
        self.results: list[Record] = []
        """How each exercise ended (done, partial, skipped), in order."""
        self.ratings: list[int] = []
        """The pain ratings given (0-10)."""
        self.started_at = 0.0
        self.ended_at = math.inf
        """Session time the session ended (inf until it does)."""
        self.last_said = ""
        self._waiting_from: _Timed | None = None
        """The timed phase a pause, a stop question or a pain check interrupted."""
        self._paused_left_s = 0.0
        self._paused_by_lost_input = False
        """The session paused itself because the microphone went away."""
        self._say_again = SayAgain()

    # --- what is going on ------------------------------------------------------------------

    @property
    def phase(self) -> Phase:
        return self.timed.phase

    @property
    def awaited(self) -> frozenset[SessionIntent]:
        """The answers the coach is waiting for now (ANSWERS_AWAITED), if any."""
        return ANSWERS_AWAITED.get(self.phase, frozenset())

    def listening_for(self, now: float) -> frozenset[SessionIntent]:
        """What the recogniser should take more readily at session time `now`: the answers
        awaited, and for REPEAT_AWAITED_S after "Sorry, say that again?" the command that the
        near miss sounded like."""
        if self.phase == "done":
            return self.awaited
        return self.awaited | self._say_again.awaited(now)

    @property
    def step(self) -> Step:
        return self.steps[self.index]

    def rep_hold_s(self) -> int:
        """The hold of the rep being done: the exercise's hold, or the last rep's longer one
        where the dose has one."""
        hold, dose = self.hold_s(), self.step.dose
        if self.rep == dose.reps and dose.last_hold_s and hold:
            return max(hold, dose.last_hold_s)
        return hold

    def hold_s(self, step: Step | None = None) -> int:
        step = step or self.step
        return self.hold_for.get(step.exercise.id, step.dose.hold_s)

    def _state(self) -> StateChanged:
        done = self.phase == "done"
        return StateChanged(
            exercise=None if done else self.step.exercise.id,
            phase=self.phase,
            variation=None if done or self.step.variation is None else self.step.variation.id,
            side=self.side,
            rep=self.rep,
            set=self.set,
            hold_s=0 if done else self.hold_s(),
        )

    # --- events ----------------------------------------------------------------------------

    def start(self, now: float) -> list[Action]:
        self.started_at = now
        actions: list[Action] = []
        if self.first_session:
            flags = " ".join(f.text for f in self.catalog.red_flags if f.urgent)
            actions += self._say_sentences([DISCLAIMER, f"See a doctor if: {flags}"])
        if self.opening:
            actions += self._say_sentences([self.opening])
        return actions + self._intro(now, actions)

    def tick(self, now: float) -> list[Action]:
        """Everything due by `now`: cues within the phase, and the phases that end."""
        actions: list[Action] = []
        while self.phase not in WAITING_PHASES:
            due = [cue for cue in self.timed.cues if cue[0] <= now]
            self.timed.cues = [cue for cue in self.timed.cues if cue[0] > now]
            for _, action in due:
                actions.append(action)
                if isinstance(action, Say):
                    self.last_said = action.text
            if now < self.timed.ends_at:
                break
            actions += self._advance(self.timed.ends_at)
        if self.phase == "pain_check" and now >= self.timed.ends_at:
            actions += self._pain_timeout(now)
        return actions

    def handle(self, intent: Intent, now: float) -> list[Action]:
        """What the coach does when the person says `intent` (HANDLERS). Once the session is
        done, only ANSWERED_WHEN_DONE are answered; anything that is not a session command
        (a question of `ask`) changes nothing."""
        actions = self.tick(now)
        self._say_again.heard()
        name = session_intent(intent.name)
        if name is None:
            return actions
        if self.phase == "done" and name not in ANSWERED_WHEN_DONE:
            return actions + self._say("The session is over.")
        return actions + HANDLERS[name](self, intent.slots, now)

    def misheard(self, now: float, sounded_like: str | None = None) -> list[Action]:
        """Speech that was probably a command but not heard well enough to act on: the coach
        asks to hear it again (at most once every MISHEARD_GAP_S), and then awaits the command
        it `sounded_like` (an intent name) for REPEAT_AWAITED_S (`listening_for`). What it said
        last, for "repeat", stays as it was."""
        actions = self.tick(now)
        if self.phase == "done" or not self._say_again.ask(now, sounded_like):
            return actions
        return [*actions, Say(MISHEARD_SAY)]

    def microphone_lost(self, now: float) -> list[Action]:
        """The microphone has gone (unplugged): the session pauses, says so, and waits for it.
        A question in progress (stop? how bad is it?) is dropped: nobody can answer it."""
        if self.phase == "done":
            return []
        said = self._say(
            "I can't hear you: the microphone has gone. I've paused, and I'll carry on when "
            "it's back."
        )
        record = Record("microphone_lost", {})
        if self.phase not in WAITING_PHASES:
            self._paused_by_lost_input = True
            return [*said, record, *self._wait("paused", now)]
        if self.phase == "paused":
            return [*said, record]
        return [*said, record, *self._wait("paused", now)]

    def microphone_back(self, now: float) -> list[Action]:
        """The microphone works again: a pause the session made itself ends; one the person
        asked for (or a dropped question) waits for "resume"."""
        if self.phase == "done":
            return []
        record = Record("microphone_back", {})
        if self._paused_by_lost_input and self.phase == "paused":
            self._paused_by_lost_input = False
            said = self._say("The microphone is back. Let's carry on.")
            return [*said, record, *self._back_to_timed(self._speech_end(now, said))]
        return [*self._say("The microphone is back. Say resume when you're ready."), record]

    def report(self, now: float) -> SessionReport:
        """What this session did so far: each exercise's result and reps, the time, the pain
        ratings, and where to carry on."""
        passed = [r.data["exercise"] for r in self.results if r.event != "partial"]
        resume = next(
            (step.name for step in self.steps if not _take(passed, step.exercise.id)), None
        )
        return SessionReport(
            exercises=tuple(
                ExerciseResult(
                    name=self.catalog.exercise(str(r.data["exercise"])).name,
                    result=r.event,
                    reps_done=int(r.data.get("reps_done") or 0),
                    reps_planned=int(r.data.get("reps_planned") or 0),
                )
                for r in self.results
            ),
            minutes=max(0.0, min(now, self.ended_at) - self.started_at) / 60,
            ratings=tuple(self.ratings),
            resume_with=resume,
        )

    # --- building phases -------------------------------------------------------------------

    def _say(self, text: str) -> list[Action]:
        self.last_said = text
        return [Say(text)]

    def _say_sentences(self, parts: Sequence[str]) -> list[Action]:
        """`parts` said one short sentence at a time (so that "stop" cuts the coach between
        any two), remembered together for "repeat"."""
        said: list[Action] = [Say(s) for part in parts for s in sentences(part)]
        self.last_said = " ".join(parts)
        return said

    def _enter(
        self, phase: Phase, ends_at: float, cues: list[tuple[float, Action]] | None = None
    ) -> list[Action]:
        if phase == "done":
            self.ended_at = min(self.ended_at, ends_at)
        self.timed = _Timed(phase, ends_at, cues or [])
        return [self._state()]

    def _speech_end(self, now: float, actions: list[Action]) -> float:
        rate = self.voice.rate_wpm
        spoken = sum(self.speech_s(a.text, rate) for a in actions if isinstance(a, Say))
        return now + spoken + (SPEECH_GAP_S if spoken else 0.0)

    def _intro(self, now: float, before: list[Action] | None = None) -> list[Action]:
        """The exercise introduced: in full (benefit, steps, cautions, dose), or, for one the
        person has done before in this form, in short (name, cautions, dose): "how do I do
        this" gives the steps."""
        step = self.step
        self.side = "left" if step.dose.per_side else None
        self.set = 1
        self.rep = 1
        self.reps_done = 0
        short = not self.first_session and (step.exercise.id, step.variation_id) in self.known
        parts = [f"Next: {step.name}."]
        if not short:
            parts += [step.exercise.benefit, *step.steps]
        parts += [f"Careful: {caution.text}" for caution in step.cautions]
        parts.append(self._dose_sentence(step))
        if short and not self._hinted_how_to:
            self._hinted_how_to = True
            parts.append(HOW_TO_HINT)
        said = self._say_sentences(parts)
        ends = self._speech_end(now, [*(before or []), *said])
        return said + self._enter("intro", ends)

    def _dose_sentence(self, step: Step) -> str:
        dose = step.dose
        reps = f"{dose.reps} {'rep' if dose.reps == 1 else 'reps'}"
        if dose.per_side:
            reps += " on each side"
        hold = f", holding each for {self.hold_s(step)} seconds" if self.hold_s(step) else ""
        sets = f", {dose.sets} sets" if dose.sets > 1 else ""
        return f"We'll do {reps}{hold}{sets}."

    def _start_rep(self, now: float) -> list[Action]:
        step = self.step
        dose = step.dose
        side = f" on your {self.side} side" if self.side else ""
        hold = self.rep_hold_s()
        if hold:
            text = f"Rep {self.rep} of {dose.reps}{side}. Hold for {hold} seconds."
            said = self._say(text)
            start = self._speech_end(now, said)
            ends = start + hold
            cues: list[tuple[float, Action]] = []
            if hold >= 20:
                cues.append((start + hold / 2, Say("Halfway.")))
            if hold >= 15:
                cues.append((ends - 10, Say("Ten seconds left.")))
            if hold >= 5:
                cues.append((ends - 3, Say("Three, two, one.")))
            cues.append((ends, Say("And relax.")))
            return said + self._enter("hold", ends, cues)
        if step.exercise.category == "breathing":
            said = self._say(f"Breath {self.rep} of {dose.reps}. Breathe in.")
            start = self._speech_end(now, said)
            out: list[tuple[float, Action]] = [(start + BREATH_IN_S, Say("And out, slowly."))]
            return said + self._enter("reps", start + BREATH_IN_S + BREATH_OUT_S, out)
        said = self._say(f"Rep {self.rep} of {dose.reps}{side}.")
        start = self._speech_end(now, said)
        return said + self._enter("reps", start + REP_PACE_S)

    def _advance(self, now: float) -> list[Action]:
        """The timed phase that ends at `now` is over: what comes after it."""
        phase, dose = self.phase, self.step.dose
        if phase == "intro":
            said = self._say("Get ready.")
            return said + self._enter("get_ready", self._speech_end(now, said) + GET_READY_S)
        if phase in ("get_ready", "switch_side"):
            return self._start_rep(now)
        if phase == "rest":
            self.set += 1
            self.rep = 1
            self.side = "left" if dose.per_side else None
            return self._start_rep(now)
        if phase in ("hold", "reps"):
            self.reps_done += 1
        if phase in ("hold", "reps", "relax"):
            if phase == "hold" and self.rep < dose.reps:
                return self._enter("relax", now + RELAX_S)
            if phase == "relax" or self.rep < dose.reps:
                self.rep += 1
                return self._start_rep(now)
            if self.side == "left":
                self.side = "right"
                self.rep = 1
                said = self._say("Switch sides.")
                return said + self._enter(
                    "switch_side", self._speech_end(now, said) + SWITCH_SIDE_S
                )
            if self.set < dose.sets:
                said = self._say(f"Rest for {dose.rest_s} seconds.")
                return said + self._enter("rest", self._speech_end(now, said) + dose.rest_s)
            actions: list[Action] = [self._result("exercise_done")]
            return actions + self._next_exercise(now)
        return []  # pragma: no cover - waiting phases do not time out here

    def _record(self) -> dict[str, SlotValue | None]:
        return {
            "exercise": self.step.exercise.id,
            "variation": self.step.variation.id if self.step.variation else None,
            "hold_s": self.hold_s(),
            "reps_done": self.reps_done,
            "reps_planned": self.step.reps_planned,
        }

    def _moved_on(self) -> Record:
        """What leaving the exercise now means for the history: done when every rep was,
        partial when some were, skipped when none."""
        if self.reps_done >= self.step.reps_planned:
            return self._result("exercise_done")
        return self._result("partial" if self.reps_done else "skipped")

    def _leave(self) -> list[Record]:
        """Leaving the exercise on the way elsewhere (another exercise, the end): the reps
        done are recorded (partial, or done when they were all done); none, nothing."""
        if not self.reps_done:
            return []
        record = self._moved_on()
        self.reps_done = 0  # recorded once
        return [record]

    def _result(self, event: RecordEvent) -> Record:
        """The record of how an exercise ended, kept for the end-of-session summary."""
        record = Record(event, self._record())
        self.results.append(record)
        return record

    def _next_exercise(self, now: float) -> list[Action]:
        if self.index + 1 >= len(self.steps):
            said = self._say_sentences(
                ["That's the whole routine. Well done.", *summary_sentences(self.report(now))]
            )
            return [*said, Record("ended", {"completed": 1}), *self._enter("done", now)]
        self.index += 1
        return self._intro(now)

    # --- the person's commands -------------------------------------------------------------

    def _interrupted(self) -> _Timed:
        """The timed phase to go back to (the one before a pause or a question)."""
        return self._waiting_from or self.timed

    def _wait(self, phase: Phase, now: float, until: float = float("inf")) -> list[Action]:
        """Stops the clock of the timed phase and waits for the person (at most `until`)."""
        if self._waiting_from is None:
            self._waiting_from = self.timed
            self._paused_left_s = max(0.0, self.timed.ends_at - now)
        return self._enter(phase, until)

    def _back_to_timed(self, now: float) -> list[Action]:
        previous = self._waiting_from
        self._waiting_from = None
        if previous is None:
            return []
        shift = now + self._paused_left_s - previous.ends_at
        cues = [(t + shift, a) for t, a in previous.cues]
        return self._enter(previous.phase, now + self._paused_left_s, cues)

    def _on_pause(self, slots: Mapping[str, SlotValue], now: float) -> list[Action]:
        if self.phase == "paused":
            return self._say("We're paused. Say resume when you're ready.")
        said = self._say("Paused. Say resume when you're ready.")
        return said + self._wait("paused", now)

    def _on_resume(self, slots: Mapping[str, SlotValue], now: float) -> list[Action]:
        if self.phase not in ("paused", "confirm_stop", "pain_check"):
            return self._say("We're already going.")
        self._paused_by_lost_input = False
        said = self._say("Let's carry on.")
        return said + self._back_to_timed(self._speech_end(now, said))

    def _on_stop(self, slots: Mapping[str, SlotValue], now: float) -> list[Action]:
        said = self._say("End the session? Say yes or no.")
        return said + self._wait("confirm_stop", now)

    def _on_yes(self, slots: Mapping[str, SlotValue], now: float) -> list[Action]:
        if self.phase == "confirm_stop":
            self._waiting_from = None
            left = self._leave()
            said = self._say_sentences(
                ["Okay, we'll stop here. Well done today.", *summary_sentences(self.report(now))]
            )
            return [*left, *said, Record("ended", {"completed": 0}), *self._enter("done", now)]
        if self.phase == "pain_check":
            return self._on_easier(slots, now)
        return self._say("Okay.")

    def _on_no(self, slots: Mapping[str, SlotValue], now: float) -> list[Action]:
        if self.phase in ("confirm_stop", "pain_check"):
            return self._on_resume(slots, now)
        return self._say("Okay.")

    def _on_next(self, slots: Mapping[str, SlotValue], now: float) -> list[Action]:
        self._waiting_from = None
        return [self._moved_on(), *self._next_exercise(now)]

    def _on_skip(self, slots: Mapping[str, SlotValue], now: float) -> list[Action]:
        self._waiting_from = None
        return [self._result("skipped"), *self._next_exercise(now)]

    def _on_previous(self, slots: Mapping[str, SlotValue], now: float) -> list[Action]:
        self._waiting_from = None
        left = self._leave()
        self.index = max(0, self.index - 1)
        return [*left, *self._intro(now)]

    def _on_repeat(self, slots: Mapping[str, SlotValue], now: float) -> list[Action]:
        if not self.last_said:
            return self._say("I haven't said anything yet.")
        return [Say(sentence) for sentence in sentences(self.last_said)]

    def _change_voice(self, rate_steps: int, volume_steps: int, word: str) -> list[Action]:
        """`word`: loud, soft, slow or fast."""
        voice = self.voice.changed(rate_steps, volume_steps)
        if voice == self.voice:
            return self._say(f"That's as {word} as I go.")
        self.voice = voice
        comparative = f"{word}er"
        return [VoiceChanged(voice), *self._say(f"Okay, {comparative}. Is this better?")]

    def _on_louder(self, slots: Mapping[str, SlotValue], now: float) -> list[Action]:
        return self._change_voice(0, 1, "loud")

    def _on_softer(self, slots: Mapping[str, SlotValue], now: float) -> list[Action]:
        return self._change_voice(0, -1, "soft")

    def _on_slower(self, slots: Mapping[str, SlotValue], now: float) -> list[Action]:
        return self._change_voice(-1, 0, "slow")

    def _on_faster(self, slots: Mapping[str, SlotValue], now: float) -> list[Action]:
        return self._change_voice(1, 0, "fast")

    def _on_how_to(self, slots: Mapping[str, SlotValue], now: float) -> list[Action]:
        """The steps of the exercise being done, without changing where the session is."""
        step = self.step
        return self._say_sentences([f"{step.name}:", *step.steps])

    def _change_hold(self, seconds: int, now: float) -> list[Action]:
        if not self.step.dose.hold_s:
            return self._say(f"{self.step.name} isn't held: there's no hold to change.")
        old = self.hold_s()
        new = max(MIN_HOLD_S, min(MAX_HOLD_S, seconds))
        self.hold_for[self.step.exercise.id] = new
        timed = self._interrupted()
        if timed.phase == "hold":
            timed.ends_at += new - old
            timed.cues = [(t + (new - old), a) for t, a in timed.cues]
        bound = " That's the limit." if new != seconds else ""
        record = Record("hold", {"exercise": self.step.exercise.id, "hold_s": new})
        return [*self._say(f"Holding for {new} seconds.{bound}"), record, self._state()]

    def _on_hold_longer(self, slots: Mapping[str, SlotValue], now: float) -> list[Action]:
        return self._change_hold(self.hold_s() + HOLD_STEP_S, now)

    def _on_hold_shorter(self, slots: Mapping[str, SlotValue], now: float) -> list[Action]:
        return self._change_hold(self.hold_s() - HOLD_STEP_S, now)

    def _on_set_hold(self, slots: Mapping[str, SlotValue], now: float) -> list[Action]:
        seconds = slots.get("seconds")
        return self._change_hold(int(seconds) if isinstance(seconds, int) else self.hold_s(), now)

    def _switch_variation(self, direction: str, now: float) -> list[Action]:
        """The easier or harder form; from an easier form "harder" goes back to the standard
        one (and from a harder form "easier" does)."""
        step = self.step
        current = step.variation
        target: Variation | None
        if current is not None and current.direction != direction:
            target = None  # back to the standard form
        else:
            choices = [
                v for v in step.exercise.variations if v.direction == direction and v != current
            ]
            if not choices:
                return self._say(f"There's no {direction} version of {step.exercise.name}.")
            target = choices[0]
        self._waiting_from = None
        self.steps[self.index] = replace(step, variation=target)
        return [
            Record(
                "variation",
                {"exercise": step.exercise.id, "variation": target.id if target else None},
            ),
            *self._intro(now),
        ]

    def _on_easier(self, slots: Mapping[str, SlotValue], now: float) -> list[Action]:
        return self._switch_variation("easier", now)

    def _on_harder(self, slots: Mapping[str, SlotValue], now: float) -> list[Action]:
        return self._switch_variation("harder", now)

    def _on_whats_next(self, slots: Mapping[str, SlotValue], now: float) -> list[Action]:
        if self.index + 1 >= len(self.steps):
            return self._say("This is the last exercise.")
        following = self.steps[self.index + 1]
        return self._say(f"Next is {following.name}. {following.steps[0]}")

    def _on_time_left(self, slots: Mapping[str, SlotValue], now: float) -> list[Action]:
        timed = self._interrupted()
        left = max(0, round(timed.ends_at - now)) if timed.ends_at != float("inf") else 0
        if self.phase == "paused":
            left = round(self._paused_left_s)
        remaining = len(self.steps) - self.index - 1
        what = {"hold": "of this hold", "rest": "of rest", "reps": "for this rep"}.get(
            timed.phase, "in this part"
        )
        return self._say(f"{left} seconds {what}, then {remaining} more exercises after this one.")

    def _on_why(self, slots: Mapping[str, SlotValue], now: float) -> list[Action]:
        return self._say(self.step.exercise.benefit)

    def _on_help(self, slots: Mapping[str, SlotValue], now: float) -> list[Action]:
        if self.phase == "confirm_stop":
            return self._say("Say yes to end the session, or no to carry on.")
        if self.phase == "paused":
            return self._say("Say resume to carry on, or stop to end the session.")
        return self._say(
            "You can say: next, skip, repeat, pause, hold longer, hold shorter, easier, harder, "
            "what's next, how much longer, why, it hurts, or stop."
        )

    def _on_start_exercise(self, slots: Mapping[str, SlotValue], now: float) -> list[Action]:
        wanted = str(slots.get("exercise", ""))
        self._waiting_from = None
        left = self._leave()
        for index, step in enumerate(self.steps):
            if step.exercise.id == wanted:
                self.index = index
                return [*left, *self._intro(now)]
        self.steps.insert(self.index + 1, Step(self.catalog.exercise(wanted)))
        self.index += 1
        return [*left, *self._intro(now)]

    def _on_pain(self, slots: Mapping[str, SlotValue], now: float) -> list[Action]:
        if self.phase == "done":
            return self._say("If something hurts, rest, and see a doctor if it doesn't settle.")
        caution = next(
            (c.text for c in self.catalog.general_cautions if "back off" in c.text.lower()),
            "Back off: a stretch should never hurt.",
        )
        easier = any(v.direction == "easier" for v in self.step.exercise.variations)
        offer = "Say easier for a gentler version, or skip." if easier else "Say skip to move on."
        offer += " Or tell me how bad it is, from zero to ten: say, for example, it's a five."
        said = self._say(f"Stop the movement now. {caution} {offer}")
        record = Record("pain", {"exercise": self.step.exercise.id})
        until = self._speech_end(now, said) + PAIN_ANSWER_TIMEOUT_S
        return [*said, record, *self._wait("pain_check", now, until)]

    def _on_rating(self, slots: Mapping[str, SlotValue], now: float) -> list[Action]:
        """A 0-10 answer after "it hurts": 0-3 go on, 4-5 go on gently, 6 or more skip it."""
        if self.phase != "pain_check":
            return []  # a number heard in other talk, not an answer: nothing to say
        level = slots.get("level")
        level = level if isinstance(level, int) else 0
        record = Record("pain_rating", {"exercise": self.step.exercise.id, "level": level})
        self.ratings.append(level)
        if level <= MILD_PAIN_MAX:
            return [record, *self._say("Okay, let's go on."), *self._back_to_timed(now)]
        if level <= MODERATE_PAIN_MAX:
            return [record, *self._pain_timeout(now)]
        return [record, *self._say("Let's skip this one."), *self._on_skip(slots, now)]

    def _pain_timeout(self, now: float) -> list[Action]:
        """No answer after "it hurts": carry on gently, with the easier version if there is one."""
        if any(v.direction == "easier" for v in self.step.exercise.variations):
            return self._say(
                "Let's carry on gently, with the easier version."
            ) + self._switch_variation("easier", now)
        said = self._say("Let's carry on gently.")
        return said + self._back_to_timed(self._speech_end(now, said))

    def _on_red_flag(self, slots: Mapping[str, SlotValue], now: float) -> list[Action]:
        flags = " ".join(f.text for f in self.catalog.red_flags if f.urgent)
        advice = f"The articles say to see a doctor or urgent care if: {flags}"
        if self.phase != "done":
            advice = f"Let's stop the session here. {advice}"
        said = self._say_sentences([advice])
        if self.phase == "done":  # the session has ended already: the advice, nothing more
            return [*said, Record("red_flag", {"exercise": None})]
        self._waiting_from = None
        record = Record("red_flag", {"exercise": self.step.exercise.id})
        ending = [*self._leave(), Record("ended", {"completed": 0})]
        return [*said, record, *ending, *self._enter("done", now)]


Handler = Callable[[Session, Mapping[str, SlotValue], float], list[Action]]
HANDLERS: Final[Mapping[SessionIntent, Handler]] = {
    "pause": Session._on_pause,
    "resume": Session._on_resume,
    "stop": Session._on_stop,
    "yes": Session._on_yes,
    "no": Session._on_no,
    "next": Session._on_next,
    "skip": Session._on_skip,
    "previous": Session._on_previous,
    "repeat": Session._on_repeat,
    "how_to": Session._on_how_to,
    "hold_longer": Session._on_hold_longer,
    "hold_shorter": Session._on_hold_shorter,
    "set_hold": Session._on_set_hold,
    "easier": Session._on_easier,
    "harder": Session._on_harder,
    "whats_next": Session._on_whats_next,
    "time_left": Session._on_time_left,
    "why": Session._on_why,
    "help": Session._on_help,
    "start_exercise": Session._on_start_exercise,
    "pain": Session._on_pain,
    "rating": Session._on_rating,
    "red_flag": Session._on_red_flag,
    "louder": Session._on_louder,
    "softer": Session._on_softer,
    "slower": Session._on_slower,
    "faster": Session._on_faster,
}
"""What the session does for each command: one handler per intent of grammar.SessionIntent."""


def sentences(text: str) -> list[str]:
    """`text` cut into its sentences (a sentence ends with . ! or ? before a capital)."""
    return [part for part in _SENTENCE_END.split(text.strip()) if part]


def _take(ids: list[SlotValue | None], wanted: str) -> bool:
    """Removes one `wanted` from `ids`; whether there was one."""
    if wanted in ids:
        ids.remove(wanted)
        return True
    return False


@dataclass(frozen=True)
class ExerciseResult:
    name: str
    result: RecordEvent
    """exercise_done, partial or skipped."""
    reps_done: int
    reps_planned: int


@dataclass(frozen=True)
class SessionReport:
    """The end-of-session summary, said and printed."""

    exercises: tuple[ExerciseResult, ...]
    minutes: float
    ratings: tuple[int, ...]
    """Pain ratings given, in order."""
    resume_with: str | None
    """The first exercise not finished (None when every one was done or skipped)."""

    def count(self, result: RecordEvent) -> int:
        return sum(1 for e in self.exercises if e.result == result)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary_sentences(report: SessionReport) -> list[str]:
    """The summary as the coach says it: a few short sentences."""
    done, partial, skipped = (
        report.count("exercise_done"), report.count("partial"), report.count("skipped"),
    )  # fmt: skip
    parts = [f"{_plural(done, 'exercise')} done"]
    if partial:
        parts.append(f"{partial} partly")
    if skipped:
        parts.append(f"{skipped} skipped")
    reps = sum(e.reps_done for e in report.exercises)
    planned = sum(e.reps_planned for e in report.exercises)
    minutes = max(1, round(report.minutes))
    sentences = [
        f"Today: {', '.join(parts)}.",
        f"{reps} of {planned} reps, in {_plural(minutes, 'minute')}."
        if planned
        else f"In {_plural(minutes, 'minute')}.",
    ]
    if report.ratings:
        levels = ", ".join(str(level) for level in report.ratings)
        sentences.append(f"Pain you rated: {levels}, out of ten.")
    if report.resume_with is not None:
        sentences.append(f"Next time, carry on with {report.resume_with}.")
    return sentences


RESULT_WORDS: Final = {"exercise_done": "done", "partial": "partly done", "skipped": "skipped"}


def summary_lines(report: SessionReport) -> list[str]:
    """The summary as printed at the end of a run: one line per exercise, then the totals."""
    lines = ["", "session summary:"]
    for exercise in report.exercises:
        word = RESULT_WORDS.get(exercise.result, exercise.result)
        lines.append(
            f"  {exercise.name}: {word}, {exercise.reps_done} of {exercise.reps_planned} reps"
        )
    lines += [f"  {sentence}" for sentence in summary_sentences(report)]
    return lines


def session_length_s(catalog: Catalog, items: list[RoutineItem], step_s: float = 1.0) -> float:
    """How long a session of `items` takes when nobody says anything (the coach's speech by
    its estimate, every hold, rep, rest and switch of side), found by running it."""
    session = Session(catalog, items)
    now = 0.0
    session.start(now)
    while session.phase != "done":
        now += step_s
        session.tick(now)
    return now
