"""How small a board the coach fits: peak memory, CPU while listening, start-up time.

    .venv/bin/python bench/footprint.py [--repeats 3] [--listen-s 60]

Everything is measured in the same run (about 15 s on two cores), against bare Python:

1. Peak memory of a whole scripted routine: `python -m voicecoach run --engine pocketsphinx
   --script <timeline> --mute`, the gentle routine with a few commands said by recordings
   (tests/audio/en) so that the recogniser is loaded and used; bare Python is `python -c pass`.
   Each child reports its own peak (VmHWM, from /proc, at exit). The kernel's figure from
   os.wait4 (ru_maxrss) is printed too, but Linux counts into it the memory of the process that
   started the child (at exec), so it cannot go below this script's own peak: that floor is
   printed alongside, and this script imports nothing heavy until the children are done.
   Then where the memory goes: resident memory after each stage of start-up, in one child.
2. CPU seconds per minute of listening, in this process: a ScriptedRun (simulated time, silent
   speaker) paused as a session waiting for the person, its `listen` handing out the audio of
   each 0.1 s step in 20 ms frames as the microphone does: a quiet room, TV-like babble (several
   espeak-ng/flite talkers, long sentences) and one talker reading on. Measured with
   time.process_time (CPU, not wall); the utterances heard and those taken as commands are
   counted.
3. Start-up time to the first spoken word: `python -m voicecoach run --text --mute
   --first-session` with stdin kept open, from spawn to the first "coach:" line on stdout;
   bare Python is the wall time of `python -c pass` to exit. Median of --repeats runs.

Every child gets a fresh temporary VOICECOACH_HOME (nothing touches your history) and
PYTHONUNBUFFERED=1. MB here are MiB (1024 * 1024 bytes).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, TypeVar

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from voicecoach.app import ScriptedRun
    from voicecoach.core.catalog import Catalog
    from voicecoach.core.intents import CommandIndex
    from voicecoach.hearing.asr import Decoded, Engine
    from voicecoach.hearing.audio import Samples

T = TypeVar("T")

ROOT: Final = Path(__file__).resolve().parent.parent
AUDIO: Final = ROOT / "tests" / "audio" / "en"
ROUTINE: Final = "gentle"
MEMORY_AIM_MB: Final = 150.0
CPU_AIM_PERCENT: Final = 5.0
LISTENING_LEVEL_DBFS: Final = -30.0
"""RMS of the background speech over the whole stretch: a TV at a normal volume, across a room."""
ROOM_LEVEL_DBFS: Final = -60.0
"""RMS of the quiet room's pink noise (the recogniser adds its own floor on top)."""

# Commands said during rests and the pause, by recordings: a pause, a resume, two questions or
# requests and one sentence that is not a command (it should be rejected).
SPOKEN: Final = (
    ("rest", 1, 4.0, "let me have a breather@flite-slt-100.wav"),
    ("paused", 1, 3.0, "resume@flite-slt-100.wav"),
    ("rest", 2, 6.0, "how long is left@flite-awb-110.wav"),
    ("rest", 3, 4.0, "can we make it harder@flite-slt-100.wav"),
    ("rest", 4, 5.0, "oov_that movie was painful to watch@flite-awb-110.wav"),
)

# Long sentences of the kind a TV or a radio says, none of them a command.
BACKGROUND_SENTENCES: Final = (
    "Good evening and welcome to the news at six, where tonight we look at the rising price "
    "of bread and what it means for families across the country.",
    "The weather will stay unsettled for the rest of the week, with heavy showers in the north "
    "and longer sunny spells further south by Saturday afternoon.",
    "In football, the home side came back from two goals down in the second half to win a "
    "match that most of the crowd will remember for a very long time.",
    "Scientists at the university have found that the old bridge across the river was built "
    "almost two hundred years earlier than anyone had thought.",
    "After the break we will meet a woman who has walked the entire coastline with her dog, "
    "raising money for the hospital that looked after her father.",
    "Traffic on the motorway is still moving slowly after this morning's accident, so drivers "
    "are asked to leave early and to take the old road through the village.",
)

