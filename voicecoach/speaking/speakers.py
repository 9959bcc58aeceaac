"""Speech out: the speakers that say the coach's sentences (pyttsx3, an output device, silent,
a WAV timeline).

Times are session seconds (`at_s`, `now_s`): audio time when the input is a file or a timeline.
Every speaker queues an utterance that arrives while it is still talking after the one in
progress, and the gate does the same, so all of them agree on when the coach talks."""

from __future__ import annotations

import importlib.util
import math
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, Protocol, TypeVar

import numpy as np

from voicecoach.core.errors import VoiceCoachError
from voicecoach.core.speech import (
    DEFAULT_RATE_WPM,
    SpeechSchedule,
    Spoken,
    VoiceSettings,
    estimate_speech_s,
    speakable,
)
from voicecoach.hearing.audio import (
    SAMPLE_RATE,
    AudioError,
    Samples,
    load_sounddevice,
    read_wav,
    silence,
    write_wav,
)

WAV_WRITE_BLOCK_S: Final = 1.0
"""WavSpeaker writes the finished part of the timeline to its file in blocks of at least this."""
ESPEAK_TIMEOUT_S: Final = 30.0
"""Longest one espeak-ng rendering may take (it takes about 30 ms per sentence)."""
STARTUP_TIMEOUT_S: Final = 10.0
"""Longest the pyttsx3 worker may take to create its engine before the speaker gives up."""
PLAYER_PROBE_S: Final = 0.05
"""Length of the silent clip played through aplay to check that an output device opens."""
PLAYER_TIMEOUT_S: Final = 5.0
"""Longest the aplay probe may take (a blocked audio device would otherwise hang start-up)."""
ESPEAK_IDLE_TIMEOUT_S: Final = 2.0
"""Longest the pyttsx3 worker waits for libespeak-ng to go idle before an utterance."""
ESPEAK_IDLE_POLL_S: Final = 0.005
"""How often it checks meanwhile (it is idle at once in nearly every case)."""
FINISH_TIMEOUT_FACTOR: Final = 3.0
FINISH_TIMEOUT_S: Final = 5.0
"""The pyttsx3 worker waits at most FINISH_TIMEOUT_FACTOR x the estimated duration plus
FINISH_TIMEOUT_S for an utterance's end before it moves on (a lost event must not stall it)."""


class VoiceError(VoiceCoachError):
    """Speech output that cannot start or fails: a missing program, library or audio device."""


def _one_line(text: str) -> str:
    """The first non-empty line of a program's or library's message, for a one-line error."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "no message")


class Speaker(Protocol):
    """Where the coach's "say this" actions go. Every method returns at once."""

    def say(self, text: str, at_s: float) -> float:
        """Queues `text`, asked for at session time `at_s`; returns its expected duration."""
        ...

    def stop(self) -> None:
        """Cuts short what is being said (where the engine can) and drops everything queued
        (on pause and stop). The timeline speakers also take the session time: stop(now_s)."""
        ...

    def speaking(self, now_s: float) -> bool:
        """Whether the coach is talking (or has something queued) at session time `now_s`."""
        ...

    def adjust(self, voice: VoiceSettings) -> None:
        """Speaks at `voice`'s rate and volume from the next utterance on."""
        ...

    def close(self) -> None:
        """Finishes what is queued, then releases the engine, thread or file."""
        ...


_S = TypeVar("_S", bound="_ClosesOnExit")


