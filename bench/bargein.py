"""Barge-in figures: commands said while the coach talks, heard through a simulated room.

The coach's sentences (those a session of the gentle routine says, rendered by espeak-ng) play
back to back; the person's command recordings (the clean test clips of tests/audio/cases.toml
that the engine hears right when said alone in quiet) are said 1 s into every other sentence.
The microphone (voicecoach.hearing.room: 30 ms delay, 0.3 s reverberation) hears both, the coach at
--echo DB from the person's level. Figures per condition:

  heard        commands heard right (the intent, within 2 s of the end of the command)
  false/h      commands heard from the coach's own voice, per hour of the coach talking
  reduction    echo reduction where the coach talks alone (microphone echo energy against
               what is left after cancellation)

Conditions: speexdsp echo cancellation (the default with --echo), no cancellation (the raw
microphone, full duplex), and the half-duplex gate (nothing is heard while the coach talks).

    .venv/bin/python bench/bargein.py [--echo -6 0] [--clips 40] [--sentences 80]
"""

from __future__ import annotations

import argparse
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from voicecoach.app import LEARN_ROOM_S, EchoMeter
from voicecoach.core.catalog import load_catalog
from voicecoach.core.grammar import load_grammar
from voicecoach.core.intents import build_index
from voicecoach.core.session import Say, Session
from voicecoach.core.speech import Spoken
from voicecoach.hearing.asr.echo import SpeexEchoCanceller
from voicecoach.hearing.asr.stream import Recognizer
from voicecoach.hearing.audio import SAMPLE_RATE, Samples, read_wav
from voicecoach.hearing.audiotests import load_script
from voicecoach.hearing.recognition import build_engine, hear_file, understand
from voicecoach.hearing.room import PlayedSpeech, SimulatedRoom
from voicecoach.speaking.speakers import render_espeak

ROOT = Path(__file__).resolve().parent.parent
BLOCK = 1600
"""Samples per step (0.1 s, as the session loop)."""
GAP_S = 0.4
"""Silence between the coach's sentences."""
INTO_S = 1.0
"""The person starts this far into a coach sentence."""


@dataclass(frozen=True)
class Said:
    """A command recording placed in the stream."""

    path: Path
    intent: str
    start: int
    end: int


def coach_sentences(limit: int) -> list[str]:
    """What a session of the gentle routine says, in order, nobody interrupting."""
    catalog = load_catalog(ROOT / "data" / "exercises.toml")
    session = Session(catalog, list(catalog.routine("gentle").items))
    texts: list[str] = []
    now = 0.0
    actions = session.start(now)
    while session.phase != "done" and len(texts) < limit:
        texts += [a.text for a in actions if isinstance(a, Say)]
        now += 0.5
        actions = session.tick(now)
    return texts[:limit]


def command_clips(limit: int, engine_name: str) -> list[tuple[Path, str]]:
    """Clean test clips the engine hears right when said alone, in quiet."""
    cases = load_script(ROOT / "tests" / "audio" / "cases.toml")
    grammar = load_grammar(load_catalog(ROOT / "data" / "exercises.toml"))
    index = build_index(grammar)
    engine = build_engine(engine_name, grammar, index)
    chosen: list[tuple[Path, str]] = []
    for case in cases:
        if "+" in case.audio.name or case.expect is None or case.expect == "rating":
            continue
        result = hear_file(case.audio, engine, index)
        command = result.command
        if (
            command is not None
            and command.intent is not None
            and command.intent.name == case.expect
        ):
            chosen.append((case.audio, case.expect))
        if len(chosen) >= limit:
            break
    return chosen


def build_stream(
    sentences: list[str], clips: list[tuple[Path, str]]
) -> tuple[list[Spoken], list[Said], dict[str, Samples], int]:
    program = shutil.which("espeak-ng")
    assert program is not None, "espeak-ng is needed"
    rendered = {text: render_espeak(program, text, 165) for text in set(sentences)}
    spoken: list[Spoken] = []
    said: list[Said] = []
    t = 0.5
    for number, text in enumerate(sentences):
        duration = rendered[text].size / SAMPLE_RATE
        spoken.append(Spoken(text, t, duration))
        clip = number // 2
        if number % 2 == 1 and clip < len(clips) and duration > INTO_S + 0.3:
            path, intent = clips[clip]
            start = round((t + INTO_S) * SAMPLE_RATE)
            said.append(Said(path, intent, start, start + read_wav(path).size))
        t += duration + GAP_S
    return spoken, said, rendered, round((t + 2.0) * SAMPLE_RATE)


@dataclass
class Figures:
    heard: int = 0
    false: int = 0
    coach_s: float = 0.0
    reduction_db: float | None = None
    rtf: float = 0.0