# Written into each child: at exit, the child's own peak resident memory (VmHWM, in KiB) goes
# to the file named by FOOTPRINT_PEAK_FILE. VmHWM belongs to the address space exec made, so
# unlike ru_maxrss it owes nothing to the process that started the child.
PEAK_HOOK: Final = """\
import atexit, os
def _footprint_peak():
    with open('/proc/self/status', encoding='ascii') as status:
        kib = next(line.split()[1] for line in status if line.startswith('VmHWM:'))
    with open(os.environ['FOOTPRINT_PEAK_FILE'], 'w', encoding='ascii') as out:
        out.write(kib)
atexit.register(_footprint_peak)
"""
RUN_VOICECOACH: Final = (
    "import runpy\nrunpy.run_module('voicecoach', run_name='__main__', alter_sys=True)\n"
)

# Resident memory after each stage of what `run` does before the session starts, in one child.
STAGES: Final = """\
import json
def resident():
    with open('/proc/self/status', encoding='ascii') as status:
        return int(next(line.split()[1] for line in status if line.startswith('VmRSS:'))) / 1024
stages = [('the interpreter', resident())]
import voicecoach.cli, voicecoach.app
stages.append(('+ imports of voicecoach.cli and .app (numpy, rapidfuzz, ...)', resident()))
from voicecoach.core.catalog import load_catalog
from voicecoach.core.grammar import load_grammar
from voicecoach.core.intents import build_index
index = build_index(load_grammar(load_catalog()))
stages.append(('+ catalog, grammar, command index', resident()))
from voicecoach.hearing.recognition import build_engine
engine = build_engine('pocketsphinx', index.grammar, index)
stages.append(('+ the PocketSphinx engine', resident()))
from voicecoach.hearing.asr.pocketsphinx_engine import new_decoder
decoder = new_decoder(lm=None)
stages.append(('(+ one more bare decoder: acoustic model and cmudict)', resident()))
print(json.dumps(stages))
"""


def progress(message: str) -> None:
    print(f"[footprint] {message}", file=sys.stderr, flush=True)


def own_peak_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


@contextmanager
def voicecoach_home() -> Iterator[dict[str, str]]:
    """The environment for one child: a fresh, empty VOICECOACH_HOME, unbuffered output."""
    with tempfile.TemporaryDirectory(prefix="footprint-home-") as home:
        yield {**os.environ, "VOICECOACH_HOME": home, "PYTHONUNBUFFERED": "1"}


# --- 1. peak memory --------------------------------------------------------------------------


@dataclass(frozen=True)
class Peak:
    vmhwm_mb: float
    """The child's own peak resident memory."""
    maxrss_mb: float
    """ru_maxrss from os.wait4: never below the starting process's memory at exec."""
    floor_mb: float
    """This script's peak when the child was started."""
    output: str


