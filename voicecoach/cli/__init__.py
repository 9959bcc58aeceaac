"""The `voicecoach` command line: `main` parses the arguments (`parser`), builds the `Options`
once (`options`) and runs the command. Every user-caused error ends in one line on stderr,
exit 2.

The commands: `catalog_commands` (list, show, parse), `recognize` (recognize, test), `run`,
`history` (history, next, ask) and `setup_commands` (devices, doctor, config, model install);
what they share is in `common`. Heavy modules (audio, recognisers, the journal) are imported
inside the commands that need them, so that start-up stays fast."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Final

from voicecoach.cli.catalog_commands import cmd_list, cmd_parse, cmd_routines, cmd_show
from voicecoach.cli.common import EXIT_OK, EXIT_USAGE
from voicecoach.cli.history import cmd_ask, cmd_history, cmd_next
from voicecoach.cli.options import Options, build_options
from voicecoach.cli.parser import build_parser
from voicecoach.cli.progress import cmd_progress
from voicecoach.cli.recognize import cmd_recognize, cmd_test
from voicecoach.cli.run import cmd_run
from voicecoach.cli.setup_commands import cmd_config, cmd_devices, cmd_doctor, cmd_model_install
from voicecoach.core.errors import VoiceCoachError

__all__ = ["main"]

Handler = Callable[[Options], int]

COMMANDS: Final[Mapping[str, Handler]] = {
    "list": cmd_list,
    "routines": cmd_routines,
    "show": cmd_show,
    "parse": cmd_parse,
    "recognize": cmd_recognize,
    "test": cmd_test,
    "run": cmd_run,
    "history": cmd_history,
    "next": cmd_next,
    "progress": cmd_progress,
    "ask": cmd_ask,
    "devices": cmd_devices,
    "doctor": cmd_doctor,
    "config": cmd_config,
    "model install": cmd_model_install,
}
"""Each command's handler, by `Options.command`."""


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command of `argv` (default: sys.argv[1:]); returns the exit code."""
    parser = build_parser()
    options = build_options(parser.parse_args(argv))
    if options.command is None:
        parser.print_help()
        return EXIT_USAGE
    handler = COMMANDS[options.command]
    try:
        return handler(options)
    except VoiceCoachError as error:
        print(f"voicecoach: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("voicecoach: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
