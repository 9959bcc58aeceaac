"""PocketSphinx's endpointer (voice activity over a window), freed when it is done with.

pocketsphinx 5's `pocketsphinx.Endpointer` never frees its C object (the class has no
`__dealloc__`): every one made keeps about 20 kB until the process ends, and the recogniser
makes a new one for each recording and each reset (a long session grew by 170 MB). This class
calls the same C functions of the same library, so it decides exactly as that one does, and
frees the C object when it is closed or garbage collected. Where those functions cannot be
found (another build of pocketsphinx), it falls back to `pocketsphinx.Endpointer`.
"""

from __future__ import annotations

import ctypes
import weakref
from typing import Any, Final

LOOSE_MODE: Final = 0
"""PS_VAD_LOOSE, the Python class's default aggressiveness."""
FRAME_LENGTH_S: Final = 0.03
"""PS_VAD_DEFAULT_FRAME_LENGTH, the Python class's default frame."""

_library: ctypes.CDLL | None = None
_live = [0]  # C endpointers made here and not yet freed


def live_endpointers() -> int:
    """How many C endpointers made by this module are not freed yet (for tests)."""
    return _live[0]


def _load() -> ctypes.CDLL | None:
    """The pocketsphinx extension module, as a C library (None when it lacks the functions)."""
    global _library
    if _library is None:
        from pocketsphinx import _pocketsphinx

        try:
            library = ctypes.CDLL(str(_pocketsphinx.__file__))
            library.ps_endpointer_init.restype = ctypes.c_void_p
            library.ps_endpointer_init.argtypes = [
                ctypes.c_double, ctypes.c_double, ctypes.c_int, ctypes.c_int, ctypes.c_double,
            ]  # fmt: skip
            library.ps_endpointer_free.restype = ctypes.c_int
            library.ps_endpointer_free.argtypes = [ctypes.c_void_p]
            library.ps_endpointer_vad.restype = ctypes.c_void_p
            library.ps_endpointer_vad.argtypes = [ctypes.c_void_p]
            library.ps_vad_frame_size.restype = ctypes.c_size_t
            library.ps_vad_frame_size.argtypes = [ctypes.c_void_p]
            library.ps_endpointer_process.restype = ctypes.c_void_p
            library.ps_endpointer_process.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
            library.ps_endpointer_in_speech.restype = ctypes.c_int
            library.ps_endpointer_in_speech.argtypes = [ctypes.c_void_p]
            for name in ("ps_endpointer_speech_start", "ps_endpointer_speech_end"):
                getattr(library, name).restype = ctypes.c_double
                getattr(library, name).argtypes = [ctypes.c_void_p]
        except (OSError, AttributeError):
            return None
        _library = library
    return _library


def _free(library: ctypes.CDLL, handle: int) -> None:
    library.ps_endpointer_free(handle)
    _live[0] -= 1


class Endpointer:
    """`pocketsphinx.Endpointer(window, ratio)` at 16 kHz, with its C object freed."""

    def __init__(self, window: float, ratio: float, sample_rate: int = 16_000) -> None:
        library = _load()
        self._fallback: Any = None
        if library is None:  # pragma: no cover - every pocketsphinx 5 wheel has the functions
            import pocketsphinx

            self._fallback = pocketsphinx.Endpointer(
                window=window, ratio=ratio, sample_rate=sample_rate
            )
            self.frame_bytes: int = self._fallback.frame_bytes
            return
        handle = library.ps_endpointer_init(window, ratio, LOOSE_MODE, sample_rate, FRAME_LENGTH_S)
        if not handle:
            raise ValueError(f"invalid endpointer parameters: window {window}, ratio {ratio}")
        _live[0] += 1
        self._library = library
        self._handle: int = handle
        self._close = weakref.finalize(self, _free, library, handle)
        self.frame_bytes = int(library.ps_vad_frame_size(library.ps_endpointer_vad(handle))) * 2

    def process(self, frame: bytes) -> None:
        """Reads one frame of `frame_bytes` bytes (16-bit samples)."""
        if len(frame) != self.frame_bytes:
            raise IndexError(f"frame size must be {self.frame_bytes} bytes")
        if self._fallback is not None:  # pragma: no cover
            self._fallback.process(frame)
            return
        self._check_open()
        self._library.ps_endpointer_process(self._handle, frame)

    @property
    def in_speech(self) -> bool:
        if self._fallback is not None:  # pragma: no cover
            return bool(self._fallback.in_speech)
        self._check_open()
        return bool(self._library.ps_endpointer_in_speech(self._handle))

    @property
    def speech_start(self) -> float:
        """Start of the last speech segment, in seconds of audio read."""
        if self._fallback is not None:  # pragma: no cover
            return float(self._fallback.speech_start)
        self._check_open()
        return float(self._library.ps_endpointer_speech_start(self._handle))

    @property
    def speech_end(self) -> float:
        """End of the last speech segment, in seconds of audio read."""
        if self._fallback is not None:  # pragma: no cover
            return float(self._fallback.speech_end)
        self._check_open()
        return float(self._library.ps_endpointer_speech_end(self._handle))

    def close(self) -> None:
        """Frees the C object (at once; otherwise when this is garbage collected)."""
        if self._fallback is None:
            self._close()

    def _check_open(self) -> None:
        if not self._close.alive:
            raise ValueError("the endpointer is closed")
