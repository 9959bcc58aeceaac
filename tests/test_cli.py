"""The command line as a user runs it: a subprocess, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from voicecoach.testing import assert_one_line_error
from voicecoach.testing import run_cli as run


def test_list_json_is_one_document_with_the_fields() -> None:
    result = run("list", "--json")
    assert result.returncode == 0, result.stderr
    exercises = json.loads(result.stdout)
    assert len(exercises) >= 23
    for exercise in exercises:
        assert {"id", "name", "aliases", "steps", "sources", "variations", "cautions"} <= set(
            exercise
        )
        for variation in exercise["variations"]:
            assert variation["direction"] in ("easier", "harder", "alternative")


def test_list_text() -> None:
    result = run("list")
    assert result.returncode == 0
    assert "bird-dog" in result.stdout and "Bird dog" in result.stdout


def test_show_by_alias() -> None:
    result = run("show", "hip", "twist")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Lying trunk rotation")
    assert "sources:" in result.stdout and "cedars-sinai" in result.stdout


def test_show_unknown_name_suggests() -> None:
    result = run("show", "bird", "doggo", "sandwich")
    assert_one_line_error(result, "unknown exercise 'bird doggo sandwich'")
    result = run("show", "brdge")
    assert result.returncode == 0 and result.stdout.startswith("Bridge")


def test_show_unknown_with_did_you_mean() -> None:
    result = run("show", "plankk", "twist")
    assert_one_line_error(result, "unknown exercise", "did you mean")


def test_bad_data_file_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("schema = 1\n[sources\n", encoding="utf-8")
    assert_one_line_error(run("list", "--data", str(bad)), str(bad), "line 2")
    assert_one_line_error(run("list", "--data", str(tmp_path / "none.toml")), "no such file")


def test_parse_json_lines_from_stdin() -> None:
    result = run("parse", "--json", stdin="hold for twenty seconds\nturn off the lights\n\n")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records[0] == {
        "text": "hold for twenty seconds",
        "intent": "set_hold",
        "slots": {"seconds": 20},
        "score": 100.0,
    }
    assert records[1]["intent"] is None
    assert len(records) == 2


def test_parse_args_text() -> None:
    result = run("parse", "let's", "do", "the", "bird", "dog")
    assert result.returncode == 0
    assert "start_exercise exercise=bird-dog" in result.stdout


def test_no_command_prints_help() -> None:
    result = run()
    assert result.returncode == 2
    assert "usage: voicecoach" in result.stdout


def test_help_explains_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("list", "show", "parse"):
        assert command in result.stdout
