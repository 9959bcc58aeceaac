"""Ways of judging a decode, compared on the verifier's training segments, out of fold.

Reads the segments bench/train_verifier.py rendered and cached (out/verifier/items.jsonl: run it
first with the same --human and --renditions), so nothing is decoded again. Each variant is
fitted on one half of the items (split by group: a text, or a human speaker) and scored on the
other, both ways; inside each half the fusion is fitted on the classifier's out-of-fold outputs,
as train_verifier.py does. For each variant it prints, at the threshold that rejects
--rejection of the other half's non-command segments, the share of right decodes accepted per
condition, and the share of other speech rejected.

    .venv/bin/python bench/verifier_trials.py --human DIR [--renditions 4] [--variants a,b]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from voicecoach.hearing.asr.confidence import fit_logistic
from voicecoach.hearing.asr.verifier import (
    DECODER_FEATURES,
    FUSION_FEATURES,
    FUSION_HIDDEN,
    FUSION_MEMBERS,
    NONE_CLASS,
    classifier_classes,
    fit_classifier,
    fit_fusion,
)
from voicecoach.hearing.audio import Samples

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_verifier import (
    CACHE,
    collect,
    decode_sequence,
    fusion_rows,
    human_items,
    synthetic_items,
)

Matrix = npt.NDArray[np.float64]
CONDITIONS = ("clean", "pink", "babble", "room", "noise", "human")


@dataclass
class Data:
    rows: list[dict[str, Any]]
    classes: tuple[str, ...]
    y: npt.NDArray[np.int64]
    right: npt.NDArray[np.bool_]
    command: npt.NDArray[np.bool_]
    condition: npt.NDArray[np.str_]
    fold: npt.NDArray[np.int64]
    """0 or 1: the outer split."""
    inner: npt.NDArray[np.int64]
    """0 or 1: the split inside each half, for the classifier's out-of-fold outputs."""


def pooled(rows: list[dict[str, Any]]) -> Matrix:
    return np.array([r["pooled"] for r in rows], dtype=np.float64)


def thirds(rows: list[dict[str, Any]]) -> Matrix:
    """Mean and maximum over the whole segment, and the mean of each third of it."""
    out = []
    for row in rows:
        seq = decode_sequence(row["sequence"]).astype(np.float64)
        parts = np.array_split(seq, 3) if len(seq) >= 3 else [seq, seq, seq]
        out.append(np.concatenate([seq.mean(0), seq.max(0)] + [p.mean(0) for p in parts]))
    return np.array(out)


OLD_FEATURES: Final = (*DECODER_FEATURES, "embedding_decoded", "embedding_none", "embedding_agrees")
"""The logistic fusion's features before the network (December 3)."""


def classifier_oof(data: Data, x: Matrix, train: npt.NDArray[np.bool_]) -> Matrix:
    """The classifier's probabilities for every row: out of fold (inner split) for the
    training rows, from a model fitted on all training rows for the others."""
    probabilities = np.zeros((len(data.rows), len(data.classes)))
    for part in (0, 1):
        fit_on = train & (data.inner != part)
        model = fit_classifier(x[fit_on], data.y[fit_on], data.classes)
        held = train & (data.inner == part)
        probabilities[held] = model.probabilities_batch(x[held])
    model = fit_classifier(x[train], data.y[train], data.classes)
    probabilities[~train] = model.probabilities_batch(x[~train])
    return probabilities


