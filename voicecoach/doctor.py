"""`voicecoach doctor`: can a session run here? One check per line, with a fix for what fails.

Each check is a function returning a Check; `run_checks` runs them in order and stops nothing:
a missing microphone does not hide a missing speech engine.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from voicecoach.core.errors import VoiceCoachError
from voicecoach.hearing.audio import SAMPLE_RATE, Samples

LISTEN_S: Final = 3.0
"""How long the microphone check listens."""
SILENT_DBFS: Final = -80.0
"""Below this level over the whole check, the microphone hears nothing (muted or unplugged)."""
METER_STEP_S: Final = 0.1


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        fix = f" -> fix: {self.fix}" if not self.ok and self.fix else ""
        return f"{mark} {self.name}: {self.detail}{fix}"


def level_dbfs(samples: Samples) -> float:
    """RMS level of 16-bit samples in dB below full scale (-inf for digital silence)."""
    if samples.size == 0:
        return -math.inf
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
    return 20 * math.log10(rms / 32768) if rms > 0 else -math.inf


def meter(dbfs: float, width: int = 30) -> str:
    """A level bar from -90 to 0 dBFS: "[#########.....................] -62 dBFS"."""
    filled = 0 if dbfs == -math.inf else round(width * max(0.0, min(1.0, (dbfs + 90) / 90)))
    shown = "-inf" if dbfs == -math.inf else f"{dbfs:.0f}"
    return f"[{'#' * filled}{'.' * (width - filled)}] {shown} dBFS"


def check_microphone(
    frames: Callable[[], Iterator[Samples]], show: Callable[[str], None], seconds: float = LISTEN_S
) -> Check:
    """Listens to `frames` (an open microphone) for `seconds`, showing a level meter."""
    name = "microphone"
    heard: list[Samples] = []
    pending: list[Samples] = []
    try:
        for frame in frames():
            heard.append(frame)
            pending.append(frame)
            if sum(f.size for f in pending) >= METER_STEP_S * SAMPLE_RATE:
                show(meter(level_dbfs(np.concatenate(pending))))
                pending = []
            if sum(f.size for f in heard) >= seconds * SAMPLE_RATE:
                break
    except VoiceCoachError as error:
        return Check(name, False, str(error), _MIC_FIX)
    if not heard:
        return Check(name, False, "opened, but no audio arrived", _MIC_FIX)
    level = level_dbfs(np.concatenate(heard))
    if level < SILENT_DBFS:
        return Check(
            name,
            False,
            f"hears nothing ({meter(level)})",
            "unmute it and raise its capture level (alsamixer, or your desktop's sound settings)",
        )
    return Check(name, True, f"hears sound, {meter(level)} over {seconds:g} s")


_MIC_FIX: Final = (
    "plug in a microphone, list devices with 'voicecoach devices' and choose one with "
    "--input-device or input_device in the config file"
)


def check_writable(folder: Path) -> Check:
    name = "data folder"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
            pass
    except OSError as error:
        return Check(
            name,
            False,
            f"{folder} is not writable ({error.strerror or error})",
            "set VOICECOACH_HOME to a folder you can write, or fix the folder's permissions",
        )
    return Check(name, True, f"{folder} is writable")


def guarded(name: str, fix: str, check: Callable[[], str]) -> Check:
    """Runs `check`, which returns what it found or raises VoiceCoachError."""
    try:
        return Check(name, True, check())
    except VoiceCoachError as error:
        return Check(name, False, str(error), fix)
