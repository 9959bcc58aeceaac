"""The command line's syntax: `build_parser()`, the commands, their options and help texts,
and the argparse types that check numbers (every usage error is one line, exit code 2)."""

from __future__ import annotations

import argparse
import math
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Final, NoReturn

from voicecoach import __version__
from voicecoach.cli.common import EXIT_USAGE
from voicecoach.core.catalog import DEFAULT_CATALOG_PATH
from voicecoach.core.grammar import DEFAULT_GRAMMAR_DIR
from voicecoach.core.progress import DEFAULT_WEEKS, MAX_WEEKS
from voicecoach.core.session import QUESTIONS
from voicecoach.core.timeline import MAX_TIME_S
from voicecoach.hearing.asr.verifier import SENSITIVITIES
from voicecoach.hearing.recognition import ENGINES

DEFAULT_VOSK_MODEL: Final = "vosk-model-small-en-us-0.15"
"""What `model install` installs by default."""
MAX_LISTEN_S: Final = 600.0
"""The longest `ask --timeout` and `doctor --seconds`."""
ASK_TIMEOUT_S: Final = 8.0
"""How long `ask` listens on the microphone by default."""
DOCTOR_LISTEN_S: Final = 3.0
"""How long `doctor` listens to the microphone by default."""


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error in one line (and exit code 2) like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _seconds(low: float, high: float, *, zero: bool = False) -> Callable[[str], float]:
    """An argparse type: a number of seconds above `low` (or equal to it, with `zero`) and at
    most `high`; nan and inf are not numbers of seconds."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
        above = value >= low if zero else value > low
        if not (math.isfinite(value) and above and value <= high):
            bound = "from" if zero else "above"
            raise argparse.ArgumentTypeError(
                f"must be a number of seconds {bound} {low:g} to {high:g}, not {text!r}"
            )
        return value

    return parse


ECHO_DB_RANGE: Final = (-60.0, 20.0)
"""--echo levels accepted, in dB from the person's speech level."""


def _decibels(text: str) -> float:
    """An argparse type: a level in dB within ECHO_DB_RANGE."""
    low, high = ECHO_DB_RANGE
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a level in dB: {text!r}") from None
    if not (math.isfinite(value) and low <= value <= high):
        raise argparse.ArgumentTypeError(f"must be from {low:g} to {high:g} dB, not {text!r}")
    return value


def _weeks(text: str) -> int:
    """An argparse type: a whole number of weeks from 1 to MAX_WEEKS."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_WEEKS:
        raise argparse.ArgumentTypeError(
            f"must be a whole number of weeks from 1 to {MAX_WEEKS}, not {text!r}"
        )
    return value


def _rate(text: str) -> int:
    """An argparse type: words per minute within the coach's range."""
    from voicecoach.core.speech import MAX_RATE_WPM, MIN_RATE_WPM

    try:
        value = int(text)
    except ValueError:
        value = 0
    if not MIN_RATE_WPM <= value <= MAX_RATE_WPM:
        raise argparse.ArgumentTypeError(
            f"must be whole words per minute from {MIN_RATE_WPM} to {MAX_RATE_WPM}, not {text!r}"
        )
    return value


def _volume(text: str) -> float:
    """An argparse type: a volume from MIN_VOLUME to 1."""
    from voicecoach.core.speech import MIN_VOLUME

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and MIN_VOLUME <= value <= 1.0):
        raise argparse.ArgumentTypeError(f"must be from {MIN_VOLUME:g} to 1, not {text!r}")
    return value


