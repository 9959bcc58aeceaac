"""Acoustic echo cancellation: takes the coach's own voice out of the microphone signal, so a
person can be heard while the coach talks (barge-in) and the coach never hears itself.

SpeexEchoCanceller drives speexdsp (Debian's libspeexdsp1, through ctypes): its multidelay
block frequency-domain adaptive filter learns the path from the speaker to the microphone (the
room, the audio stack's delay) from the reference, the audio the coach played, and subtracts the
estimated echo; its preprocessor then suppresses what echo is left (the filter's misadjustment,
non-linear loudspeaker distortion). Frames are 16 kHz mono int16, microphone and reference
aligned sample for sample as the audio stack gives them (the reference is what was sent to the
speaker at the moment the microphone frame was captured).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Final

import numpy as np

from voicecoach.core.errors import VoiceCoachError
from voicecoach.hearing.audio import SAMPLE_RATE, Samples

FRAME: Final = 160
"""Samples per speexdsp frame (10 ms at 16 kHz)."""
FILTER_S: Final = 0.25
"""Echo path length the filter can model: the audio stack's output latency (50-150 ms) plus the
bulk of a furnished room's reverberation. Longer filters adapt more slowly."""
REFERENCE_SILENCE_RMS: Final = 30.0
"""Reference frames quieter than this (about -61 dBFS) are silence: the filter learns nothing."""
ECHO_SUPPRESS_DB: Final = -40
"""Residual echo suppression when only the coach talks (speexdsp's default is -40 dB)."""
ECHO_SUPPRESS_ACTIVE_DB: Final = -15
"""Residual echo suppression while the person talks too (speexdsp's default -15 dB: more would
eat the person's words)."""
NOISE_SUPPRESS_DB: Final = -15
"""The preprocessor's noise suppression (it runs with the echo suppression; speexdsp's default
is -15 dB)."""

_ECHO_SET_SAMPLING_RATE: Final = 24
_PREPROCESS_SET_NOISE_SUPPRESS: Final = 18
_PREPROCESS_SET_ECHO_SUPPRESS: Final = 20
_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE: Final = 22
_PREPROCESS_SET_ECHO_STATE: Final = 24


class EchoError(VoiceCoachError):
    """Echo cancellation cannot start (speexdsp is missing)."""


def _load_speexdsp() -> ctypes.CDLL:
    name = ctypes.util.find_library("speexdsp") or "libspeexdsp.so.1"
    try:
        library = ctypes.CDLL(name)
    except OSError:
        raise EchoError(
            "echo cancellation needs speexdsp: apt-get install libspeexdsp1 (make setup does)"
        ) from None
    pointer, integer = ctypes.c_void_p, ctypes.c_int
    library.speex_echo_state_init.restype = pointer
    library.speex_echo_state_init.argtypes = [integer, integer]
    library.speex_echo_state_destroy.argtypes = [pointer]
    library.speex_echo_ctl.argtypes = [pointer, integer, pointer]
    library.speex_echo_cancellation.argtypes = [pointer, pointer, pointer, pointer]
    library.speex_echo_state_reset.argtypes = [pointer]
    library.speex_preprocess_state_init.restype = pointer
    library.speex_preprocess_state_init.argtypes = [integer, integer]
    library.speex_preprocess_state_destroy.argtypes = [pointer]
    library.speex_preprocess_ctl.argtypes = [pointer, integer, pointer]
    library.speex_preprocess_run.argtypes = [pointer, pointer]
    return library


class SpeexEchoCanceller:
    """Microphone frames in, the same frames with the coach's voice taken out. Any number of
    samples per call: they are processed 10 ms at a time and the rest kept for the next call
    (the output is FRAME-aligned, so it lags the input by under 10 ms)."""

    def __init__(
        self,
        filter_s: float = FILTER_S,
        suppress: bool = True,
        *,
        echo_suppress_db: int = ECHO_SUPPRESS_DB,
        echo_suppress_active_db: int = ECHO_SUPPRESS_ACTIVE_DB,
        noise_suppress_db: int = NOISE_SUPPRESS_DB,
    ) -> None:
        """`suppress`: run speexdsp's preprocessor after the filter, for residual echo
        suppression (at the given levels; it denoises too, as speexdsp only applies its echo
        suppression with its noise suppression)."""
        self._library = _load_speexdsp()
        self._echo = self._library.speex_echo_state_init(FRAME, round(filter_s * SAMPLE_RATE))
        self._pre: int | None = None
        if not self._echo:
            raise EchoError("speexdsp could not create an echo canceller")
        rate = ctypes.c_int(SAMPLE_RATE)
        self._library.speex_echo_ctl(self._echo, _ECHO_SET_SAMPLING_RATE, ctypes.byref(rate))
        if suppress:
            self._pre = self._library.speex_preprocess_state_init(FRAME, SAMPLE_RATE)
            for request, value in (
                (_PREPROCESS_SET_ECHO_SUPPRESS, echo_suppress_db),
                (_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE, echo_suppress_active_db),
                (_PREPROCESS_SET_NOISE_SUPPRESS, noise_suppress_db),
            ):
                level = ctypes.c_int(value)
                self._library.speex_preprocess_ctl(self._pre, request, ctypes.byref(level))
            self._library.speex_preprocess_ctl(
                self._pre, _PREPROCESS_SET_ECHO_STATE, ctypes.c_void_p(self._echo)
            )
        self._microphone = np.zeros(0, np.int16)
        self._reference = np.zeros(0, np.int16)
        self.learnt_s = 0.0
        """Seconds of the coach's voice (non-silent reference) the filter has learnt from."""

    def process(self, microphone: Samples, reference: Samples) -> Samples:
        """`microphone` with the echo of `reference` (what the speaker played meanwhile, the
        same number of samples) removed."""
        if microphone.size != reference.size:
            raise ValueError(
                f"microphone and reference differ in length: {microphone.size}, {reference.size}"
            )
        if self._echo is None:
            raise RuntimeError("process() on a closed SpeexEchoCanceller")
        mic = np.concatenate([self._microphone, microphone.astype(np.int16)])
        ref = np.concatenate([self._reference, reference.astype(np.int16)])
        whole = mic.size - mic.size % FRAME
        out = np.empty(whole, np.int16)
        for start in range(0, whole, FRAME):
            near = np.ascontiguousarray(mic[start : start + FRAME])
            far = np.ascontiguousarray(ref[start : start + FRAME])
            if np.sqrt(np.mean(far.astype(np.float64) ** 2)) > REFERENCE_SILENCE_RMS:
                self.learnt_s += FRAME / SAMPLE_RATE
            frame = np.empty(FRAME, np.int16)
            self._library.speex_echo_cancellation(
                self._echo, near.ctypes.data, far.ctypes.data, frame.ctypes.data
            )
            if self._pre is not None:
                self._library.speex_preprocess_run(self._pre, frame.ctypes.data)
            out[start : start + FRAME] = frame
        self._microphone, self._reference = mic[whole:], ref[whole:]
        return out

    def close(self) -> None:
        """Frees speexdsp's state (once)."""
        if self._pre is not None:
            self._library.speex_preprocess_state_destroy(self._pre)
            self._pre = None
        if self._echo is not None:
            self._library.speex_echo_state_destroy(self._echo)
            self._echo = None

    def __del__(self) -> None:
        self.close()