class _ClosesOnExit:
    """`with Speaker(...) as speaker:` closes the speaker at the end of the block."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class MuteSpeaker(_ClosesOnExit):
    """Says nothing; each utterance takes its estimated time on the session clock (--mute).
    Its "now" for stop() without a time is the latest session time it was given."""

    def __init__(self, rate: int = DEFAULT_RATE_WPM) -> None:
        self.rate = rate
        """Words per minute the estimates assume."""
        self._schedule = SpeechSchedule()
        self._latest_s = -math.inf

    @property
    def spoken(self) -> tuple[Spoken, ...]:
        """Every utterance as placed on the timeline, cut short where stop() happened."""
        return tuple(self._schedule.spoken)

    def say(self, text: str, at_s: float) -> float:
        self._latest_s = max(self._latest_s, at_s)
        if not speakable(text):
            return 0.0
        return self._schedule.place(text, at_s, estimate_speech_s(text, self.rate)).duration_s

    def stop(self, now_s: float | None = None) -> None:
        """Ends speech at `now_s`; without it, at the latest time this speaker was given."""
        if now_s is not None:
            self._latest_s = now_s
        self._schedule.cut(self._latest_s)

    def speaking(self, now_s: float) -> bool:
        self._latest_s = max(self._latest_s, now_s)
        return self._schedule.at(now_s) is not None

    def adjust(self, voice: VoiceSettings) -> None:
        """Only the rate matters here: it sets how long each utterance takes."""
        self.rate = voice.rate_wpm

    def close(self) -> None:
        """Nothing to release."""


def render_espeak(program: str, text: str, rate: int, voice: str | None = None) -> Samples:
    """`text` rendered by the espeak-ng `program` at `rate` words per minute, 16 kHz mono."""
    command = [program, "-s", str(rate)]
    if voice is not None:
        command += ["-v", voice]
    with tempfile.TemporaryDirectory(prefix="voicecoach-") as folder:
        out = Path(folder) / "utterance.wav"
        try:
            subprocess.run(
                [*command, "-w", str(out), "--stdin"],
                input=text.encode(),
                capture_output=True,
                check=True,
                timeout=ESPEAK_TIMEOUT_S,
            )
        except subprocess.CalledProcessError as error:
            detail = _one_line(error.stderr.decode(errors="replace"))
            raise VoiceError(f"espeak-ng failed: {detail}") from None
        except subprocess.TimeoutExpired:
            raise VoiceError(f"espeak-ng took longer than {ESPEAK_TIMEOUT_S:g} s") from None
        try:
            return read_wav(out)
        except AudioError as error:
            raise VoiceError(f"espeak-ng wrote no usable WAV ({error.message})") from None


class WavSpeaker(_ClosesOnExit):
    """Renders every utterance with the espeak-ng program onto the session's audio timeline,
    silent where nothing is said, as a 16 kHz mono WAV (--speak-to FILE.wav). The file is
    opened when the speaker is made (a path that cannot be written fails before a session)
    and written as the session goes: only the audio of utterances not yet written is held,
    so a long session does not grow in memory. A file has no clock: its "now" is the latest
    session time it was given (by say, speaking or stop), and time only goes forward: audio
    before it is final (a stop() at an earlier time cuts at the audio already written)."""

    def __init__(
        self, path: Path | str, rate: int = DEFAULT_RATE_WPM, voice: str | None = None
    ) -> None:
        program = shutil.which("espeak-ng")
        if program is None:
            raise VoiceError("espeak-ng is not installed: apt-get install espeak-ng")
        self.path = Path(path)
        """The WAV file the timeline is written to."""
        self.rate = rate
        """espeak-ng speaking rate (-s), words per minute."""
        self.voice = voice
        """espeak-ng voice (-v), e.g. "en-us+f2"; None for espeak-ng's default."""
        self.volume = 1.0
        """0 to 1: the rendered speech is scaled by it."""
        self._program = program
        self._schedule = SpeechSchedule()
        self._audio: dict[int, Samples] = {}
        """The samples of the utterances (by their index in _schedule.spoken) that are not
        written to the end yet."""
        self._written = 0
        """Samples of the timeline written to the file."""
        self._latest_s = -math.inf
        self._closed = False
        self._handle, self._wav = self._open()

    def _open(self) -> tuple[IO[bytes], wave.Wave_write]:
        try:
            if self.path.is_dir():
                raise IsADirectoryError
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("wb")
        except IsADirectoryError:
            raise VoiceError("is a folder, not a WAV file", path=self.path) from None
        except OSError as error:
            raise VoiceError(f"cannot write: {error.strerror or error}", path=self.path) from None
        wav = wave.open(handle, "wb")  # noqa: SIM115 - open until close()
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        return handle, wav

    @property
    def spoken(self) -> tuple[Spoken, ...]:
        """Every utterance as placed on the timeline, cut short where stop() happened."""
        return tuple(self._schedule.spoken)

    def synthesize(self, text: str) -> Samples:
        """`text` rendered by espeak-ng at this speaker's rate and voice, 16 kHz mono int16."""
        return render_espeak(self._program, text, self.rate, self.voice)

    def say(self, text: str, at_s: float) -> float:
        """Renders `text` at `at_s` (or where the previous utterance ends, if later) and
        returns its real length, espeak-ng's closing pause included."""
        if self._closed:
            raise RuntimeError("say() on a closed WavSpeaker")
        self._latest_s = max(self._latest_s, at_s)
        if not speakable(text):
            return 0.0
        samples = self.synthesize(text)
        if self.volume != 1.0:
            samples = (samples * self.volume).astype(np.int16)
        start_s = max(at_s, 0.0, self._written / SAMPLE_RATE)
        placed = self._schedule.place(text, start_s, samples.size / SAMPLE_RATE)
        self._audio[len(self._schedule.spoken) - 1] = samples
        self._write_final()
        return placed.duration_s

    def stop(self, now_s: float | None = None) -> None:
        """Cuts the timeline at `now_s`; without it, at the latest time this speaker was given."""
        if now_s is not None:
            self._latest_s = now_s
        self._schedule.cut(max(self._latest_s, self._written / SAMPLE_RATE))
        kept = self._schedule.spoken
        for index in [i for i in self._audio if i >= len(kept)]:
            del self._audio[index]  # dropped: it would have started after the cut
        for index, samples in self._audio.items():
            self._audio[index] = samples[: round(kept[index].duration_s * SAMPLE_RATE)]

    def speaking(self, now_s: float) -> bool:
        self._latest_s = max(self._latest_s, now_s)
        self._write_final()
        return self._schedule.at(now_s) is not None

    def adjust(self, voice: VoiceSettings) -> None:
        self.rate, self.volume = voice.rate_wpm, voice.volume

    def _end(self) -> int:
        """The end of the timeline (of its last utterance), in samples."""
        spoken = self._schedule.spoken
        return round(spoken[-1].end_s * SAMPLE_RATE) if spoken else 0

    def _compose(self, start: int, end: int) -> Samples:
        """Samples `start` to `end` of the timeline, from the utterances not yet written."""
        block = np.zeros(max(0, end - start), np.int16)
        for index, samples in self._audio.items():
            offset = round(self._schedule.spoken[index].start_s * SAMPLE_RATE)
            first, last = max(offset, start), min(offset + samples.size, end)
            if first < last:
                block[first - start : last - start] = samples[first - offset : last - offset]
        return block

    def _write_until(self, end: int) -> None:
        """Writes the timeline up to sample `end` and forgets the utterances written."""
        if end <= self._written:
            return
        block = self._compose(self._written, end)
        try:
            self._wav.writeframes(block.astype("<i2").tobytes())
        except OSError as error:
            raise VoiceError(f"cannot write: {error.strerror or error}", path=self.path) from None
        self._written = end
        for index in list(self._audio):
            offset = round(self._schedule.spoken[index].start_s * SAMPLE_RATE)
            if offset + self._audio[index].size <= end:
                del self._audio[index]

    def _write_final(self) -> None:
        """Writes what can no longer change (before the latest time given), a second or more
        at a time."""
        if self._latest_s == -math.inf:
            return
        end = min(round(self._latest_s * SAMPLE_RATE), self._end())
        if end - self._written >= WAV_WRITE_BLOCK_S * SAMPLE_RATE:
            self._write_until(end)

    def rendered(self) -> Samples:
        """The timeline so far, from session time 0 to the end of the last utterance (what is
        written is read back from the file)."""
        written = np.zeros(0, np.int16)
        if self._written:
            self._handle.flush()
            with wave.open(str(self.path), "rb") as wav:
                written = np.frombuffer(wav.readframes(self._written), "<i2").astype(np.int16)
        return np.concatenate([written, self._compose(self._written, self._end())])

    def close(self) -> None:
        """Writes the rest of the timeline and closes the file (once)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._write_until(self._end())
            self._wav.close()  # writes the header's final lengths
        except OSError as error:
            raise VoiceError(f"cannot write: {error.strerror or error}", path=self.path) from None
        finally:
            self._handle.close()


@dataclass(frozen=True)
class _Utterance:
    text: str
    generation: int  # the speaker's stop count when it was queued; stale once stop() is called


class QueuedSpeaker(_ClosesOnExit):
    """A speaker whose one worker thread says queued utterances in order, in real time.
    Subclasses start `_thread` (running their worker) and give `stop()`."""

    rate: int
    volume: float | None

    def __init__(self) -> None:
        self._inbox: queue.Queue[_Utterance | None] = queue.Queue()
        self._lock = threading.Lock()
        self._generation = 0  # stop() moves it on: older utterances are dropped
        self._pending = 0  # utterances queued or being spoken
        self._spoken: list[str] = []
        self._failure: str | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="voicecoach-speech", daemon=True)

    def _run(self) -> None:
        raise NotImplementedError

    @property
    def spoken(self) -> tuple[str, ...]:
        """The utterances said to their end, in order."""
        with self._lock:
            return tuple(self._spoken)

    def say(self, text: str, at_s: float) -> float:
        """Queues `text` and returns its estimated duration at this speaker's rate."""
        if self._closed:
            raise RuntimeError(f"say() on a closed {type(self).__name__}")
        if not speakable(text):
            return 0.0
        with self._lock:
            if self._failure is not None:
                raise VoiceError(self._failure)
            self._pending += 1
            self._inbox.put(_Utterance(text, self._generation))
        return estimate_speech_s(text, self.rate)

    def adjust(self, voice: VoiceSettings) -> None:
        """The worker reads the rate and volume as it starts each utterance."""
        self.rate, self.volume = voice.rate_wpm, voice.volume

    def speaking(self, now_s: float) -> bool:
        """Whether an utterance is playing or queued (`now_s` is not needed: real time)."""
        with self._lock:
            return self._pending > 0

    def close(self) -> None:
        """Lets the worker say what is queued, then ends and joins it."""
        if self._closed:
            return
        self._closed = True
        self._inbox.put(None)
        self._thread.join()


