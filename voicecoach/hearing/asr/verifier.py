"""The verifier: a second opinion on every command the grammar decoder hears.

The grammar decoder (pocketsphinx_engine.py) always finds *some* command in any sound; its own
scores say how well the sound fits that command. The verifier adds what Google's speech
embedding (embedding.py) makes of the same segment: an intent classifier on the pooled
embedding gives each intent, and "none" (not a command), a probability. A small network
(`FusionNetwork`) fuses the decoder's scores, how well each decoded word fits against a free
phone loop (`word_llr`) and the classifier's opinion of the decoded intent into the probability
that the decode is right; each intent has its own acceptance threshold, and a lower "near miss"
threshold marks speech that was probably meant as a command but not heard well enough to act
on (the coach then asks to hear it again).

Weights live in `verifier.json` beside this file, written by bench/train_verifier.py from
synthetic training voices only (never the test voices or the judged recordings).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from voicecoach.core.errors import VoiceCoachError
from voicecoach.core.grammar import INTENT_NAMES
from voicecoach.core.history import PAIN_SCALE_MAX

DEFAULT_VERIFIER_PATH: Final = Path(__file__).with_name("verifier.json")
NONE_CLASS: Final = "none"
"""The classifier's class for speech that is not a command."""
DECODER_FEATURES: Final = (
    "complete", "gap", "speech_score", "worst_word_score", "frames_per_phone", "words",
    "phone_llr", "duration",
)  # fmt: skip
EMBEDDING_FEATURES: Final = (
    "embedding_decoded", "embedding_none", "embedding_agrees", "embedding_margin",
    "embedding_entropy",
)  # fmt: skip
WORD_FEATURES: Final = ("word_llr_min", "word_llr_mean")
WHISPER_FEATURES: Final = ("word_fit",)
"""Whisper's mean token log probability of the decoded sentence (word_check.py)."""
FUSION_FEATURES: Final = DECODER_FEATURES + WORD_FEATURES + EMBEDDING_FEATURES + WHISPER_FEATURES
FUSION_HIDDEN: Final = 16
"""Hidden units of the fusion network. Measured by bench/verifier_trials.py (the training
segments split in two by text or speaker, each half judged by a verifier fitted on the other,
right decodes accepted at 97% of other speech rejected): a logistic fusion of the decoder's
scores and the classifier's log probabilities accepted 52.8% clean / 45.6% pink 10 dB / 26.4%
babble / 49.7% human; this network, with the word-level ratios and the classifier's margin
and entropy, 63.5% / 57.4% / 40.1% / 57.8% (8 units: 62.5 / 54.8 / 37.9 / 48.0; 32: 62.7 / 57.7
/ 37.9 / 52.4)."""
FUSION_MEMBERS: Final = 5
"""Networks whose logits the fusion averages (fit_fusion). Measured by bench/verifier_trials.py
(commands right and accepted at 97% of other speech rejected, December 5): five single networks,
seeds 0-4, 29.8-32.6% (31.2% on average); five averaged 32.5%; ten 32.4%. Averaging takes away
most of the luck of one random start."""
LOG_FLOOR: Final = -12.0
"""Log probabilities below this are taken as this (the fusion sees bounded numbers)."""

Matrix = npt.NDArray[np.float64]


RATING_LEVELS: Final = PAIN_SCALE_MAX + 1
"""Pain ratings 0-10: each is a class of the embedding classifier, so it checks the number."""
# The classifier has no hidden layer. On the training segments (items split in four, the fusion
# fitted on half of them and judged on the other half), right commands accepted at 97% of other
# speech rejected, mean over clean, pink, babble, room, noise and human: 50.3% with none (L2
# 0.1), 48.0% with 32 hidden units, 50.1% with 96: a hidden layer learns the training voices
# rather than the words.


Timed = Sequence[tuple[str, int, int, float]]
"""A decode's words or phones: each with its first and last frame and its score (see
PocketSphinxEngine.last_words and last_phones)."""
NO_WORD_LLR: Final = -0.01
"""The word-level likelihood ratio taken when a decode has no words to compare."""


def word_llr(words: Timed, phones: Timed) -> dict[str, float]:
    """How much worse each decoded word explains its own frames than the free phone loop does
    on the same frames (the loop's phones weighted by their overlap with the word): the worst
    word and the mean. A whole-segment ratio (phone_llr) can hide one word that does not fit,
    as "hold longer" heard in "hold shorter"."""
    ratios = []
    for _, start, end, per_frame in words:
        total, frames = 0.0, 0
        for _, phone_start, phone_end, score in phones:
            overlap = min(end, phone_end) - max(start, phone_start) + 1
            if overlap > 0:
                total += score * overlap / (phone_end - phone_start + 1)
                frames += overlap
        if frames:
            ratios.append(per_frame - total / frames)
    if not ratios:
        return {"word_llr_min": NO_WORD_LLR, "word_llr_mean": NO_WORD_LLR}
    return {"word_llr_min": min(ratios), "word_llr_mean": sum(ratios) / len(ratios)}


