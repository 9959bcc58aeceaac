"""Speech out: the estimate against real espeak-ng renderings, the WAV timeline, the silent
speaker, the half-duplex gate, and pyttsx3 with its real espeak-ng driver (played through a
stand-in `aplay` where the test needs to see what is played)."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import pytest

from voicecoach.core.errors import VoiceCoachError
from voicecoach.core.gate import GATE_TAIL_S, HalfDuplexGate
from voicecoach.core.speech import DEFAULT_RATE_WPM, VoiceSettings, estimate_speech_s
from voicecoach.hearing.audio import SAMPLE_RATE, Samples, read_wav, silence, write_wav
from voicecoach.speaking.speakers import (
    MuteSpeaker,
    Pyttsx3Speaker,
    Speaker,
    VoiceError,
    WavSpeaker,
)

ESTIMATE_TOLERANCE: Final = 0.40
"""Largest relative error allowed between estimate_speech_s and a real espeak-ng rendering."""
# None of these were among the sentences the estimate's constants were fitted on.
UNSEEN_SENTENCES: Final = (
    "Slide your heels away until your legs are straight.",
    "Good. Now the other side.",
    "Keep breathing, and relax your shoulders.",
    "Rep 7 of 12.",
    "Gently rock your knees from side to side.",
    "Squeeze your buttocks; lift your hips off the mat.",
)
SYNC_TIMEOUT_S: Final = 10.0
"""Longest a test waits for the stand-in aplay to report (never reached when things work)."""


def espeak_render(text: str, rate: int) -> Samples:
    """`text` rendered by the espeak-ng program directly, independently of the speakers."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "espeak.wav"
        command = ["espeak-ng", "-s", str(rate), "-w", str(path), "--stdin"]
        subprocess.run(command, input=text.encode(), check=True, timeout=30)
        return read_wav(path)


def assert_one_line(error: VoiceCoachError) -> str:
    message = str(error)
    assert message and "\n" not in message
    return message


# Checked by mypy: every speaker class satisfies the Speaker protocol.
SPEAKER_CLASSES: Final[tuple[Callable[..., Speaker], ...]] = (
    MuteSpeaker,
    WavSpeaker,
    Pyttsx3Speaker,
)


def test_timeline_speakers_stop_through_the_protocol(tmp_path: Path) -> None:
    """What the app shell sees: say, speaking, stop() with no time (the latest one), close."""
    speakers: list[Speaker] = [MuteSpeaker(), WavSpeaker(tmp_path / "coach.wav")]
    for speaker in speakers:
        assert speaker.say("Rest.", 1.0) > 0
        assert speaker.speaking(1.1)
        speaker.stop()
        assert not speaker.speaking(1.1)
        speaker.close()


# estimate_speech_s


def test_estimate_grows_with_words_and_pauses() -> None:
    one = estimate_speech_s("Rest.")
    two = estimate_speech_s("Rest now.")
    three = estimate_speech_s("Rest now, then breathe.")
    assert 0 < one < two < three
    assert estimate_speech_s("Hold, then breathe.") > estimate_speech_s("Hold then breathe.")
    assert estimate_speech_s("Rest. Breathe.") > estimate_speech_s("Rest breathe.")
    assert estimate_speech_s("Take a deep diaphragmatic breath.") > estimate_speech_s(
        "Take a deep slow breath."
    )


def test_estimate_reads_numbers_as_words_and_scales_with_rate() -> None:
    assert estimate_speech_s("Hold for 20 seconds.") == estimate_speech_s(
        "Hold for twenty seconds."
    )
    text = "Lie on your back with your knees bent."
    assert estimate_speech_s(text, 200) == pytest.approx(estimate_speech_s(text, 100) / 2)
    assert estimate_speech_s(text) == estimate_speech_s(text, DEFAULT_RATE_WPM)


def test_estimate_of_nothing_to_say_is_zero() -> None:
    assert estimate_speech_s("") == 0.0
    assert estimate_speech_s("  ... !") == 0.0
    with pytest.raises(ValueError):
        estimate_speech_s("Rest.", 0)