class Pyttsx3Speaker(QueuedSpeaker):
    """Speaks through pyttsx3 (its espeak-ng driver on Linux) from one worker thread that
    creates and owns the engine, fed by a queue, so say() never blocks.

    What pyttsx3 2.99 does on Linux, measured, and what this class does about it:
    - It renders with libespeak-ng and plays each utterance with a blocking `aplay` subprocess
      whose failure it ignores: start-up checks that aplay exists and can play on the default
      device, so a machine that cannot play fails at once instead of coaching in silence.
    - Its callbacks, playback included, run in libespeak-ng's own thread, and runAndWait()
      can return before the utterance is played (it did for every engine's first utterance
      here); an utterance said during that playback can be lost (an empty WAV was played).
      The worker therefore waits for each utterance's "finished-utterance" event before
      starting the next.
    - Each runAndWait() calls the driver's stop(), which marks a cancel when libespeak-ng is
      still busy (it is, with the rate and voice commands, just after start-up); the mark
      then cancels a later utterance at random (a "Rest." came out as an empty WAV in about
      one test run in ten). Before each utterance the worker waits for libespeak-ng to be
      idle and clears that mark (_settle_espeak_driver).
    - Its engine holds every command, the rate and volume too, until the first runAndWait(),
      whose stop() then comes right after them: when libespeak-ng has not finished setting
      them, the cancel can drop them and leave pyttsx3's 200 words per minute (the likely cause
      of a CI run that played "Rest." in 0.52 s, its length at 200, not 0.68 s). The worker
      runs one empty loop once libespeak-ng is idle after start-up, so that the rate and
      volume are set at once from then on, and waits for it to be idle again after setting
      them, before it speaks.
    - engine.stop() cannot cut the aplay playback short (it blocks until playback ends), so
      stop() drops the queue and the utterance in progress plays to its end.
    Session times are ignored: this speaker runs in real time."""

    def __init__(
        self,
        rate: int | None = None,
        volume: float | None = None,
        voice: str | None = None,
        driver: str | None = None,
    ) -> None:
        """`rate`: words per minute (None: DEFAULT_RATE_WPM, the rate estimates assume);
        `volume`: 0.0-1.0 (None: the engine's); `voice`: a pyttsx3 voice id (None: the
        engine's); `driver`: a pyttsx3 driver name (None: the platform's default)."""
        self.rate = rate if rate is not None else DEFAULT_RATE_WPM
        """Speaking rate in words per minute, also used for the durations say() returns."""
        self.volume = volume
        """Volume 0.0-1.0, or None for the engine's."""
        self.voice = voice
        """pyttsx3 voice id, or None for the engine's."""
        self.driver = driver
        """pyttsx3 driver name, or None for the platform's."""
        super().__init__()
        self._startup_error: str | None = None
        self._ready = threading.Event()
        if importlib.util.find_spec("pyttsx3") is None:  # imported by the worker, not here
            raise VoiceError("pyttsx3 is not installed: pip install pyttsx3")
        if sys.platform.startswith("linux") and (driver or "espeak") == "espeak":
            _check_aplay()
        self._thread.start()
        if not self._ready.wait(STARTUP_TIMEOUT_S):
            raise VoiceError(f"pyttsx3 did not start within {STARTUP_TIMEOUT_S:g} s")
        if self._startup_error is not None:
            self._thread.join()
            raise VoiceError(self._startup_error)

    def stop(self) -> None:
        """Drops every queued utterance (the one playing ends by itself, see the class)."""
        with self._lock:
            self._generation += 1
            while True:
                try:
                    item = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if item is None:  # close() has asked the worker to end: keep that
                    self._inbox.put(None)
                    break
                self._pending -= 1

    def _run(self) -> None:
        """The worker: creates the engine, then says one queued utterance at a time."""
        try:
            engine = self._start_engine()
        except Exception as error:  # pyttsx3 raises RuntimeError, OSError, KeyError, ...
            self._startup_error = (
                f"cannot start pyttsx3 ({type(error).__name__}: {_one_line(str(error))}): "
                "apt-get install espeak-ng, or use --mute or --speak-to FILE.wav"
            )
            self._ready.set()
            return
        finished = threading.Event()
        current: list[str] = []  # the text being said, for the callback

        def on_finished(name: object = None, completed: bool = True) -> None:
            # Runs in libespeak-ng's thread on Linux. A "not completed" event also comes after
            # some completed ones (pyttsx3 cancels what it thinks still plays): ignored.
            if completed:
                with self._lock:
                    self._spoken.extend(current)
                    current.clear()
                finished.set()

        engine.connect("finished-utterance", on_finished)
        self._ready.set()
        applied = (self.rate, self.volume)  # what _start_engine set
        while (item := self._inbox.get()) is not None:
            with self._lock:
                stale = item.generation != self._generation
                current[:] = [] if stale else [item.text]
            if not stale:
                finished.clear()
                if (self.rate, self.volume) != applied:  # "slower", "louder"...: from here on
                    applied = (self.rate, self.volume)
                    engine.setProperty("rate", self.rate)
                    if self.volume is not None:
                        engine.setProperty("volume", self.volume)
                _settle_espeak_driver(engine)  # after the properties: see the class
                self._speak(engine, item.text, finished)
            with self._lock:
                self._pending -= 1

    def _start_engine(self) -> Any:
        import pyttsx3

        engine = pyttsx3.Engine(self.driver)  # not pyttsx3.init(): its cache shares engines
        if _espeak_driver(engine) is not None:
            # The engine holds commands until its first loop (see the class): an empty one,
            # once libespeak-ng has set the driver's own voice, rate and volume.
            _settle_espeak_driver(engine)
            engine.runAndWait()
        engine.setProperty("rate", self.rate)
        if self.volume is not None:
            engine.setProperty("volume", self.volume)
        if self.voice is not None:
            engine.setProperty("voice", self.voice)
        return engine

    def _speak(self, engine: Any, text: str, finished: threading.Event) -> None:
        try:
            engine.say(text)
            engine.runAndWait()
        except Exception as error:  # the engine's own failure: reported by the next say()
            with self._lock:
                self._failure = (
                    f"speech output failed ({type(error).__name__}: {_one_line(str(error))})"
                )
            return
        timeout = FINISH_TIMEOUT_FACTOR * estimate_speech_s(text, self.rate) + FINISH_TIMEOUT_S
        finished.wait(timeout)  # playback may still run in libespeak-ng's thread


