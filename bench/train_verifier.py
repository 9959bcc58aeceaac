"""Trains the verifier (voicecoach/hearing/asr/verifier.json): a second opinion on every command the
PocketSphinx grammar decoder hears, from Google's speech embedding (asr/embedding.py).

Tuning speech, all synthetic and none of it from a test set: every grammar test sentence, the
*dev* set's commands and out-of-domain sentences, bare numbers, and the everyday words and
TV-like sentences of bench/data/verifier_negatives.txt, each spoken several times by random
training voices (voicecoach.hearing.synthetic.training_voice: no test voice among them) at
random pace and pitch, some through a band-limited, tilted microphone (microphone_colour), clean,
in pink noise (5-20 dB), in babble of other training voices (8-20 dB) and in simulated rooms
(reverberation). Every clip goes through the same endpointer and decoder as live audio; each
segment gives the decoder's scores, its pooled embedding and whether the decode means what was
said.

Two models are fitted: an intent classifier on the pooled embedding (multinomial logistic), and
a logistic fusion of the decoder's scores with that classifier's opinion of the decoded intent,
fitted on out-of-fold classifier outputs (sentences split in two halves) so that it learns how
much to trust the classifier on speech it has not seen. The acceptance threshold rejects
REJECTION_TARGET of the non-command segments; an intent whose own non-command decodes score
higher gets a higher threshold.

Needs espeak-ng, flite and festival with festvox-kallpc16k and festvox-kdlpc16k (Debian).
Clips and features are cached in out/verifier/. The bundled weights come from the defaults
(2 renditions, 2 workers: about 20 minutes on a 2-core machine).

    .venv/bin/python bench/train_verifier.py [--renditions N] [--workers N] [--write]
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import multiprocessing
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from voicecoach.core.grammar import INTENT_NAMES, SlotValue
from voicecoach.core.labelled import read_labelled
from voicecoach.core.numbers import number_to_words
from voicecoach.hearing.asr.confidence import fit_logistic
from voicecoach.hearing.asr.stream import ENDPOINTERS
from voicecoach.hearing.asr.verifier import (
    DEFAULT_VERIFIER_PATH,
    FUSION_FEATURES,
    NONE_CLASS,
    IntentClassifier,
    Verifier,
    fit_classifier,
)
from voicecoach.hearing.audio import SAMPLE_RATE
from voicecoach.hearing.synthetic import (
    babble,
    microphone_colour,
    mix_at_snr,
    pink_noise,
    reverberate,
    synthesize,
    training_voice,
)

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "out" / "verifier"
REJECTION_TARGET = 0.97
NEAR_MISS_SHARE = 0.03
"""Share of non-command segments allowed to fall between the near-miss and accept thresholds
(the coach asks "Sorry, say that again?" for those)."""
TALKER_TEXTS = [
    "the forecast says more rain is coming through the valley by the weekend",
    "our guest tonight has written three books about the history of the railways",
    "could you pick up some bread and milk on the way home from work",
    "prices at the pump went up again this week for the third time in a month",
    "the team will travel north for the final match of the season on sunday",
    "after the break we will hear from a chef who grows all her own vegetables",
]


@dataclass(frozen=True)
class Item:
    text: str
    intent: str | None
    slots: dict[str, SlotValue]


def corpus() -> list[Item]:
    data = ROOT / "tests" / "data"
    items = [
        Item(e.text, e.intent, dict(e.slots))
        for e in read_labelled(data / "intents_templates.tsv")
        + read_labelled(data / "intents_dev.tsv")
    ]
    items += [Item(number_to_words(n), "rating", {"level": n}) for n in range(11)]
    negatives = (ROOT / "bench" / "data" / "verifier_negatives.txt").read_text(encoding="utf-8")
    items += [
        Item(line.strip(), None, {})
        for line in negatives.splitlines()
        if line.strip() and not line.startswith("#")
    ]
    unique: dict[str, Item] = {}
    for item in items:
        unique.setdefault(item.text, item)
    return list(unique.values())


def render(item: Item, seed: int, talkers: list[Any]) -> tuple[Any, str]:
    """One spoken rendition of `item`: a random training voice in a random room, with a
    random lead of quiet before it and a second after; noise, when there is any, runs through
    all of it (as it goes on around a person in a room)."""
    rng = np.random.default_rng(seed)
    speech = synthesize(item.text, training_voice(rng))
    lead = np.zeros(int(rng.integers(3200, 16000)), np.int16)
    speech = np.concatenate([lead, speech, np.zeros(SAMPLE_RATE, np.int16)])
    condition = str(rng.choice(["clean", "pink", "babble", "room"], p=[0.3, 0.25, 0.25, 0.2]))
    if condition == "room" or rng.random() < 0.2:
        speech = reverberate(speech, float(rng.uniform(0.2, 0.7)), seed)
    if rng.random() < 0.3:  # people's microphones: phones, laptops, 8 kHz recordings
        speech = microphone_colour(speech, seed)
    if condition == "pink":
        speech = mix_at_snr(speech, pink_noise(speech.size, seed), float(rng.uniform(5, 20)))
    elif condition == "babble":
        chosen = [talkers[i] for i in rng.choice(len(talkers), 3, replace=False)]
        offset = int(rng.integers(16000))
        noise = babble(chosen, speech.size + offset)[offset:]
        speech = mix_at_snr(speech, noise, float(rng.uniform(8, 20)))
    elif condition == "room":
        speech = mix_at_snr(speech, pink_noise(speech.size, seed), float(rng.uniform(15, 30)))
    gain = 10 ** (float(rng.uniform(-12, 3)) / 20)
    return np.clip(speech.astype(np.float64) * gain, -32767, 32767).astype(np.int16), condition


_worker: dict[str, Any] = {}


def _start_worker() -> None:
    from voicecoach.core.catalog import load_catalog
    from voicecoach.core.grammar import load_grammar
    from voicecoach.core.intents import build_index
    from voicecoach.hearing.asr.embedding import SpeechEmbedder
    from voicecoach.hearing.asr.pocketsphinx_engine import PocketSphinxEngine

    grammar = load_grammar(load_catalog())
    _worker["index"] = build_index(grammar)
    _worker["engine"] = PocketSphinxEngine(grammar, rejection="none")
    _worker["embedder"] = SpeechEmbedder()
    rng = np.random.default_rng(99)
    _worker["talkers"] = [synthesize(t, training_voice(rng)) for t in TALKER_TEXTS]


def _segments(job: tuple[int, Item, int]) -> list[dict[str, Any]]:
    """Decodes one rendition: a row per speech segment the endpointer found."""
    from voicecoach.core.intents import match
    from voicecoach.hearing.asr.stream import recognize_samples

    number, item, seed = job
    engine, embedder = _worker["engine"], _worker["embedder"]
    speech, condition = render(item, seed, _worker["talkers"])
    rows = []
    for utterance in recognize_samples(engine, speech):
        if not utterance.text or not engine.last_features:
            continue
        got = match(utterance.text, _worker["index"])
        right = (
            item.intent is not None
            and got is not None
            and got.name == item.intent
            and dict(got.slots) == item.slots
        )
        segment = np.frombuffer(engine.last_segment, dtype=np.int16)
        rows.append(
            {
                "item": number,
                "condition": condition,
                "truth": item.intent or NONE_CLASS,
                "decoded": got.name if got else NONE_CLASS,
                "right": right,
                "features": dict(engine.last_features),
                "pooled": embedder.pooled(segment).tolist(),
            }
        )
    return rows


def collect(items: list[Item], renditions: int, workers: int) -> list[dict[str, Any]]:
    jobs = []
    for number, item in enumerate(items):
        count = renditions * (2 if len(item.text.split()) == 1 else 1)
        jobs += [(number, item, 1000 * number + k) for k in range(count)]
    version = (jobs, TALKER_TEXTS, inspect.getsource(render), ENDPOINTERS[0])
    key = hashlib.sha256(repr(version).encode()).hexdigest()[:12]
    cache = CACHE / f"segments-{key}.json"
    if cache.exists():
        rows: list[dict[str, Any]] = json.loads(cache.read_text(encoding="utf-8"))
        return rows
    rows = []
    with multiprocessing.Pool(workers, initializer=_start_worker) as pool:
        for done, found in enumerate(pool.imap(_segments, jobs, chunksize=8), 1):
            rows += found
            print(f"\rrenditions: {done}/{len(jobs)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    CACHE.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(rows), encoding="utf-8")
    return rows


def fusion_rows(
    rows: list[dict[str, Any]], probabilities: npt.NDArray[np.float64], classes: tuple[str, ...]
) -> list[dict[str, float]]:
    out = []
    for row, p in zip(rows, probabilities, strict=True):
        out.append(Verifier.fusion_features(row["features"], p, classes, row["decoded"]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--renditions", type=int, default=2, help="renditions per sentence (single words: twice)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="write the verifier file")
    args = parser.parse_args()

    items = corpus()
    rows = collect(items, args.renditions, args.workers)
    classes = (*INTENT_NAMES, NONE_CLASS)
    x = np.array([r["pooled"] for r in rows], dtype=np.float64)
    y = np.array([classes.index(r["truth"]) for r in rows])
    # Out-of-fold classifier outputs: sentences split in two halves.
    half = np.array([r["item"] % 2 for r in rows])
    out_of_fold = np.zeros((len(rows), len(classes)))
    for fold in (0, 1):
        model = fit_classifier(x[half != fold], y[half != fold], classes)
        out_of_fold[half == fold] = model.probabilities_batch(x[half == fold])
    classifier: IntentClassifier = fit_classifier(x, y, classes)

    fused_rows = fusion_rows(rows, out_of_fold, classes)
    labels = [bool(r["right"]) for r in rows]
    fusion = fit_logistic(fused_rows, labels, FUSION_FEATURES)
    scores = np.array([fusion.probability(r) for r in fused_rows])
    right = np.array(labels)
    command = np.array([r["truth"] != NONE_CLASS for r in rows])
    decoded = np.array([r["decoded"] for r in rows])
    negatives = scores[~command]
    threshold = float(np.quantile(negatives, REJECTION_TARGET))
    thresholds: dict[str, float] = {}
    for name in INTENT_NAMES:
        own = scores[~command & (decoded == name)]
        if own.size >= 10:
            thresholds[name] = round(max(threshold, float(np.quantile(own, REJECTION_TARGET))), 4)
    near_miss = float(np.quantile(negatives, REJECTION_TARGET - NEAR_MISS_SHARE))
    verifier = Verifier(
        classifier=classifier,
        fusion=fusion,
        threshold=round(threshold, 4),
        intent_thresholds=thresholds,
        near_miss=round(min(near_miss, threshold), 4),
    )
    accepted = np.array(
        [s >= verifier.threshold_for(d) for s, d in zip(scores, decoded, strict=True)]
    )
    emb_right = out_of_fold.argmax(axis=1) == y
    print(f"segments: {len(rows)} ({command.sum()} of commands, {(~command).sum()} of other)")
    print(f"embedding classifier alone, out of fold: {emb_right[command].mean():.1%} of commands")
    print(f"  and {emb_right[~command].mean():.1%} of other speech classed as none")
    print(
        "fusion weights: "
        + ", ".join(f"{n}={w:+.2f}" for n, w in zip(fusion.features, fusion.weights, strict=True))
    )
    print(f"threshold {verifier.threshold:.3f}, near miss {verifier.near_miss:.3f}")
    print(f"per intent: {thresholds}")
    for condition in ("clean", "pink", "babble", "room"):
        where = np.array([r["condition"] == condition for r in rows])
        print(
            f"  {condition:<7} right commands accepted {accepted[right & where].mean():.1%} "
            f"of {int((right & where).sum())}; decodes of commands right "
            f"{right[command & where].mean():.1%}; other speech rejected "
            f"{1 - accepted[~command & where].mean():.1%}"
        )
    if args.write:
        DEFAULT_VERIFIER_PATH.write_text(verifier.to_json() + "\n", encoding="utf-8")
        print(f"wrote {DEFAULT_VERIFIER_PATH}")


if __name__ == "__main__":
    main()
