"""Ways of judging a decode, compared on voices the verifier's training never heard.

bench/verifier_trials.py splits the training segments by text or speaker, but its synthetic
halves share the training voices, so a verifier that learns those voices looks better there than
it is. This script fits each variant on all the training segments (out/verifier/items.jsonl: run
bench/train_verifier.py first with the same --human and --renditions), sets its thresholds as
train_verifier.py does (97% of the other speech rejected, scored out of fold), and judges it on
the development set (bench/devset.py build: held-out voices, and the tune half's human digits):
the share of commands decoded right and accepted, and of other speech rejected, per condition,
and for commands of one or two words. The development set is decoded once with no rejection
and cached in out/verifier/dev-KEY.jsonl (KEY: the hearing code, as train_verifier.py keys its
renditions). Clips are heard as recordings with nothing asked (answers awaited are not
modelled: digits are judged at the common thresholds).

    .venv/bin/python bench/verifier_heldout.py --human DIR [--renditions 4] [--variants a,b]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import multiprocessing
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voicecoach.hearing.asr.verifier import (
    DECODER_FEATURES,
    FUSION_FEATURES,
    FUSION_MEMBERS,
    NONE_CLASS,
    WORD_FEATURES,
)
from voicecoach.hearing.audio import read_wav

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_verifier
from devset import _slots
from train_verifier import (
    CACHE,
    awaited_threshold,
    fit_verifier,
    fusion_rows,
    heard_segments,
    hearing_code,
    operating_point,
)
from verifier_trials import Data, load, pooled

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Variant:
    features: tuple[str, ...]
    members: int = FUSION_MEMBERS


VARIANTS = {
    "bundled": Variant(FUSION_FEATURES),
    "single": Variant(FUSION_FEATURES, members=1),
    "no-embedding": Variant(DECODER_FEATURES + WORD_FEATURES),
}


def _decode_clip(job: tuple[Path, dict[str, str]]) -> list[dict[str, Any]]:
    path, row = job
    slots = {k: v if isinstance(v, int) else str(v) for k, v in _slots(row["slots"]).items()}
    return heard_segments(read_wav(path), row["intent"] or None, slots)


def dev_segments(folder: Path, workers: int) -> list[dict[str, Any]]:
    """Each development clip's manifest row and the segments heard in it (cached)."""
    with (folder / "manifest.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    hearing = hearing_code()[1]
    key = hashlib.sha256(repr((rows, list(hearing))).encode()).hexdigest()[:16]
    cache = CACHE / f"dev-{key}.jsonl"
    if cache.exists():
        return [json.loads(line) for line in cache.read_text(encoding="utf-8").splitlines()]
    clips = []
    jobs = [(folder / row["path"], row) for row in rows]
    start = train_verifier._start_worker
    with multiprocessing.Pool(workers, initializer=start, initargs=([],)) as pool:
        for done, segments in enumerate(pool.imap(_decode_clip, jobs, chunksize=4), 1):
            clips.append({"row": rows[done - 1], "segments": segments})
            print(f"\rdevelopment clips: {done}/{len(jobs)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    CACHE.mkdir(parents=True, exist_ok=True)
    cache.write_text("".join(json.dumps(clip) + "\n" for clip in clips), encoding="utf-8")
    return clips


def judge(
    variant: Variant, data: Data, clips: Sequence[dict[str, Any]], rejection: float
) -> dict[str, list[bool]]:
    """Per row of the report, whether each clip came out right. A command clip missed as a near
    miss is also judged as the coach's "Sorry, say that again?" would have it:
    the person then says the command again, here another clip of the same command meaning,
    condition and voice (any voice if the clip's has no other), and the command the near miss
    sounded like is awaited (Session.listening_for)."""
    classifier, fusion, scores, _ = fit_verifier(
        data.rows, data.classes, data.fold, variant.features, variant.members
    )
    decoded = np.array([r["decoded"].split(":")[0] for r in data.rows])
    point = operating_point(scores, ~data.command, decoded, rejection)
    answer_threshold = awaited_threshold(scores[~data.command], point)

    segments = [s for clip in clips for s in clip["segments"]]
    heard = np.zeros(0)
    if segments:
        probabilities = classifier.probabilities_batch(pooled(segments))
        heard = fusion.probabilities_batch(
            fusion.table(fusion_rows(segments, probabilities, data.classes))
        )
    judged: list[list[tuple[str, float, bool]]] = []
    at = 0
    for clip in clips:
        judged.append([(s["decoded"], float(heard[at + k]), bool(s["right"])) for k, s in
                       enumerate(clip["segments"])])  # fmt: skip
        at += len(clip["segments"])

    def taken(segments: list[tuple[str, float, bool]], awaited: str | None = None) -> Heard:
        right = anything = False
        near_miss = None
        for decoded_class, score, is_right in segments:
            if decoded_class == NONE_CLASS:
                continue
            intent = decoded_class.split(":")[0]
            threshold = (
                answer_threshold
                if intent == awaited
                else point.intent_thresholds.get(intent, point.threshold)
            )
            if score >= threshold:
                anything, right = True, right or is_right
            elif score >= point.near_miss and near_miss is None:
                near_miss = intent
        return Heard(right, anything, near_miss)

    same: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for number, clip in enumerate(clips):
        row = clip["row"]
        same[(row["intent"], row["slots"], row["condition"])].append(number)
    outcomes: dict[str, list[bool]] = defaultdict(list)
    for number, clip in enumerate(clips):
        row = clip["row"]
        first = taken(judged[number])
        short = row["condition"] != "human" and len(row["text"].split()) <= 2
        if not row["intent"]:
            outcomes[f"{row['condition']}, other speech rejected"].append(not first.anything)
            outcomes[f"{row['condition']}, other speech asked about again"].append(
                not first.anything and first.near_miss is not None
            )
            continue
        outcomes[f"{row['condition']}, commands"].append(first.right)
        if short:
            outcomes[f"{row['condition']}, commands of one or two words"].append(first.right)
        again = first.right
        if not first.anything and first.near_miss is not None:
            others = [
                n for n in same[(row["intent"], row["slots"], row["condition"])] if n != number
            ]
            voice = [n for n in others if clips[n]["row"].get("voice") == row.get("voice")]
            pick = voice or others
            if pick:
                again = taken(judged[pick[number % len(pick)]], first.near_miss).right
        outcomes[f"{row['condition']}, commands within two tries"].append(again)
        if short:
            outcomes[f"{row['condition']}, of one or two words, within two tries"].append(again)
    return outcomes


@dataclass(frozen=True)
class Heard:
    right: bool
    """A right decode was taken."""
    anything: bool
    """Something was taken for a command."""
    near_miss: str | None
    """Nothing taken, and the intent of the first near miss (the coach asks again)."""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--human", type=Path, help="the human set the verifier trained on")
    parser.add_argument("--renditions", type=int, default=2)
    parser.add_argument("--dev", type=Path, default=ROOT / "out" / "dev")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--rejection", type=float, default=0.97)
    args = parser.parse_args()
    unknown = [v for v in args.variants.split(",") if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant {unknown[0]} (variants: {', '.join(VARIANTS)})")
    if not (args.dev / "manifest.tsv").exists():
        parser.error(f"no development set in {args.dev} (bench/devset.py build)")
    clips = dev_segments(args.dev, args.workers)
    data = load(args.human, args.renditions, args.workers)
    print(f"{len(data.rows)} training segments, {len(clips)} development clips")
    for name in args.variants.split(","):
        outcomes = judge(VARIANTS[name], data, clips, args.rejection)
        print(f"{name}:")
        for row, results in sorted(outcomes.items()):
            print(f"  {row:<45} {np.mean(results):6.1%} ({sum(results)}/{len(results)})")


if __name__ == "__main__":
    main()
