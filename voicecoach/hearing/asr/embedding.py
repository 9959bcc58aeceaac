"""Google's speech embedding: one 96-number vector per 80 ms of audio, for a second opinion.

The two small TensorFlow Lite models (a mel spectrogram and the embedding network trained on a
large amount of speech for few-shot keyword spotting) ship inside the wyoming-openwakeword
wheel; they run with ai-edge-litert. `SpeechEmbedder.pooled` summarises a whole utterance as
one vector (the mean and the maximum of its embeddings over time), which `verifier.py` scores.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from voicecoach.core.errors import VoiceCoachError
from voicecoach.hearing.audio import SAMPLE_RATE, Samples

MEL_BANDS: Final = 32
WINDOW_FRAMES: Final = 76
"""Mel frames (10 ms each) that one embedding sees: 775 ms."""
WINDOW_STEP: Final = 8
"""Mel frames between two embeddings: 80 ms."""
EMBEDDING_SIZE: Final = 96
MIN_SECONDS: Final = 1.0
"""Shorter utterances are padded (with silence at both ends) to this, so one word still gives
a few embeddings."""
# The embedding network was trained on mel energies scaled this way (openWakeWord's convention).
MEL_SCALE: Final = 0.1
MEL_OFFSET: Final = 2.0

Vector = npt.NDArray[np.float32]


class EmbeddingError(VoiceCoachError):
    """The speech embedding models cannot be found or run."""


def models_folder() -> Path:
    try:
        import wyoming_openwakeword
    except ImportError:
        raise EmbeddingError(
            "the speech embedding needs wyoming-openwakeword: pip install wyoming-openwakeword"
        ) from None
    return Path(wyoming_openwakeword.__file__).parent / "models"


def _interpreter(path: Path) -> Any:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        raise EmbeddingError(
            "the speech embedding needs ai-edge-litert: pip install ai-edge-litert"
        ) from None
    if not path.is_file():
        raise EmbeddingError("model file missing", path=path)
    # With LiteRT's default XNNPACK delegate: a segment's embedding takes about a third of the
    # time it takes without (0.047 s against 0.163 s for 0.8-3 s of audio here; the pooled
    # vectors differ by at most 6e-5). Its C++ side announces the delegate on file descriptor 2
    # ("INFO: Created TensorFlow Lite XNNPACK delegate for CPU.") when the tensors are first
    # allocated, so `_Model` does that at once, with the descriptor pointed at /dev/null.
    return Interpreter(model_path=str(path), num_threads=1)


@contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """File descriptor 2 (what C and C++ libraries write to) points at /dev/null meanwhile."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class _Model:
    """One TensorFlow Lite model with a single input and output, resized to each input."""

    def __init__(self, path: Path, first_shape: tuple[int, ...]) -> None:
        """`first_shape`: an input shape the model takes, for the first allocation."""
        self.interpreter = _interpreter(path)
        self.input = self.interpreter.get_input_details()[0]["index"]
        self.output = self.interpreter.get_output_details()[0]["index"]
        self.interpreter.resize_tensor_input(self.input, first_shape, strict=True)
        with _native_stderr_silenced():
            self.interpreter.allocate_tensors()
        self.shape: tuple[int, ...] = first_shape

    def __call__(self, tensor: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        if tensor.shape != self.shape:
            self.interpreter.resize_tensor_input(self.input, tensor.shape, strict=True)
            self.interpreter.allocate_tensors()
            self.shape = tensor.shape
        self.interpreter.set_tensor(self.input, tensor)
        self.interpreter.invoke()
        result: npt.NDArray[np.float32] = self.interpreter.get_tensor(self.output)
        return result


class SpeechEmbedder:
    """Embeddings of 16 kHz mono audio."""

    def __init__(self, folder: Path | None = None) -> None:
        folder = folder or models_folder()
        audio = round(MIN_SECONDS * SAMPLE_RATE)
        self._mels = _Model(folder / "melspectrogram.tflite", (1, audio))
        self._embed = _Model(folder / "embedding_model.tflite", (1, WINDOW_FRAMES, MEL_BANDS, 1))

    def embeddings(self, samples: Samples) -> Vector:
        """One row of EMBEDDING_SIZE per 80 ms step (audio shorter than MIN_SECONDS is padded)."""
        short = round(MIN_SECONDS * SAMPLE_RATE) - samples.size
        audio = samples.astype(np.float32)
        if short > 0:
            audio = np.pad(audio, (short // 2, short - short // 2))
        mels = self._mels(audio[None, :])[0, 0] * MEL_SCALE + MEL_OFFSET
        starts = range(0, max(1, mels.shape[0] - WINDOW_FRAMES + 1), WINDOW_STEP)
        windows = np.stack([mels[s : s + WINDOW_FRAMES] for s in starts])
        if windows.shape[1] < WINDOW_FRAMES:  # cannot happen after padding; kept for safety
            windows = np.pad(windows, ((0, 0), (0, WINDOW_FRAMES - windows.shape[1]), (0, 0)))
        rows = self._embed(windows[..., None].astype(np.float32))
        return rows.reshape(len(windows), EMBEDDING_SIZE)

    def pooled(self, samples: Samples) -> Vector:
        """The utterance as one vector (`pool`)."""
        return pool(self.embeddings(samples))


def pool(rows: Vector) -> Vector:
    """An utterance's embeddings as one vector: their mean and maximum over time."""
    return np.concatenate([rows.mean(axis=0), rows.max(axis=0)]).astype(np.float32)
