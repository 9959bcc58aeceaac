"""A logistic model that turns decode features into the probability that a command is right.

The weights live in `pocketsphinx_confidence.json` beside this file, written by
bench/train_confidence.py from synthetic speech of the tuning voices (never the test voices).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from voicecoach.core.errors import VoiceCoachError

DEFAULT_MODEL_PATH: Final = Path(__file__).with_name("pocketsphinx_confidence.json")


@dataclass(frozen=True)
class ConfidenceModel:
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float
    """Accept a command when its probability is at least this."""

    def probability(self, values: Mapping[str, float]) -> float:
        z = self.bias
        for name, mean, scale, weight in zip(
            self.features, self.mean, self.scale, self.weights, strict=True
        ):
            z += weight * (values.get(name, mean) - mean) / scale
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "weights": list(self.weights),
            "bias": self.bias,
            "threshold": self.threshold,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> ConfidenceModel:
        model = ConfidenceModel(
            features=tuple(str(name) for name in data["features"]),
            mean=tuple(float(x) for x in data["mean"]),
            scale=tuple(float(x) for x in data["scale"]),
            weights=tuple(float(x) for x in data["weights"]),
            bias=float(data["bias"]),
            threshold=float(data["threshold"]),
        )
        sizes = {len(model.features), len(model.mean), len(model.scale), len(model.weights)}
        if len(sizes) != 1 or any(scale <= 0 for scale in model.scale):
            raise ValueError("features, means, scales and weights do not match")
        return model


def load_confidence_model(path: Path = DEFAULT_MODEL_PATH) -> ConfidenceModel:
    try:
        return ConfidenceModel.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise VoiceCoachError("confidence model missing", path=path) from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise VoiceCoachError(f"unreadable confidence model: {error}", path=path) from None


def fit_logistic(
    rows: Sequence[Mapping[str, float]],
    labels: Sequence[bool],
    features: Sequence[str],
    *,
    l2: float = 1e-2,
    steps: int = 3000,
    rate: float = 0.5,
) -> ConfidenceModel:
    """Plain gradient descent on standardised features (no dependency beyond numpy)."""
    import numpy as np

    x = np.array([[row[name] for name in features] for row in rows], dtype=np.float64)
    y = np.array(labels, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    weights = np.zeros(len(features))
    bias = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(z @ weights + bias)))
        error = p - y
        weights -= rate * (z.T @ error / len(y) + l2 * weights)
        bias -= rate * float(error.mean())
    return ConfidenceModel(
        tuple(features),
        tuple(float(v) for v in mean),
        tuple(float(v) for v in scale),
        tuple(float(v) for v in weights),
        float(bias),
        0.5,
    )
