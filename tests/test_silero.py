"""Silero VAD through ONNX Runtime, and what a user sees when its model is missing."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from voicecoach.core.errors import VoiceCoachError
from voicecoach.hearing.asr import silero
from voicecoach.hearing.asr.onnx_weights import read_onnx_weights
from voicecoach.hearing.asr.silero import CHUNK_SAMPLES, SileroVad
from voicecoach.hearing.audio import read_wav, silence

AUDIO = Path(__file__).parent / "audio"
ROOT = Path(__file__).parent.parent


def probabilities(vad: SileroVad, samples: np.ndarray) -> list[float]:
    return [
        vad(samples[start : start + CHUNK_SAMPLES].tobytes())
        for start in range(0, samples.size - CHUNK_SAMPLES + 1, CHUNK_SAMPLES)
    ]


def test_speech_is_speech_and_silence_is_not() -> None:
    vad = SileroVad()
    speech = read_wav(next(AUDIO.glob("en/start again@*.wav")))
    assert max(probabilities(vad, speech)) > 0.9
    vad.reset()
    assert max(probabilities(vad, silence(1.0))) < 0.1


def test_reset_forgets_what_was_heard() -> None:
    vad = SileroVad()
    speech = read_wav(next(AUDIO.glob("en/start again@*.wav")))
    first = probabilities(vad, speech)
    vad.reset()
    assert probabilities(vad, speech) == first


def test_a_chunk_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(ValueError, match="512"):
        SileroVad()(bytes(100))


def test_a_missing_model_package_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> metadata.Distribution:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", missing)
    with pytest.raises(VoiceCoachError) as raised:
        SileroVad()
    message = str(raised.value)
    assert "\n" not in message
    assert f"pip install --no-deps silero-vad=={silero.MODEL_VERSION}" in message


def test_a_corrupt_model_file_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "silero_vad.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(VoiceCoachError, match="not an ONNX model") as raised:
        SileroVad(broken)
    assert str(broken) in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_truncated_model_file_is_a_clear_error(tmp_path: Path) -> None:
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(silero.model_path().read_bytes()[:100_000])
    with pytest.raises(VoiceCoachError, match="not an ONNX model"):
        SileroVad(cut)


def test_another_onnx_model_is_not_taken_for_silero(tmp_path: Path) -> None:
    weights = read_onnx_weights(silero.model_path())
    assert weights["model.decoder.rnn.weight_ih"].shape == (512, 128)
    assert weights["model.stft.forward_basis_buffer"].dtype == np.float32
    # A model file that holds only its graph, no weights: a protocol buffer with field 7 empty.
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(bytes([7 << 3 | 2, 0]))
    with pytest.raises(VoiceCoachError, match="not a Silero VAD model"):
        SileroVad(empty)


def test_a_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(VoiceCoachError, match="cannot read the model"):
        SileroVad(tmp_path / "nothing.onnx")


def test_the_makefile_installs_the_model_version_the_code_names() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert f"SILERO_MODEL := {silero.MODEL_PACKAGE}=={silero.MODEL_VERSION}" in makefile
