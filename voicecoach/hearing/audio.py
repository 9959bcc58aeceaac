"""Audio in and out as 16 kHz mono int16: WAV files of any rate and channel count, and the
microphone through sounddevice (imported only when used)."""

from __future__ import annotations

import contextlib
import queue
import stat
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from voicecoach.core.errors import VoiceCoachError

SAMPLE_RATE: Final = 16_000
FRAME_MS: Final = 20
FRAME_SAMPLES: Final = SAMPLE_RATE * FRAME_MS // 1000
# Half-width of the windowed-sinc resampling filter, in input samples at the lower rate.
RESAMPLE_TAPS: Final = 32

Samples = npt.NDArray[np.int16]


class AudioError(VoiceCoachError):
    """An audio file that cannot be read, or an audio device that cannot be opened."""


def to_int16(signal: npt.NDArray[np.floating] | npt.NDArray[np.integer]) -> Samples:
    return np.clip(np.round(signal), -32768, 32767).astype(np.int16)


def resample(
    signal: npt.NDArray[np.float64], rate_in: int, rate_out: int
) -> npt.NDArray[np.float64]:
    """Band-limited resampling (windowed sinc, Hann window) from `rate_in` to `rate_out`."""
    if rate_in == rate_out or signal.size == 0:
        return signal
    duration = signal.size / rate_in
    count = round(duration * rate_out)
    cutoff = min(rate_in, rate_out) / 2
    times = np.arange(count) / rate_out * rate_in  # output instants, in input samples
    width = RESAMPLE_TAPS * rate_in / min(rate_in, rate_out)
    out = np.empty(count)
    offsets = np.arange(-int(width), int(width) + 1)
    block = 4096
    for start in range(0, count, block):
        t = times[start : start + block]
        base = np.floor(t).astype(np.int64)
        index = base[:, None] + offsets[None, :]
        distance = t[:, None] - index
        window = 0.5 + 0.5 * np.cos(np.pi * np.clip(distance / (width + 1), -1, 1))
        kernel = (2 * cutoff / rate_in) * np.sinc(2 * cutoff / rate_in * distance) * window
        valid = (index >= 0) & (index < signal.size)
        taps = np.where(valid, signal[np.clip(index, 0, signal.size - 1)], 0.0)
        out[start : start + block] = np.sum(taps * kernel, axis=1)
    return out


