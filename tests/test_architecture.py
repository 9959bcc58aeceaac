"""The folders are the architecture: the core loads no audio, threads, databases or devices.

import-linter (`make lint`) checks the imports as written; this checks what importing every core
module really loads, in a fresh interpreter."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import voicecoach.core

FORBIDDEN = ("numpy", "sqlite3", "threading", "sounddevice", "pocketsphinx", "vosk", "pyttsx3")


def test_the_core_loads_no_io_library() -> None:
    modules = [f"voicecoach.core.{m.name}" for m in pkgutil.iter_modules(voicecoach.core.__path__)]
    assert "voicecoach.core.session" in modules and len(modules) >= 15
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(' '.join(m for m in {FORBIDDEN!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""
