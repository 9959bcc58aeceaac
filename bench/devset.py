"""The development set: for tuning the front end and the verifier on speech that neither the
tests nor training use, so that bench/asr.py's figures stay untouched by tuning.

`build` speaks the commands and the other speech of tests/data/intents_dev.tsv (and everyday
words of bench/data/verifier_negatives.txt) in the held-out voices
(voicecoach.hearing.synthetic.HELD_OUT_VOICES), round-robin, each clean, in pink noise at 10 dB
and in three-talker babble at 15 dB (training voices saying train_verifier.py's talkers' texts)
that runs from 2-3 s before the command to 1 s after it, and, clean, words a phone or two
from a short command that training never hears (bench/confusables.py: "near-command"); with
--human DIR it adds every third digit of the human set's *tune* half (bench/humanset.py: the
Free Spoken Digit Dataset speakers the verifier trains on), which answers the pain question,
and every other one of those again in continuous pink noise at 10 dB and babble at 15 dB (from
2-3 s before the digit to 1 s after).
`measure` runs bench/asr.py's systems on it and prints the share right per condition (the
"no-rejection" system shows what the decoder gets right before the verifier) and, with
--tv-minutes, the false commands per hour in the clean other speech joined into a TV-like
stream and three-talker babble. The other speech is heard twice: as it comes, and while the
coach waits for an answer (a pain rating, or yes or no), when answers are taken more readily.

    .venv/bin/python bench/devset.py build [--out out/dev] [--human DIR]
    .venv/bin/python bench/devset.py measure [--dev out/dev] [--systems voicecoach,no-rejection]
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import random
import sys
from pathlib import Path

import numpy as np

from voicecoach.core.labelled import read_labelled
from voicecoach.core.session import awaited_as_answer
from voicecoach.hearing.audio import SAMPLE_RATE, Samples, read_wav, to_int16, write_wav
from voicecoach.hearing.synthetic import (
    HELD_OUT_VOICES,
    active_rms,
    babble,
    mix_at_snr,
    pink_noise,
    synthesize,
    training_voice,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from asr import (
    SYSTEM_NAMES,
    Clip,
    at_least_one,
    awaited_in_turn,
    joined_as_tv,
    report,
    run_systems,
    write_clips,
)
from confusables import for_training, read_confusables
from humanset import read_human_set
from train_verifier import TALKER_TEXTS, read_lines

ROOT = Path(__file__).resolve().parent.parent
DEV_PHRASES = ROOT / "tests" / "data" / "intents_dev.tsv"
EVERYDAY_WORDS = ROOT / "bench" / "data" / "verifier_negatives.txt"
DEFAULT_OUT = ROOT / "out" / "dev"
SIZES = {"clean": (200, 100), "pink": (120, 50), "babble": (120, 50)}
"""Per condition: command clips, clips of other speech (half sentences, half everyday words)."""
CONFUSABLE_CLIPS = 100
"""Clean clips of words a phone or two from a short command, from the half of
bench/data/confusable_words.txt that training never hears."""
HUMAN_EVERY = 3
HUMAN_IN_NOISE_EVERY = 2
"""Of the human digits taken, every second is also heard in pink noise and in babble."""
MANIFEST_FIELDS = ["path", "text", "intent", "slots", "condition", "voice"]

Row = tuple[int, str, str, str, str]
"""(number, text, intent or "", slots as k=v;k=v, condition)."""


def planned_rows() -> list[Row]:
    """Which text is spoken in which condition (seeded)."""
    shuffle = random.Random(3)
    examples = read_labelled(DEV_PHRASES)
    commands = [e for e in examples if e.intent]
    other = [e.text for e in examples if not e.intent]
    words = read_lines(EVERYDAY_WORDS)
    rows: list[Row] = []
    for condition, (command_count, other_count) in SIZES.items():
        for group in (commands, other, words):
            shuffle.shuffle(group)
        for example in commands[:command_count]:
            slots = ";".join(f"{k}={v}" for k, v in sorted(example.slots.items()))
            rows.append((len(rows), example.text, example.intent or "", slots, condition))
        half = other_count // 2
        for text in other[:half] + words[: other_count - half]:
            rows.append((len(rows), text, "", "", condition))
    held_out = sorted(c.word for c in read_confusables() if not for_training(c.word))
    for word in shuffle.sample(held_out, CONFUSABLE_CLIPS):
        rows.append((len(rows), word, "", "", "near-command"))
    return rows


def render(row: Row) -> Samples:
    number, text, _, _, condition = row
    voice = HELD_OUT_VOICES[number % len(HELD_OUT_VOICES)]
    speech = synthesize(text, voice)
    if condition == "pink":
        return mix_at_snr(speech, pink_noise(speech.size, number), 10.0)
    if condition == "babble":
        return in_room(speech, "babble", 1000 + number)
    return speech


def in_room(speech: Samples, noise_kind: str, seed: int) -> Samples:
    """`speech` with 2-3 s before it and 1 s after, all under continuous noise: pink at 10 dB,
    or three-talker babble of training voices (train_verifier.py's talkers' texts) at 15 dB
    below the speech's active level."""
    rng = np.random.default_rng(seed)
    if noise_kind == "babble":
        chosen = rng.choice(len(TALKER_TEXTS), 3, replace=False)
        talkers = [synthesize(TALKER_TEXTS[i], training_voice(rng)) for i in chosen]
    lead = np.zeros(int(rng.integers(2 * SAMPLE_RATE, 3 * SAMPLE_RATE)), np.int16)
    audio = np.concatenate([lead, speech, np.zeros(SAMPLE_RATE, np.int16)])
    if noise_kind == "babble":
        offset = int(rng.integers(SAMPLE_RATE))
        noise = babble(talkers, audio.size + SAMPLE_RATE)[offset:][: audio.size]
        snr_db = 15.0
    else:
        noise, snr_db = pink_noise(audio.size, seed), 10.0
    gain = active_rms(speech) / float(np.sqrt(np.mean(noise**2)) or 1.0) / 10 ** (snr_db / 20)
    return to_int16(np.clip(audio + gain * noise, -32000, 32000))


