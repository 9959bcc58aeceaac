"""`voicecoach recognize` and `voicecoach test` as a user runs them, and test-script errors."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from tests.test_recognition import SENSITIVITY_CLIPS
from voicecoach.config import config_path
from voicecoach.hearing.audiotests import ScriptError, load_script
from voicecoach.testing import assert_one_line_error
from voicecoach.testing import run_cli as run

AUDIO = Path(__file__).parent / "audio"


def passing_clip(expect: str) -> Path:
    cases = load_script(AUDIO / "cases.toml")
    return next(
        c.audio
        for c in cases
        if c.expect == expect and c.known_failure is None and "+" not in c.audio.name
    )


def test_recognize_json_and_bad_files(tmp_path: Path) -> None:
    good = passing_clip("pain")
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF....WAVEfmt nonsense")
    missing = tmp_path / "missing.wav"
    result = run(
        "recognize", "--json", "--engine", "pocketsphinx", str(missing), str(good), str(corrupt)
    )
    assert result.returncode == 2
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 1
    record = records[0]
    assert set(record) >= {
        "file",
        "text",
        "intent",
        "slots",
        "score",
        "engine",
        "audio_s",
        "decode_s",
    }
    assert record["intent"] == "pain" and record["engine"] == "pocketsphinx"
    assert record["audio_s"] > 0.5 and 0 < record["decode_s"] < record["audio_s"]
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 2 and "Traceback" not in result.stderr
    assert str(missing) in errors[0] and str(corrupt) in errors[1]


def test_recognize_auto_says_which_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOICECOACH_VOSK_MODEL", raising=False)
    result = run("recognize", str(passing_clip("next")))
    assert result.returncode == 0
    assert "pocketsphinx" in result.stderr
    assert "-> next" in result.stdout


def test_vosk_without_a_model_is_one_line(tmp_path: Path) -> None:
    result = run(
        "recognize", "--engine", "vosk", "--model", str(tmp_path), str(passing_clip("next"))
    )
    assert_one_line_error(result, "not a Vosk model folder")


def test_test_command_table_summary_and_junit(tmp_path: Path) -> None:
    shutil.copy(passing_clip("pain"), tmp_path / "ouch.wav")
    shutil.copy(passing_clip("next"), tmp_path / "next.wav")
    script = tmp_path / "script.toml"
    script.write_text(
        '[[case]]\naudio = "ouch.wav"\nexpect = "pain"\n\n'
        '[[case]]\naudio = "next.wav"\nexpect = "stop"\n\n'
        '[[case]]\naudio = "gone.wav"\nexpect = "none"\n',
        encoding="utf-8",
    )
    junit = tmp_path / "junit.xml"
    result = run("test", str(script), "--engine", "pocketsphinx", "--junit", str(junit))
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["file", "heard"]
    assert any(line.startswith("ouch.wav") and "PASS" in line.split() for line in lines)
    # The last column says why: which check accepted or rejected it, with its score.
    assert any(
        line.startswith("ouch.wav")
        and ("accepted: verifier" in line or "accepted: moonshine" in line)
        for line in lines
    )
    assert any(line.startswith("next.wav") and "FAIL" in line.split() for line in lines)
    assert any(line.startswith("gone.wav") and "ERROR" in line.split() for line in lines)
    assert "3 cases: 1 error, 1 fail, 1 pass" in result.stdout
    suite = ElementTree.parse(junit).getroot()
    assert suite.get("tests") == "3" and suite.get("failures") == "1" and suite.get("errors") == "1"


def test_test_command_passes_on_a_good_script(tmp_path: Path) -> None:
    shutil.copy(passing_clip("pain"), tmp_path / "ouch.wav")
    script = tmp_path / "script.toml"
    script.write_text('[[case]]\naudio = "ouch.wav"\nexpect = "pain"\n', encoding="utf-8")
    assert run("test", str(script), "--engine", "pocketsphinx").returncode == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no \\[\\[case\\]\\] entries"),
        ('[[case]]\naudio = "a.wav"\nexpect = "jump"\n', 'intent of the "session" context'),
        ('[[case]]\nexpect = "next"\n', "'audio' must be a file name"),
        ('[[case]]\naudio = "a.wav"\nexpect = "next"\ncolour = 1\n', "unknown field 'colour'"),
        ("[[case]\n", "invalid TOML"),
        ('context = "tv"\n[[case]]\naudio = "a.wav"\nexpect = "next"\n', "context must be"),
        (
            'context = "ask"\n[[case]]\naudio = "a.wav"\nexpect = "next"\n',
            'intent of the "ask" context',
        ),
        (
            'known_failures = "nope.toml"\n[[case]]\naudio = "a.wav"\nexpect = "next"\n',
            "no such file",
        ),
    ],
)
def test_script_errors(tmp_path: Path, text: str, message: str) -> None:
    script = tmp_path / "script.toml"
    script.write_text(text, encoding="utf-8")
    with pytest.raises(ScriptError, match=message):
        load_script(script)


def test_bad_script_on_the_command_line_is_one_line(tmp_path: Path) -> None:
    assert_one_line_error(run("test", str(tmp_path / "none.toml")), "no such file")


def test_the_settings_sensitivity_is_used_and_the_flag_overrides_it() -> None:
    clips = [str(AUDIO / "en" / name) for name in SENSITIVITY_CLIPS]
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('sensitivity = "high"\n', encoding="utf-8")
    taken = {}
    for flags in ([], ["--sensitivity", "medium"]):
        result = run("recognize", "--json", "--engine", "pocketsphinx", *flags, *clips)
        assert result.returncode == 0, result.stderr
        heard = [json.loads(line) for line in result.stdout.splitlines()]
        taken[bool(flags)] = sum(h["intent"] is not None for h in heard)
    assert taken[False] > taken[True], taken
