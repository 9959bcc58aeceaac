"""Bad input as a new user gives it: every one ends in one line on stderr naming what and where,
exit code 2, no traceback, no hang.

Most cases run the command line in this process (fast); the ones that once hung run it in a
subprocess with a time limit, so a hang fails the test instead of stalling the suite."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from voicecoach.cli import main
from voicecoach.config import config_path
from voicecoach.core.catalog import DEFAULT_CATALOG_PATH
from voicecoach.testing import assert_one_line_error
from voicecoach.testing import run_cli as run

BUNDLED = DEFAULT_CATALOG_PATH.read_text(encoding="utf-8")
DEEP_ARRAY = "a = " + "[" * 5000 + "]" * 5000 + "\n"
DEEP_TABLE = "a = " + "{b = " * 5000 + "1" + "}" * 5000 + "\n"
TIMELINE = 'routine = "gentle"\n'
SCRIPT = '[[case]]\naudio = "x.wav"\nexpect = "none"\n'


def with_dose(field: str, value: str) -> str:
    """The bundled catalog with the first exercise's `field` set to `value`."""
    return re.sub(rf"^{field} = .*$", f"{field} = {value}", BUNDLED, count=1, flags=re.M)


# (files to write in the test's folder, the command line ({} is the folder), what the one line
# must say)
CASES: dict[str, tuple[dict[str, str], list[str], list[str]]] = {
    # deeply nested TOML (RecursionError in the TOML reader)
    "catalog nested": (
        {"deep.toml": DEEP_ARRAY},
        ["list", "--data", "{}/deep.toml"],
        ["deep.toml", "nested too deeply"],
    ),
    "catalog nested tables": (
        {"deep.toml": DEEP_TABLE},
        ["list", "--data", "{}/deep.toml"],
        ["deep.toml", "nested too deeply"],
    ),
    "timeline nested": (
        {"deep.toml": DEEP_TABLE},
        ["run", "--script", "{}/deep.toml", "--mute"],
        ["deep.toml", "nested too deeply"],
    ),
    "test script nested": (
        {"deep.toml": DEEP_ARRAY},
        ["test", "{}/deep.toml"],
        ["deep.toml", "nested too deeply"],
    ),
    "known failures nested": (
        {"s.toml": 'known_failures = "k.toml"\n' + SCRIPT, "k.toml": DEEP_ARRAY},
        ["test", "{}/s.toml"],
        ["k.toml", "nested too deeply"],
    ),
    "grammar nested": (
        {"g/commands.toml": DEEP_ARRAY},
        ["parse", "--grammar", "{}/g", "hello"],
        ["commands.toml", "nested too deeply"],
    ),
    # files that are not files
    "catalog /dev/zero": ({}, ["list", "--data", "/dev/zero"], ["/dev/zero", "not a regular file"]),
    "catalog folder": ({}, ["list", "--data", "{}"], ["is a folder"]),
    "catalog binary": (
        {"bin.toml": "\udcff"},
        ["list", "--data", "{}/bin.toml"],
        ["bin.toml", "not UTF-8"],
    ),
    "timeline /dev/null": (
        {},
        ["run", "--script", "/dev/null", "--mute"],
        ["/dev/null", "not a regular file"],
    ),
    "test script folder": ({}, ["test", "{}"], ["is a folder"]),
    # test scripts
    "context a list": (
        {"s.toml": 'context = ["ask"]\n' + SCRIPT},
        ["test", "{}/s.toml"],
        ["s.toml", "context must be one of", "['ask']"],
    ),
    "context a number": (
        {"s.toml": "context = 5\n" + SCRIPT},
        ["test", "{}/s.toml"],
        ["s.toml", "context must be one of"],
    ),
    "expect a list": (
        {"s.toml": '[[case]]\naudio = "x.wav"\nexpect = ["none"]\n'},
        ["test", "{}/s.toml"],
        ["s.toml", "case 1: expect must be"],
    ),
    "known failures a number": (
        {"s.toml": "known_failures = 3\n" + SCRIPT},
        ["test", "{}/s.toml"],
        ["s.toml", "known_failures must be a file name"],
    ),
    "known failures not a list": (
        {"s.toml": 'known_failures = "k.toml"\n' + SCRIPT, "k.toml": "failure = 3\n"},
        ["test", "{}/s.toml"],
        ["k.toml", "[[failure]]"],
    ),
    # timelines
    "at nan": (
        {"t.toml": TIMELINE + '[[event]]\nat = nan\nsay = "next"\n'},
        ["run", "--script", "{}/t.toml", "--mute"],
        ["t.toml", "event 1: 'at' must be a number of seconds", "nan"],
    ),
    "at inf": (
        {"t.toml": TIMELINE + '[[event]]\nat = inf\nsay = "next"\n'},
        ["run", "--script", "{}/t.toml", "--mute"],
        ["t.toml", "'at'", "inf"],
    ),
    "at negative": (
        {"t.toml": TIMELINE + '[[event]]\nat = -1\nsay = "next"\n'},
        ["run", "--script", "{}/t.toml", "--mute"],
        ["t.toml", "'at'"],
    ),
    "delay nan": (
        {"t.toml": TIMELINE + '[[event]]\non = "hold"\ndelay = nan\nsay = "next"\n'},
        ["run", "--script", "{}/t.toml", "--mute"],
        ["t.toml", "'delay'"],
    ),
    "say a list": (
        {"t.toml": TIMELINE + "[[event]]\nat = 1\nsay = []\n"},
        ["run", "--script", "{}/t.toml", "--mute"],
        ["t.toml", "'say' must be text"],
    ),
    "audio a number": (
        {"t.toml": TIMELINE + "[[event]]\nat = 1\naudio = 3\n"},
        ["run", "--script", "{}/t.toml", "--mute"],
        ["t.toml", "'audio' must be text"],
    ),
    "unknown routine in a timeline": (
        {"t.toml": 'routine = "nope"\n'},
        ["run", "--script", "{}/t.toml", "--mute"],
        ["t.toml", "unknown routine 'nope'"],
    ),
    "routine a number": (
        {"t.toml": "routine = 5\n"},
        ["run", "--script", "{}/t.toml", "--mute"],
        ["t.toml", "routine must be a name"],
    ),
    "unknown exercise in a timeline": (
        {"t.toml": 'exercises = ["moonwalk"]\n'},
        ["run", "--script", "{}/t.toml", "--mute"],
        ["t.toml", "unknown exercise 'moonwalk'"],
    ),
    "exercise a number": (
        {"t.toml": "exercises = [1]\n"},
        ["run", "--script", "{}/t.toml", "--mute"],
        ["t.toml", "exercises must be a list of names"],
    ),
    # catalogs with absurd doses (a session that never ends)
    "hold 10**18": (
        {"c.toml": with_dose("hold_s", "1000000000000000000")},
        ["list", "--data", "{}/c.toml"],
        ["c.toml", "field 'dose.hold_s'", "at most 120"],
    ),
    "reps 10**18": (
        {"c.toml": with_dose("reps", "1000000000000000000")},
        ["list", "--data", "{}/c.toml"],
        ["c.toml", "field 'dose.reps'", "at most"],
    ),
    "sets 10**18": (
        {"c.toml": with_dose("sets", "1000000000000000000")},
        ["list", "--data", "{}/c.toml"],
        ["c.toml", "field 'dose.sets'"],
    ),
    "rest 10**18": (
        {"c.toml": with_dose("rest_s", "1000000000000000000")},
        ["list", "--data", "{}/c.toml"],
        ["c.toml", "field 'dose.rest_s'"],
    ),
    # numbers on the command line
    "until negative": (
        {"t.toml": TIMELINE},
        ["run", "--script", "{}/t.toml", "--mute", "--until", "-5"],
        ["--until", "-5"],
    ),
    "until nan": (
        {"t.toml": TIMELINE},
        ["run", "--script", "{}/t.toml", "--mute", "--until", "nan"],
        ["--until", "nan"],
    ),
    "until inf": (
        {"t.toml": TIMELINE},
        ["run", "--script", "{}/t.toml", "--mute", "--until", "inf"],
        ["--until", "inf"],
    ),
    "until text": (
        {"t.toml": TIMELINE},
        ["run", "--script", "{}/t.toml", "--mute", "--until", "soon"],
        ["--until", "not a number"],
    ),
    "ask timeout negative": ({}, ["ask", "--mute", "--timeout", "-5"], ["--timeout", "-5"]),
    "ask timeout nan": ({}, ["ask", "--mute", "--timeout", "nan"], ["--timeout", "nan"]),
    "ask timeout inf": ({}, ["ask", "--mute", "--timeout", "inf"], ["--timeout", "inf"]),
    "ask timeout zero": ({}, ["ask", "--mute", "--timeout", "0"], ["--timeout"]),
    "doctor seconds nan": ({}, ["doctor", "--seconds", "nan"], ["--seconds", "nan"]),
    "doctor seconds inf": ({}, ["doctor", "--seconds", "inf"], ["--seconds", "inf"]),
    "doctor seconds negative": ({}, ["doctor", "--seconds", "-1"], ["--seconds"]),
    "unknown option": ({}, ["list", "--colour"], ["unrecognized arguments: --colour"]),
    # output files
    "log a folder": (
        {"t.toml": TIMELINE},
        ["run", "--script", "{}/t.toml", "--mute", "--log", "{}"],
        ["is a folder, not a log file"],
    ),
    "log impossible": (
        {"t.toml": TIMELINE},
        ["run", "--script", "{}/t.toml", "--mute", "--log", "/proc/self/nope/log.jsonl"],
        ["/proc/self/nope/log.jsonl", "cannot write the log"],
    ),
    "speak-to a folder": (
        {"t.toml": TIMELINE},
        ["run", "--script", "{}/t.toml", "--speak-to", "{}"],
        ["is a folder, not a WAV file"],
    ),
    "ask speak-to a folder": (
        {},
        ["ask", "--text", "what's", "next", "--speak-to", "{}"],
        ["is a folder, not a WAV file"],
    ),
    "junit a folder": (
        {"s.toml": SCRIPT},
        ["test", "{}/s.toml", "--engine", "pocketsphinx", "--junit", "{}"],
        ["cannot write"],
    ),
}


