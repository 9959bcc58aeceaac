"""Reading a TOML file whose every problem is one line naming the file."""

from __future__ import annotations

import stat
import sys
from pathlib import Path
from typing import Any, Final

from voicecoach.core.errors import VoiceCoachError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

MAX_FILE_BYTES: Final = 10_000_000
"""The largest settings, catalog, timeline or test script read (the catalog is about 60 kB):
a bigger file is a mistake, and /dev/zero would otherwise be read for ever."""
TOO_DEEP: Final = "invalid TOML: nested too deeply"


def read_text(path: Path, error: type[VoiceCoachError] = VoiceCoachError) -> str:
    """The UTF-8 text of the regular file `path`; anything else (missing, a folder, a device
    or a pipe, too large, unreadable, not UTF-8) raises `error`."""
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise error("is a folder, not a file", path=path)
        if not stat.S_ISREG(info.st_mode):
            raise error("not a regular file (a device or a pipe?)", path=path)
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise error("no such file", path=path) from None
    except OSError as problem:
        raise error(f"cannot read: {problem.strerror or problem}", path=path) from None
    if len(raw) > MAX_FILE_BYTES:
        raise error(f"too large: more than {MAX_FILE_BYTES // 1_000_000} MB", path=path)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise error("not UTF-8 text", path=path) from None


def parse_toml(
    text: str, path: Path, error: type[VoiceCoachError] = VoiceCoachError
) -> dict[str, Any]:
    """The TOML document in `text` (read from `path`); invalid TOML raises `error`."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as problem:
        raise error(f"invalid TOML: {problem}", path=path) from None
    except RecursionError:  # tomllib recurses once per level of [[[...]]] or {a={...}}
        raise error(TOO_DEEP, path=path) from None


def read_toml(path: Path, error: type[VoiceCoachError] = VoiceCoachError) -> dict[str, Any]:
    """The document in `path`; a missing, unreadable or invalid file raises `error`."""
    return parse_toml(read_text(path, error), path, error)