def measure_peak(code: str, args: list[str]) -> Peak:
    """Runs `python -c PEAK_HOOK + code args...` to its end and returns its peak memory."""
    with (
        voicecoach_home() as env,
        tempfile.TemporaryDirectory(prefix="footprint-") as folder,
        tempfile.TemporaryFile("w+", encoding="utf-8") as out,
        tempfile.TemporaryFile("w+", encoding="utf-8") as err,
    ):
        peak_file = Path(folder) / "peak-kib"
        env["FOOTPRINT_PEAK_FILE"] = str(peak_file)
        floor = own_peak_mb()
        child = subprocess.Popen(
            [sys.executable, "-c", PEAK_HOOK + code, *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        _, status, usage = os.wait4(child.pid, 0)  # reaped here, for its resource usage
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0 or not peak_file.exists():
            raise RuntimeError(f"{args or code!r} failed ({child.returncode}): {err.read()}")
        return Peak(
            vmhwm_mb=int(peak_file.read_text(encoding="ascii")) / 1024,
            maxrss_mb=usage.ru_maxrss / 1024,  # KiB on Linux
            floor_mb=floor,
            output=out.read(),
        )


def timeline_text() -> str:
    lines = [f'routine = "{ROUTINE}"']
    for phase, nth, delay, clip in SPOKEN:
        path = AUDIO / clip
        if not path.exists():
            raise FileNotFoundError(path)
        lines += ["[[event]]", f'on = "{phase}"', f"nth = {nth}", f"delay = {delay}"]
        lines.append(f"audio = {json.dumps(str(path))}")  # a JSON string is a TOML string
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class MemoryFigures:
    routine: Peak
    bare: Peak
    session_s: float
    heard: int
    commands: int
    stages: list[tuple[str, float]]


def measure_memory() -> MemoryFigures:
    with tempfile.TemporaryDirectory(prefix="footprint-timeline-") as folder:
        timeline = Path(folder) / "routine.toml"
        timeline.write_text(timeline_text(), encoding="utf-8")
        progress(f"peak memory: the '{ROUTINE}' routine, scripted, PocketSphinx ...")
        args = ["run", "--engine", "pocketsphinx", "--script", str(timeline), "--mute"]
        routine = measure_peak(RUN_VOICECOACH, args)
    progress("peak memory: bare Python ...")
    bare = measure_peak("pass", [])
    progress("peak memory: stage by stage ...")
    stages = [(str(name), float(mb)) for name, mb in json.loads(measure_peak(STAGES, []).output)]
    times = [float(t) for t in re.findall(r"^\[\s*([0-9.]+)\]", routine.output, re.MULTILINE)]
    heard = re.findall(r"heard: .* -> (.*)$", routine.output, re.MULTILINE)
    return MemoryFigures(
        routine=routine,
        bare=bare,
        session_s=max(times, default=0.0),
        heard=len(heard),
        commands=sum(1 for meaning in heard if meaning != "(not a command)"),
        stages=stages,
    )


# --- 3. start-up time ------------------------------------------------------------------------


def first_word_s() -> float:
    """Seconds from spawning a typed session to the first line the coach says."""
    with voicecoach_home() as env, tempfile.TemporaryFile("w+", encoding="utf-8") as err:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "voicecoach", "run", "--text", "--mute", "--first-session"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,  # kept open: the session goes on until it closes
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
        assert child.stdin is not None and child.stdout is not None
        elapsed = None
        for line in child.stdout:
            if "coach:" in line:
                elapsed = time.perf_counter() - started
                break
        child.stdin.close()  # the input ends: the session ends
        child.stdout.read()
        child.wait(timeout=60)
        if elapsed is None:
            err.seek(0)
            raise RuntimeError(f"the coach said nothing ({child.returncode}): {err.read()}")
        return elapsed


def bare_start_s() -> float:
    with voicecoach_home() as env:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], cwd=ROOT, env=env, check=True)
        return time.perf_counter() - started


# --- 2. CPU while listening ------------------------------------------------------------------


class MeteredEngine:
    """Passes everything to an engine, counting segments, the audio fed and the CPU time."""

    def __init__(self, inner: Engine) -> None:
        self.inner = inner
        self.name = inner.name
        self.started = 0
        self.finished = 0
        self.fed_samples = 0
        self.cpu_s = 0.0

    def _timed(self, call: Callable[[], T]) -> T:
        started = time.process_time()
        try:
            return call()
        finally:
            self.cpu_s += time.process_time() - started

    def start(self) -> None:
        self.started += 1
        self._timed(self.inner.start)

    def feed(self, samples: Samples) -> None:
        self.fed_samples += samples.size
        self._timed(lambda: self.inner.feed(samples))

    def feed_undenoised(self, samples: Samples) -> None:
        """Passed on, so that the second opinion hears as it does live (`HearsAgain`)."""
        from voicecoach.hearing.asr import HearsAgain

        if isinstance(self.inner, HearsAgain):
            inner = self.inner
            self._timed(lambda: inner.feed_undenoised(samples))

    def partial(self) -> str:
        return self._timed(self.inner.partial)

    def finish(self) -> Decoded:
        self.finished += 1
        return self._timed(self.inner.finish)

    def expect(self, intents: frozenset[str]) -> None:
        self.inner.expect(intents)