def frames_oof(data: Data, train: npt.NDArray[np.bool_]) -> Matrix:
    """As classifier_oof, with a classifier of single embedding frames (each frame labelled
    with its segment's class): a segment's probabilities are the softmax of its frames' mean
    log probability."""
    sequences = [decode_sequence(r["sequence"]).astype(np.float64) for r in data.rows]
    owner = np.concatenate([np.full(len(q), i) for i, q in enumerate(sequences)])
    frames = np.concatenate(sequences)
    labels = data.y[owner]

    def segment_probabilities(model: Any, rows: npt.NDArray[np.bool_]) -> Matrix:
        chosen = rows[owner]
        logs = np.log(model.probabilities_batch(frames[chosen]) + 1e-9)
        index = owner[chosen]
        sums = np.zeros((len(data.rows), len(data.classes)))
        np.add.at(sums, index, logs)
        counts = np.bincount(index, minlength=len(data.rows))[:, None]
        mean = sums[rows] / np.maximum(counts[rows], 1)
        mean -= mean.max(axis=1, keepdims=True)
        exp = np.exp(mean)
        result: Matrix = exp / exp.sum(axis=1, keepdims=True)
        return result

    probabilities = np.zeros((len(data.rows), len(data.classes)))
    for part in (0, 1):
        fit_on = (train & (data.inner != part))[owner]
        model = fit_classifier(frames[fit_on], labels[fit_on], data.classes)
        held = train & (data.inner == part)
        probabilities[held] = segment_probabilities(model, held)
    model = fit_classifier(frames[train[owner]], labels[train[owner]], data.classes)
    probabilities[~train] = segment_probabilities(model, ~train)
    return probabilities


Fuse = Callable[[Data, Matrix, npt.NDArray[np.bool_]], Matrix]


def training_part(
    data: Data, fused: list[dict[str, float]], train: npt.NDArray[np.bool_]
) -> tuple[list[dict[str, float]], list[bool]]:
    """The fusion features and labels of the training rows."""
    chosen = np.flatnonzero(train)
    return [fused[i] for i in chosen], [bool(data.right[i]) for i in chosen]


def logistic(features: Sequence[str]) -> Fuse:
    def fuse(data: Data, x: Matrix, train: npt.NDArray[np.bool_]) -> Matrix:
        fused = fusion_rows(data.rows, classifier_oof(data, x, train), data.classes)
        model = fit_logistic(*training_part(data, fused, train), features)
        return np.array([model.probability(f) for f in fused])

    return fuse


def neighbours(data: Data, x: Matrix, train: npt.NDArray[np.bool_]) -> list[dict[str, float]]:
    """For every row, the cosine similarity of its standardised pooled embedding to the
    nearest training row of its decoded class that was right, and to the nearest that was not
    (other rows of the same inner half are left out, as out of fold)."""
    z = (x - x[train].mean(0)) / (x[train].std(0) + 1e-9)
    z /= np.linalg.norm(z, axis=1, keepdims=True) + 1e-9
    decoded = np.array([r["decoded"] for r in data.rows])
    out = []
    for i in range(len(data.rows)):
        pool = train & (decoded == decoded[i])
        if train[i]:
            pool &= data.inner != data.inner[i]
        sims = z[pool] @ z[i]
        good = sims[data.right[pool]]
        bad = sims[~data.right[pool]]
        out.append(
            {
                "nearest_right": float(good.max()) if good.size else 0.0,
                "nearest_wrong": float(bad.max()) if bad.size else 0.0,
            }
        )
    return out


def network(
    hidden: int = FUSION_HIDDEN,
    by_frame: bool = False,
    knn: bool = False,
    members: int = FUSION_MEMBERS,
    seed: int = 0,
) -> Fuse:
    def fuse(data: Data, x: Matrix, train: npt.NDArray[np.bool_]) -> Matrix:
        probabilities = frames_oof(data, train) if by_frame else classifier_oof(data, x, train)
        fused = fusion_rows(data.rows, probabilities, data.classes)
        if knn:
            for values, near in zip(fused, neighbours(data, x, train), strict=True):
                values.update(near)
            features = (*FUSION_FEATURES, "nearest_right", "nearest_wrong")
            model = fit_fusion(
                *training_part(data, fused, train),
                features,
                hidden=hidden,
                members=members,
                seed=seed,
            )
            return model.probabilities_batch(model.table(fused))
        model = fit_fusion(
            *training_part(data, fused, train), hidden=hidden, members=members, seed=seed
        )
        return model.probabilities_batch(model.table(fused))

    return fuse


