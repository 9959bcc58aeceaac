"""The commands that set a machine up: `devices` (microphones and speakers), `doctor` (can a
session run here?), `config` (the settings file) and `model install` (a Vosk model)."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from voicecoach.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    catalog_of,
    command_index,
    engine_for,
    input_device,
    print_json,
    settings_of,
    speaker_for,
)
from voicecoach.cli.options import Options
from voicecoach.config import check_config
from voicecoach.core.errors import VoiceCoachError
from voicecoach.core.intents import CommandIndex

if TYPE_CHECKING:
    from voicecoach.doctor import Check
    from voicecoach.hearing.audio import Samples


def cmd_devices(options: Options) -> int:
    from voicecoach.hearing.audio import list_devices

    devices = list_devices()
    if options.json:
        print_json([dataclasses.asdict(d) for d in devices])
        return EXIT_OK
    if not devices:
        print("no audio devices found (is a microphone or a sound card connected?)")
    for device in devices:
        roles = []
        if device.inputs:
            roles.append("input" + (" (default)" if device.default_input else ""))
        if device.outputs:
            roles.append("output" + (" (default)" if device.default_output else ""))
        print(f"{device.index:>3}  {device.name}  [{', '.join(roles)}; {device.host_api}]")
    return EXIT_OK


def cmd_config(options: Options) -> int:
    from voicecoach.config import config_path, config_to_toml

    if options.action == "path":
        print(config_path())
        return EXIT_OK
    settings = settings_of(options)
    where = settings.path or f"{config_path()} (no such file: the defaults)"
    print(f"# settings from {where}; command-line flags override them")
    print(config_to_toml(settings), end="")
    return EXIT_OK


def cmd_doctor(options: Options) -> int:
    from voicecoach.config import config_path
    from voicecoach.doctor import check_microphone, check_writable, guarded
    from voicecoach.hearing.audio import Microphone
    from voicecoach.memory.home import data_dir

    checks: list[Check] = []

    def report(check: Check) -> None:
        checks.append(check)
        if sys.stderr.isatty():
            sys.stderr.write("\r\033[K")
        print(check.line(), flush=True)

    def config_file() -> str:
        settings = settings_of(options)
        try:
            catalog = catalog_of(options)
        except VoiceCoachError:  # the grammar check reports a bad catalog
            catalog = None
        if catalog is not None:
            check_config(settings, catalog)
        path = settings.path
        return f"read {path}" if path else f"none at {config_path()}: the defaults"

    report(guarded("config file", f"correct or remove {config_path()}", config_file))
    settings_ok = checks[-1].ok
    report(check_writable(data_dir()))

    indexes: dict[str, CommandIndex] = {}

    def grammar() -> str:
        for context in ("session", "ask"):
            indexes[context] = command_index(options, context)
        sizes = [len(indexes[c].grammar.phrases()) for c in ("session", "ask")]
        return f"{sizes[0]} session commands and {sizes[1]} questions"

    report(guarded("grammar", "reinstall voicecoach, or fix the file named", grammar))

    def engine() -> str:
        index = indexes.get("session") or command_index(options)
        built = engine_for(options, index)
        model = getattr(built, "model_path", None)
        verifier = getattr(built, "verifier", None)
        sensitivity = f", sensitivity {verifier.sensitivity}" if verifier is not None else ""
        listeners = getattr(built, "listeners", ())
        names = " and ".join(listener.name for listener in listeners)
        second = f", second opinion {names}" if names else ""
        check = getattr(built, "word_check", None)
        words = f", word check {check.name}" if check is not None else ""
        return (
            f"{built.name}"
            + (f", model {model}" if model else " (model from its wheel)")
            + sensitivity
            + second
            + words
        )

    fix = "pip install pocketsphinx, or see models/README.md for a Vosk model"
    report(guarded("speech engine", fix, engine) if settings_ok else _skipped("speech engine"))

    def voice_activity() -> str:
        from voicecoach.hearing.asr.silero import SileroVad, model_path

        SileroVad()
        return f"Silero VAD, {model_path()}"

    report(guarded("voice activity detector", "make setup (see models/README.md)", voice_activity))

    def show_level(text: str) -> None:
        if sys.stderr.isatty():
            sys.stderr.write(f"\r\033[K  listening: {text}")
            sys.stderr.flush()

    def frames() -> Iterator[Samples]:
        with Microphone(input_device(options)) as microphone:
            yield from microphone

    report(
        check_microphone(frames, show_level, options.seconds) if settings_ok else _skipped("mic")
    )

    def speak() -> str:
        speaker = speaker_for(options)
        try:
            speaker.say("voicecoach is ready.", 0.0)
        finally:
            speaker.close()
        return f"said 'voicecoach is ready.' ({type(speaker).__name__})"

    fix = (
        "apt-get install espeak-ng alsa-utils, connect a speaker, and choose it with "
        "--output-device or output_device in the config file"
    )
    report(guarded("speech out", fix, speak) if settings_ok else _skipped("speech out"))
    failed = [c for c in checks if not c.ok]
    print("a session can run here" if not failed else f"{len(failed)} problem(s) to fix")
    return EXIT_OK if not failed else EXIT_FAILED


def _skipped(name: str) -> Check:
    from voicecoach.doctor import Check

    return Check(name, False, "not checked: the config file must be fixed first")


def cmd_model_install(options: Options) -> int:
    from voicecoach.hearing.models import install_vosk_model

    path = install_vosk_model(options.model_name)
    print(f"installed {options.model_name} in {path}")
    return EXIT_OK
