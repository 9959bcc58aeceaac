"""The live terminal view: one status line, redrawn in place while a session runs."""

from __future__ import annotations

import math
from typing import Final

from voicecoach.core.session import Session

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