@pytest.mark.parametrize("rate", [140, DEFAULT_RATE_WPM, 200])
def test_estimate_is_close_to_real_espeak_speech(rate: int) -> None:
    for text in UNSEEN_SENTENCES:
        real = espeak_render(text, rate).size / SAMPLE_RATE
        estimate = estimate_speech_s(text, rate)
        assert abs(estimate - real) <= ESTIMATE_TOLERANCE * real, (text, rate, real, estimate)


# WavSpeaker


def test_wav_speaker_places_utterances_at_their_sample_offsets(tmp_path: Path) -> None:
    first, second = "Lie on your back.", "Switch sides."
    expected_first = espeak_render(first, DEFAULT_RATE_WPM)
    expected_second = espeak_render(second, DEFAULT_RATE_WPM)
    out = tmp_path / "coach.wav"
    with WavSpeaker(out) as speaker:
        assert speaker.say(first, 0.5) == expected_first.size / SAMPLE_RATE
        assert speaker.say(second, 5.0) == expected_second.size / SAMPLE_RATE
        timeline = speaker.rendered()
    start_first, start_second = 8_000, 80_000
    assert timeline.size == start_second + expected_second.size
    np.testing.assert_array_equal(
        timeline[start_first : start_first + expected_first.size], expected_first
    )
    np.testing.assert_array_equal(timeline[start_second:], expected_second)
    # Silent where nothing was said: before the first and between the two.
    assert not timeline[:start_first].any()
    assert not timeline[start_first + expected_first.size : start_second].any()
    np.testing.assert_array_equal(read_wav(out), timeline)


def test_wav_speaker_queues_an_overlapping_utterance_after_the_previous(tmp_path: Path) -> None:
    with WavSpeaker(tmp_path / "coach.wav") as speaker:
        first = speaker.say("Bring your knee to your chest.", 1.0)
        second = speaker.say("Hold.", 1.0 + first / 2)  # asked for while the first still plays
        spoken = speaker.spoken
        timeline = speaker.rendered()
    assert spoken[1].start_s == spoken[0].end_s == 1.0 + first
    second_start = round(spoken[1].start_s * SAMPLE_RATE)
    assert timeline.size == second_start + round(second * SAMPLE_RATE)
    np.testing.assert_array_equal(timeline[second_start:], espeak_render("Hold.", DEFAULT_RATE_WPM))
    assert speaker.speaking(1.0)
    assert speaker.speaking(1.0 + first + second / 2)
    assert not speaker.speaking(0.99)
    assert not speaker.speaking(1.0 + first + second)


def test_wav_speaker_stop_cuts_the_timeline_and_drops_what_is_queued(tmp_path: Path) -> None:
    with WavSpeaker(tmp_path / "coach.wav") as speaker:
        speaker.say("Slowly lower your hips back down to the mat.", 0.0)
        speaker.say("Rest.", 0.0)  # queued behind the first
        speaker.stop(1.0)
        assert [s.text for s in speaker.spoken] == ["Slowly lower your hips back down to the mat."]
        assert speaker.rendered().size == SAMPLE_RATE
        assert not speaker.speaking(1.0)
        # Without a time, the cut is at the latest session time the speaker was given.
        speaker.say("Next exercise.", 3.0)
        assert speaker.speaking(3.2)
        speaker.stop()
        assert speaker.spoken[-1].start_s == 3.0
        assert speaker.spoken[-1].end_s == 3.2
        assert speaker.rendered().size == round(3.2 * SAMPLE_RATE)


def test_wav_speaker_says_nothing_for_empty_text(tmp_path: Path) -> None:
    with WavSpeaker(tmp_path / "coach.wav") as speaker:
        assert speaker.say("", 1.0) == 0.0
        assert speaker.say(" , ", 1.0) == 0.0
        assert speaker.rendered().size == 0
    assert read_wav(tmp_path / "coach.wav").size == 0


