"""Recognition figures on the test clips (tests/audio/en, voices never used for tuning):
accuracy per intent and per noise condition, rejection of out-of-domain speech, real-time
factor, decision latency and peak memory, for the embedded engine and, in the same run, the
naive baseline (PocketSphinx with its full language model, then fuzzy matching).

    .venv/bin/python bench/asr.py [--engine pocketsphinx|vosk] [--no-baseline] [--limit N]
    .venv/bin/python bench/asr.py --script tests/audio/questions.toml   # `voicecoach ask`

A script's `context` picks what is listened for: session commands, or the questions of `ask`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from voicecoach.asr import Decoded, Engine, Utterance
from voicecoach.asr.confidence import ConfidenceModel, load_confidence_model
from voicecoach.asr.pocketsphinx_engine import (
    PocketSphinxEngine,
    clean_words,
    model_paths,
    new_decoder,
)
from voicecoach.asr.stream import Recognizer
from voicecoach.audio import SAMPLE_RATE, Samples, read_wav, silence
from voicecoach.audiotests import Case, load_script
from voicecoach.catalog import load_catalog
from voicecoach.grammar import load_grammar
from voicecoach.hearing import AFTER_RECORDING_S, Heard, build_engine, understand
from voicecoach.intents import CommandIndex, build_index
from voicecoach.synthetic import PAD_S

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "audio" / "cases.toml"
FRAME = 320  # 20 ms, as from a microphone


class FullLanguageModelEngine:
    """The naive baseline: open-vocabulary decoding; the matcher then fuzzy-matches the text."""

    name = "pocketsphinx-lm"

    def __init__(self) -> None:
        self.decoder = new_decoder(lm=model_paths()["lm"])

    def start(self) -> None:
        self.decoder.start_utt()

    def feed(self, samples: Samples) -> None:
        self.decoder.process_raw(samples.tobytes(), False, False)

    def partial(self) -> str:
        hyp = self.decoder.hyp()
        return clean_words(hyp.hypstr) if hyp else ""

    def finish(self) -> Decoded:
        self.decoder.end_utt()
        hyp = self.decoder.hyp()
        text = clean_words(hyp.hypstr) if hyp else ""
        return Decoded(text, 1.0, accepted=bool(text))


def condition_of(case: Case) -> str:
    name = case.audio.name
    return "pink 10 dB" if "+pink" in name else "babble 15 dB" if "+babble" in name else "clean"


@dataclass
class Clip:
    """For the threshold sweep: each utterance's confidence and whether its intent was right."""

    condition: str
    command: bool
    utterances: list[tuple[float, bool, bool]]
    """(confidence, gave an intent, gave the right intent) per utterance."""


@dataclass
class Tally:
    right: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    audio_s: float = 0.0
    decode_s: float = 0.0
    latency_audio_s: list[float] = field(default_factory=list)
    latency_compute_s: list[float] = field(default_factory=list)
    clips: list[Clip] = field(default_factory=list)

    def rate(self, key: str) -> str:
        if not self.total[key]:
            return "-"
        return f"{self.right[key] / self.total[key]:.1%} ({self.right[key]}/{self.total[key]})"