def _build_one(job: tuple[Row, Path]) -> list[str]:
    row, out = job
    number, text, intent, slots, condition = row
    name = f"{number:04d}_{condition}.wav"
    write_wav(out / name, render(row))
    voice = HELD_OUT_VOICES[number % len(HELD_OUT_VOICES)]
    return [name, text, intent, slots, condition, voice.id]


def human_rows(folder: Path, out: Path) -> list[list[str]]:
    """Every third digit of the tune half, as recorded; every other one of those also in
    continuous pink noise and babble (`in_room`), written to `out`."""
    recordings = read_human_set(folder)
    digits = [r for r in recordings if r.half == "tune" and r.speaker.startswith("fsdd-")]
    rows = []
    for number, recording in enumerate(digits[::HUMAN_EVERY]):
        level = recording.digit
        if level is None:
            continue
        path = str(recording.path.resolve())
        rows.append([path, recording.text, "rating", f"level={level}", "human", recording.speaker])
        if number % HUMAN_IN_NOISE_EVERY:
            continue
        for noise_kind in ("pink", "babble"):
            name = f"h{number:04d}_{noise_kind}.wav"
            write_wav(out / name, in_room(read_wav(recording.path), noise_kind, 5000 + number))
            rating = ["rating", f"level={level}"]
            rows.append([name, recording.text, *rating, f"human {noise_kind}", recording.speaker])
    return rows


