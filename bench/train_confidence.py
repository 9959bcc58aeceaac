"""Trains the PocketSphinx confidence model (voicecoach/hearing/asr/pocketsphinx_confidence.json).

Tuning speech: every grammar test sentence and every out-of-domain sentence of the *dev* set,
spoken by the TUNING voices (none of them is a test voice) clean, with pink noise at 10 dB and
with babble at 15 dB. Clips are cached in out/tuning/. A decode is a positive example when it
means what was said; out-of-domain speech and wrong commands are negatives. The threshold is
the lowest that rejects at least REJECTION_TARGET of the out-of-domain utterances (at 90%, the
wrong commands accepted rose from 6% to 16% on the tuning voices; bench/asr.py --sweep shows
the whole trade-off on the test clips).

    .venv/bin/python bench/train_confidence.py [--write]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

from voicecoach.core.catalog import load_catalog
from voicecoach.core.grammar import load_grammar
from voicecoach.core.intents import build_index, match
from voicecoach.core.labelled import Example, read_labelled
from voicecoach.hearing.asr.confidence import DEFAULT_MODEL_PATH, fit_logistic
from voicecoach.hearing.asr.pocketsphinx_engine import FEATURE_NAMES, PocketSphinxEngine
from voicecoach.hearing.asr.stream import Recognizer
from voicecoach.hearing.audio import read_wav, write_wav
from voicecoach.hearing.synthetic import TUNING_VOICES, babble, mix_at_snr, pink_noise, synthesize

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "out" / "tuning"
REJECTION_TARGET = 0.95
BABBLE_TEXTS = [
    "the forecast says more rain is coming through the valley by the weekend",
    "our guest tonight has written three books about the history of the railways",
    "could you pick up some bread and milk on the way home from work",
    "prices at the pump went up again this week for the third time in a month",
]


def tuning_clips() -> list[tuple[Path, Example]]:
    rng = random.Random(11)
    commands = read_labelled(ROOT / "tests" / "data" / "intents_templates.tsv")
    rejects = [
        e for e in read_labelled(ROOT / "tests" / "data" / "intents_dev.tsv") if not e.intent
    ]
    plan = [(e, c) for e in commands for c in ("clean", rng.choice(["pink", "babble"]))]
    plan += [(e, c) for e in rejects for c in ("clean", rng.choice(["pink", "babble"]))]
    CACHE.mkdir(parents=True, exist_ok=True)
    talkers = None
    clips = []
    for number, (example, condition) in enumerate(plan):
        voice = TUNING_VOICES[number % len(TUNING_VOICES)]
        path = CACHE / f"{number:04d}-{condition}.wav"
        if not path.exists():
            speech = synthesize(example.text, voice)
            if condition == "pink":
                speech = mix_at_snr(speech, pink_noise(speech.size, seed=number), 10.0)
            elif condition == "babble":
                if talkers is None:
                    talkers = [
                        synthesize(t, v) for t, v in zip(BABBLE_TEXTS, TUNING_VOICES, strict=False)
                    ]
                chosen = rng.sample(talkers, 3)
                speech = mix_at_snr(speech, babble(chosen, speech.size), 15.0)
            write_wav(path, speech)
        clips.append((path, example))
        print(f"\rtuning clips: {number + 1}/{len(plan)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return clips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="write the model file")
    args = parser.parse_args()

    grammar = load_grammar(load_catalog())
    index = build_index(grammar)
    engine = PocketSphinxEngine(grammar, rejection="none")
    rows: list[dict[str, float]] = []
    labels: list[bool] = []
    is_command: list[bool] = []
    clips = tuning_clips()
    for number, (path, example) in enumerate(clips):
        recognizer = Recognizer(engine)
        samples = read_wav(path)
        utterances = []
        for start in range(0, samples.size, 320):
            for utterance in recognizer.accept(samples[start : start + 320]):
                utterances.append((utterance, dict(engine.last_features)))
        for utterance in recognizer.flush():
            utterances.append((utterance, dict(engine.last_features)))
        for utterance, features in utterances:
            if not utterance.text or not features:
                continue
            got = match(utterance.text, index)
            right = (
                example.intent is not None
                and got is not None
                and got.name == example.intent
                and dict(got.slots) == dict(example.slots)
            )
            rows.append(features)
            labels.append(right)
            is_command.append(example.intent is not None)
        print(f"\rdecoded: {number + 1}/{len(clips)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)

    model = fit_logistic(rows, labels, FEATURE_NAMES)
    probabilities = np.array([model.probability(r) for r in rows])
    labels_array = np.array(labels)
    commands = np.array(is_command)
    ood = probabilities[~commands]
    threshold = float(np.quantile(ood, REJECTION_TARGET)) if ood.size else 0.5
    model = type(model)(**{**model.__dict__, "threshold": round(threshold, 4)})
    accepted = probabilities >= model.threshold
    print(
        f"utterances: {len(rows)} ({labels_array.sum()} right commands, "
        f"{(~commands).sum()} out of domain)"
    )
    print(
        "weights: "
        + ", ".join(f"{n}={w:+.2f}" for n, w in zip(model.features, model.weights, strict=True))
    )
    print(f"threshold {model.threshold:.3f}: on the tuning voices")
    print(f"  right commands accepted: {accepted[labels_array].mean():.1%}")
    print(f"  wrong commands accepted: {accepted[commands & ~labels_array].mean():.1%}")
    print(f"  out-of-domain rejected:  {1 - accepted[~commands].mean():.1%}")
    if args.write:
        DEFAULT_MODEL_PATH.write_text(model.to_json() + "\n", encoding="utf-8")
        print(f"wrote {DEFAULT_MODEL_PATH}")


if __name__ == "__main__":
    main()
