"""A coach that waits to be asked (`voicecoach run --wait`, the always-ready service): it
listens for "start", and answers questions about the history meanwhile."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from voicecoach.asr import Engine
from voicecoach.asr.stream import Recognizer
from voicecoach.audio import Samples
from voicecoach.hearing import understand
from voicecoach.intents import CommandIndex
from voicecoach.voice import GATE_TAIL_S, Speaker

READY: Final = "I'm ready. Say start when you are."
POLL_S: Final = 0.05
INPUT_LOST_S: Final = 2.0
"""No audio for this long: the microphone has gone; it is reopened every RECONNECT_EVERY_S."""
RECONNECT_EVERY_S: Final = 2.0


def wait_for_start(
    listen: Callable[[], list[Samples]],
    engine: Engine,
    index: CommandIndex,
    speaker: Speaker,
    answer: Callable[[str], str],
    *,
    show: Callable[[str], None] = print,
    reconnect: Callable[[], bool] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Returns when "start" is heard. `index` is the "idle" context's; `answer` gives the
    reply to a question intent. Half-duplex: audio is dropped while the coach talks and for
    GATE_TAIL_S after."""
    recognizer = Recognizer(engine)
    show(f"coach: {READY}")
    speaker.say(READY, 0.0)
    audio_at = clock()
    reconnect_at = audio_at + RECONNECT_EVERY_S
    quiet_from = 0.0
    while True:
        frames = listen()
        now = clock()
        if frames:
            audio_at = now
        elif reconnect is not None and now - audio_at >= INPUT_LOST_S and now >= reconnect_at:
            reconnect_at = now + RECONNECT_EVERY_S
            reconnect()
        if speaker.speaking(now):
            quiet_from = now + GATE_TAIL_S
        if now < quiet_from:
            if recognizer.in_speech:
                recognizer.reset()
            sleep(POLL_S)
            continue
        heard = _first_intent(recognizer, frames, index)
        if heard is not None:
            text, intent = heard
            show(f"heard: {text!r} -> {intent}")
            if intent == "start":
                return
            reply = answer(intent)
            show(f"coach: {reply}")
            speaker.say(reply, 0.0)
            quiet_from = clock() + GATE_TAIL_S  # the rest of this audio is dropped
            recognizer.reset()
        sleep(POLL_S)


def _first_intent(
    recognizer: Recognizer, frames: list[Samples], index: CommandIndex
) -> tuple[str, str] | None:
    """(what was heard, its intent) for the first command in `frames`, if any."""
    for frame in frames:
        for utterance in recognizer.accept(frame):
            heard = understand(utterance, index) if utterance.final else None
            if heard is not None and heard.intent is not None:
                return utterance.text, heard.intent.name
    return None
