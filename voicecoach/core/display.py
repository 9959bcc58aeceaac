"""The live terminal view: one status line (pipes, logs), and the view model of the full-screen
live view readable from 2 m (`live_view`, `big_digits`; voicecoach/liveview.py draws it)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from voicecoach.core.session import GET_READY_S, RELAX_S, SWITCH_SIDE_S, Phase, Session, Side

BAR_WIDTH: Final = 20
PHASE_WORDS: Final = {
    "intro": "listen",
    "get_ready": "get ready",
    "hold": "hold",
    "relax": "relax",
    "reps": "move",
    "switch_side": "switch sides",
    "rest": "rest",
    "paused": "paused",
    "confirm_stop": "end the session?",
    "pain_check": "are you okay?",
    "done": "done",
}


def countdown_bar(left_s: float, total_s: float, width: int = BAR_WIDTH) -> str:
    """`[######------]` with the filled part the share of `total_s` still to go."""
    if total_s <= 0:
        return ""
    share = max(0.0, min(1.0, left_s / total_s))
    filled = math.ceil(share * width)
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def status_line(session: Session, now: float, last_heard: str = "") -> str:
    """Exercise, side, rep and set, the phase with its countdown, and the last command heard."""
    phase = session.phase
    if phase == "done":
        parts = ["session over"]
    else:
        step = session.step
        dose = step.dose
        parts = [step.name]
        if session.side:
            parts.append(f"{session.side} side")
        parts.append(f"rep {session.rep}/{dose.reps}")
        if dose.sets > 1:
            parts.append(f"set {session.set}/{dose.sets}")
        left = session.timed.ends_at - now
        label = PHASE_WORDS[phase]
        if phase in ("hold", "rest") and math.isfinite(left):
            total = session.hold_s() if phase == "hold" else dose.rest_s
            label += f" {countdown_bar(left, total)} {max(0, math.ceil(left))} s"
        parts.append(label)
    if last_heard:
        parts.append(f"heard: {last_heard}")
    return " | ".join(parts)


# --- the live view, readable from 2 m ------------------------------------------------------

PHASE_COLOURS: Final[Mapping[Phase, str]] = {
    "intro": "white",
    "get_ready": "yellow",
    "hold": "green",
    "relax": "yellow",
    "reps": "green",
    "switch_side": "yellow",
    "rest": "blue",
    "paused": "red",
    "confirm_stop": "red",
    "pain_check": "red",
    "done": "grey",
}
"""The colour of each phase: plain names (white, yellow, green, blue, red, grey) the shell maps
to its own; green while working, blue at rest, yellow between, red when waiting on the person."""

COUNTED_PHASES: Final[frozenset[Phase]] = frozenset(
    {"get_ready", "hold", "relax", "switch_side", "rest"}
)
"""The phases with a countdown on screen (a movement's reps are paced, not counted down)."""


@dataclass(frozen=True)
class LiveView:
    """What the live view shows at one moment: plain data, compared to know when to redraw."""

    exercise: str
    """The exercise's name (its variation's, when one is done); "" once the session is over."""
    side: Side | None
    rep: str
    """ "rep 2 of 10" ("" once the session is over)."""
    set: str
    """ "set 1 of 2"; "" for an exercise done in one set, and once the session is over."""
    phase: Phase
    word: str
    """The phase in words (PHASE_WORDS)."""
    seconds_left: int | None
    """Whole seconds left in a counted phase (COUNTED_PHASES), from its full length down to 0;
    None in the others."""
    total_s: int | None
    """The counted phase's full length (for a bar), None when `seconds_left` is."""
    colour: str
    """PHASE_COLOURS of the phase."""
    last_heard: str = ""


def phase_length_s(session: Session) -> int | None:
    """The full length of the counted phase the session is in (None in the others): the hold
    (the last rep's longer one, where the dose has one), the rest, or the short pauses."""
    phase, dose = session.phase, session.step.dose
    if phase == "hold":
        return session.rep_hold_s()
    if phase == "rest":
        return dose.rest_s
    short = {"get_ready": GET_READY_S, "relax": RELAX_S, "switch_side": SWITCH_SIDE_S}
    return math.ceil(short[phase]) if phase in short else None


def seconds_left(session: Session, now: float) -> int | None:
    """Whole seconds left in the counted phase, never more than its full length: a hold's phase
    starts when the coach starts saying "Hold for 10 seconds." and ends 10 seconds after the
    sentence ends, so this shows 10 while the sentence is said, then counts down to 0."""
    total = phase_length_s(session)
    left = session.timed.ends_at - now
    if total is None or not math.isfinite(left):
        return None
    return max(0, min(total, math.ceil(left - 1e-6)))


def live_view(session: Session, now: float, last_heard: str = "") -> LiveView:
    """The live view of `session` at `now`, with the last command heard."""
    phase = session.phase
    word, colour = PHASE_WORDS[phase], PHASE_COLOURS[phase]
    if phase == "done":
        return LiveView("", None, "", "", phase, word, None, None, colour, last_heard)
    step = session.step
    dose = step.dose
    left = seconds_left(session, now)
    return LiveView(
        exercise=step.name,
        side=session.side,
        rep=f"rep {session.rep} of {dose.reps}",
        set=f"set {session.set} of {dose.sets}" if dose.sets > 1 else "",
        phase=phase,
        word=word,
        seconds_left=left,
        total_s=None if left is None else phase_length_s(session),
        colour=colour,
        last_heard=last_heard,
    )


BIG_FONT: Final[Mapping[str, tuple[str, ...]]] = {
    "0": ("###", "#.#", "#.#", "#.#", "###"),
    "1": ("##.", ".#.", ".#.", ".#.", "###"),
    "2": ("###", "..#", "###", "#..", "###"),
    "3": ("###", "..#", ".##", "..#", "###"),
    "4": ("#.#", "#.#", "###", "..#", "..#"),
    "5": ("###", "#..", "###", "..#", "###"),
    "6": ("###", "#..", "###", "#.#", "###"),
    "7": ("###", "..#", "..#", "..#", "..#"),
    "8": ("###", "#.#", "###", "#.#", "###"),
    "9": ("###", "#.#", "###", "..#", "###"),
    ":": (".", "#", ".", "#", "."),
    " ": ("..", "..", "..", "..", ".."),
}
"""A 5-row pixel font: "#" is lit."""
BIG_ROWS: Final = 5
BIG_PIXEL: Final = "██"
"""One pixel is two cells wide: a terminal cell is about twice as tall as it is wide."""


def big_digits(text: str) -> list[str]:
    """`text` (digits, ":" and spaces) in a block font of BIG_ROWS rows of "█" and spaces, all
    of the same width (a blank pixel between characters), to be read from across the room."""
    unknown = sorted({c for c in text if c not in BIG_FONT})
    if unknown:
        raise ValueError(f"big_digits draws digits, ':' and spaces, not {''.join(unknown)!r}")
    blank = " " * len(BIG_PIXEL)
    rows = []
    for row in range(BIG_ROWS):
        glyphs = ["".join(BIG_PIXEL if p == "#" else blank for p in BIG_FONT[c][row]) for c in text]
        rows.append(blank.join(glyphs))
    return rows