class Room:
    """Stands in for the microphone. Silent until the session waits for the person (paused,
    the coach quiet); from then on each call returns the next 0.1 s of `audio` in 20 ms frames,
    and the run is told to end with the audio."""

    def __init__(self, audio: Samples) -> None:
        self.audio = audio
        self.run: ScriptedRun | None = None
        self.position = 0
        self.cpu_started = 0.0
        self.started_s: float | None = None

    def __call__(self) -> list[Samples]:
        from voicecoach.app import STEP_S
        from voicecoach.hearing.audio import FRAME_SAMPLES, SAMPLE_RATE

        run = self.run
        assert run is not None, "give the Room its run"
        if self.started_s is None:
            if run.session.phase != "paused" or not run.gate.is_open(run.now):
                return []
            self.started_s = run.now
            run.until_s = round(run.now + self.audio.size / SAMPLE_RATE, 6)
            self.cpu_started = time.process_time()
        chunk = self.audio[self.position : self.position + round(STEP_S * SAMPLE_RATE)]
        self.position += chunk.size
        return [chunk[i : i + FRAME_SAMPLES] for i in range(0, chunk.size, FRAME_SAMPLES)]


@dataclass(frozen=True)
class Listening:
    name: str
    audio_s: float
    cpu_s: float
    decode_cpu_s: float
    segments: int
    """Speech segments the engine finished (decoded)."""
    open_segment: bool
    """Still in speech when the audio ended (never decoded)."""
    fed_s: float
    """Audio given to the engine."""
    utterances: int
    commands: list[str]

    @property
    def cpu_s_per_minute(self) -> float:
        return self.cpu_s / self.audio_s * 60

    @property
    def percent_of_core(self) -> float:
        return self.cpu_s_per_minute / 60 * 100


def listen_to(
    name: str, audio: Samples, catalog: Catalog, index: CommandIndex, engine: Engine
) -> Listening:
    """A session paused at once, then listening to `audio` to its end (simulated time)."""
    from voicecoach.app import JsonLog, ScriptedRun
    from voicecoach.core.timeline import Timeline, TimelineEvent
    from voicecoach.hearing.audio import SAMPLE_RATE
    from voicecoach.speaking.speakers import MuteSpeaker

    pause = TimelineEvent(at=0.0, on=None, nth=1, delay=0.0, say="pause", audio=None)
    timeline = Timeline(tuple(catalog.routine(ROUTINE).items), (pause,))
    metered = MeteredEngine(engine)
    room = Room(audio)
    log = io.StringIO()
    run = ScriptedRun(
        catalog,
        index,
        timeline,
        MuteSpeaker(),
        JsonLog(log),
        engine_factory=lambda: metered,
        show=lambda _: None,
        realtime=False,
        listen=room,
    )
    room.run = run
    run.run()
    cpu_s = time.process_time() - room.cpu_started
    if room.started_s is None:
        raise RuntimeError("the session never waited for the person: nothing was listened to")
    events = [json.loads(line) for line in log.getvalue().splitlines()]
    heard = [e for e in events if e["event"] == "heard" and e["t"] >= room.started_s]
    return Listening(
        name=name,
        audio_s=room.position / SAMPLE_RATE,
        cpu_s=cpu_s,
        decode_cpu_s=metered.cpu_s,
        segments=metered.finished,
        open_segment=metered.started > metered.finished,
        fed_s=metered.fed_samples / SAMPLE_RATE,
        utterances=len(heard),
        commands=[f"{e['text']!r} -> {e['intent']}" for e in heard if e["intent"] is not None],
    )


def at_level(signal: npt.NDArray[np.float64], dbfs: float) -> Samples:
    """`signal` scaled to an RMS of `dbfs`, as 16-bit samples."""
    import numpy as np

    from voicecoach.hearing.audio import to_int16

    rms = float(np.sqrt(np.mean(signal**2))) or 1.0
    return to_int16(signal * (32768 * 10 ** (dbfs / 20) / rms))