VARIANTS: dict[str, tuple[Callable[[list[dict[str, Any]]], Matrix], Fuse]] = {
    "logistic": (pooled, logistic(OLD_FEATURES)),
    "logistic-all": (pooled, logistic(FUSION_FEATURES)),
    "network": (pooled, network()),
    **{f"network-single-{seed}": (pooled, network(members=1, seed=seed)) for seed in range(5)},
    "network-10": (pooled, network(members=10)),
    "network-8": (pooled, network(8)),
    "network-32": (pooled, network(32)),
    "network-thirds": (thirds, network()),
    "network-frames": (pooled, network(by_frame=True)),
    "network-neighbours": (pooled, network(knn=True)),
}


def load(human: Path | None, renditions: int, workers: int, raw: int = 0) -> Data:
    items = synthetic_items()
    noises: list[Samples] = []
    if human is not None:
        people, noises = human_items(human)
        items += people
    if raw:
        rows = []
        with (CACHE / "items.jsonl").open(encoding="utf-8") as cache:
            for number, line in enumerate(cache):
                if number < raw:
                    rows += json.loads(line)["rows"]
    else:
        rows = collect(items, renditions, workers, noises)
    classes = classifier_classes()
    groups = [items[r["item"]].group for r in rows]
    digest = [int(hashlib.sha256(g.encode()).hexdigest(), 16) for g in groups]
    return Data(
        rows=rows,
        classes=classes,
        y=np.array([classes.index(r["truth"]) for r in rows]),
        right=np.array([bool(r["right"]) for r in rows]),
        command=np.array([r["truth"] != NONE_CLASS for r in rows]),
        condition=np.array(["human" if r["human"] else r["condition"] for r in rows]),
        fold=np.array([d % 2 for d in digest]),
        inner=np.array([(d // 2) % 2 for d in digest]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--human", type=Path)
    parser.add_argument("--renditions", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--rejection", type=float, default=0.97)
    parser.add_argument(
        "--raw",
        type=int,
        default=0,
        help="read the first N lines of the cache as they are, whatever code made them",
    )
    args = parser.parse_args()
    data = load(args.human, args.renditions, args.workers, args.raw)
    print(
        f"{len(data.rows)} segments; decodes of commands right: "
        + ", ".join(
            f"{c} {data.right[data.command & (data.condition == c)].mean():.1%}"
            for c in CONDITIONS
            if (data.command & (data.condition == c)).any()
        )
    )
    for name in args.variants.split(","):
        features, fuse = VARIANTS[name]
        x = features(data.rows)
        scores = np.zeros(len(data.rows))
        for fold in (0, 1):
            train = data.fold != fold
            scores[~train] = fuse(data, x, train)[~train]
        accepted = np.zeros(len(data.rows), bool)
        for fold in (0, 1):
            held = data.fold == fold
            threshold = np.quantile(scores[held & ~data.command], args.rejection)
            accepted[held] = scores[held] >= threshold
        cells = []
        for c in CONDITIONS:
            where = data.condition == c
            ok = data.right & where
            if ok.any():
                cells.append(
                    f"{c} {accepted[ok].mean():.1%}"
                    f"/{1 - accepted[~data.command & where].mean():.1%}"
                )
        short = np.array([len(r.get("words") or []) == 1 for r in data.rows])
        cells.append(
            f"one word {accepted[data.right & short].mean():.1%}"
            f"/{1 - accepted[~data.command & short].mean():.1%}"
        )
        end_to_end = (accepted & data.right)[data.command].mean()
        print(f"{name:<18} commands right and accepted {end_to_end:.1%}; " + ", ".join(cells))


if __name__ == "__main__":
    main()
