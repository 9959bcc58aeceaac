"""The verifier: a second opinion on every command the grammar decoder hears.

The grammar decoder (pocketsphinx_engine.py) always finds *some* command in any sound; its own
scores say how well the sound fits that command. The verifier adds what Google's speech
embedding (embedding.py) makes of the same segment: an intent classifier on the pooled
embedding gives each intent, and "none" (not a command), a probability. A logistic fusion of the
decoder's scores with the classifier's opinion of the decoded intent gives the probability that
the decode is right; each intent has its own acceptance threshold, and a lower "near miss"
threshold marks speech that was probably meant as a command but not heard well enough to act
on (the coach then asks to hear it again).

Weights live in `verifier.json` beside this file, written by bench/train_verifier.py from
synthetic training voices only (never the test voices or the judged recordings).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from voicecoach.core.errors import VoiceCoachError
from voicecoach.core.grammar import INTENT_NAMES
from voicecoach.hearing.asr.confidence import ConfidenceModel

DEFAULT_VERIFIER_PATH: Final = Path(__file__).with_name("verifier.json")
NONE_CLASS: Final = "none"
"""The classifier's class for speech that is not a command."""
DECODER_FEATURES: Final = (
    "complete", "gap", "speech_score", "worst_word_score", "frames_per_phone", "words",
    "phone_llr", "duration",
)  # fmt: skip
EMBEDDING_FEATURES: Final = ("embedding_decoded", "embedding_none", "embedding_agrees")
FUSION_FEATURES: Final = DECODER_FEATURES + EMBEDDING_FEATURES
LOG_FLOOR: Final = -12.0
"""Log probabilities below this are taken as this (the fusion sees bounded numbers)."""

Matrix = npt.NDArray[np.float64]


RATING_LEVELS: Final = 11
"""Pain ratings 0-10: each is a class of the embedding classifier, so it checks the number."""
# The classifier has no hidden layer. On the training segments (items split in four, the fusion
# fitted on half of them and judged on the other half), right commands accepted at 97% of other
# speech rejected, mean over clean, pink, babble, room, noise and human: 50.3% with none (L2
# 0.1), 48.0% with 32 hidden units, 50.1% with 96: a hidden layer learns the training voices
# rather than the words.


def class_of(intent: str | None, slots: Mapping[str, object]) -> str:
    """The classifier's class for a command: its intent, or "rating:N" for a pain rating
    (NONE_CLASS for None)."""
    if intent is None:
        return NONE_CLASS
    if intent == "rating" and "level" in slots:
        return f"rating:{slots['level']}"
    return intent


def classifier_classes() -> tuple[str, ...]:
    """Every intent (a pain rating once per level), then NONE_CLASS."""
    names: list[str] = []
    for name in INTENT_NAMES:
        if name == "rating":
            names += [f"rating:{level}" for level in range(RATING_LEVELS)]
        else:
            names.append(name)
    return (*names, NONE_CLASS)