def build(out: Path, human: Path | None, workers: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rows = planned_rows()
    jobs = [(row, out) for row in rows]
    written: list[list[str]] = []
    with multiprocessing.Pool(workers) as pool:
        for number, result in enumerate(pool.imap(_build_one, jobs, chunksize=4), 1):
            written.append(result)
            if number % 50 == 0:
                print(f"  {number}/{len(jobs)} clips", file=sys.stderr, flush=True)
    if human is not None:
        written += human_rows(human, out)
    with (out / "manifest.tsv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(MANIFEST_FIELDS)
        writer.writerows(written)
    print(f"{len(written)} clips in {out}")


def dev_clips(folder: Path) -> list[Clip]:
    with (folder / "manifest.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    clips = []
    for row in rows:
        condition, intent = row["condition"], row["intent"] or None
        slots = tuple(sorted(_slots(row["slots"]).items()))
        label = f"{condition}, {'commands' if intent else 'other speech rejected'}"
        setting = "human" if condition == "human" else "as recorded"
        path = folder / row["path"]
        clips.append(Clip(label, intent, slots, path, setting, awaited=awaited_as_answer(intent)))
        if intent is None:
            # The same speech while the coach waits for an answer (in turn: a pain rating, yes
            # or no), when an answer is taken more readily.
            label = f"{condition}, other speech rejected while an answer is awaited"
            clips.append(Clip(label, None, (), path, setting, awaited=awaited_in_turn(len(clips))))
    return clips


def _slots(text: str) -> dict[str, object]:
    """ "k=v;k=v" back to slots (numbers as numbers, as the matcher gives them)."""
    pairs = [part.split("=", 1) for part in text.split(";") if "=" in part]
    return {key: int(value) if value.isdigit() else value for key, value in pairs}


def measure(
    folder: Path,
    systems: list[str],
    jobs: int,
    tv_minutes: float,
    *,
    split: int | None = None,
    clips_to: Path | None = None,
) -> None:
    """Prints the systems' figures on the development set. `split`: how many processes hear
    each system's clips (by default, as many as the jobs allow: one system on two cores runs
    in two halves)."""
    clips = dev_clips(folder)
    other = [c.path for c in clips if c.row == "clean, other speech rejected"]
    streams = joined_as_tv(other, tv_minutes, " (held-out voices)") if tv_minutes else {}
    shares = split if split is not None else max(1, jobs // len(systems))
    results = run_systems(systems, "session", clips, streams, jobs=jobs, split=shares)
    if clips_to is not None:
        write_clips(results, clips_to)
    names = [SYSTEM_NAMES[k] for k in systems]
    report({n: results[n] for n in names}, clips)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("build", help="speak the development set")
    make.add_argument("--out", type=Path, default=DEFAULT_OUT)
    make.add_argument("--human", type=Path, help="a human set (bench/humanset.py)")
    make.add_argument("--workers", type=int, default=2)
    run = commands.add_parser("measure", help="share right per condition")
    run.add_argument("--dev", type=Path, default=DEFAULT_OUT)
    run.add_argument("--systems", default="voicecoach,no-rejection")
    run.add_argument("--jobs", type=at_least_one, default=2, help="processes run in parallel")
    run.add_argument(
        "--split",
        type=at_least_one,
        help="deal each system's clips out to this many processes (default: the jobs each "
        "system can have)",
    )
    run.add_argument(
        "--clips", type=Path, help="write each clip's decodes and reasons here (JSON lines)"
    )
    run.add_argument(
        "--tv-minutes",
        type=float,
        default=0.0,
        help="also a TV-like stream of the clean other speech, this long (false commands)",
    )
    args = parser.parse_args()
    if args.command == "build":
        if args.human is not None and not (args.human / "manifest.tsv").is_file():
            parser.error(f"{args.human}: no manifest.tsv")
        build(args.out, args.human, args.workers)
        return
    if not (args.dev / "manifest.tsv").is_file():
        parser.error(f"{args.dev}: no manifest.tsv (run: bench/devset.py build)")
    systems = [k.strip() for k in args.systems.split(",") if k.strip()]
    unknown = [k for k in systems if k not in SYSTEM_NAMES]
    if unknown:
        parser.error(f"unknown systems: {', '.join(unknown)}")
    measure(args.dev, systems, args.jobs, args.tv_minutes, split=args.split, clips_to=args.clips)


if __name__ == "__main__":
    main()
