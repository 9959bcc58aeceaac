"""Where voicecoach keeps what it remembers: $VOICECOACH_HOME, or the platform's data folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from voicecoach.core.errors import VoiceCoachError

FIRST_SESSION_MARK: Final = "first-session-done"


def data_dir() -> Path:
    configured = os.environ.get("VOICECOACH_HOME")
    if configured:
        return Path(configured)
    import platformdirs

    return Path(platformdirs.user_data_dir("voicecoach"))


def is_first_session() -> bool:
    """True until a live session has been started once on this machine (for this user)."""
    return not (data_dir() / FIRST_SESSION_MARK).exists()


def mark_first_session_done() -> None:
    folder = data_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / FIRST_SESSION_MARK).touch()
    except OSError as error:
        raise VoiceCoachError(f"cannot write: {error.strerror or error}", path=folder) from None
