"""Barge-in on real devices: the microphone and the speaker as one full-duplex audio stream.

PortAudio calls back with each block the microphone captured and asks, in the same call, for
the block to play. The coach's speech is played from there, so what the speaker played is known
sample for sample beside what the microphone heard, at a fixed offset (the devices' latency,
well inside the echo canceller's filter): the canceller takes the coach's voice out and the
person is heard while the coach talks. Playback ends exactly when its last block is handed
over, so the coach's speaking state is the real one, not an estimate.

`run --barge-in` uses it (DuplexAudio + DuplexSpeaker)."""

from __future__ import annotations

import contextlib
import queue
import shutil
import threading
from collections import deque
from types import TracebackType
from typing import Final

import numpy as np

from voicecoach.core.speech import DEFAULT_RATE_WPM
from voicecoach.hearing.asr.echo import SpeexEchoCanceller
from voicecoach.hearing.audio import (
    FRAME_SAMPLES,
    SAMPLE_RATE,
    AudioError,
    Samples,
    close_stream,
    load_sounddevice,
)
from voicecoach.speaking.speakers import QueuedSpeaker, VoiceError, render_espeak

MAX_QUEUED_BLOCKS: Final = 500
"""Captured blocks kept for the session loop (16 s): beyond, a stalled reader drops audio."""


class DuplexAudio:
    """A full-duplex stream on `input_device` and `output_device` (sounddevice names or indices,
    None for the defaults), with an echo canceller between the microphone and the reader.

    As a context manager it opens the stream; `play` queues samples to play, `cut` drops what
    is not played yet, `read_available` returns the microphone's blocks captured since the last
    call with the coach's voice taken out."""

    def __init__(
        self,
        canceller: SpeexEchoCanceller,
        input_device: str | int | None = None,
        output_device: str | int | None = None,
        frame_samples: int = FRAME_SAMPLES,
    ) -> None:
        self.canceller = canceller
        self.devices = (input_device, output_device)
        self.frame_samples = frame_samples
        self._lock = threading.Lock()
        self._to_play: deque[Samples] = deque()
        self._captured: queue.Queue[tuple[bytes, bytes]] = queue.Queue(MAX_QUEUED_BLOCKS)
        self._stream: object | None = None

    def __enter__(self) -> DuplexAudio:
        sounddevice = load_sounddevice()
        try:
            stream = sounddevice.RawStream(
                samplerate=SAMPLE_RATE,
                blocksize=self.frame_samples,
                device=self.devices,
                channels=1,
                dtype="int16",
                callback=self._exchange,
            )
            stream.start()
        except (sounddevice.PortAudioError, ValueError) as error:
            raise AudioError(
                f"no full-duplex audio on input {self.devices[0]!r} and output "
                f"{self.devices[1]!r} ({error}); see voicecoach devices"
            ) from None
        self._stream = stream
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        stream, self._stream = self._stream, None
        close_stream(stream)

    def _exchange(
        self, captured: bytes, playback: memoryview, frames: int, time: object, status: object
    ) -> None:
        """PortAudio's callback: hands over the next block to play and keeps the captured one
        with it (the reference)."""
        block = self._next_block(frames)
        playback[:] = block.tobytes()
        with contextlib.suppress(queue.Full):  # a stalled reader loses audio, not memory
            self._captured.put_nowait((bytes(captured), block.tobytes()))

    def _next_block(self, frames: int) -> Samples:
        block = np.zeros(frames, np.int16)
        filled = 0
        with self._lock:
            while filled < frames and self._to_play:
                head = self._to_play[0]
                take = min(frames - filled, head.size)
                block[filled : filled + take] = head[:take]
                filled += take
                if take == head.size:
                    self._to_play.popleft()
                else:
                    self._to_play[0] = head[take:]
        return block

    def play(self, samples: Samples) -> None:
        """Queues `samples` (16 kHz mono int16) after what is still to play."""
        with self._lock:
            self._to_play.append(samples.astype(np.int16))

    def cut(self) -> None:
        """Drops everything not played yet (the block being played finishes)."""
        with self._lock:
            self._to_play.clear()

    @property
    def playing(self) -> bool:
        """Whether samples are still waiting to be played."""
        with self._lock:
            return bool(self._to_play)

    def read_available(self) -> list[Samples]:
        """The microphone's blocks since the last call, each with the coach's voice taken out."""
        blocks: list[Samples] = []
        while True:
            try:
                captured, played = self._captured.get_nowait()
            except queue.Empty:
                return blocks
            blocks.append(
                self.canceller.process(
                    np.frombuffer(captured, np.int16), np.frombuffer(played, np.int16)
                )
            )


class DuplexSpeaker(QueuedSpeaker):
    """Speaks through a DuplexAudio: each utterance rendered by the espeak-ng program in a
    worker thread and queued to play. stop() drops the queue and cuts the sentence playing
    (within one block); speaking() is true until the last sample is handed to the device.
    `spoken` lists the utterances handed over to play."""

    def __init__(
        self,
        audio: DuplexAudio,
        rate: int | None = None,
        volume: float | None = None,
        voice: str | None = None,
    ) -> None:
        program = shutil.which("espeak-ng")
        if program is None:
            raise VoiceError("espeak-ng is not installed: apt-get install espeak-ng")
        self.audio = audio
        self.rate = rate if rate is not None else DEFAULT_RATE_WPM
        self.volume = 1.0 if volume is None else volume
        self.voice = voice
        self._program = program
        super().__init__()
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._generation += 1
        self.audio.cut()

    def speaking(self, now_s: float) -> bool:
        with self._lock:
            rendering = self._pending > 0
        return rendering or self.audio.playing

    def _run(self) -> None:
        while (item := self._inbox.get()) is not None:
            try:
                samples = render_espeak(self._program, item.text, self.rate, self.voice)
                if self.volume is not None and self.volume != 1.0:
                    samples = (samples * self.volume).astype(np.int16)
                with self._lock:
                    if item.generation == self._generation:
                        self.audio.play(samples)
                        self._spoken.append(item.text)
            except VoiceError as error:
                with self._lock:
                    self._failure = f"cannot speak: {error.message}"
            finally:
                with self._lock:
                    self._pending -= 1