def _add_device_options(parser: argparse.ArgumentParser) -> None:
    """--input-device and --output-device, for the commands that listen or speak."""
    parser.add_argument(
        "--input-device",
        metavar="D",
        help="microphone: a device name (or part of it) or index (see voicecoach devices)",
    )
    parser.add_argument(
        "--output-device",
        metavar="D",
        help="speaker: a device name (or part of it) or index; speech is then rendered by "
        "espeak-ng and played with sounddevice (default: pyttsx3 on the default device)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command (`options.build_options` turns what it parses into Options)."""
    parser = _Parser(
        prog="voicecoach",
        description="An offline, hands-free voice coach for lower back exercises.",
        epilog=textwrap.dedent(
            """\
            This is general guidance from published articles, not medical advice.
            See a doctor for numbness, tingling or weakness in the legs, trouble controlling
            your bladder or bowels, pain after an injury, or pain that does not get better."""
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"voicecoach {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    data = _Parser(add_help=False)
    data.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_CATALOG_PATH,
        metavar="FILE",
        help="the exercise catalog (default: the bundled data/exercises.toml)",
    )

    listing = commands.add_parser(
        "list", parents=[data], help="list the exercises", description="List the exercises."
    )
    listing.add_argument("--json", action="store_true", help="print one JSON document")

    routines = commands.add_parser(
        "routines",
        parents=[data],
        help="list the routines",
        description="The routines: their exercises, in order, and about how long each takes.",
    )
    routines.add_argument("--json", action="store_true", help="print one JSON document")

    show = commands.add_parser(
        "show",
        parents=[data],
        help="show one exercise",
        description="Show one exercise: steps, dose, variations, cautions and sources.",
    )
    show.add_argument(
        "exercise", nargs="+", metavar="name", help="the exercise's name or an alias (fuzzy)"
    )
    show.add_argument("--json", action="store_true", help="print JSON")

    grammar = _Parser(add_help=False, parents=[data])
    grammar.add_argument(
        "--grammar",
        type=Path,
        default=DEFAULT_GRAMMAR_DIR,
        metavar="DIR",
        help="the folder of command grammar files (default: the bundled grammars/en)",
    )

    parse = commands.add_parser(
        "parse",
        parents=[grammar],
        help="text -> command",
        description="Show which command a sentence means (or that it is not one). "
        "With no TEXT, reads one sentence per line from stdin.",
    )
    parse.add_argument("text", nargs="*", metavar="TEXT", help="the sentence")
    parse.add_argument("--json", action="store_true", help="one JSON object per sentence")

    engine = _Parser(add_help=False, parents=[grammar])
    engine.add_argument(
        "--engine",
        choices=ENGINES,
        default=None,
        help="speech engine: auto (the default, unless the config file says) uses Vosk when a "
        "model is found, else PocketSphinx",
    )
    engine.add_argument(
        "--model",
        type=Path,
        metavar="DIR",
        help="a Vosk model folder (default: $VOICECOACH_VOSK_MODEL, models/vosk-model-*, "
        "or Vosk's cache)",
    )
    engine.add_argument(
        "--sensitivity",
        choices=SENSITIVITIES,
        default=None,
        help="how readily PocketSphinx's verifier takes a session command: high takes more of "
        "what you say and more often takes other talk for a command, low the reverse "
        "(default: medium, unless the config file says)",
    )

    recognize = commands.add_parser(
        "recognize",
        parents=[engine],
        help="WAV files -> commands",
        description="Recognise the command in each WAV file (any rate or channel count). "
        "A missing or unreadable file is reported on stderr; the others are still processed "
        "and the exit code is 2.",
    )
    recognize.add_argument("files", nargs="+", type=Path, metavar="FILE.wav")
    recognize.add_argument("--json", action="store_true", help="one JSON object per file")
    recognize.add_argument(
        "--after",
        choices=sorted(QUESTIONS),
        help="hear each file as the answer to the coach's question: pain (how bad is it, from "
        "zero to ten?) or stop (shall we end the session?); a bare number or yes/no is then "
        "taken more readily, as in a session",
    )

    test = commands.add_parser(
        "test",
        parents=[engine],
        help="scripted intent tests on your recordings",
        description="Run the cases of a test script: each a WAV file and the command it must "
        'give (expect = "none": must be rejected). Prints a table and a summary; exit 1 when '
        "a case fails.",
        epilog='Script format:\n  [[case]]\n  audio = "recordings/hold-longer.wav"\n'
        '  expect = "hold_longer"\n  slots = { seconds = 20 }   # optional\n'
        "A case that expects a pain rating is heard as the answer to the pain question.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    test.add_argument("script", type=Path, metavar="SCRIPT.toml")
    test.add_argument("--junit", type=Path, metavar="FILE", help="also write JUnit XML")

    run = commands.add_parser(
        "run",
        parents=[engine],
        help="a coaching session",
        description="A coaching session, hands-free on the microphone by default. With "
        "--script, the session runs on simulated time from a timeline of what the person says "
        "(text, or recordings heard by the recogniser): a whole routine takes seconds and "
        "gives the same log every time. With --text, commands are typed.",
    )
    run.add_argument("--script", type=Path, metavar="TIMELINE.toml", help="drive the session")
    run.add_argument(
        "--text",
        dest="typed",
        action="store_true",
        help="type commands (one per line) instead of speaking",
    )
    run.add_argument("--routine", help="the routine (default: gentle; see voicecoach routines)")
    run.add_argument(
        "--rate",
        type=_rate,
        metavar="WPM",
        help="speaking rate in words per minute (default: speech_rate in the settings, or 165); "
        "say 'slower' or 'faster' during a session to change it",
    )
    run.add_argument(
        "--volume",
        type=_volume,
        metavar="V",
        help="speaking volume from 0.2 to 1 (default: volume in the settings, or 1); say "
        "'louder' or 'softer' during a session to change it",
    )
    run.add_argument(
        "--exercise",
        dest="exercises",
        nargs="+",
        metavar="NAME",
        help="a session of these exercises, in this order, instead of a routine (names, ids or "
        "aliases, as voicecoach show takes them)",
    )
    run.add_argument(
        "--wait",
        action="store_true",
        help="on the microphone, wait for 'start' before the session (answering questions "
        "meanwhile): the always-ready mode of packaging/voicecoach.service",
    )
    run.add_argument(
        "--resume",
        action="store_true",
        help="carry on your last session where it stopped (unfinished, or stopped with 'stop')",
    )
    _add_device_options(run)
    run.add_argument("--realtime", action="store_true", help="play a --script at wall-clock speed")
    run.add_argument("--log", type=Path, metavar="FILE.jsonl", help="append a JSON line log")
    voice = run.add_mutually_exclusive_group()
    voice.add_argument("--mute", action="store_true", help="speak nothing")
    voice.add_argument(
        "--speak-to", type=Path, metavar="FILE.wav", help="render the coach's speech to a WAV"
    )
    run.add_argument(
        "--barge-in",
        action="store_true",
        help="on the microphone: hear commands while the coach talks (one full-duplex audio "
        "stream with echo cancellation; stop, pause and next cut the coach short)",
    )
    run.add_argument(
        "--echo",
        type=_decibels,
        metavar="DB",
        help="with --script: the simulated microphone also hears the coach's own speech, "
        "through a room (30 ms delay, 0.3 s reverberation), DB decibels from the person's "
        "level (0: as loud as the person); the person's recordings are said into the same "
        "microphone, and echo cancellation lets them be heard while the coach talks",
    )
    run.add_argument(
        "--no-aec",
        action="store_true",
        help="with --echo: no echo cancellation (the coach is not heard while it talks)",
    )
    run.add_argument(
        "--until",
        type=_seconds(0.0, MAX_TIME_S, zero=True),
        metavar="SECONDS",
        help="stop at this session time",
    )
    run.add_argument(
        "--first-session",
        action="store_true",
        help="say the not-medical-advice notice (live and typed runs say it in the first "
        "session on this machine)",
    )

    history = commands.add_parser(
        "history",
        help="past sessions, newest first",
        description="Past sessions, newest first, with what happened to each exercise.",
    )
    history.add_argument("--json", action="store_true", help="a JSON list of sessions")

    progress = commands.add_parser(
        "progress",
        help="your last weeks: sessions, minutes, pain and holds",
        description="Per week (Monday to Sunday, local time) for the last weeks: sessions and "
        "minutes in session as a text bar chart, the pain ratings and their trend (a "
        "least-squares line), and the holds of each exercise over time. A session with no end "
        "counts 0 minutes.",
    )
    progress.add_argument(
        "--weeks",
        type=_weeks,
        default=DEFAULT_WEEKS,
        metavar="N",
        help=f"how many weeks, this one included (default: {DEFAULT_WEEKS})",
    )
    progress.add_argument(
        "--png", type=Path, metavar="FILE", help="also draw the figures into a PNG image"
    )
    progress.add_argument("--json", action="store_true", help="print the figures as JSON")

    following = commands.add_parser(
        "next",
        parents=[data],
        help="what to do next, and why",
        description="The routine and exercise to do next, and why, from your history.",
    )
    following.add_argument("--json", action="store_true", help="print JSON")

    ask = commands.add_parser(
        "ask",
        parents=[engine],
        help="ask a question about your sessions, out loud",
        description="Listen once for a spoken question and answer it aloud and on stdout: "
        '"what\'s next", "what did I do last time", "how many sessions this week". Listens '
        "on the microphone, or to a recording with --audio. Exit 1 when no question was "
        "heard.",
    )
    heard = ask.add_mutually_exclusive_group()
    heard.add_argument("--audio", type=Path, metavar="FILE.wav", help="a recording of the question")
    heard.add_argument("--text", nargs="+", metavar="WORD", help="type the question instead")
    ask.add_argument(
        "--timeout",
        type=_seconds(0.0, MAX_LISTEN_S),
        default=ASK_TIMEOUT_S,
        metavar="SECONDS",
        help=f"how long to listen on the microphone (default: {ASK_TIMEOUT_S:g})",
    )
    _add_device_options(ask)
    answer_voice = ask.add_mutually_exclusive_group()
    answer_voice.add_argument("--mute", action="store_true", help="answer on stdout only")
    answer_voice.add_argument(
        "--speak-to", type=Path, metavar="FILE.wav", help="render the spoken answer to a WAV"
    )

    devices = commands.add_parser(
        "devices",
        help="list microphones and speakers",
        description="List the audio input and output devices, with the index and name that "
        "--input-device, --output-device and the config file take.",
    )
    devices.add_argument("--json", action="store_true", help="print JSON")

    doctor = commands.add_parser(
        "doctor",
        parents=[engine],
        help="check that a session can run here",
        description="Check, one line each with a fix for anything wrong: the config file, the "
        "data folder, the grammar, the speech engine and model, the microphone (a level meter "
        "for 3 seconds: speak or clap) and speech out (it says a sentence). Exit 0 only when a "
        "session can run.",
    )
    _add_device_options(doctor)
    doctor.add_argument(
        "--seconds",
        type=_seconds(0.0, MAX_LISTEN_S),
        default=DOCTOR_LISTEN_S,
        help=f"how long to listen (default: {DOCTOR_LISTEN_S:g})",
    )

    config = commands.add_parser(
        "config",
        help="the settings file",
        description="The settings file (TOML): engine, model, sensitivity, second_opinion, "
        "input_device, output_device, speech_rate, volume, routine, hold_multiplier and "
        "[holds]. It lives in "
        "$VOICECOACH_HOME, or the platform's config folder; command-line flags override it. "
        "'show' prints the settings in effect, 'path' where the file is.",
    )
    config.add_argument("action", choices=("show", "path"))

    model = commands.add_parser("model", help="speech models", description="Speech models.")
    model_commands = model.add_subparsers(dest="model_command", metavar="ACTION", required=True)
    install = model_commands.add_parser(
        "install",
        help="download and install a Vosk model",
        description="Download a Vosk model with Vosk's own downloader (into ~/.cache/vosk), "
        "showing progress. Needs internet access; see models/README.md for installing one "
        "by hand.",
    )
    install.add_argument(
        "model_name",
        nargs="?",
        default=DEFAULT_VOSK_MODEL,
        metavar="name",
        help=f"default: {DEFAULT_VOSK_MODEL}",
    )
    return parser
