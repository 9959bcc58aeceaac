"""What the commands share: exit codes, warnings and JSON output, the catalog and the settings
(read once per run), the command index and the speech engine, devices, the coach's voice and
the session history."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Final

from voicecoach.config import Config, load_config
from voicecoach.core.catalog import Catalog, load_catalog
from voicecoach.core.grammar import load_grammar
from voicecoach.core.intents import CommandIndex, build_index

if TYPE_CHECKING:
    from voicecoach.cli.options import Options
    from voicecoach.core.history import SessionSummary
    from voicecoach.core.speech import VoiceSettings
    from voicecoach.hearing.asr import Engine
    from voicecoach.speaking.speakers import Speaker

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2
"""A user-caused error: one line on stderr."""


def warn(message: str) -> None:
    print(f"voicecoach: {message}", file=sys.stderr)


def print_json(data: object) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def catalog_of(options: Options) -> Catalog:
    """The catalog of --data (read once per run)."""
    catalog = options.loaded.catalog
    if catalog is None:
        catalog = options.loaded.catalog = load_catalog(options.data)
    return catalog


def settings_of(options: Options) -> Config:
    """The config file's settings (read once per run; flags override them)."""
    settings = options.loaded.settings
    if settings is None:
        settings = options.loaded.settings = load_config()
    return settings


def command_index(options: Options, context: str = "session") -> CommandIndex:
    """The sentences listened for in `context` (grammar.CONTEXTS), ready for matching."""
    return build_index(load_grammar(catalog_of(options), options.grammar, context=context))


def engine_for(options: Options, index: CommandIndex) -> Engine:
    """The speech engine of --engine, --model and --sensitivity, or of the settings (and the
    settings' second_opinion)."""
    from voicecoach.hearing.recognition import build_engine

    settings = settings_of(options)
    name = options.engine or settings.engine
    engine = build_engine(
        name,
        index.grammar,
        index,
        model=options.model or settings.model,
        sensitivity=options.sensitivity or settings.sensitivity,
        second_opinion=settings.second_opinion,
    )
    if name == "auto":
        print(f"voicecoach: using the {engine.name} engine", file=sys.stderr)
    return engine


def device(name: str | int | None) -> str | int | None:
    """A device setting: an index when it is a number, else (part of) a name."""
    return int(name) if isinstance(name, str) and name.isdigit() else name


def input_device(options: Options) -> str | int | None:
    """The microphone of --input-device, or of the settings (None: the default device)."""
    return device(options.input_device or settings_of(options).input_device)


def output_device(options: Options) -> str | int | None:
    """The speaker of --output-device, or of the settings (None: the default device)."""
    return device(options.output_device or settings_of(options).output_device)


def voice_of(options: Options) -> VoiceSettings:
    """How the coach starts speaking: --rate and --volume, else the settings, else defaults."""
    from voicecoach.core.speech import DEFAULT_RATE_WPM, VoiceSettings

    settings = settings_of(options)
    rate = options.rate or settings.speech_rate or DEFAULT_RATE_WPM
    volume = options.volume if options.volume is not None else settings.volume
    return VoiceSettings(rate, 1.0 if volume is None else volume)


def speaker_for(options: Options) -> Speaker:
    """The voice the options and settings ask for: --speak-to a WAV file, --mute, a chosen
    output device, or the computer's default voice (pyttsx3)."""
    from voicecoach.speaking.speakers import DeviceSpeaker, MuteSpeaker, Pyttsx3Speaker, WavSpeaker

    voice = voice_of(options)
    speaker: Speaker
    if options.speak_to is not None:
        speaker = WavSpeaker(options.speak_to, voice.rate_wpm)
    elif options.mute:
        speaker = MuteSpeaker(voice.rate_wpm)
    elif (output := output_device(options)) is not None:
        speaker = DeviceSpeaker(output, rate=voice.rate_wpm, volume=voice.volume)
    else:
        speaker = Pyttsx3Speaker(rate=voice.rate_wpm, volume=voice.volume)
    speaker.adjust(voice)
    return speaker


def read_history() -> list[SessionSummary]:
    """The sessions of the journal, newest first."""
    from voicecoach.memory.journal import Journal

    journal = Journal(warn=warn)
    try:
        return journal.sessions()
    finally:
        journal.close()