def test_wav_speaker_errors_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    speaker = WavSpeaker(tmp_path / "coach.wav", voice="nosuchvoice")
    with pytest.raises(VoiceError) as error:
        speaker.say("Rest.", 0.0)
    speaker.close()
    assert "espeak-ng failed" in assert_one_line(error.value)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(VoiceError) as missing:
        WavSpeaker(tmp_path / "coach.wav")
    assert "apt-get install espeak-ng" in assert_one_line(missing.value)


# MuteSpeaker


def test_mute_speaker_takes_the_estimated_time() -> None:
    speaker: Speaker = MuteSpeaker()
    text = "Lie on your back with your knees bent."
    duration = speaker.say(text, 2.0)
    assert duration == estimate_speech_s(text)
    assert not speaker.speaking(1.9)
    assert speaker.speaking(2.0)
    assert speaker.speaking(2.0 + duration - 0.01)
    assert not speaker.speaking(2.0 + duration)
    assert speaker.say("", 3.0) == 0.0
    speaker.close()


def test_mute_speaker_queues_and_stops() -> None:
    speaker = MuteSpeaker()
    first = speaker.say("Bring both knees to your chest.", 0.0)
    second = speaker.say("Hold.", 0.5)
    assert speaker.spoken[1].start_s == first
    assert speaker.speaking(first + second / 2)
    speaker.stop(0.5)
    assert not speaker.speaking(0.5)
    assert [s.text for s in speaker.spoken] == ["Bring both knees to your chest."]
    speaker.say("Rest.", 10.0)
    assert speaker.speaking(10.1)
    speaker.stop()  # at the latest time it was given: 10.1
    assert not speaker.speaking(10.1)
    assert speaker.spoken[-1].duration_s == pytest.approx(0.1)


# HalfDuplexGate


def test_gate_is_closed_while_the_coach_speaks_and_for_the_tail() -> None:
    assert 0 < GATE_TAIL_S < 1
    gate = HalfDuplexGate()
    assert gate.speak(10.0, 2.0) == 12.0
    assert gate.is_open(9.99)
    assert not gate.is_open(10.0)
    assert not gate.is_open(11.0)
    assert not gate.is_open(12.0)
    assert not gate.is_open(12.0 + GATE_TAIL_S - 0.001)
    assert gate.is_open(12.0 + GATE_TAIL_S)
    assert gate.reopens_at(11.0) == 12.0 + GATE_TAIL_S
    assert gate.reopens_at(9.0) == 9.0
    assert gate.reopens_at(20.0) == 20.0


def test_gate_stays_closed_across_a_gap_shorter_than_the_tail() -> None:
    gate = HalfDuplexGate(tail_s=0.5)
    gate.speak(0.0, 1.0)
    gate.speak(1.2, 1.0)  # 0.2 s after the first: too short to listen
    gate.speak(5.0, 1.0)
    assert not gate.is_open(1.1)
    assert gate.reopens_at(0.5) == 2.7
    assert gate.is_open(2.7)
    assert gate.reopens_at(5.5) == 6.5


def test_gate_queues_overlapping_speech_and_is_cut_by_stop() -> None:
    gate = HalfDuplexGate()
    assert gate.speak(0.0, 2.0) == 2.0
    assert gate.speak(1.0, 2.0) == 4.0  # said after the first, as the speakers do
    assert gate.speak(1.0, 0.0) == 4.0
    assert gate.reopens_at(0.0) == 4.0 + GATE_TAIL_S
    gate.cut(1.5)
    assert [(s.start_s, s.end_s) for s in gate.spans] == [(0.0, 1.5)]
    assert not gate.is_open(1.5)
    assert gate.reopens_at(1.5) == 1.5 + GATE_TAIL_S


def test_gate_follows_a_speaker_that_outlasts_its_estimate() -> None:
    gate = HalfDuplexGate()
    gate.speak(0.0, 1.0)
    gate.still_speaking(1.2)  # inside the tail: the same talk running on
    assert gate.reopens_at(1.2) == 1.2 + GATE_TAIL_S
    gate.still_speaking(5.0)  # the gate had opened: a new span
    assert not gate.is_open(5.0)
    assert gate.reopens_at(5.0) == 5.0 + GATE_TAIL_S
    assert gate.is_open(3.0)