def background_speech(seconds: float) -> tuple[Samples, Samples]:
    """(babble of four talkers, one talker reading on), each `seconds` long."""
    import numpy as np

    from voicecoach.hearing.audio import SAMPLE_RATE
    from voicecoach.hearing.synthetic import Voice, babble, synthesize

    voices = (
        Voice("espeak", "en-us+m3", 165, 45),
        Voice("flite", "slt", 100),
        Voice("espeak", "en-gb+f2", 155, 60),
        Voice("flite", "awb", 105),
    )
    count = round(seconds * SAMPLE_RATE)
    talkers = []
    for number, voice in enumerate(voices):
        progress(f"synthesising background speech: talker {number + 1}/{len(voices)} ...")
        # Each talker starts at a different sentence, so that they do not say the same thing.
        order = BACKGROUND_SENTENCES[number:] + BACKGROUND_SENTENCES[:number]
        talkers.append(np.concatenate([synthesize(text, voice) for text in order]))
    return (
        at_level(babble(talkers, count), LISTENING_LEVEL_DBFS),
        at_level(babble(talkers[1:2], count), LISTENING_LEVEL_DBFS),
    )


def measure_listening(seconds: float) -> list[Listening]:
    from voicecoach.core.catalog import load_catalog
    from voicecoach.core.grammar import load_grammar
    from voicecoach.core.intents import build_index
    from voicecoach.hearing.asr.pocketsphinx_engine import PocketSphinxEngine
    from voicecoach.hearing.audio import SAMPLE_RATE
    from voicecoach.hearing.recognition import build_engine
    from voicecoach.hearing.synthetic import pink_noise

    babble_audio, talker_audio = background_speech(seconds)
    catalog = load_catalog()
    index = build_index(load_grammar(catalog))
    engine = build_engine("pocketsphinx", index.grammar, index)
    assert isinstance(engine, PocketSphinxEngine)
    room = at_level(pink_noise(round(seconds * SAMPLE_RATE), seed=7), ROOM_LEVEL_DBFS)
    results = []
    for name, audio in (
        (f"quiet room ({ROOM_LEVEL_DBFS:.0f} dBFS pink noise)", room),
        (f"TV babble, 4 talkers ({LISTENING_LEVEL_DBFS:.0f} dBFS)", babble_audio),
        (f"one talker reading on ({LISTENING_LEVEL_DBFS:.0f} dBFS)", talker_audio),
    ):
        progress(f"listening: {name}, {seconds:.0f} s of audio ...")
        results.append(listen_to(name, audio, catalog, index, engine))
    return results


# --- the report ------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def print_memory(figures: MemoryFigures) -> None:
    routine, bare = figures.routine, figures.bare
    print(
        f"1. peak memory, whole '{ROUTINE}' routine (scripted, PocketSphinx, muted; "
        f"{figures.session_s / 60:.1f} session minutes, {figures.heard} recordings heard, "
        f"{figures.commands} as commands)"
    )
    print(f"   {'':<28}{'VmHWM':>10}{'wait4 ru_maxrss':>18}")
    for name, peak in (("voicecoach run", routine), ("bare Python (-c pass)", bare)):
        floor = " (the floor)" if peak.maxrss_mb <= peak.floor_mb + 0.5 else ""
        print(f"   {name:<28}{peak.vmhwm_mb:>7.1f} MB{peak.maxrss_mb:>15.1f} MB{floor}")
    print(f"   {'ratio':<28}{routine.vmhwm_mb / bare.vmhwm_mb:>8.1f}x")
    print(
        f"   (ru_maxrss cannot go below this script's own peak at spawn, "
        f"{max(routine.floor_mb, bare.floor_mb):.1f} MB: Linux counts it in at exec)"
    )
    print("   resident memory, stage by stage (one child):")
    previous = 0.0
    for name, mb in figures.stages:
        step = f"(+{mb - previous:.1f})" if previous else ""
        print(f"     {name:<62}{mb:>7.1f} MB {step}")
        previous = mb


