"""Does a long session grow? Memory kept per decoded utterance in a scripted session.

A scripted session (child's pose, then bridge, on simulated time, speech muted) hears a
recording of "repeat" every 10 s. Python's own allocations (tracemalloc) and the process's
resident memory are read after a warm-up of --warm-up recordings and again after --count more;
the difference divided by --count is what each decoded utterance leaves behind.

    .venv/bin/python bench/growth.py [--count 400] [--warm-up 40]
"""

from __future__ import annotations

import argparse
import gc
import resource
import tracemalloc
from pathlib import Path

from voicecoach.app import JsonLog, ScriptedRun
from voicecoach.core.catalog import RoutineItem, load_catalog
from voicecoach.core.grammar import load_grammar
from voicecoach.core.intents import build_index
from voicecoach.core.timeline import Timeline, TimelineEvent
from voicecoach.hearing.recognition import build_engine
from voicecoach.speaking.speakers import MuteSpeaker

RECORDING = (
    Path(__file__).resolve().parent.parent / "tests/audio/en/repeat@espeak-en-gb-f2-165-60.wav"
)
EVERY_S = 10.0


class CountingLog:
    """A log that keeps nothing: it counts the utterances decoded (as a file would hold them)."""

    name = "(counted)"

    def __init__(self) -> None:
        self.heard = 0

    def write(self, line: str) -> int:
        self.heard += '"event": "heard"' in line
        return len(line)

    def flush(self) -> None:
        pass


def resident_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=400, help="recordings measured")
    parser.add_argument("--warm-up", type=int, default=40, help="recordings before measuring")
    args = parser.parse_args()
    catalog = load_catalog()
    index = build_index(load_grammar(catalog))
    engine = build_engine("pocketsphinx", index.grammar, index)
    total = args.warm_up + args.count
    pause = TimelineEvent(at=10.0, on=None, nth=1, delay=0.0, say="pause", audio=None)
    recordings = [
        TimelineEvent(at=20.0 + EVERY_S * n, on=None, nth=1, delay=0.0, say=None, audio=RECORDING)
        for n in range(total)
    ]
    events = (pause, *recordings)
    timeline = Timeline((RoutineItem("childs-pose"), RoutineItem("bridge")), events)
    log = CountingLog()
    snapshot: list[tuple[int, int]] = []
    measure_from = 20.0 + EVERY_S * args.warm_up

    def at_each_step(_: str) -> None:
        if not snapshot and runner.now >= measure_from:
            gc.collect()
            snapshot.append((tracemalloc.get_traced_memory()[0], resident_kib()))
            log.heard = 0

    runner = ScriptedRun(
        catalog, index, timeline, MuteSpeaker(), JsonLog(log),  # type: ignore[arg-type]
        engine_factory=lambda: engine, show=lambda _: None,
        until_s=20.0 + EVERY_S * total, status=at_each_step,
    )  # fmt: skip
    tracemalloc.start()
    runner.run()
    gc.collect()
    traced_after, resident_after = tracemalloc.get_traced_memory()[0], resident_kib()
    ((traced_before, resident_before),) = snapshot
    heard = log.heard
    print(f"utterances decoded after the warm-up: {heard} (of {args.count} recordings)")
    print(f"session time: {runner.now / 3600:.2f} h")
    per = max(heard, 1)
    print(
        f"Python allocations kept: {(traced_after - traced_before) / 1024:.1f} KiB in all, "
        f"{(traced_after - traced_before) / per:.0f} bytes per utterance"
    )
    print(
        f"resident memory: {resident_before / 1024:.1f} MiB -> {resident_after / 1024:.1f} MiB "
        f"({(resident_after - resident_before) / per:.1f} KiB per utterance)"
    )


if __name__ == "__main__":
    main()