# Pyttsx3Speaker


def aplay_works_here() -> bool:
    """Whether this machine can play sound the way pyttsx3 does on Linux (with aplay)."""
    player = shutil.which("aplay")
    if player is None:
        return False
    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / "silence.wav"
        write_wav(probe, silence(0.05))
        return subprocess.run([player, "-q", str(probe)], capture_output=True).returncode == 0


def test_pyttsx3_speaker_starts_exactly_when_this_machine_can_play_sound() -> None:
    """Tried for real: with no aplay or no output device (CI) it must refuse in one line that
    says what to do; where sound can be played it must start, say and close."""
    can_play = aplay_works_here()
    try:
        speaker = Pyttsx3Speaker(volume=0.0)
    except VoiceError as error:
        message = assert_one_line(error)
        assert not can_play, message
        if shutil.which("aplay") is None:
            assert "apt-get install alsa-utils" in message
        else:
            assert message.startswith("no audio output")
        return
    with speaker:
        assert speaker.say("Rest.", 0.0) > 0
    assert can_play
    assert speaker.spoken == ("Rest.",)


@dataclass(frozen=True)
class FakeAplay:
    """A stand-in `aplay` first on PATH that keeps a copy of every file it is asked to play."""

    played: Path
    """Folder of the copies, 000.wav, 001.wav, ... in the order played."""
    started: Path
    """A FIFO it writes a line to when it starts playing an utterance (when `hold` is set)."""
    hold: Path
    """A FIFO it reads a line from before it finishes an utterance (when `hold` is set)."""

    def recordings(self) -> list[Samples]:
        return [read_wav(path) for path in sorted(self.played.glob("*.wav"))]


def install_fake_aplay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, hold: bool = False, fail: str = ""
) -> FakeAplay:
    bin_dir, played = tmp_path / "bin", tmp_path / "played"
    bin_dir.mkdir()
    played.mkdir()
    fake = FakeAplay(played, tmp_path / "started", tmp_path / "hold")
    if hold:
        os.mkfifo(fake.started)
        os.mkfifo(fake.hold)
    failing = f'echo "{fail}" >&2; exit 1' if fail else ""
    script = f"""#!/bin/sh
{failing}
for arg in "$@"; do case "$arg" in *.wav) file="$arg";; esac; done
n=$(ls "{played}" | wc -l)
cp "$file" "{played}/$(printf %03d "$n").wav"
# Call 0 is the speaker's start-up probe; utterances can be held from call 1 on.
if [ "$n" -ge 1 ] && [ -p "{fake.hold}" ]; then
  echo "$n" > "{fake.started}"
  read line < "{fake.hold}"
fi
"""
    aplay = bin_dir / "aplay"
    aplay.write_text(script)
    aplay.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return fake


def test_pyttsx3_speaker_plays_every_utterance_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = install_fake_aplay(tmp_path, monkeypatch)
    texts = ["Lie on your back.", "Rest.", "Hold for 20 seconds."]
    with Pyttsx3Speaker() as speaker:
        durations = [speaker.say(text, 0.0) for text in texts]
        assert speaker.say("", 0.0) == 0.0
    assert not speaker.speaking(0.0)
    assert speaker.spoken == tuple(texts)
    probe, *utterances = fake.recordings()
    assert probe.size > 0 and not probe.any()  # start-up checked the device with silence
    assert len(utterances) == len(texts)
    for text, samples, duration in zip(texts, utterances, durations, strict=True):
        real = samples.size / SAMPLE_RATE
        assert abs(duration - real) <= ESTIMATE_TOLERANCE * real, (
            f"{text!r} played for {real:.3f} s, estimated {duration:.3f} s"
        )
        assert np.abs(samples.astype(np.int32)).max() > 1000  # speech, not silence
    with pytest.raises(RuntimeError):
        speaker.say("Rest.", 0.0)