def run(
    engine: Engine,
    index: CommandIndex,
    cases: list[Case],
    confidence: ConfidenceModel | None = None,
) -> Tally:
    """Recognises every clip. With `confidence`, the engine must accept everything; each
    utterance's probability is kept for the threshold sweep."""
    tally = Tally()
    for number, case in enumerate(cases, 1):
        samples = read_wav(case.audio)
        recognizer = Recognizer(engine)
        first = None
        swept: list[tuple[float, bool, bool]] = []

        def note(
            utterance: Utterance, case: Case = case, swept: list[tuple[float, bool, bool]] = swept
        ) -> Heard:
            heard = understand(utterance, index)
            if confidence is not None and isinstance(engine, PocketSphinxEngine):
                intent = heard.intent
                right = (
                    intent is not None
                    and intent.name == case.expect
                    and dict(intent.slots) == dict(case.slots)
                )
                probability = confidence.probability(engine.last_features)
                swept.append((probability, intent is not None, right))
            return heard

        started = time.process_time()
        clip_s = samples.size / SAMPLE_RATE
        speech_end_s = clip_s - PAD_S
        # Silence after the clip, as `voicecoach test` and a microphone give (hearing.py).
        samples = np.concatenate([samples, silence(AFTER_RECORDING_S)])
        for start in range(0, samples.size, FRAME):
            before = time.process_time()
            for utterance in recognizer.accept(samples[start : start + FRAME]):
                heard = note(utterance)
                if first is None:
                    first = heard
                    tally.latency_audio_s.append(recognizer.time_s - speech_end_s)
                    tally.latency_compute_s.append(time.process_time() - before)
        for utterance in recognizer.flush():
            heard = note(utterance)
            if first is None:
                first = heard
        tally.clips.append(Clip(condition_of(case), case.expect is not None, swept))
        tally.decode_s += time.process_time() - started
        tally.audio_s += clip_s
        intent = first.intent if first else None
        if case.expect is None:
            key = f"rejected, {condition_of(case)}"
            right = intent is None
        else:
            right = (
                intent is not None
                and intent.name == case.expect
                and dict(intent.slots) == dict(case.slots)
            )
            key = condition_of(case)
            tally.total[f"intent {case.expect}"] += 1
            tally.right[f"intent {case.expect}"] += right
            family = "flite" if "@flite" in case.audio.name else "espeak-ng"
            tally.total[f"voices {family}, {key}"] += 1
            tally.right[f"voices {family}, {key}"] += right
        tally.total[key] += 1
        tally.right[key] += right
        print(f"\r  {engine.name}: {number}/{len(cases)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return tally


PEAK_RSS_CODE = (
    "print(next(int(line.split()[1]) for line in open('/proc/self/status') "
    "if line.startswith('VmHWM')))"
)


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM; exec resets it, unlike ru_maxrss)."""
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024


def bare_python_rss_mb() -> float:
    out = subprocess.run(
        [sys.executable, "-c", PEAK_RSS_CODE], capture_output=True, text=True, check=True
    )
    return int(out.stdout) / 1024


def median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else float("nan")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def sweep(tally: Tally, current: float) -> None:
    """Commands right and out-of-domain rejected, per condition, at several thresholds."""
    conditions = ["clean", "pink 10 dB", "babble 15 dB"]
    print("\nconfidence threshold sweep (commands right per condition / out-of-domain rejected):")
    print(f"  {'threshold':<11}" + "".join(f"{c:<15}" for c in conditions) + "rejected")
    for threshold in (0.0, 0.3, 0.5, 0.6, 0.7, 0.75, 0.8, current, 0.9):
        cells = []
        for condition in conditions:
            clips = [c for c in tally.clips if c.command and c.condition == condition]
            right = sum(
                next((r for p, has, r in clip.utterances if p >= threshold and has), False)
                for clip in clips
            )
            cells.append(f"{right / max(1, len(clips)):<15.1%}")
        ood = [c for c in tally.clips if not c.command]
        rejected = sum(
            not any(p >= threshold and has for p, has, _ in clip.utterances) for clip in ood
        )
        mark = "  (the model's threshold)" if threshold == current else ""
        print(f"  {threshold:<11.3f}" + "".join(cells) + f"{rejected / max(1, len(ood)):.1%}{mark}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", default="pocketsphinx", choices=("pocketsphinx", "vosk"))
    parser.add_argument("--no-baseline", action="store_true", help="skip the naive baseline")
    parser.add_argument("--limit", type=int, default=0, help="only the first N clips")
    parser.add_argument(
        "--script", type=Path, default=CASES, help="the clips (default: tests/audio/cases.toml)"
    )
    parser.add_argument(
        "--sweep", action="store_true", help="also sweep the confidence threshold (PocketSphinx)"
    )
    args = parser.parse_args()

    cases = load_script(args.script)
    if args.limit:
        cases = cases[: args.limit]
    grammar = load_grammar(load_catalog(), context=cases[0].context)
    index = build_index(grammar)
    started = time.perf_counter()
    engine = build_engine(args.engine, grammar, index)
    load_s = time.perf_counter() - started
    results = {engine.name: run(engine, index, cases)}
    peak_mb = peak_rss_mb()
    if args.sweep and args.engine == "pocketsphinx":
        model = load_confidence_model()
        accepting = PocketSphinxEngine(grammar, use_confidence=False)
        sweep(run(accepting, index, cases, confidence=model), model.threshold)
    if not args.no_baseline:
        results["baseline (full LM + fuzzy)"] = run(FullLanguageModelEngine(), index, cases)

    names = list(results)
    print(
        f"\n{len(cases)} clips ({sum(1 for c in cases if c.expect)} commands, "
        f"{sum(1 for c in cases if not c.expect)} out-of-domain), voices unseen in tuning\n"
    )
    keys = ["clean", "pink 10 dB", "babble 15 dB"]
    keys += [f"rejected, {k}" for k in keys]
    print(f"{'':<26}" + "".join(f"{n:<30}" for n in names))
    for key in keys:
        print(f"{key:<26}" + "".join(f"{results[n].rate(key):<30}" for n in names))
    for name in names:
        t = results[name]
        rejected = sum(t.right[k] for k in keys[3:]) / max(1, sum(t.total[k] for k in keys[3:]))
        print(f"{name}: out-of-domain rejected overall {rejected:.1%}")
    print()
    for name in names:
        t = results[name]
        print(
            f"{name}: real-time factor {t.decode_s / t.audio_s:.3f} "
            f"({t.decode_s:.1f} s CPU for {t.audio_s:.0f} s of audio); decision latency after the "
            f"end of speech: median {median(t.latency_audio_s):.2f} s audio time "
            f"(90th percentile {percentile(t.latency_audio_s, 0.9):.2f} s), "
            f"{1000 * median(t.latency_compute_s):.0f} ms compute "
            f"(90th percentile {1000 * percentile(t.latency_compute_s, 0.9):.0f} ms)"
        )
    if len(names) == 2:
        ours, base = results[names[0]], results[names[1]]
        print("\nratios, engine / baseline:")
        for key in keys:
            if ours.total[key] and base.right[key]:
                print(f"  {key:<24} {ours.right[key] / base.right[key]:.2f}x")
        print(f"  real-time factor          {ours.decode_s / max(1e-9, base.decode_s):.2f}x")
    print(
        f"\nengine load {load_s:.2f} s; peak memory (engine run, before the baseline) "
        f"{peak_mb:.0f} MB, bare Python {bare_python_rss_mb():.0f} MB"
    )
    ours = results[names[0]]
    print("\ncommands right by voice family (flite voices are built from human recordings;")
    print("espeak-ng's are formant synthesis, further from human speech):")
    for key in sorted(k for k in ours.total if k.startswith("voices ")):
        print(f"  {key[7:]:<28} {ours.rate(key)}")
    print("\naccuracy per intent (all conditions):")
    for key in sorted(k for k in ours.total if k.startswith("intent ")):
        print(f"  {key[7:]:<16} {ours.rate(key)}")


if __name__ == "__main__":
    main()