def voicecoach(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str, str]:
    """Runs the command line in this process: (exit code, stdout, stderr)."""
    try:
        code = main(args)
    except SystemExit as exit_:  # argparse's errors
        code = exit_.code if isinstance(exit_.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line(code: int, err: str, parts: list[str]) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for part in parts:
        assert part in lines[0], lines[0]


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_line(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files, args, parts = CASES[name]
    for relative, text in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8", errors="surrogateescape"))
    code, _, err = voicecoach(capsys, [arg.replace("{}", str(tmp_path)) for arg in args])
    assert_one_line(code, err, [part.replace("{}", str(tmp_path)) for part in parts])


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ('routine = "nope"\n', ["config.toml", "'routine' must be one of", "'nope'"]),
        ("[holds]\nbrige = 1.5\n", ["config.toml", "[holds]: unknown exercise 'brige'", "bridge"]),
        ("[holds]\nmoonwalk = 1.5\n", ["config.toml", "unknown exercise 'moonwalk'"]),
        ("volume = nan\n", ["config.toml", "'volume'"]),
        ("hold_multiplier = inf\n", ["config.toml", "'hold_multiplier'"]),
        ("speech_rate = 1e9\n", ["config.toml", "'speech_rate'"]),
        ('sensitivity = "loud"\n', ["config.toml", "'sensitivity' must be", "'high'", "'loud'"]),
        ("holds = 3\n", ["config.toml", "'holds'"]),
        (DEEP_TABLE, ["config.toml", "nested too deeply"]),
    ],
)
def test_bad_settings_name_the_settings_file(
    text: str, parts: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    (tmp_path / "t.toml").write_text(TIMELINE, encoding="utf-8")
    code, _, err = voicecoach(capsys, ["run", "--script", str(tmp_path / "t.toml"), "--mute"])
    assert_one_line(code, err, parts)


def test_doctor_reports_bad_settings_as_a_failed_check(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[holds]\nbrige = 1.5\n", encoding="utf-8")
    code, out, _ = voicecoach(capsys, ["doctor", "--seconds", "0.1", "--engine", "pocketsphinx"])
    assert code == 1
    assert "FAIL config file: " in out and "unknown exercise 'brige'" in out


@pytest.mark.parametrize("field", ["hold_s", "reps"])
def test_a_session_of_an_absurd_catalog_does_not_hang(field: str, tmp_path: Path) -> None:
    """Once a run of 10**18 reps or seconds: now refused when the catalog is read."""
    catalog = tmp_path / "c.toml"
    catalog.write_text(with_dose(field, "1000000000000000000"), encoding="utf-8")
    (tmp_path / "t.toml").write_text(TIMELINE, encoding="utf-8")
    result = run("run", "--data", str(catalog), "--script", str(tmp_path / "t.toml"), "--mute")
    assert_one_line_error(result, "c.toml", f"field 'dose.{field}'")


def test_the_catalog_from_dev_zero_does_not_hang() -> None:
    assert_one_line_error(run("list", "--data", "/dev/zero"), "/dev/zero", "not a regular file")


def test_recordings_that_are_not_files(tmp_path: Path) -> None:
    result = run("recognize", "--engine", "pocketsphinx", str(tmp_path), "/dev/zero")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert f"voicecoach: {tmp_path}: is a folder, not a WAV file" in lines
    assert "voicecoach: /dev/zero: not a regular file (a device or a pipe?)" in lines


def test_a_log_that_cannot_be_written_mid_session_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk that fills during a session: the log's write fails with ENOSPC."""
    import errno
    import io

    class FullDisk(io.StringIO):
        name = str(tmp_path / "log.jsonl")

        def flush(self) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("voicecoach.app.open_log", lambda path: FullDisk())
    (tmp_path / "t.toml").write_text(TIMELINE, encoding="utf-8")
    code, _, err = voicecoach(
        capsys,
        ["run", "--script", str(tmp_path / "t.toml"), "--mute", "--log", str(tmp_path / "l")],
    )
    assert_one_line(code, err, ["log.jsonl", "cannot write the log: No space left on device"])
