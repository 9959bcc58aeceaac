"""The model's transform (pocketsphinx_engine.ADAPTATION, fitted by bench/adapt_acoustic.py):
well formed, loaded by voicecoach's decoders and by no baseline."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from voicecoach.hearing.asr import pocketsphinx_engine
from voicecoach.hearing.asr.pocketsphinx_engine import ADAPTATION, EngineError, new_decoder

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from adapt_acoustic import sendump_to_mixture_weights

STREAMS = (13, 13, 13)
"""The model's feature streams (feat.params: svspec 0-12/13-25/26-38)."""


def read_transform(path: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """SphinxTrain's text MLLR file: classes, streams, then per stream its size, the matrix,
    the offset and the variance scale."""
    numbers = path.read_text().split()
    position = 0

    def take(count: int) -> list[float]:
        nonlocal position
        values = [float(v) for v in numbers[position : position + count]]
        position += count
        return values

    classes, streams = (int(v) for v in take(2))
    assert classes == 1
    transform = []
    for _ in range(streams):
        size = int(take(1)[0])
        matrix = np.array(take(size * size)).reshape(size, size)
        offset = np.array(take(size))
        take(size)  # variance scale
        transform.append((matrix, offset))
    assert position == len(numbers)
    return transform


def test_the_bundled_transform_is_one_global_map_per_stream_near_the_identity() -> None:
    transform = read_transform(ADAPTATION)
    assert tuple(matrix.shape[0] for matrix, _ in transform) == STREAMS
    for matrix, offset in transform:
        assert np.all(np.isfinite(matrix)) and np.all(np.isfinite(offset))
        # an adaptation, not a new model: the diagonal dominates
        assert np.all(np.diag(matrix) > 0.5)
        assert np.all(np.abs(np.diag(matrix)) > np.abs(matrix - np.diag(np.diag(matrix))).sum(1))


def test_voicecoach_decoders_load_the_transform_and_baselines_do_not() -> None:
    assert new_decoder(lm=None).config["mllr"] == str(ADAPTATION)
    assert new_decoder(lm=None, adapted=False).config["mllr"] is None


def test_a_missing_transform_is_an_engine_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pocketsphinx_engine, "ADAPTATION", tmp_path / "mllr_matrix")
    with pytest.raises(EngineError, match="transform is missing"):
        new_decoder(lm=None)


def test_the_wheel_mixture_weights_convert_for_sphinxtrain(tmp_path: Path) -> None:
    sendump = Path(pocketsphinx_engine.model_paths()["hmm"]) / "sendump"
    target = tmp_path / "mixture_weights"
    sendump_to_mixture_weights(sendump, target)
    data = target.read_bytes()
    header_end = data.index(b"endhdr\n") + len(b"endhdr\n")
    assert header_end % 4 == 0
    (magic,) = struct.unpack("=i", data[header_end : header_end + 4])
    assert magic == 0x11223344
    senones, streams, densities, total = struct.unpack(
        "=IIII", data[header_end + 4 : header_end + 20]
    )
    assert (streams, densities) == (len(STREAMS), 128)
    assert total == senones * streams * densities
    weights = np.frombuffer(data, dtype="<f4", offset=header_end + 20).reshape(senones, streams, -1)
    assert np.allclose(weights.sum(axis=2), 1.0, atol=1e-4)
    assert weights.min() > 0