def run_condition(
    condition: str,
    echo_db: float,
    spoken: list[Spoken],
    said: list[Said],
    rendered: dict[str, Samples],
    total: int,
    engine_name: str,
) -> Figures:
    grammar = load_grammar(load_catalog(ROOT / "data" / "exercises.toml"))
    index = build_index(grammar)
    engine = build_engine(engine_name, grammar, index)
    played = PlayedSpeech(lambda: tuple(spoken), lambda text: rendered.get(text, _render(text)))
    room = SimulatedRoom(played, echo_db)
    for clip in said:
        room.say(read_wav(clip.path), clip.start)
    canceller = None
    if condition.startswith("speexdsp"):
        # "speexdsp AEC", or variants for comparison: "speexdsp filter" (no preprocessor),
        # "speexdsp E/A/N" (echo suppression alone / with the person talking / noise, in dB)
        variant = condition.removeprefix("speexdsp").strip()
        if variant == "filter":
            canceller = SpeexEchoCanceller(suppress=False)
        elif variant.count("/") == 2:
            alone, active, noise = (int(x) for x in variant.split("/"))
            canceller = SpeexEchoCanceller(
                echo_suppress_db=alone, echo_suppress_active_db=active, noise_suppress_db=noise
            )
        else:
            canceller = SpeexEchoCanceller()
    recognizer = Recognizer(engine)
    meter = EchoMeter()
    figures = Figures(coach_s=sum(s.duration_s for s in spoken))
    found: set[int] = set()
    started = time.process_time()
    position = 0
    skipped = 0  # samples not given to the recogniser (gated): its clock runs behind by this
    while position < total:
        frames = room.listen(BLOCK)
        position += BLOCK
        audio = frames.microphone
        if canceller is not None:
            audio = canceller.process(frames.microphone, frames.reference)
            if not frames.person_speaking:
                meter.add(frames.echo[: audio.size], audio)
        learning = canceller is not None and canceller.learnt_s < LEARN_ROOM_S
        now_s = position / SAMPLE_RATE
        coach_speaking = any(s.start_s <= now_s < s.end_s + 0.3 for s in spoken)
        if (condition == "half-duplex" or learning) and coach_speaking:  # as the session does
            if recognizer.in_speech:
                recognizer.reset()
            skipped += BLOCK
            continue
        recognizer.coach_speaking = coach_speaking  # its echo is not the room's talk
        for utterance in recognizer.accept(audio):
            if not utterance.final:
                continue
            heard = understand(utterance, index)
            if heard.intent is None:
                continue
            end = round(utterance.end_s * SAMPLE_RATE) + skipped
            match = next(
                (
                    n
                    for n, clip in enumerate(said)
                    if clip.start - SAMPLE_RATE // 2 <= end <= clip.end + 2 * SAMPLE_RATE
                ),
                None,
            )
            if match is None:
                figures.false += 1
                print(f"  false: {utterance.text!r} -> {heard.intent.name} at {end / 16000:.1f} s")
            elif said[match].intent == heard.intent.name:
                found.add(match)
    figures.rtf = (time.process_time() - started) / (total / SAMPLE_RATE)
    figures.heard = len(found)
    figures.reduction_db = meter.reduction_db
    if canceller is not None:
        canceller.close()
    return figures


def _render(text: str) -> Samples:
    program = shutil.which("espeak-ng")
    assert program is not None
    return render_espeak(program, text, 165)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--echo", type=float, nargs="+", default=[-6.0, 0.0], metavar="DB")
    parser.add_argument("--clips", type=int, default=40)
    parser.add_argument("--sentences", type=int, default=90)
    parser.add_argument("--engine", default="pocketsphinx")
    parser.add_argument(
        "--conditions", default="speexdsp AEC,no AEC,half-duplex", help="comma-separated"
    )
    args = parser.parse_args()
    clips = command_clips(args.clips, args.engine)
    sentences = coach_sentences(args.sentences)
    spoken, said, rendered, total = build_stream(sentences, clips)
    print(
        f"{len(said)} commands (heard right alone, in quiet) said {INTO_S:g} s into coach "
        f"sentences; {len(spoken)} sentences, {sum(s.duration_s for s in spoken) / 60:.1f} min "
        "of the coach talking"
    )
    print(
        f"{'condition':<14} {'echo':>6} {'heard':>12} {'false/h':>8} {'reduction':>10} {'RTF':>6}"
    )
    for echo_db in args.echo:
        for condition in args.conditions.split(","):
            f = run_condition(condition, echo_db, spoken, said, rendered, total, args.engine)
            reduction = "" if f.reduction_db is None else f"{f.reduction_db:.1f} dB"
            share = f"{f.heard}/{len(said)} {100 * f.heard / max(1, len(said)):.0f}%"
            print(
                f"{condition:<14} {echo_db:>4g}dB {share:>12} "
                f"{f.false * 3600 / max(f.coach_s, 1e-9):>8.1f} {reduction:>10} {f.rtf:>6.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