def _espeak_driver(engine: Any) -> Any | None:
    """The pyttsx3 engine's espeak driver (pyttsx3 internals, 2.99), or None with another
    driver or if those internals change."""
    driver: Any = getattr(getattr(engine, "proxy", None), "_driver", None)
    if type(driver).__module__ != "pyttsx3.drivers.espeak" or not hasattr(driver, "_stopping"):
        return None
    return driver


def _settle_espeak_driver(engine: Any) -> None:
    """With pyttsx3's espeak driver: waits until libespeak-ng is idle, then clears the driver's
    stale cancel mark (see Pyttsx3Speaker). Uses pyttsx3 internals (2.99); does nothing with
    other drivers or if those internals change."""
    driver = _espeak_driver(engine)
    if driver is None:
        return
    try:
        from pyttsx3.drivers import _espeak
    except Exception:  # the driver loaded it already; be safe if internals move
        return
    deadline = time.monotonic() + ESPEAK_IDLE_TIMEOUT_S
    while _espeak.IsPlaying() and time.monotonic() < deadline:
        time.sleep(ESPEAK_IDLE_POLL_S)
    driver._stopping = False


def _check_aplay() -> None:
    """pyttsx3's espeak driver plays through `aplay` and ignores its failure, so a machine
    without it, or without an output device, would stay silent: fail at start-up instead."""
    player = shutil.which("aplay")
    if player is None:
        raise VoiceError(
            "pyttsx3 plays speech with aplay, which is missing: apt-get install alsa-utils "
            "(or use --mute or --speak-to FILE.wav)"
        )
    with tempfile.TemporaryDirectory(prefix="voicecoach-") as folder:
        probe = Path(folder) / "probe.wav"
        write_wav(probe, silence(PLAYER_PROBE_S))
        try:
            result = subprocess.run(
                [player, "-q", str(probe)], capture_output=True, timeout=PLAYER_TIMEOUT_S
            )
        except subprocess.TimeoutExpired:
            result = None
    if result is None or result.returncode != 0:
        detail = (
            "timed out" if result is None else _one_line(result.stderr.decode(errors="replace"))
        )
        raise VoiceError(
            f"no audio output: aplay cannot play on the default device ({detail}); "
            "connect speakers or headphones, or use --mute or --speak-to FILE.wav"
        )


