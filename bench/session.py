"""A whole scripted routine on simulated time: wall time per session minute, and response
latency (end of a spoken command's audio to the coach's first word, in session time).

    .venv/bin/python bench/session.py [--routine gentle]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import tempfile
import time
from pathlib import Path

from voicecoach.app import JsonLog, ScriptedRun
from voicecoach.core.catalog import load_catalog
from voicecoach.core.grammar import load_grammar
from voicecoach.core.intents import build_index
from voicecoach.core.timeline import load_timeline
from voicecoach.hearing.recognition import build_engine
from voicecoach.hearing.synthetic import PAD_S
from voicecoach.speaking.speakers import MuteSpeaker

AUDIO = Path(__file__).resolve().parent.parent / "tests" / "audio" / "en"
# Commands spoken during rests and pauses, by recordings the engine recognises.
SCRIPT = """
routine = "{routine}"
[[event]]
on = "rest"
delay = 5.0
audio = "{audio}/can you wait one minute@flite-slt-100.wav"
[[event]]
on = "paused"
delay = 5.0
say = "resume"
[[event]]
on = "rest"
nth = 3
delay = 5.0
audio = "{audio}/what is these stretching@flite-rms-95.wav"
[[event]]
on = "rest"
nth = 4
delay = 20.0
audio = "{audio}/how long have i got left@flite-awb-110.wav"
[[event]]
on = "rest"
nth = 5
delay = 5.0
audio = "{audio}/harder version@flite-awb-110.wav"
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--routine", default="gentle")
    args = parser.parse_args()
    catalog = load_catalog()
    index = build_index(load_grammar(catalog))
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "script.toml"
        script.write_text(SCRIPT.format(routine=args.routine, audio=AUDIO), encoding="utf-8")
        timeline = load_timeline(script, catalog)
        log = io.StringIO()
        engine = build_engine("pocketsphinx", index.grammar, index)
        run = ScriptedRun(
            catalog, index, timeline, MuteSpeaker(), JsonLog(log),
            engine_factory=lambda: engine, show=lambda _: None,
        )  # fmt: skip
        wall = time.perf_counter()
        cpu = time.process_time()
        run.run()
        wall = time.perf_counter() - wall
        cpu = time.process_time() - cpu
    events = [json.loads(line) for line in log.getvalue().splitlines()]
    minutes = run.now / 60
    print(
        f"routine '{args.routine}': {minutes:.1f} session minutes in {wall:.2f} s wall "
        f"({cpu:.2f} s CPU): {wall / minutes * 1000:.0f} ms wall per session minute"
    )
    latencies = []
    for number, event in enumerate(events):
        if event["event"] != "audio":
            continue
        speech_end = event["t"] + event["seconds"] - PAD_S
        heard = next((e for e in events[number:] if e["event"] == "heard"), None)
        answer = next(
            (e for e in events[number:] if e["event"] == "say" and heard and e["t"] >= heard["t"]),
            None,
        )
        if heard is None or answer is None or heard.get("intent") is None:
            print(f"  {Path(event['file']).name}: not heard as a command")
            continue
        latencies.append(answer["t"] - speech_end)
        print(
            f"  {Path(event['file']).name}: heard {heard['intent']}, coach answered "
            f"{answer['t'] - speech_end:.2f} s after the end of speech"
        )
    if latencies:
        print(
            f"response latency (session time): median {statistics.median(latencies):.2f} s, "
            f"max {max(latencies):.2f} s over {len(latencies)} commands"
        )


if __name__ == "__main__":
    main()
