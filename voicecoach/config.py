"""The settings file: `config.toml` in $VOICECOACH_HOME, or in the platform's config folder
(~/.config/voicecoach on Linux). Every key is optional; command-line flags override it.

    engine = "auto"              # auto, pocketsphinx or vosk
    sensitivity = "medium"       # low, medium or high: how readily a command is taken
    second_opinion = true        # false: no Moonshine (about 160 MB less, and less CPU)
    model = "/home/pi/models/vosk-model-small-en-us-0.15"
    input_device = "USB"         # a device name (or part of it) or an index: voicecoach devices
    output_device = 1
    speech_rate = 170            # words per minute
    volume = 0.9                 # 0.0 - 1.0
    routine = "gentle"
    hold_multiplier = 1.0        # every hold times this (0.5 - 3)

    [holds]                      # per exercise, instead of hold_multiplier
    bridge = 1.5
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from voicecoach.core.catalog import Catalog, RoutineItem
from voicecoach.core.errors import UnknownExerciseError, VoiceCoachError
from voicecoach.core.session import MAX_HOLD_S, MIN_HOLD_S
from voicecoach.core.tomlfile import read_toml
from voicecoach.hearing.asr.verifier import DEFAULT_SENSITIVITY, SENSITIVITIES
from voicecoach.hearing.recognition import ENGINES

CONFIG_FILE: Final = "config.toml"
SPEECH_RATE_RANGE: Final = (80, 400)
HOLD_MULTIPLIER_RANGE: Final = (0.5, 3.0)
CHOICES: Final = {"engine": ENGINES, "sensitivity": SENSITIVITIES}
"""Settings that take one of a few names."""


class ConfigError(VoiceCoachError):
    """A settings file that cannot be read or has a bad value."""


@dataclass(frozen=True)
class Config:
    engine: str = "auto"
    model: Path | None = None
    """A Vosk model folder (None: looked for, see hearing.find_vosk_model)."""
    sensitivity: str = DEFAULT_SENSITIVITY
    """How readily the PocketSphinx engine takes a command (SENSITIVITIES): "high" takes more
    of them and more often takes other speech for one; "low" the reverse."""
    second_opinion: bool = True
    """Whether PocketSphinx has a decode its verifier rejected heard again by Moonshine
    (second_opinion.py): more commands taken, for about 160 MB of memory and more CPU while
    people talk. False for a small board short of memory."""
    input_device: str | int | None = None
    output_device: str | int | None = None
    speech_rate: int | None = None
    """Words per minute (None: the speaker's default)."""
    volume: float | None = None
    """0.0-1.0 (None: the speech engine's)."""
    routine: str = "gentle"
    hold_multiplier: float = 1.0
    holds: Mapping[str, float] = field(default_factory=dict)
    """Exercise id -> hold multiplier, overriding hold_multiplier for that exercise."""
    path: Path | None = None
    """The file these settings were read from (None: no file, the defaults)."""

    def hold_factor(self, exercise_id: str) -> float:
        return self.holds.get(exercise_id, self.hold_multiplier)


def config_path() -> Path:
    configured = os.environ.get("VOICECOACH_HOME")
    if configured:
        return Path(configured) / CONFIG_FILE
    import platformdirs

    return Path(platformdirs.user_config_dir("voicecoach")) / CONFIG_FILE


def load_config(path: Path | None = None) -> Config:
    """The settings in `path` (default: config_path()); the defaults when there is no file."""
    path = path or config_path()
    if not path.exists():
        return Config()
    document = read_toml(path, ConfigError)
    known = {f.name for f in dataclasses.fields(Config)} - {"path"}
    unknown = sorted(set(document) - known)
    if unknown:
        raise ConfigError(
            f"unknown setting '{unknown[0]}' (settings: {', '.join(sorted(known))})", path=path
        )
    values: dict[str, Any] = {}
    for key, value in document.items():
        values[key] = _checked(key, value, path)
    return Config(**values, path=path)


def _checked(key: str, value: object, path: Path) -> object:
    def bad(expected: str) -> ConfigError:
        return ConfigError(f"'{key}' must be {expected}, not {value!r}", path=path)

    if key in CHOICES:
        if value not in CHOICES[key]:
            raise bad(" or ".join(repr(choice) for choice in CHOICES[key]))
        return value
    if key == "second_opinion":
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if key == "model":
        if not isinstance(value, str) or not value:
            raise bad("a folder path")
        return Path(value).expanduser()
    if key in ("input_device", "output_device"):
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise bad("a device name or index (see voicecoach devices)")
        return value
    if key == "speech_rate":
        low, high = SPEECH_RATE_RANGE
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise bad(f"words per minute, {low} to {high}")
        return value
    if key == "volume":
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise bad("a number from 0.0 to 1.0")
        return float(value)
    if key == "routine":
        if not isinstance(value, str) or not value:
            raise bad("a routine name (see voicecoach list)")
        return value
    if key == "hold_multiplier":
        return _multiplier(value, bad)
    if key == "holds":
        if not isinstance(value, dict):
            raise bad("a table of exercise = multiplier")
        return {str(k): _multiplier(v, bad) for k, v in value.items()}
    raise AssertionError(key)  # pragma: no cover - unknown keys are rejected before


def check_config(config: Config, catalog: Catalog) -> None:
    """A routine or a [holds] exercise that `catalog` does not have raises ConfigError naming
    the settings file (they can only be checked once the catalog is read)."""
    if config.path is None:
        return
    routines = [r.id for r in catalog.routines]
    if config.routine != Config.routine and config.routine not in routines:
        raise ConfigError(
            f"'routine' must be one of {', '.join(routines)}, not {config.routine!r}",
            path=config.path,
        )
    for key in config.holds:
        try:
            catalog.exercise(key)
        except UnknownExerciseError:
            try:
                hint = f"; did you mean '{catalog.find(key).id}'?"
            except UnknownExerciseError:
                hint = " (see voicecoach list)"
            raise ConfigError(
                f"[holds]: unknown exercise '{key}'{hint}", path=config.path
            ) from None


def _multiplier(value: object, bad: Any) -> float:
    low, high = HOLD_MULTIPLIER_RANGE
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise bad(f"a multiplier from {low} to {high}")
    return float(value)


def config_to_toml(config: Config) -> str:
    """The settings in effect, as a config file would say them (unset ones commented)."""
    lines = []
    for item in dataclasses.fields(Config):
        if item.name in ("path", "holds"):
            continue
        value = getattr(config, item.name)
        if value is None:
            lines.append(f"# {item.name} = (not set)")
        else:
            lines.append(f"{item.name} = {_toml_value(value)}")
    if config.holds:
        lines += ["", "[holds]"]
        lines += [f"{key} = {_toml_value(value)}" for key, value in sorted(config.holds.items())]
    return "\n".join(lines) + "\n"


def _toml_value(value: object) -> str:
    if isinstance(value, Path):
        value = str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def scaled_holds(
    catalog: Catalog,
    items: Sequence[RoutineItem],
    holds: Mapping[str, int],
    config: Config,
) -> dict[str, int]:
    """`holds` (the person's own, from the history) plus every other held exercise of `items`
    with its hold times the configured multiplier, within the session's limits."""
    scaled = dict(holds)
    for item in items:
        factor = config.hold_factor(item.exercise_id)
        if item.exercise_id in scaled or factor == 1.0:
            continue
        exercise = catalog.exercise(item.exercise_id)
        variation = exercise.variation(item.variation_id) if item.variation_id else None
        base = (variation.dose if variation else exercise.dose).hold_s
        if base:
            scaled[item.exercise_id] = max(MIN_HOLD_S, min(MAX_HOLD_S, round(base * factor)))
    return scaled
