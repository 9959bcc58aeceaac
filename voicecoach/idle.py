"""A coach that waits to be asked (`voicecoach run --wait`, the always-ready service): it
listens for "start", and answers questions about the history meanwhile."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from voicecoach.core.gate import GATE_TAIL_S
from voicecoach.core.intents import CommandIndex
from voicecoach.hearing.asr import Engine
from voicecoach.hearing.asr.stream import Recognizer
from voicecoach.hearing.audio import InputWatch, Samples
from voicecoach.hearing.recognition import hear_until_command
from voicecoach.speaking.speakers import Speaker

READY: Final = "I'm ready. Say start when you are."
POLL_S: Final = 0.05


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
    reply to a question intent; "not_yet" ("stop", "not now") is shown and nothing said.
    Half-duplex: audio is dropped while the coach talks and for GATE_TAIL_S after."""
    recognizer = Recognizer(engine)
    show(f"coach: {READY}")
    speaker.say(READY, 0.0)
    watch = InputWatch(reconnect, audio_at=clock())
    quiet_from = 0.0
    while True:
        frames = listen()
        now = clock()
        watch.update(now, bool(frames))  # a lost microphone is opened again meanwhile
        if speaker.speaking(now):
            quiet_from = now + GATE_TAIL_S
        if now < quiet_from:
            if recognizer.in_speech:
                recognizer.reset()
            sleep(POLL_S)
            continue
        heard = hear_until_command(recognizer, frames, index)
        if heard and heard[-1].intent is not None:
            text, intent = heard[-1].utterance.text, heard[-1].intent.name
            show(f"heard: {text!r} -> {intent}")
            if intent == "start":
                return
            if intent != "not_yet":  # "stop", "not now": it goes on waiting, quietly
                reply = answer(intent)
                show(f"coach: {reply}")
                speaker.say(reply, 0.0)
                quiet_from = clock() + GATE_TAIL_S  # the rest of this audio is dropped
            recognizer.reset()
        sleep(POLL_S)
