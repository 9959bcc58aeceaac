"""`Options`: what the command line asked for, typed, built once from argparse's namespace by
`build_options`; the commands take it instead of the namespace."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voicecoach.cli.parser import ASK_TIMEOUT_S, DEFAULT_VOSK_MODEL, DOCTOR_LISTEN_S
from voicecoach.core.catalog import DEFAULT_CATALOG_PATH
from voicecoach.core.grammar import DEFAULT_GRAMMAR_DIR
from voicecoach.core.progress import DEFAULT_WEEKS

if TYPE_CHECKING:
    from voicecoach.config import Config
    from voicecoach.core.catalog import Catalog


@dataclasses.dataclass
class Loaded:
    """The files a run reads at most once, when a command first needs them (filled by
    `common.catalog_of` and `common.settings_of`)."""

    catalog: Catalog | None = None
    settings: Config | None = None


@dataclasses.dataclass(frozen=True)
class Options:
    """Every option of every command; an option the command does not have keeps its default
    here. `Options()` is every option at its default."""

    command: str | None = None
    """The command, with its action for `model` ("model install"); None: no command given."""

    # The files read, and the speech engine.
    data: Path = DEFAULT_CATALOG_PATH
    grammar: Path = DEFAULT_GRAMMAR_DIR
    engine: str | None = None
    """None: the config file's engine."""
    model: Path | None = None
    sensitivity: str | None = None
    """None: the config file's sensitivity."""
    json: bool = False

    exercise: tuple[str, ...] = ()
    """`show`: the words of the exercise's name."""
    text: tuple[str, ...] = ()
    """`parse`: the words of the sentence (none: read stdin); `ask --text`: the question's."""
    files: tuple[Path, ...] = ()
    """`recognize`: the WAV files."""
    after: str | None = None
    """`recognize --after`: the coach's question the files answer (QUESTIONS)."""
    script: Path | None = None
    """`run --script`: the timeline; `test`: the test script (always given)."""
    junit: Path | None = None

    # run
    typed: bool = False
    """`run --text`: commands are typed on stdin."""
    routine: str | None = None
    exercises: tuple[str, ...] = ()
    """run --exercise: a session of these exercises instead of a routine."""
    rate: int | None = None
    """run --rate: words per minute (over the settings' speech_rate)."""
    volume: float | None = None
    """run --volume: 0.2 to 1 (over the settings' volume)."""
    wait: bool = False
    resume: bool = False
    realtime: bool = False
    log: Path | None = None
    barge_in: bool = False
    echo: float | None = None
    no_aec: bool = False
    until: float | None = None
    first_session: bool = False

    # run, ask and doctor: the microphone and the coach's voice.
    input_device: str | None = None
    output_device: str | None = None
    mute: bool = False
    speak_to: Path | None = None

    # ask
    audio: Path | None = None
    timeout: float = ASK_TIMEOUT_S

    # doctor
    seconds: float = DOCTOR_LISTEN_S

    # config
    action: str | None = None
    """`config`: "show" or "path"."""

    # model install
    model_name: str = DEFAULT_VOSK_MODEL

    # progress
    weeks: int = DEFAULT_WEEKS
    png: Path | None = None
    """`progress --png`: also draw the figures into this PNG file."""

    loaded: Loaded = dataclasses.field(default_factory=Loaded, repr=False, compare=False)
    """The catalog and the settings, once read: not an option."""


_DEFAULTS = Options()


def build_options(namespace: argparse.Namespace) -> Options:
    """The options `build_parser()` parsed into `namespace`; an option the command does not
    define takes its default."""

    def option(name: str) -> Any:
        return getattr(namespace, name, getattr(_DEFAULTS, name))

    command = namespace.command
    if command == "model":  # its ACTION is required
        command = f"model {namespace.model_command}"
    return Options(
        command=command,
        data=option("data"),
        grammar=option("grammar"),
        engine=option("engine"),
        model=option("model"),
        sensitivity=option("sensitivity"),
        json=option("json"),
        exercise=tuple(option("exercise")),
        text=tuple(option("text") or ()),  # `ask` leaves out --text as None
        files=tuple(option("files")),
        after=option("after"),
        script=option("script"),
        junit=option("junit"),
        typed=option("typed"),
        routine=option("routine"),
        exercises=tuple(option("exercises") or ()),
        rate=option("rate"),
        volume=option("volume"),
        wait=option("wait"),
        resume=option("resume"),
        realtime=option("realtime"),
        log=option("log"),
        barge_in=option("barge_in"),
        echo=option("echo"),
        no_aec=option("no_aec"),
        until=option("until"),
        first_session=option("first_session"),
        input_device=option("input_device"),
        output_device=option("output_device"),
        mute=option("mute"),
        speak_to=option("speak_to"),
        audio=option("audio"),
        timeout=option("timeout"),
        seconds=option("seconds"),
        action=option("action"),
        model_name=option("model_name"),
        weeks=option("weeks"),
        png=option("png"),
    )
