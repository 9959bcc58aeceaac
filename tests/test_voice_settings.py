"""The coach's voice by flags and by voice: --rate, --volume, "louder", "softer", "slower",
"faster"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.test_bargein import needs_espeak
from voicecoach.core.speech import VoiceSettings
from voicecoach.hearing.audio import read_wav
from voicecoach.speaking.speakers import WavSpeaker
from voicecoach.testing import assert_one_line_error, read_log, run_cli


@needs_espeak
def test_a_wav_speaker_takes_the_new_rate_and_volume(tmp_path: Path) -> None:
    speaker = WavSpeaker(tmp_path / "coach.wav", 165)
    normal = speaker.say("Rep 1 of 10. Hold for 5 seconds.", 0.0)
    speaker.adjust(VoiceSettings(120, 0.4))
    slow = speaker.say("Rep 1 of 10. Hold for 5 seconds.", 10.0)
    speaker.close()
    assert slow > normal * 1.2
    samples = read_wav(tmp_path / "coach.wav").astype(np.float64)
    first = np.abs(samples[: round(normal * 16000)]).max()
    second = np.abs(samples[160000 : 160000 + round(slow * 16000)]).max()
    assert second / first == pytest.approx(0.4, abs=0.05)


def test_rate_and_volume_flags_are_checked() -> None:
    assert_one_line_error(run_cli("run", "--text", "--rate", "50"), "--rate", "50")
    assert_one_line_error(run_cli("run", "--text", "--volume", "2"), "--volume", "2")
    assert_one_line_error(run_cli("run", "--text", "--volume", "nan"), "--volume")


def test_louder_by_voice_in_a_session(tmp_path: Path) -> None:
    log = tmp_path / "run.jsonl"
    typed = run_cli(
        "run", "--text", "--mute", "--rate", "150", "--volume", "0.6", "--log", str(log),
        stdin="louder\nslower\nstop\nyes\n",
    )  # fmt: skip
    assert typed.returncode == 0, typed.stderr
    assert "coach: Okay, louder. Is this better?" in typed.stdout
    voices = [e for e in read_log(log) if e["event"] == "voice"]
    assert [(e["rate_wpm"], e["volume"]) for e in voices] == [(150, 0.8), (130, 0.8)]