def print_listening(results: list[Listening]) -> None:
    print("\n2. CPU while listening (session paused, in this process, simulated time)")
    print(
        f"   {'audio':<40}{'CPU s/min':>10}{'% core':>8}{'engine':>8}{'decoded':>9}"
        f"{'fed':>7}{'heard':>7}{'commands':>10}"
    )
    for r in results:
        print(
            f"   {r.name:<40}{r.cpu_s_per_minute:>10.2f}{r.percent_of_core:>7.1f}%"
            f"{r.decode_cpu_s / r.audio_s * 60:>8.2f}{r.segments:>9}{r.fed_s:>6.0f}s"
            f"{r.utterances:>7}{len(r.commands):>10}"
        )
    print(
        "   (engine: CPU s/min inside the engine, the rest is endpointing and the session; "
        "decoded: speech\n   segments decoded; fed: seconds of audio given to the engine; "
        "heard: utterances the session\n   was given; commands: those it took as commands)"
    )
    for r in results:
        if r.open_segment:
            print(f"   {r.name}: still in one speech segment when the audio ended (not decoded)")
        for command in r.commands:
            print(f"   {r.name}: taken as a command: {command}")


def print_start(first: list[float], bare: list[float]) -> None:
    ours, theirs = statistics.median(first), statistics.median(bare)
    print(f"\n3. start-up to the first spoken word (median of {len(first)} runs)")
    print(f"   {'run --text --mute --first-session':<36}{ours:.3f} s")
    print(f"   {'bare Python (-c pass, to exit)':<36}{theirs:.3f} s")
    print(f"   {'ratio':<36}{ours / theirs:.1f}x")
    runs = ", ".join(f"{s:.3f}" for s in first)
    print(f"   each run: {runs} s; bare: {', '.join(f'{s:.3f}' for s in bare)} s")


def print_summary(
    memory: MemoryFigures, listening: list[Listening], first: list[float], bare: list[float]
) -> None:
    peak, bare_peak = memory.routine.vmhwm_mb, memory.bare.vmhwm_mb
    memory_aim = f"< {MEMORY_AIM_MB:.0f} MB: {verdict(peak < MEMORY_AIM_MB)}"
    rows = [
        ("peak memory, whole routine", f"{peak:.0f} MB", f"{bare_peak:.0f} MB",
         f"{peak / bare_peak:.1f}x", memory_aim),
    ]  # fmt: skip
    for r in listening:
        cpu_aim = (
            f"< {CPU_AIM_PERCENT:.0f}% of a core: {verdict(r.percent_of_core < CPU_AIM_PERCENT)}"
        )
        short = r.name.split(" (")[0]
        rows.append((f"CPU listening, {short}", f"{r.percent_of_core:.1f}%", "", "", cpu_aim))
    start, bare_start = statistics.median(first), statistics.median(bare)
    rows.append(
        ("start-up to first word", f"{start:.2f} s", f"{bare_start:.2f} s",
         f"{start / bare_start:.1f}x", "(none set)")
    )  # fmt: skip
    print("\nsummary")
    print(f"   {'measure':<40}{'voicecoach':>11}{'bare Python':>13}{'ratio':>8}   aim")
    for name, ours, theirs, ratio, aim in rows:
        print(f"   {name:<40}{ours:>11}{theirs:>13}{ratio:>8}   {aim}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3, help="start-up runs (median)")
    parser.add_argument("--listen-s", type=float, default=60.0, help="seconds of each audio")
    args = parser.parse_args()

    # The children first, while this process is small (see ru_maxrss above).
    memory = measure_memory()
    first, bare = [], []
    for number in range(args.repeats):
        progress(f"start-up: run {number + 1}/{args.repeats} ...")
        bare.append(bare_start_s())
        first.append(first_word_s())
    listening = measure_listening(args.listen_s)

    print_memory(memory)
    print_listening(listening)
    print_start(first, bare)
    print_summary(memory, listening, first, bare)


if __name__ == "__main__":
    main()
