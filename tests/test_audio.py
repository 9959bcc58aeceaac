"""WAV reading: any rate and channel count in, 16 kHz mono int16 out; clear errors."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from voicecoach.hearing.audio import SAMPLE_RATE, AudioError, frames, read_wav, resample, write_wav


def tone(frequency: float, rate: int, seconds: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return 10000 * np.sin(2 * np.pi * frequency * t)


def write(path: Path, data: np.ndarray, rate: int, channels: int = 1, width: int = 2) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        if width == 2:
            wav.writeframes(data.astype("<i2").tobytes())
        else:  # 8-bit unsigned
            wav.writeframes((data / 256 + 128).astype(np.uint8).tobytes())
    return path


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000])
def test_any_rate_becomes_16k_with_the_tone_kept(tmp_path: Path, rate: int) -> None:
    samples = read_wav(write(tmp_path / "a.wav", tone(440, rate), rate))
    assert samples.dtype == np.int16
    assert abs(samples.size - SAMPLE_RATE // 2) <= 1
    middle = samples[1000:-1000]
    assert rms(middle) == pytest.approx(10000 / np.sqrt(2), rel=0.02)
    spectrum = np.abs(np.fft.rfft(middle))
    peak_hz = np.argmax(spectrum) * SAMPLE_RATE / middle.size
    assert peak_hz == pytest.approx(440, abs=5)


def test_content_above_8k_is_filtered_not_aliased() -> None:
    high = resample(tone(12000, 48000), 48000, SAMPLE_RATE)
    assert rms(high[500:-500]) < 0.02 * 10000


def test_stereo_is_mixed_to_mono(tmp_path: Path) -> None:
    left = tone(440, SAMPLE_RATE)
    stereo = np.stack([left, -left], axis=1).reshape(-1)  # opposite phases cancel
    samples = read_wav(write(tmp_path / "s.wav", stereo, SAMPLE_RATE, channels=2))
    assert rms(samples) < 1


def test_8_bit(tmp_path: Path) -> None:
    samples = read_wav(write(tmp_path / "b.wav", tone(440, 8000), 8000, width=1))
    assert rms(samples[500:-500]) == pytest.approx(10000 / np.sqrt(2), rel=0.05)


def test_round_trip(tmp_path: Path) -> None:
    original = np.arange(-1000, 1000, dtype=np.int16)
    write_wav(tmp_path / "r.wav", original)
    assert np.array_equal(read_wav(tmp_path / "r.wav"), original)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a readable WAV file"),
        (b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk", "not a readable WAV file"),
        (b"this is a text file, not audio", "not a readable WAV file"),
    ],
)
def test_corrupt_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(AudioError, match=message) as caught:
        read_wav(path)
    assert str(caught.value).startswith(str(path))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="no such file"):
        read_wav(tmp_path / "nope.wav")


def test_frames_pad_the_last_one() -> None:
    chunks = list(frames(np.ones(50, np.int16), 20))
    assert [c.size for c in chunks] == [20, 20, 20]
    assert chunks[-1][10:].tolist() == [0] * 10


@pytest.mark.parametrize(
    ("format_", "subtype", "tolerance"),
    [
        ("WAVEX", "PCM_16", 0.01),  # WAVE_FORMAT_EXTENSIBLE, as many recorders write
        ("WAV", "FLOAT", 0.01),  # 32-bit float
        ("WAVEX", "FLOAT", 0.01),
        ("WAV", "DOUBLE", 0.01),
        ("WAV", "ALAW", 0.03),  # telephone-style companded 8-bit
        ("WAV", "ULAW", 0.03),
        ("WAV", "PCM_24", 0.01),
        ("WAVEX", "PCM_32", 0.01),
    ],
)
def test_wav_encodings_are_read(
    tmp_path: Path, format_: str, subtype: str, tolerance: float
) -> None:
    import soundfile

    path = tmp_path / f"{format_}-{subtype}.wav"
    stereo = np.stack([tone(440, 44100), tone(440, 44100)], axis=1) / 32768
    soundfile.write(str(path), stereo, 44100, format=format_, subtype=subtype)
    samples = read_wav(path)
    assert samples.dtype == np.int16 and abs(samples.size - SAMPLE_RATE // 2) <= 1
    middle = samples[1000:-1000]
    assert rms(middle) == pytest.approx(10000 / np.sqrt(2), rel=tolerance)
    peak_hz = np.argmax(np.abs(np.fft.rfft(middle))) * SAMPLE_RATE / middle.size
    assert peak_hz == pytest.approx(440, abs=5)


def test_16_bit_pcm_is_read_exactly(tmp_path: Path) -> None:
    original = (np.arange(-32768, 32768, 7)).astype(np.int16)
    write_wav(tmp_path / "pcm.wav", original)
    np.testing.assert_array_equal(read_wav(tmp_path / "pcm.wav"), original)


def test_a_float_wav_out_of_range_or_nan_is_clipped(tmp_path: Path) -> None:
    import soundfile

    path = tmp_path / "loud.wav"
    soundfile.write(str(path), np.array([2.0, -2.0, np.nan, 0.5]), SAMPLE_RATE, subtype="FLOAT")
    assert read_wav(path).tolist() == [32767, -32768, 0, 16384]


def test_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="is a folder"):
        read_wav(tmp_path)
    with pytest.raises(AudioError, match="not a regular file"):
        read_wav("/dev/zero")
