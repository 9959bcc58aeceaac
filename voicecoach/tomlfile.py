"""Reading a TOML file whose every problem is one line naming the file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from voicecoach.errors import VoiceCoachError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def read_toml(path: Path, error: type[VoiceCoachError] = VoiceCoachError) -> dict[str, Any]:
    """The document in `path`; a missing, unreadable or invalid file raises `error`."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error("no such file", path=path) from None
    except (OSError, UnicodeDecodeError) as problem:
        raise error(f"cannot read: {problem}", path=path) from None
    except tomllib.TOMLDecodeError as problem:
        raise error(f"invalid TOML: {problem}", path=path) from None
