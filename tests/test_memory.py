"""A long session does not grow: what is kept per decoded utterance, per coach utterance and per
second of rendered speech is bounded (counted here, not timed)."""

from __future__ import annotations

import gc
import io
import json
from pathlib import Path

import numpy as np
import pytest

from voicecoach.app import JsonLog, ScriptedRun
from voicecoach.core.catalog import Catalog, RoutineItem
from voicecoach.core.gate import GATE_MEMORY_S, HalfDuplexGate
from voicecoach.core.intents import CommandIndex
from voicecoach.core.timeline import Timeline, TimelineEvent
from voicecoach.hearing.asr import Engine
from voicecoach.hearing.asr.endpointer import Endpointer, live_endpointers
from voicecoach.hearing.asr.stream import ENDPOINT_RATIO, ENDPOINT_WINDOW_S, Recognizer
from voicecoach.hearing.audio import SAMPLE_RATE, read_wav, silence
from voicecoach.hearing.recognition import build_engine, hear_file
from voicecoach.speaking.speakers import MuteSpeaker, WavSpeaker

AUDIO = Path(__file__).resolve().parent / "audio" / "en"
REPEAT = AUDIO / "repeat@espeak-en-gb-f2-165-60.wav"


@pytest.fixture(scope="module")
def engine(bundled_index: CommandIndex) -> Engine:
    return build_engine("pocketsphinx", bundled_index.grammar, bundled_index)


def test_the_endpointer_decides_as_pocketsphinx_own() -> None:
    import pocketsphinx

    clip = np.concatenate([silence(0.5), read_wav(REPEAT), silence(1.0)])
    clip = clip + np.random.default_rng(0).normal(0, 30, clip.size).astype(np.int16)
    theirs = pocketsphinx.Endpointer(window=ENDPOINT_WINDOW_S, ratio=ENDPOINT_RATIO)
    ours = Endpointer(ENDPOINT_WINDOW_S, ENDPOINT_RATIO)
    assert ours.frame_bytes == theirs.frame_bytes
    size = ours.frame_bytes // 2
    changes = 0
    for start in range(0, clip.size - size, size):
        frame = clip[start : start + size].tobytes()
        theirs.process(frame)
        ours.process(frame)
        assert (ours.in_speech, ours.speech_start, ours.speech_end) == (
            theirs.in_speech, theirs.speech_start, theirs.speech_end,
        )  # fmt: skip
        changes += ours.in_speech
    assert changes  # the clip's speech was found
    ours.close()
    with pytest.raises(ValueError, match="closed"):
        ours.process(frame)


def test_decoded_utterances_keep_no_endpointer(engine: Engine, bundled_index: CommandIndex) -> None:
    """pocketsphinx's own Endpointer kept about 21 kB per recording and per reset, for ever."""
    gc.collect()
    before = live_endpointers()
    recognizer = Recognizer(engine, endpointer="energy")
    clip = np.concatenate([read_wav(REPEAT), silence(1.0)])
    decoded = 0
    for _ in range(20):
        for start in range(0, clip.size, 320):
            decoded += sum(u.final for u in recognizer.accept(clip[start : start + 320]))
        recognizer.reset()  # as when the coach starts talking
        heard = hear_file(REPEAT, engine, bundled_index)  # a new recogniser each time
        decoded += len(heard.heard)
    gc.collect()
    assert decoded >= 40
    # The live recogniser's own (hear_file uses Silero's, reused and reset, not pocketsphinx's).
    assert live_endpointers() - before == 1


def test_a_scripted_session_of_many_recordings_does_not_grow(
    engine: Engine, bundled_catalog: Catalog, bundled_index: CommandIndex
) -> None:
    events = tuple(
        TimelineEvent(at=20.0 + 10.0 * n, on=None, nth=1, delay=0.0, say=None, audio=REPEAT)
        for n in range(30)
    )
    timeline = Timeline((RoutineItem("childs-pose"), RoutineItem("bridge")), events)
    gc.collect()
    before = live_endpointers()
    log = io.StringIO()
    runner = ScriptedRun(
        bundled_catalog, bundled_index, timeline, MuteSpeaker(), JsonLog(log),
        engine_factory=lambda: engine, until_s=400.0, show=lambda _: None,
    )  # fmt: skip
    runner.run()
    gc.collect()
    logged = [json.loads(line)["event"] for line in log.getvalue().splitlines()]
    assert logged.count("audio") == 30
    assert logged.count("heard") + logged.count("gated") >= 30  # every recording decoded
    assert live_endpointers() == before
    assert runner.now > 3 * GATE_MEMORY_S
    assert all(s.end_s > runner.now - 2 * GATE_MEMORY_S for s in runner.gate.spans)
    assert runner._phase_times == {}  # no event waits for a phase


def test_the_gate_remembers_only_the_last_minute() -> None:
    gate = HalfDuplexGate()
    for n in range(10_000):
        gate.speak(n * 3.0, 1.0)
    assert len(gate.spans) <= GATE_MEMORY_S / 3.0 + 2
    assert not gate.is_open(29_997.5) and gate.is_open(29_999.0)


class ToneSpeaker(WavSpeaker):
    """espeak-ng's part replaced by a second of tone: what is kept is what is tested."""

    def synthesize(self, text: str) -> np.ndarray:
        return (1000 * np.sin(np.arange(SAMPLE_RATE) / 5)).astype(np.int16)


def test_speak_to_writes_as_it_goes_and_keeps_no_audio(tmp_path: Path) -> None:
    path = tmp_path / "coach.wav"
    speaker = ToneSpeaker(path)
    held = []
    for n in range(600):  # an hour of session, an utterance every 6 s
        speaker.say(f"Rep {n}.", n * 6.0)
        for step in range(1, 60):
            speaker.speaking(n * 6.0 + step / 10)
        held.append(len(speaker._audio))
    assert max(held) <= 2
    written_before_close = path.stat().st_size
    assert written_before_close > 599 * 6 * SAMPLE_RATE * 2  # on disk already, not in memory
    speaker.close()
    samples = read_wav(path)
    assert samples.size == round((599 * 6.0 + 1.0) * SAMPLE_RATE)
    start = round(300 * 6.0 * SAMPLE_RATE)
    np.testing.assert_array_equal(samples[start : start + SAMPLE_RATE], speaker.synthesize(""))
    assert not samples[start + SAMPLE_RATE : start + 6 * SAMPLE_RATE].any()