@dataclass(frozen=True)
class IntentClassifier:
    """Multinomial logistic regression on standardised pooled embeddings."""

    classes: tuple[str, ...]
    mean: Matrix
    scale: Matrix
    weights: Matrix
    """(features, classes)"""
    bias: Matrix

    def probabilities_batch(self, rows: Matrix) -> Matrix:
        logits = ((rows - self.mean) / self.scale) @ self.weights + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        result: Matrix = exp / exp.sum(axis=1, keepdims=True)
        return result

    def probabilities(self, row: npt.NDArray[Any]) -> Matrix:
        batch: Matrix = self.probabilities_batch(np.asarray(row, dtype=np.float64)[None, :])
        row_probabilities: Matrix = batch[0]
        return row_probabilities

    def to_dict(self) -> dict[str, Any]:
        def rounded(array: Matrix) -> Any:
            return np.round(array, 5).tolist()

        return {
            "classes": list(self.classes),
            "mean": rounded(self.mean),
            "scale": rounded(self.scale),
            "weights": rounded(self.weights),
            "bias": rounded(self.bias),
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> IntentClassifier:
        classes = tuple(str(c) for c in data["classes"])
        weights = np.array(data["weights"], dtype=np.float64)
        mean = np.array(data["mean"], dtype=np.float64)
        scale = np.array(data["scale"], dtype=np.float64)
        bias = np.array(data["bias"], dtype=np.float64)
        if weights.shape != (mean.size, len(classes)) or scale.shape != mean.shape:
            raise ValueError(f"classifier weights of shape {weights.shape} do not fit")
        if bias.shape != (len(classes),) or np.any(scale <= 0):
            raise ValueError("classifier bias or scale out of shape or range")
        return IntentClassifier(classes, mean, scale, weights, bias)


def fit_classifier(
    rows: Matrix,
    labels: npt.NDArray[np.int64],
    classes: Sequence[str],
    *,
    l2: float = 1e-1,
    steps: int = 400,
    rate: float = 1e-2,
) -> IntentClassifier:
    """Full-batch Adam on the softmax loss, classes weighted so each counts as much as its share
    would be if balanced (commands are many, "none" is one class)."""
    mean = rows.mean(axis=0)
    scale = rows.std(axis=0)
    scale[scale < 1e-6] = 1.0
    z = (rows - mean) / scale
    count = len(classes)
    target = np.zeros((len(labels), count))
    target[np.arange(len(labels)), labels] = 1.0
    frequency = np.maximum(target.sum(axis=0), 1.0)
    sample_weight = (len(labels) / (count * frequency))[labels]
    sample_weight /= sample_weight.sum()
    params = [np.zeros((z.shape[1], count)), np.zeros(count)]
    moments = [np.zeros_like(p) for p in params]
    squares = [np.zeros_like(p) for p in params]
    for step in range(1, steps + 1):
        weights, bias = params
        logits = z @ weights + bias
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        error = (p - target) * sample_weight[:, None]
        gradients = (z.T @ error + l2 * weights, error.sum(axis=0))
        for index, grad in enumerate(gradients):
            moments[index] = 0.9 * moments[index] + 0.1 * grad
            squares[index] = 0.999 * squares[index] + 0.001 * grad * grad
            corrected = moments[index] / (1 - 0.9**step)
            spread = np.sqrt(squares[index] / (1 - 0.999**step)) + 1e-8
            params[index] = params[index] - rate * corrected / spread
    weights, bias = params
    return IntentClassifier(tuple(classes), mean, scale, weights, bias)


@dataclass(frozen=True)
class Verdict:
    """The verifier's judgement of one decode."""

    probability: float
    """How likely the decoded command is what was said (0-1)."""
    accepted: bool
    near_miss: bool
    """Not accepted, but close: the person probably said a command."""
    embedding_intent: str
    """What the embedding classifier alone thinks was said."""

    @property
    def reason(self) -> str:
        verdict = "accepted" if self.accepted else "near miss" if self.near_miss else "rejected"
        heard = self.embedding_intent
        return f"{verdict}: verifier {self.probability:.2f}, embedding hears {heard}"


@dataclass(frozen=True)
class Verifier:
    classifier: IntentClassifier
    fusion: ConfidenceModel
    threshold: float
    intent_thresholds: Mapping[str, float] = field(default_factory=dict)
    near_miss: float = 1.0

    def threshold_for(self, intent: str, *, awaited: bool = False) -> float:
        """An intent's own threshold is higher than the common one when other speech is often
        decoded as it (words heard as numbers, as "yes" or "no"); when the coach has just asked
        for it (a pain rating after "it hurts", yes or no to "shall we stop?"), the answer is
        the likely thing to hear, and the common threshold applies."""
        if awaited:
            return self.threshold
        return self.intent_thresholds.get(intent, self.threshold)

    @staticmethod
    def fusion_features(
        decoder_features: Mapping[str, float],
        probabilities: npt.NDArray[Any],
        classes: Sequence[str],
        decoded_intent: str,
    ) -> dict[str, float]:
        """The decoder's scores plus the classifier's log probability of the decoded class
        (`class_of`) and of "none", and whether its own best guess is the decoded class."""

        def log(p: float) -> float:
            return max(LOG_FLOOR, math.log(p)) if p > 0 else LOG_FLOOR

        values = {name: float(decoder_features.get(name, 0.0)) for name in DECODER_FEATURES}
        none = classes.index(NONE_CLASS)
        values["embedding_none"] = log(float(probabilities[none]))
        if decoded_intent in classes:
            decoded = classes.index(decoded_intent)
            values["embedding_decoded"] = log(float(probabilities[decoded]))
            values["embedding_agrees"] = float(int(np.argmax(probabilities)) == decoded)
        else:  # an intent added after the classifier was trained: "some command" stands in
            values["embedding_decoded"] = log(1.0 - float(probabilities[none]))
            values["embedding_agrees"] = float(int(np.argmax(probabilities)) != none)
        return values

    def judge(
        self,
        decoder_features: Mapping[str, float],
        pooled: npt.NDArray[Any],
        decoded: str,
        *,
        awaited: bool = False,
    ) -> Verdict:
        """`decoded`: the class of the decoded command (`class_of`); `awaited`: whether the
        coach is waiting for it as an answer (`threshold_for`)."""
        probabilities = self.classifier.probabilities(pooled)
        classes = self.classifier.classes
        values = self.fusion_features(decoder_features, probabilities, classes, decoded)
        probability = self.fusion.probability(values)
        accepted = probability >= self.threshold_for(decoded.split(":")[0], awaited=awaited)
        return Verdict(
            probability=probability,
            accepted=accepted,
            near_miss=not accepted and probability >= self.near_miss,
            embedding_intent=classes[int(np.argmax(probabilities))],
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "classifier": self.classifier.to_dict(),
                "fusion": self.fusion.to_dict(),
                "threshold": self.threshold,
                "intent_thresholds": dict(sorted(self.intent_thresholds.items())),
                "near_miss": self.near_miss,
            },
            separators=(",", ":"),
        )


def load_verifier(path: Path = DEFAULT_VERIFIER_PATH) -> Verifier:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Verifier(
            classifier=IntentClassifier.from_dict(data["classifier"]),
            fusion=ConfidenceModel.from_dict(data["fusion"]),
            threshold=float(data["threshold"]),
            intent_thresholds={str(k): float(v) for k, v in data["intent_thresholds"].items()},
            near_miss=float(data["near_miss"]),
        )
    except FileNotFoundError:
        raise VoiceCoachError("verifier model missing", path=path) from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise VoiceCoachError(f"unreadable verifier model: {error}", path=path) from None
