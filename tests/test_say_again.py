"""A near miss makes the coach ask "Sorry, say that again?"; for a while after, the command it
sounded like is awaited (Session.listening_for), so said again the same way it is taken at the
verifier's threshold for answers. Real recognition of commands in the test voices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.test_awaited import hear_live, scripted_events
from voicecoach.core.catalog import Catalog
from voicecoach.core.intents import CommandIndex, match
from voicecoach.core.session import MISHEARD_SAY, REPEAT_AWAITED_S
from voicecoach.hearing.asr.pocketsphinx_engine import PocketSphinxEngine
from voicecoach.hearing.asr.stream import recognize_samples
from voicecoach.hearing.asr.verifier import load_verifier
from voicecoach.hearing.audio import Samples, silence, write_wav
from voicecoach.hearing.recognition import understand
from voicecoach.hearing.synthetic import TEST_VOICES, synthesize

TEXTS = ("next exercise", "what's next", "make it easier", "slow down", "pause")
VOICES = [
    v
    for v in TEST_VOICES
    if v.id in ("espeak-en-us-m3-150-45", "espeak-en-us-belinda-160-65", "flite-awb-110")
]


@pytest.fixture(scope="module")
def near_misses(bundled_index: CommandIndex) -> list[tuple[str, Samples, str]]:
    """The spoken commands the coach hears as near misses of what was said, when nothing is
    awaited: (name, audio, intent)."""
    engine = PocketSphinxEngine(bundled_index.grammar)
    found = []
    for voice in VOICES:
        for text in TEXTS:
            said = match(text, bundled_index)
            assert said is not None, text
            audio = np.concatenate([silence(0.5), synthesize(text, voice), silence(1.0)])
            engine.expect(frozenset())
            heard = recognize_samples(engine, audio)
            if len(heard) != 1 or not heard[0].near_miss:
                continue
            guess = match(heard[0].text, bundled_index)
            if guess is not None and guess.name == said.name:
                found.append((f"{text}@{voice.id}", audio, said.name))
    return found


def test_a_near_miss_said_again_while_awaited_is_taken(
    bundled_index: CommandIndex, near_misses: list[tuple[str, Samples, str]]
) -> None:
    # These voices give near misses today; if a retrained verifier takes them all (or misses
    # them all), pick other commands or voices.
    assert len(near_misses) >= 2
    engine = PocketSphinxEngine(bundled_index.grammar)
    awaited_threshold = load_verifier().awaited_threshold
    for name, audio, intent in near_misses:
        engine.expect(frozenset({intent}))
        (again,) = recognize_samples(engine, audio)
        heard = understand(again, bundled_index).intent
        assert again.accepted and heard is not None and heard.name == intent, name
        assert again.confidence >= awaited_threshold, name
        engine.expect(frozenset())
        (unasked,) = recognize_samples(engine, audio)
        assert not unasked.accepted and unasked.near_miss, name


def test_a_scripted_session_asks_again_and_takes_the_command_said_again(
    bundled_catalog: Catalog,
    bundled_index: CommandIndex,
    near_misses: list[tuple[str, Samples, str]],
    tmp_path: Path,
) -> None:
    """Paused, the person says a command the coach only nearly hears: it asks to hear it
    again, and the same words a few seconds later are taken."""
    engine = PocketSphinxEngine(bundled_index.grammar)
    live = [
        (n, a, i)
        for n, a, i in near_misses
        if [u.near_miss for u in hear_live(engine, a)] == [True]
    ]
    assert live, "no near miss in these voices heard live (see the test above)"
    name, audio, intent = live[0]
    recording = tmp_path / "command.wav"
    write_wav(recording, audio)
    script = tmp_path / "scenario.toml"
    script.write_text(
        'exercises = ["bridge", "bird-dog"]\n'
        '[[event]]\non = "hold"\ndelay = 1.0\nsay = "pause"\n'
        f'[[event]]\non = "paused"\ndelay = 6.0\naudio = "{recording}"\n'
        f'[[event]]\non = "paused"\ndelay = 11.0\naudio = "{recording}"\n',
        encoding="utf-8",
    )
    engine.expect(frozenset())
    events = scripted_events(bundled_catalog, bundled_index, script, engine)
    heard = [e for e in events if e["event"] == "heard" and e["text"] != "pause"]
    assert len(heard) == 2, (name, heard)
    first, second = heard
    assert first["intent"] is None and first["near_miss"], name
    assert first["sounded_like"] == intent, name
    asked = [e for e in events if e["event"] == "say" and e["text"] == MISHEARD_SAY]
    assert len(asked) == 1 and first["t"] <= asked[0]["t"] < second["t"], name
    assert second["intent"] == intent, name
    assert second["t"] - first["t"] < REPEAT_AWAITED_S, name