class DeviceSpeaker(QueuedSpeaker):
    """Speaks on a chosen output device (--output-device): each utterance is rendered by the
    espeak-ng program (the engine pyttsx3 drives on Linux) and played with sounddevice from one
    worker thread, a block at a time, so stop() cuts a sentence within one block (64 ms).
    pyttsx3 itself cannot pick a device: on Linux it plays through `aplay` on the default one.
    Session times are ignored: this speaker runs in real time."""

    BLOCK: Final = 1024

    def __init__(
        self,
        device: str | int | None,
        rate: int | None = None,
        volume: float | None = None,
        voice: str | None = None,
    ) -> None:
        program = shutil.which("espeak-ng")
        if program is None:
            raise VoiceError("espeak-ng is not installed: apt-get install espeak-ng")
        sounddevice = load_sounddevice()
        try:
            sounddevice.query_devices(device, "output")
        except (ValueError, sounddevice.PortAudioError) as error:
            which = "the default output" if device is None else f"output device {device!r}"
            raise VoiceError(
                f"no speaker: cannot use {which} ({_one_line(str(error))}); see voicecoach devices"
            ) from None
        self.device = device
        self.rate = rate if rate is not None else DEFAULT_RATE_WPM
        self.volume = 1.0 if volume is None else volume
        self.voice = voice
        self._program = program
        self._sounddevice = sounddevice
        super().__init__()
        self._thread.start()

    def stop(self) -> None:
        """Drops everything queued and cuts the utterance playing (within one block)."""
        with self._lock:
            self._generation += 1

    def _current(self, generation: int) -> bool:
        with self._lock:
            return generation == self._generation

    def _run(self) -> None:
        while (item := self._inbox.get()) is not None:
            try:
                if self._current(item.generation):
                    self._play(item)
            except (VoiceError, self._sounddevice.PortAudioError) as error:
                with self._lock:
                    self._failure = f"cannot speak: {_one_line(str(error))}"
            finally:
                with self._lock:
                    self._pending -= 1

    def _play(self, item: _Utterance) -> None:
        samples = render_espeak(self._program, item.text, self.rate, self.voice)
        if self.volume is not None and self.volume != 1.0:
            samples = (samples * self.volume).astype(samples.dtype)
        with self._sounddevice.RawOutputStream(
            samplerate=SAMPLE_RATE, device=self.device, channels=1, dtype="int16"
        ) as stream:
            for start in range(0, samples.size, self.BLOCK):
                if not self._current(item.generation):
                    return  # stop(): cut here
                stream.write(samples[start : start + self.BLOCK].tobytes())
        with self._lock:
            self._spoken.append(item.text)