def read_wav(path: Path | str) -> Samples:
    """An audio file as 16 kHz mono int16: any WAV (PCM 8/16/24/32-bit, 32/64-bit float, A-law,
    mu-law, WAVE_FORMAT_EXTENSIBLE; any rate, any channels), or another format libsndfile reads
    (FLAC, Ogg), through soundfile."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise AudioError("no such file", path=path) from None
    except OSError as error:
        raise AudioError(f"cannot read: {error.strerror or error}", path=path) from None
    if stat.S_ISDIR(info.st_mode):
        raise AudioError("is a folder, not a WAV file", path=path)
    if not stat.S_ISREG(info.st_mode):
        raise AudioError("not a regular file (a device or a pipe?)", path=path)
    soundfile = _load_soundfile()
    try:
        data, rate = soundfile.read(str(path), dtype="float64", always_2d=True)
    except (RuntimeError, ValueError, TypeError) as error:  # LibsndfileError is a RuntimeError
        detail = " ".join(str(error).split()) or type(error).__name__
        raise AudioError(f"not a readable WAV file ({detail})", path=path) from None
    except OSError as error:
        raise AudioError(f"cannot read: {error.strerror or error}", path=path) from None
    if rate <= 0 or data.shape[1] == 0:
        raise AudioError("WAV header has no sample rate or channels", path=path)
    # Full scale is 1.0 in soundfile's floats: 32768 in 16-bit steps (so 16-bit input is exact).
    mono = np.nan_to_num(data.mean(axis=1) * 32768.0, nan=0.0, posinf=32767.0, neginf=-32768.0)
    return to_int16(resample(mono, int(rate), SAMPLE_RATE))


def _load_soundfile() -> Any:
    """The soundfile module (libsndfile is inside its wheel); AudioError when it cannot load."""
    try:
        import soundfile
    except (ImportError, OSError) as error:
        raise AudioError(f"cannot read audio files ({error}): pip install soundfile") from None
    return soundfile


def write_wav(path: Path | str, samples: Samples, rate: int = SAMPLE_RATE) -> None:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(path), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(rate)
            wav.writeframes(samples.astype("<i2").tobytes())
    except OSError as error:
        raise AudioError(f"cannot write: {error.strerror or error}", path=path) from None


def frames(samples: Samples, size: int = FRAME_SAMPLES) -> Iterator[Samples]:
    """Consecutive frames of `size` samples; the last one is padded with silence."""
    for start in range(0, samples.size, size):
        frame = samples[start : start + size]
        if frame.size < size:
            frame = np.concatenate([frame, np.zeros(size - frame.size, np.int16)])
        yield frame


def silence(seconds: float) -> Samples:
    return np.zeros(round(seconds * SAMPLE_RATE), np.int16)


def active_rms(samples: Samples) -> float:
    """RMS over the 20 ms frames that carry speech (louder than 1/30 of the loudest frame)."""
    x = samples.astype(np.float64)
    usable = x[: x.size - x.size % FRAME_SAMPLES].reshape(-1, FRAME_SAMPLES)
    if usable.size == 0:
        return 0.0
    energy = np.sqrt(np.mean(usable**2, axis=1))
    active = energy[energy > energy.max() / 30]
    return float(np.sqrt(np.mean(active**2))) if active.size else 0.0


def close_stream(stream: object | None) -> None:
    """Stops and closes a sounddevice stream (None: nothing to do)."""
    if stream is not None:
        stream.stop()  # type: ignore[attr-defined]
        stream.close()  # type: ignore[attr-defined]


class Microphone:
    """Frames from an input device, as a context manager and an iterator.

    `device` is a sounddevice name (substring) or index; None for the default input."""

    def __init__(self, device: str | int | None = None, frame_samples: int = FRAME_SAMPLES) -> None:
        self.device = device
        self.frame_samples = frame_samples
        self._queue: queue.Queue[bytes] = queue.Queue(maxsize=500)
        self._stream: object | None = None

    def __enter__(self) -> Microphone:
        sounddevice = load_sounddevice()

        def deliver(data: bytes, frame_count: int, time: object, status: object) -> None:
            # When the consumer is too slow, drop audio rather than grow without bound.
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(bytes(data))

        try:
            stream = sounddevice.RawInputStream(
                samplerate=SAMPLE_RATE,
                blocksize=self.frame_samples,
                device=self.device,
                channels=1,
                dtype="int16",
                callback=deliver,
            )
            stream.start()
        except (sounddevice.PortAudioError, ValueError) as error:
            which = "the default input" if self.device is None else f"input device {self.device!r}"
            raise AudioError(f"no microphone: cannot open {which} ({error})") from None
        self._stream = stream
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        stream, self._stream = self._stream, None
        close_stream(stream)

    def reopen(self) -> bool:
        """Closes the stream and opens the device again (after it was unplugged); True when
        it opened. PortAudio's list of devices is refreshed first, so a device plugged in
        again is found."""
        self.__exit__(None, None, None)
        sounddevice = load_sounddevice()
        try:
            sounddevice._terminate()  # the device list is read when PortAudio starts
            sounddevice._initialize()
        except sounddevice.PortAudioError:
            pass  # best effort: the old list may still hold the device
        try:
            self.__enter__()
        except AudioError:
            return False
        return True

    def read_available(self) -> list[Samples]:
        """The frames captured since the last call, without waiting."""
        found = []
        while True:
            try:
                found.append(np.frombuffer(self._queue.get_nowait(), np.int16))
            except queue.Empty:
                return found

    def __iter__(self) -> Iterator[Samples]:
        while self._stream is not None:
            try:
                data = self._queue.get(timeout=1.0)
            except queue.Empty:
                continue
            yield np.frombuffer(data, np.int16)


@dataclass(frozen=True)
class AudioDevice:
    index: int
    name: str
    inputs: int
    """Input channels (0: not a microphone)."""
    outputs: int
    """Output channels (0: not a speaker)."""
    default_input: bool
    default_output: bool
    host_api: str


def list_devices() -> list[AudioDevice]:
    """The audio devices PortAudio sees (ALSA, PulseAudio and PipeWire ones on Linux)."""
    sounddevice = load_sounddevice()
    default_in, default_out = sounddevice.default.device
    apis = [str(api["name"]) for api in sounddevice.query_hostapis()]
    found = []
    for index, device in enumerate(sounddevice.query_devices()):
        found.append(
            AudioDevice(
                index=index,
                name=str(device["name"]),
                inputs=int(device["max_input_channels"]),
                outputs=int(device["max_output_channels"]),
                default_input=index == default_in,
                default_output=index == default_out,
                host_api=apis[int(device["hostapi"])] if apis else "",
            )
        )
    return found


def load_sounddevice() -> Any:
    """The sounddevice module; AudioError when the PortAudio library it needs is missing."""
    try:
        import sounddevice
    except OSError as error:
        raise AudioError(
            f"cannot use audio devices ({error}): apt-get install libportaudio2"
        ) from None
    return sounddevice


INPUT_LOST_S: Final = 2.0
"""No audio from the microphone for this long (it sends 50 frames a second): it has gone."""
RECONNECT_EVERY_S: Final = 2.0
"""How often a lost microphone is opened again."""


@dataclass
class InputWatch:
    """Notices live audio that stops coming (an unplugged microphone), opens the input again
    every RECONNECT_EVERY_S while it is gone, and notices when audio comes back. Pure apart from
    `reconnect`: the time is passed in."""

    reconnect: Callable[[], bool] | None = None
    """Tries to open the input again; audio coming again is what tells that it is back."""
    audio_at: float = 0.0
    """When audio last came."""
    lost: bool = False
    _reconnect_at: float = field(default=0.0, repr=False)

    def update(self, now: float, audio_came: bool) -> str | None:
        """ "lost" when the input has just gone, "back" when it has just come back, else None."""
        if audio_came:
            self.audio_at = now
            if self.lost:
                self.lost = False
                return "back"
            return None
        change = None
        if not self.lost and now - self.audio_at >= INPUT_LOST_S:
            self.lost, change = True, "lost"
            self._reconnect_at = now + RECONNECT_EVERY_S
        if self.lost and self.reconnect is not None and now >= self._reconnect_at:
            self._reconnect_at = now + RECONNECT_EVERY_S
            self.reconnect()
        return change
