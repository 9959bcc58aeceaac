"""Real people saying the coach's words (tests/data/human/an4: CMU's AN4, speakers the verifier
never trained on): "yes" and "no" as answers to "shall we end the session?", and a "stop" the
verifier only nearly takes, taken when said again, through to the end of a scripted session."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from tests.test_awaited import scripted_events
from voicecoach.core.catalog import Catalog
from voicecoach.core.intents import CommandIndex, match
from voicecoach.core.session import MISHEARD_SAY
from voicecoach.hearing.asr.pocketsphinx_engine import PocketSphinxEngine
from voicecoach.hearing.asr.stream import recognize_samples
from voicecoach.hearing.audio import Samples, read_wav, silence
from voicecoach.hearing.recognition import understand

AN4 = Path(__file__).parent / "data" / "human" / "an4"
STOPS = ("an46-mmap-b.wav", "an304-mtcv-b.wav")
"""Two people saying "stop", decoded right but under the verifier's threshold for "stop". The
second opinion hears them and takes them at once (tests/test_second_opinion.py); here they are
heard without it, to test what the coach does with a near miss it has no second opinion on."""
ANSWERS = {"an251-fash-b.wav": "yes", "an402-mdms2-b.wav": "no"}


def recorded(name: str) -> Samples:
    """The recording with quiet around it, as a microphone gives."""
    return np.concatenate([silence(0.5), read_wav(AN4 / name), silence(1.0)])


def test_real_peoples_yes_and_no_are_taken_as_answers(bundled_index: CommandIndex) -> None:
    engine = PocketSphinxEngine(bundled_index.grammar)
    engine.expect(frozenset({"yes", "no"}))
    for name, said in ANSWERS.items():
        taken = [u for u in recognize_samples(engine, recorded(name)) if u.accepted]
        assert len(taken) == 1, f"{name}: {taken}"
        intent = understand(taken[0], bundled_index).intent
        assert intent is not None and intent.name == said, f"{name}: {taken[0].reason}"


def test_a_real_stop_the_coach_only_nearly_hears_is_taken_said_again(
    bundled_index: CommandIndex,
) -> None:
    """Not awaited, each is a near miss that sounds like "stop" (the coach asks to hear it
    again); while "stop" is awaited, the same recording is taken."""
    engine = PocketSphinxEngine(bundled_index.grammar, second_opinion=False)
    for name in STOPS:
        engine.expect(frozenset())
        (unasked,) = recognize_samples(engine, recorded(name))
        assert not unasked.accepted and unasked.near_miss, f"{name}: {unasked.reason}"
        guess = match(unasked.text, bundled_index)
        assert guess is not None and guess.name == "stop", f"{name}: {unasked.text}"
        engine.expect(frozenset({"stop"}))
        (again,) = recognize_samples(engine, recorded(name))
        intent = understand(again, bundled_index).intent
        assert again.accepted and intent is not None and intent.name == "stop", again.reason


def test_a_scripted_session_ends_when_a_real_person_says_stop_twice_then_yes(
    bundled_catalog: Catalog, bundled_index: CommandIndex, tmp_path: Path
) -> None:
    """Paused, a person says "stop"; the coach asks to hear it again, takes it the second time,
    asks whether to end the session, and ends it on the person's "yes"."""
    stop, yes = (AN4 / STOPS[0]).resolve(), (AN4 / "an251-fash-b.wav").resolve()
    script = tmp_path / "scenario.toml"
    script.write_text(
        'exercises = ["bridge", "bird-dog"]\n'
        '[[event]]\non = "hold"\ndelay = 1.0\nsay = "pause"\n'
        f'[[event]]\non = "paused"\ndelay = 3.0\naudio = "{stop}"\n'
        f'[[event]]\non = "paused"\ndelay = 8.0\naudio = "{stop}"\n'
        f'[[event]]\non = "confirm_stop"\ndelay = 4.0\naudio = "{yes}"\n',
        encoding="utf-8",
    )
    engine = PocketSphinxEngine(bundled_index.grammar, second_opinion=False)
    events = scripted_events(bundled_catalog, bundled_index, script, engine)
    heard = [e for e in events if e["event"] == "heard" and e["text"] != "pause"]
    assert [(e["intent"], e["near_miss"]) for e in heard] == [
        (None, True), ("stop", False), ("yes", False),
    ]  # fmt: skip
    assert heard[0]["sounded_like"] == "stop"
    asked = [e for e in events if e["event"] == "say" and e["text"] == MISHEARD_SAY]
    assert len(asked) == 1 and heard[0]["t"] <= asked[0]["t"] < heard[1]["t"]
    assert [e["event"] for e in events if e["t"] >= heard[2]["t"]].count("ended") == 1


def test_the_benchmark_counts_a_rejected_near_miss_and_an_answer_taken(
    bundled_index: CommandIndex,
) -> None:
    """bench/asr.py counts, for speech that is not a command, the clips the coach would ask
    about again: a real "stop" heard when nothing is asked (without the second opinion, which
    takes it) is rejected as a near miss; a real
    "yes" heard as an answer is taken, and is no near miss."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    import asr

    system = asr.make_system("no-second-opinion", bundled_index.grammar, bundled_index)
    near: list[float] = []
    decisions = list(asr.recognise(system, recorded(STOPS[0]), bundled_index, near_misses=near))
    assert [d[0] for d in decisions] == [None] and len(near) == 1
    system.engine.expect(frozenset({"yes", "no"}))
    near = []
    yes = next(name for name, said in ANSWERS.items() if said == "yes")
    decisions = list(asr.recognise(system, recorded(yes), bundled_index, near_misses=near))
    assert [d[0] for d in decisions] == ["yes"] and near == []