def test_pyttsx3_speaker_never_cancels_the_rate_it_has_just_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libespeak-ng sets a property in its own thread; pyttsx3's run loop cancels whatever it
    has not finished (see Pyttsx3Speaker). Here libespeak-ng reports itself busy for a while
    after every property, as a loaded machine can leave it: no cancel may come, and every
    utterance plays at the speaker's rate, the one it is changed to included."""
    from pyttsx3.drivers import _espeak

    fake = install_fake_aplay(tmp_path, monkeypatch)
    busy_until = [0.0]
    cancels: list[float] = []
    real_set, real_playing, real_cancel = _espeak.SetParameter, _espeak.IsPlaying, _espeak.Cancel

    def slow_set(*args: object) -> object:
        busy_until[0] = time.monotonic() + 0.05
        return real_set(*args)

    def playing() -> int:
        return 1 if time.monotonic() < busy_until[0] else int(real_playing())

    def cancel() -> object:
        cancels.append(time.monotonic())
        return real_cancel()

    monkeypatch.setattr(_espeak, "SetParameter", slow_set)
    monkeypatch.setattr(_espeak, "IsPlaying", playing)
    monkeypatch.setattr(_espeak, "Cancel", cancel)
    texts = ["Rest.", "Rest."]
    with Pyttsx3Speaker(rate=DEFAULT_RATE_WPM) as speaker:
        first = speaker.say(texts[0], 0.0)
        while speaker.speaking(0.0):  # the change must come between the two utterances
            time.sleep(0.01)
        speaker.adjust(VoiceSettings(rate_wpm=120, volume=1.0))
        second = speaker.say(texts[1], 0.0)
    assert cancels == []
    _probe, *utterances = fake.recordings()
    played = [samples.size / SAMPLE_RATE for samples in utterances]
    assert len(played) == 2
    for text, real, estimate in zip(texts, played, (first, second), strict=True):
        assert abs(estimate - real) <= ESTIMATE_TOLERANCE * real, (
            f"{text!r} played for {real:.3f} s, estimated {estimate:.3f} s"
        )
    assert played[1] > 1.2 * played[0]  # slower: 120 words per minute, not 165


def test_pyttsx3_speaker_stop_drops_the_queue_and_say_never_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = install_fake_aplay(tmp_path, monkeypatch, hold=True)
    started = os.open(fake.started, os.O_RDONLY | os.O_NONBLOCK)
    playing = False
    try:
        with Pyttsx3Speaker() as speaker:
            try:
                for text in ("Lie on your back.", "Rest.", "Good."):
                    speaker.say(text, 0.0)  # returns while nothing has been played yet
                assert not speaker.spoken
                assert speaker.speaking(0.0)
                ready, _, _ = select.select([started], [], [], SYNC_TIMEOUT_S)
                playing = bool(ready)
                assert playing, "the first utterance never started playing"
                assert os.read(started, 16).strip() == b"1"
                speaker.stop()
                assert speaker.speaking(0.0)  # aplay cannot be cut short: it plays to its end
            finally:
                if playing:
                    with fake.hold.open("w") as hold:  # lets the first utterance finish
                        hold.write("done\n")
                else:
                    fake.hold.unlink()  # so that no later call waits for a release
        assert speaker.spoken == ("Lie on your back.",)
        assert not speaker.speaking(0.0)
        assert len(fake.recordings()) == 2  # the probe and the first utterance only
    finally:
        os.close(started)


def test_pyttsx3_speaker_refuses_a_machine_without_sound_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_fake_aplay(
        tmp_path, monkeypatch, fail="aplay: main:831: audio open error: No such file or directory"
    )
    with pytest.raises(VoiceError) as error:
        Pyttsx3Speaker()
    message = assert_one_line(error.value)
    assert message.startswith("no audio output")
    assert "audio open error" in message and "--mute" in message
    monkeypatch.setenv("PATH", str(tmp_path / "played"))  # no aplay at all
    with pytest.raises(VoiceError) as missing:
        Pyttsx3Speaker()
    assert "apt-get install alsa-utils" in assert_one_line(missing.value)
