"""The weights of an ONNX model file, read without ONNX or ONNX Runtime.

An ONNX file is a protocol buffer: a ModelProto whose field 7 is the graph (GraphProto), whose
field 5 holds the initializers (TensorProto: dims 1, data_type 2, float_data 4, name 8,
raw_data 9). Only 32-bit float tensors of the main graph are read; the network itself is
written in numpy by whoever uses them (silero.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from voicecoach.core.errors import VoiceCoachError

ONNX_FLOAT: Final = 1
"""TensorProto.DataType FLOAT."""
VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5

Floats = npt.NDArray[np.float32]


def _varint(buffer: bytes, at: int) -> tuple[int, int]:
    """The varint at `at` and the position after it."""
    value, shift = 0, 0
    while True:
        byte = buffer[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def fields(message: bytes) -> Iterator[tuple[int, int | bytes]]:
    """The fields of a protocol buffer message in order: (field number, value), an int for
    varint and fixed-size fields, bytes for length-delimited ones."""
    at = 0
    while at < len(message):
        key, at = _varint(message, at)
        number, wire = key >> 3, key & 7
        if wire == VARINT:
            value, at = _varint(message, at)
            yield number, value
        elif wire in (FIXED64, FIXED32):
            size = 8 if wire == FIXED64 else 4
            yield number, int.from_bytes(message[at : at + size], "little")
            at += size
        elif wire == LENGTH_DELIMITED:
            length, at = _varint(message, at)
            if at + length > len(message):
                raise ValueError("a field runs past the end of its message")
            yield number, message[at : at + length]
            at += length
        else:
            raise ValueError(f"unknown protocol buffer wire type {wire}")


def packed_varints(buffer: bytes) -> list[int]:
    values, at = [], 0
    while at < len(buffer):
        value, at = _varint(buffer, at)
        values.append(value)
    return values


def tensor(message: bytes) -> tuple[str, Floats]:
    """A TensorProto of 32-bit floats: its name and its values in its shape."""
    name, dims, kind, data = "", [], 0, b""
    for number, value in fields(message):
        if number == 1:
            dims += [value] if isinstance(value, int) else packed_varints(value)
        elif number == 2 and isinstance(value, int):
            kind = value
        elif number == 8 and isinstance(value, bytes):
            name = value.decode("utf-8")
        elif number in (4, 9) and isinstance(value, bytes):  # float_data (packed), raw_data
            data = value
    if kind != ONNX_FLOAT:
        raise ValueError(f"tensor {name!r} is not of 32-bit floats")
    values = np.frombuffer(data, dtype="<f4").astype(np.float32)
    if values.size != int(np.prod(dims)):
        raise ValueError(f"tensor {name!r} has {values.size} values for shape {dims}")
    return name, values.reshape(dims)


def read_onnx_weights(path: Path) -> dict[str, Floats]:
    """The initializers of the model's main graph, by name."""
    try:
        model = path.read_bytes()
    except OSError as error:
        raise VoiceCoachError(f"cannot read the model: {error.strerror}", path=path) from None
    try:
        graphs = [v for n, v in fields(model) if n == 7 and isinstance(v, bytes)]
        if not graphs:
            raise ValueError("no graph")
        return dict(tensor(v) for n, v in fields(graphs[0]) if n == 5 and isinstance(v, bytes))
    except (IndexError, ValueError, UnicodeDecodeError) as error:
        raise VoiceCoachError(f"not an ONNX model ({error})", path=path) from None
