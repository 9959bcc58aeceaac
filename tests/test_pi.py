"""Running on a small board: devices, doctor, the config file, and a microphone that goes away
mid-session."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from voicecoach.config import Config, ConfigError, config_path, load_config, scaled_holds
from voicecoach.core.catalog import Catalog, RoutineItem
from voicecoach.core.intents import CommandIndex
from voicecoach.doctor import check_microphone, check_writable, level_dbfs, meter
from voicecoach.testing import assert_one_line_error
from voicecoach.testing import run_cli as run


def write_config(text: str) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_no_config_file_gives_the_defaults() -> None:
    assert load_config() == Config()
    shown = run("config", "show")
    assert shown.returncode == 0 and 'engine = "auto"' in shown.stdout
    assert run("config", "path").stdout.strip() == str(config_path())


def test_config_values_are_read_and_checked() -> None:
    path = write_config(
        'engine = "pocketsphinx"\ninput_device = 2\nspeech_rate = 150\nvolume = 0.5\n'
        'routine = "core"\nhold_multiplier = 1.5\n[holds]\nbridge = 2\n'
    )
    config = load_config()
    assert config.path == path and config.engine == "pocketsphinx" and config.input_device == 2
    assert config.hold_factor("bridge") == 2.0 and config.hold_factor("plank") == 1.5
    assert "speech_rate = 150" in run("config", "show").stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('engine = "whisper"\n', "'engine' must be"),
        ("speech_rate = 5000\n", "'speech_rate' must be words per minute"),
        ("volume = 2\n", "'volume' must be a number from 0.0 to 1.0"),
        ('second_opinion = "no"\n', "'second_opinion' must be true or false"),
        ("colour = 1\n", "unknown setting 'colour'"),
        ("engine = \n", "invalid TOML"),
        ("[holds]\nbridge = 10\n", "a multiplier from 0.5 to 3.0"),
    ],
)
def test_bad_config_is_one_line_naming_the_file(text: str, message: str) -> None:
    path = write_config(text)
    with pytest.raises(ConfigError, match=message):
        load_config()
    assert_one_line_error(run("run", "--text", "--mute", stdin=""), str(path), message)


def test_the_second_opinion_can_be_turned_off() -> None:
    write_config("second_opinion = false\n")
    assert load_config().second_opinion is False
    result = run("doctor", "--engine", "pocketsphinx", "--seconds", "0.2")
    engine = result.stdout.splitlines()[3]
    assert engine.startswith("ok   speech engine: pocketsphinx"), result.stdout
    assert "second opinion" not in engine
    assert engine.endswith("word check whisper tiny.en"), engine  # it is part of the verifier


def test_flags_override_the_config(tmp_path: Path) -> None:
    write_config('routine = "core"\nspeech_rate = 200\n')
    typed = run("run", "--text", "--mute", "--routine", "gentle", stdin="stop\nyes\n")
    assert typed.returncode == 0, typed.stderr
    assert "Next: Deep breathing." in typed.stdout  # the gentle routine, not core
    history = json.loads(run("history", "--json").stdout)
    assert history[0]["routine"] == "gentle"
    from_config = run("run", "--text", "--mute", stdin="stop\nyes\n")
    assert json.loads(run("history", "--json").stdout)[0]["routine"] == "core", from_config


def test_hold_multipliers_scale_holds_but_not_the_persons_own(bundled_catalog: Catalog) -> None:
    items = [RoutineItem("pelvic-tilt"), RoutineItem("bridge", "in-bed"), RoutineItem("walking")]
    config = Config(hold_multiplier=2.0, holds={"bridge": 0.5})
    holds = scaled_holds(bundled_catalog, items, {"pelvic-tilt": 7}, config)
    bridge = bundled_catalog.exercise("bridge").variation("in-bed")
    assert bridge is not None
    assert holds == {"pelvic-tilt": 7, "bridge": max(3, round(bridge.dose.hold_s * 0.5))}


def test_devices_lists_what_portaudio_sees() -> None:
    result = run("devices", "--json")
    assert result.returncode == 0, result.stderr
    devices = json.loads(result.stdout)
    assert isinstance(devices, list)
    for device in devices:
        assert {"index", "name", "inputs", "outputs"} <= set(device)
    text = run("devices")
    assert text.returncode == 0 and text.stdout.strip()


def test_a_missing_output_device_is_one_line() -> None:
    result = run("run", "--text", "--output-device", "no-such-speaker-xyz", stdin="")
    assert_one_line_error(result, "no-such-speaker-xyz", "voicecoach devices")


def test_doctor_reports_each_check_and_fails_without_audio_devices() -> None:
    """CI has no microphone and no speaker: doctor must say so, with fixes, and exit 1."""
    result = run("doctor", "--engine", "pocketsphinx", "--seconds", "0.2", "--sensitivity", "high")
    lines = result.stdout.splitlines()
    names = [
        "config file", "data folder", "grammar", "speech engine", "voice activity detector",
        "microphone", "speech out",
    ]  # fmt: skip
    for name, line in zip(names, lines, strict=False):
        assert f" {name}: " in line, lines
    assert lines[3].startswith("ok   speech engine: pocketsphinx")
    assert lines[3].endswith(
        ", sensitivity high, second opinion whisper tiny.en and moonshine tiny-en, "
        "word check whisper tiny.en"
    )
    assert lines[4].startswith("ok   voice activity detector: Silero VAD")
    if result.returncode == 1:
        failed = [line for line in lines if line.startswith("FAIL")]
        assert failed and all("-> fix: " in line for line in failed)
        assert lines[-1].endswith("problem(s) to fix")
    else:  # a machine with working audio
        assert result.returncode == 0 and lines[-1] == "a session can run here"


def test_microphone_check_with_a_meter() -> None:
    rng = np.random.default_rng(1)
    shown: list[str] = []

    def talking() -> object:
        while True:
            yield (rng.normal(0, 3000, 320)).astype(np.int16)

    check = check_microphone(talking, shown.append, seconds=1.0)  # type: ignore[arg-type]
    assert check.ok and "hears sound" in check.detail
    assert len(shown) == 10 and all(s.startswith("[") for s in shown)

    def muted() -> object:
        while True:
            yield np.zeros(320, np.int16)

    silent = check_microphone(muted, shown.append, seconds=0.5)  # type: ignore[arg-type]
    assert not silent.ok and "alsamixer" in silent.fix
    assert level_dbfs(np.zeros(10, np.int16)) == -np.inf and "-inf dBFS" in meter(-np.inf)


def test_unwritable_data_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    check = check_writable(blocker / "sub")
    assert not check.ok and "VOICECOACH_HOME" in check.fix
    assert check_writable(tmp_path / "new").ok


def test_the_session_pauses_when_the_microphone_goes_and_carries_on_when_it_is_back(
    bundled_catalog: Catalog, bundled_index: CommandIndex
) -> None:
    """A fake microphone that sends 100 ms of room noise per step, then nothing (unplugged)
    once the hold has started; reopening fails twice, then works."""
    import io

    from voicecoach.app import JsonLog, ScriptedRun
    from voicecoach.core.timeline import Timeline
    from voicecoach.hearing.audio import silence
    from voicecoach.speaking.speakers import MuteSpeaker

    state = {"plugged": True, "unplugged_at": -1.0, "attempts": 0}

    def microphone() -> list[np.ndarray]:
        if state["plugged"] and runner.session.phase == "hold" and state["unplugged_at"] < 0:
            state["plugged"], state["unplugged_at"] = False, runner.now
        return [silence(0.1)] if state["plugged"] else []

    def reconnect() -> bool:
        state["attempts"] += 1
        state["plugged"] = state["attempts"] >= 3
        return bool(state["plugged"])

    log = io.StringIO()
    runner = ScriptedRun(
        bundled_catalog, bundled_index, Timeline((RoutineItem("pelvic-tilt"),), ()),
        MuteSpeaker(), JsonLog(log), engine_factory=None, until_s=400.0,
        show=lambda _: None, listen=microphone, reconnect=reconnect,
    )  # fmt: skip
    runner._shared_engine = lambda: None  # type: ignore[method-assign]
    runner._hear_live = lambda frames: None  # type: ignore[method-assign]
    runner.run()
    events = [json.loads(line) for line in log.getvalue().splitlines()]
    said = [e["text"] for e in events if e["event"] == "say"]
    lost = next(i for i, text in enumerate(said) if "the microphone has gone" in text)
    back = next(i for i, text in enumerate(said) if "The microphone is back" in text)
    assert lost < back and "carry on" in said[back]
    lost_at = next(e["t"] for e in events if e["event"] == "microphone_lost")
    back_at = next(e["t"] for e in events if e["event"] == "microphone_back")
    assert lost_at - float(state["unplugged_at"]) == pytest.approx(2.0, abs=0.15)
    assert back_at - lost_at == pytest.approx(6.0, abs=0.15)  # the third try, 2 s apart
    phases = [e["phase"] for e in events if e["event"] == "state" and e["t"] >= lost_at]
    assert phases[0] == "paused" and "hold" in phases[1:]
    assert runner.session.phase == "done"  # the exercise went on to the end