def class_of(intent: str | None, slots: Mapping[str, object]) -> str:
    """The classifier's class for a command: its intent, or "rating:N" for a pain rating
    (NONE_CLASS for None)."""
    if intent is None:
        return NONE_CLASS
    if intent == "rating" and "level" in slots:
        return f"rating:{slots['level']}"
    return intent


def rating_level(name: str) -> int | None:
    """The pain rating a classifier class stands for ("rating:N", `class_of`), else None."""
    intent, _, level = name.partition(":")
    return int(level) if intent == "rating" and level.isdigit() else None


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

    def likeliest_rating(self, row: npt.NDArray[Any]) -> tuple[int, float] | None:
        """The pain rating (0-10) this classifier gives the most probability for a pooled
        embedding, and that probability (of all its classes, not of the ratings alone); None
        when it has no rating classes."""
        probabilities = self.probabilities(row)
        levels = [
            (level, float(p))
            for name, p in zip(self.classes, probabilities, strict=True)
            if (level := rating_level(name)) is not None
        ]
        return max(levels, key=lambda pair: pair[1], default=None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "classes": list(self.classes),
            "mean": rounded(self.mean, 5),
            "scale": rounded(self.scale, 5),
            "weights": rounded(self.weights, 5),
            "bias": rounded(self.bias, 5),
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

    def gradients(params: list[Matrix]) -> list[Matrix]:
        weights, bias = params
        logits = z @ weights + bias
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        error = (p - target) * sample_weight[:, None]
        return [z.T @ error + l2 * weights, error.sum(axis=0)]

    start = [np.zeros((z.shape[1], count)), np.zeros(count)]
    weights, bias = adam(start, gradients, steps, rate)
    return IntentClassifier(tuple(classes), mean, scale, weights, bias)


def adam(
    params: list[Matrix], gradients: Callable[[list[Matrix]], list[Matrix]], steps: int, rate: float
) -> list[Matrix]:
    """Full-batch Adam from `params`, `gradients(params)` giving each one's gradient."""
    params = list(params)
    moments = [np.zeros_like(p) for p in params]
    squares = [np.zeros_like(p) for p in params]
    for step in range(1, steps + 1):
        for index, grad in enumerate(gradients(params)):
            moments[index] = 0.9 * moments[index] + 0.1 * grad
            squares[index] = 0.999 * squares[index] + 0.001 * grad * grad
            corrected = moments[index] / (1 - 0.9**step)
            spread = np.sqrt(squares[index] / (1 - 0.999**step)) + 1e-8
            params[index] = params[index] - rate * corrected / spread
    return params


def rounded(array: Matrix, places: int) -> Any:
    """`array` as nested lists of numbers rounded to `places` decimals (for JSON)."""
    return np.round(array, places).tolist()


@dataclass(frozen=True)
class FusionNetwork:
    """The probability that a decode is right, from its features (FUSION_FEATURES): one hidden
    layer of tanh units on the standardised features, then a logistic output."""

    features: tuple[str, ...]
    mean: Matrix
    scale: Matrix
    hidden_weights: Matrix
    """(features, hidden units)"""
    hidden_bias: Matrix
    output_weights: Matrix
    output_bias: float

    def table(self, rows: Sequence[Mapping[str, float]]) -> Matrix:
        """Rows of named features as a standardised matrix (a missing feature: its mean)."""
        raw = np.array(
            [
                [row.get(n, m) for n, m in zip(self.features, self.mean, strict=True)]
                for row in rows
            ],
            dtype=np.float64,
        )
        standard: Matrix = (raw - self.mean) / self.scale
        return standard

    def probabilities_batch(self, standard: Matrix) -> Matrix:
        hidden = np.tanh(standard @ self.hidden_weights + self.hidden_bias)
        logits = np.clip(hidden @ self.output_weights + self.output_bias, -50.0, 50.0)
        result: Matrix = 1.0 / (1.0 + np.exp(-logits))
        return result

    def probability(self, values: Mapping[str, float]) -> float:
        return float(self.probabilities_batch(self.table([values]))[0])

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "mean": rounded(self.mean, 6),
            "scale": rounded(self.scale, 6),
            "hidden_weights": rounded(self.hidden_weights, 6),
            "hidden_bias": rounded(self.hidden_bias, 6),
            "output_weights": rounded(self.output_weights, 6),
            "output_bias": round(self.output_bias, 6),
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> FusionNetwork:
        features = tuple(str(name) for name in data["features"])
        arrays = {
            key: np.array(data[key], dtype=np.float64)
            for key in ("mean", "scale", "hidden_weights", "hidden_bias", "output_weights")
        }
        hidden = arrays["hidden_bias"].size
        shapes_fit = (
            arrays["mean"].shape == arrays["scale"].shape == (len(features),)
            and arrays["hidden_weights"].shape == (len(features), hidden)
            and arrays["output_weights"].shape == (hidden,)
        )
        if not shapes_fit or np.any(arrays["scale"] <= 0):
            raise ValueError("fusion network weights out of shape or range")
        return FusionNetwork(
            features,
            arrays["mean"],
            arrays["scale"],
            arrays["hidden_weights"],
            arrays["hidden_bias"],
            arrays["output_weights"],
            float(data["output_bias"]),
        )


def fit_fusion(
    rows: Sequence[Mapping[str, float]],
    labels: Sequence[bool],
    features: Sequence[str] = FUSION_FEATURES,
    *,
    hidden: int = FUSION_HIDDEN,
    members: int = FUSION_MEMBERS,
    steps: int = 1500,
    rate: float = 1e-2,
    l2: float = 1e-3,
    seed: int = 0,
) -> FusionNetwork:
    """`members` networks of `hidden` units, each fitted by full-batch Adam on the logistic
    loss from its own random start (seeds `seed`, `seed + 1`, ...: the same rows give the same
    networks), as one network that averages their logits: their hidden units side by side,
    each one's output weights divided by `members`. A feature missing from a row is taken
    as its mean over the rows that have it."""
    raw = np.array(
        [[row.get(name, math.nan) for name in features] for row in rows], dtype=np.float64
    )
    # A row without a feature (Whisper's fit where the stream kept no audio for it: a talking
    # room) gets the feature's mean, as `FusionNetwork.table` gives it when judging.
    mean = np.nanmean(raw, axis=0)
    raw = np.where(np.isnan(raw), mean, raw)
    scale = raw.std(axis=0)
    scale[scale < 1e-12] = 1.0
    z = (raw - mean) / scale
    y = np.array(labels, dtype=np.float64)
    fitted = [
        fit_member(z, y, hidden, seed + m, steps=steps, rate=rate, l2=l2) for m in range(members)
    ]
    return FusionNetwork(
        tuple(features),
        mean,
        scale,
        np.hstack([w1 for w1, _, _, _ in fitted]),
        np.concatenate([b1 for _, b1, _, _ in fitted]),
        np.concatenate([w2 for _, _, w2, _ in fitted]) / members,
        float(np.mean([b2[0] for _, _, _, b2 in fitted])),
    )


def fit_member(
    z: Matrix, y: Matrix, hidden: int, seed: int, *, steps: int, rate: float, l2: float
) -> list[Matrix]:
    """One network on standardised features `z` and labels `y` (0 or 1): its hidden weights
    and biases, its output weights and its output bias (an array of one)."""
    rng = np.random.default_rng(seed)
    start: list[Matrix] = [
        rng.normal(0.0, 1.0 / math.sqrt(z.shape[1]), (z.shape[1], hidden)),
        np.zeros(hidden),
        rng.normal(0.0, 1.0 / math.sqrt(hidden), hidden),
        np.zeros(1),
    ]

    def gradients(params: list[Matrix]) -> list[Matrix]:
        w1, b1, w2, b2 = params
        h = np.tanh(z @ w1 + b1)
        p = 1.0 / (1.0 + np.exp(-np.clip(h @ w2 + b2[0], -50.0, 50.0)))
        error = (p - y) / len(y)
        through = np.outer(error, w2) * (1.0 - h * h)
        return [
            z.T @ through + l2 * w1,
            through.sum(axis=0),
            h.T @ error + l2 * w2,
            np.array([error.sum()]),
        ]

    return adam(start, gradients, steps, rate)


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


SENSITIVITIES: Final = ("low", "medium", "high")
"""How readily a command is taken, against how often other speech is taken for one: each is an
`OperatingPoint` of the verifier (bench/train_verifier.py sets them)."""
DEFAULT_SENSITIVITY: Final = "medium"


@dataclass(frozen=True)
class OperatingPoint:
    """The acceptance thresholds of one sensitivity."""

    threshold: float
    intent_thresholds: Mapping[str, float]
    near_miss: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "intent_thresholds": dict(sorted(self.intent_thresholds.items())),
            "near_miss": self.near_miss,
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> OperatingPoint:
        return OperatingPoint(
            threshold=float(data["threshold"]),
            intent_thresholds={str(k): float(v) for k, v in data["intent_thresholds"].items()},
            near_miss=float(data["near_miss"]),
        )


@dataclass(frozen=True)
class Verifier:
    classifier: IntentClassifier
    fusion: FusionNetwork
    threshold: float
    intent_thresholds: Mapping[str, float] = field(default_factory=dict)
    near_miss: float = 1.0
    awaited_threshold: float = 1.0
    """The threshold of an answer the coach has just asked for (see `threshold_for`)."""
    sensitivity: str = DEFAULT_SENSITIVITY
    """The sensitivity whose thresholds are the fields above."""
    other_sensitivities: Mapping[str, OperatingPoint] = field(default_factory=dict)
    """The thresholds of the other sensitivities."""

    def at_sensitivity(self, sensitivity: str) -> Verifier:
        """This verifier with the thresholds of `sensitivity` (SENSITIVITIES)."""
        if sensitivity not in SENSITIVITIES:
            raise VoiceCoachError(
                f"unknown sensitivity '{sensitivity}' (sensitivities: {', '.join(SENSITIVITIES)})"
            )
        if sensitivity == self.sensitivity:
            return self
        point = self.other_sensitivities.get(sensitivity)
        if point is None:
            raise VoiceCoachError(f"the verifier model has no '{sensitivity}' sensitivity")
        others = dict(self.other_sensitivities)
        del others[sensitivity]
        others[self.sensitivity] = OperatingPoint(
            self.threshold, self.intent_thresholds, self.near_miss
        )
        return dataclasses.replace(
            self,
            threshold=point.threshold,
            intent_thresholds=point.intent_thresholds,
            near_miss=point.near_miss,
            sensitivity=sensitivity,
            other_sensitivities=others,
        )

    def threshold_for(self, intent: str, *, awaited: bool = False) -> float:
        """An intent's own threshold is higher than the common one when other speech is often
        decoded as it (words heard as numbers, as "yes" or "no"). When the coach has just asked
        for it (a pain rating after "it hurts", yes or no to "shall we stop?"), the answer is
        the likely thing to hear, and it is judged at the lower `awaited_threshold`: the coach
        listens for an answer for seconds after a question, not for hours, so other speech has
        far fewer chances to be taken for one (bench/train_verifier.py sets it)."""
        if awaited:  # never stricter than for any other command, whatever the sensitivity
            return min(self.awaited_threshold, self.threshold)
        return self.intent_thresholds.get(intent, self.threshold)

    @staticmethod
    def fusion_features(
        decoder_features: Mapping[str, float],
        probabilities: npt.NDArray[Any],
        classes: Sequence[str],
        decoded_intent: str,
    ) -> dict[str, float]:
        """The decoder's scores (and its word-level ratios, `word_llr`) plus the classifier's
        log probability of the decoded class (`class_of`) and of "none", whether its own best
        guess is the decoded class, how far that guess is ahead of the next (log ratio), and
        the entropy of its probabilities (how unsure it is)."""

        def log(p: float) -> float:
            return max(LOG_FLOOR, math.log(p)) if p > 0 else LOG_FLOOR

        values = {name: float(decoder_features.get(name, 0.0)) for name in DECODER_FEATURES}
        for name in WORD_FEATURES:
            values[name] = float(decoder_features.get(name, NO_WORD_LLR))
        for name in WHISPER_FEATURES:
            if name in decoder_features:  # else the fusion takes its mean (FusionNetwork.table)
                values[name] = float(decoder_features[name])
        ranked = np.sort(np.asarray(probabilities, dtype=np.float64))[::-1]
        values["embedding_margin"] = log(float(ranked[0])) - log(float(ranked[1]))
        values["embedding_entropy"] = float(-np.sum(ranked * np.log(np.maximum(ranked, 1e-12))))
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
                "awaited_threshold": self.awaited_threshold,
                "sensitivity": self.sensitivity,
                "other_sensitivities": {
                    name: point.to_dict()
                    for name, point in sorted(self.other_sensitivities.items())
                },
            },
            separators=(",", ":"),
        )


def load_verifier(path: Path = DEFAULT_VERIFIER_PATH) -> Verifier:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Verifier(
            classifier=IntentClassifier.from_dict(data["classifier"]),
            fusion=FusionNetwork.from_dict(data["fusion"]),
            threshold=float(data["threshold"]),
            intent_thresholds={str(k): float(v) for k, v in data["intent_thresholds"].items()},
            near_miss=float(data["near_miss"]),
            awaited_threshold=float(data["awaited_threshold"]),
            sensitivity=str(data.get("sensitivity", DEFAULT_SENSITIVITY)),
            other_sensitivities={
                str(name): OperatingPoint.from_dict(point)
                for name, point in data.get("other_sensitivities", {}).items()
            },
        )
    except FileNotFoundError:
        raise VoiceCoachError("verifier model missing", path=path) from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise VoiceCoachError(f"unreadable verifier model: {error}", path=path) from None
