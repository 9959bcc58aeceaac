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
    """Per row of the report, whether each clip came out right."""
    classifier, fusion, scores, _ = fit_verifier(
        data.rows, data.classes, data.fold, variant.features, variant.members
    )
    decoded = np.array([r["decoded"].split(":")[0] for r in data.rows])
    point = operating_point(scores, ~data.command, decoded, rejection)

    segments = [s for clip in clips for s in clip["segments"]]
    heard = np.zeros(0)
    if segments:
        probabilities = classifier.probabilities_batch(pooled(segments))
        heard = fusion.probabilities_batch(
            fusion.table(fusion_rows(segments, probabilities, data.classes))
        )
    outcomes: dict[str, list[bool]] = defaultdict(list)
    at = 0
    for clip in clips:
        taken_right = taken_any = False
        for segment in clip["segments"]:
            intent = segment["decoded"].split(":")[0]
            threshold = point.intent_thresholds.get(intent, point.threshold)
            if segment["decoded"] != NONE_CLASS and heard[at] >= threshold:
                taken_any = True
                taken_right |= bool(segment["right"])
            at += 1
        row = clip["row"]
        if row["intent"]:
            outcomes[f"{row['condition']}, commands"].append(taken_right)
            if row["condition"] != "human" and len(row["text"].split()) <= 2:
                outcomes[f"{row['condition']}, commands of one or two words"].append(taken_right)
        else:
            outcomes[f"{row['condition']}, other speech rejected"].append(not taken_any)
    return outcomes


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
