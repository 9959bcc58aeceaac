"""Installing Vosk models with Vosk's own downloader."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

from voicecoach.core.errors import VoiceCoachError


def _downloader() -> Any:
    """Vosk's Model class without loading a model: only its finding and downloading."""
    import vosk

    class Downloader(vosk.Model):  # type: ignore[misc]
        def __init__(self) -> None:
            pass

        def __del__(self) -> None:
            pass

    return Downloader()


def install_vosk_model(name: str) -> Path:
    """Finds `name` in Vosk's folders or downloads it into Vosk's cache, with a progress bar on
    stderr, and returns its folder."""
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):  # Vosk prints its errors to stdout
            return Path(_downloader().get_model_by_name(name))
    except SystemExit:  # Vosk exits when the name is not in its list
        message = printed.getvalue().strip()
        raise VoiceCoachError(f"no Vosk model called '{name}' ({message})") from None
    except Exception as error:  # requests' connection errors, OSError, zip errors
        raise VoiceCoachError(
            f"cannot download Vosk model '{name}' ({type(error).__name__}): is there a network "
            "connection? models/README.md says how to install one by hand"
        ) from None
