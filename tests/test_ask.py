"""`voicecoach ask`: spoken questions outside a session, heard from recordings and answered
from the journal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.test_recognition import assert_as_known
from voicecoach.core.catalog import Catalog
from voicecoach.core.grammar import QUESTION_NAMES, load_grammar
from voicecoach.core.intents import CommandIndex, build_index
from voicecoach.hearing.asr import Engine
from voicecoach.hearing.audio import read_wav
from voicecoach.hearing.audiotests import Case, load_script, run_cases
from voicecoach.hearing.recognition import build_engine, hear_file
from voicecoach.memory.journal import Journal
from voicecoach.testing import assert_one_line_error
from voicecoach.testing import run_cli as run

AUDIO = Path(__file__).parent / "audio"


@pytest.fixture(scope="module")
def question_index(bundled_catalog: Catalog) -> CommandIndex:
    return build_index(load_grammar(bundled_catalog, context="ask"))


@pytest.fixture(scope="module")
def engine(question_index: CommandIndex) -> Engine:
    return build_engine("pocketsphinx", question_index.grammar, question_index)


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return load_script(AUDIO / "questions.toml")


def test_the_script_covers_every_question_and_other_talk(cases: list[Case]) -> None:
    assert {c.context for c in cases} == {"ask"}
    assert {c.expect for c in cases} == {*QUESTION_NAMES, None}
    for case in cases:
        assert case.audio.exists(), case.audio
        assert case.audio.name.startswith("oov_") == (case.expect is None), case.audio.name


def test_every_question_clip_gives_its_question_or_is_a_known_failure(
    engine: Engine, question_index: CommandIndex, cases: list[Case]
) -> None:
    """What `voicecoach test tests/audio/questions.toml` runs. Clips the engine gets wrong are
    listed in tests/audio/questions_known_failures.toml with what it heard."""
    outcomes = run_cases(cases, lambda path: hear_file(path, engine, question_index))
    assert_as_known(outcomes, "questions_known_failures.toml")
    for question in QUESTION_NAMES:  # each question is understood from some recording
        assert any(o.status == "PASS" and o.intent == question for o in outcomes), question


def test_the_session_grammar_does_not_hear_questions(
    bundled_index: CommandIndex, question_index: CommandIndex
) -> None:
    session_intents = {p.intent for p in bundled_index.grammar.phrases()}
    assert "last_session" not in session_intents
    assert {p.intent for p in question_index.grammar.phrases()} == set(QUESTION_NAMES)


def passing_clip(cases: list[Case], question: str) -> Path:
    """A clean recording of `question` the engine understands."""
    clean = [
        c.audio
        for c in cases
        if c.expect == question and c.known_failure is None and "+" not in c.audio.name
    ]
    return clean[0]


def seed_history() -> None:
    """Two sessions this week: a finished gentle one, then a core one cut short by pain."""
    journal = Journal()
    first = journal.start_session("gentle")
    journal.record(first, 60.0, "exercise_done", "deep-breathing", variation=None, hold_s=0)
    journal.end_session(first, "completed")
    second = journal.start_session("core")
    journal.record(second, 60.0, "exercise_done", "deep-breathing", variation=None, hold_s=0)
    journal.record(second, 90.0, "pain", "abdominal-bracing")
    journal.record(second, 95.0, "pain_rating", "abdominal-bracing", level=6)
    journal.record(second, 99.0, "skipped", "abdominal-bracing", variation=None, hold_s=10)
    journal.end_session(second, "stopped")
    journal.close()


@pytest.mark.parametrize(
    ("question", "answer_has"),
    [
        ("whats_next", ["Gentle stretches routine", "Something hurt last time"]),
        (
            "last_session",
            ["Core strength routine and stopped early", "You did Deep breathing",
             "You skipped Abdominal bracing", "rated it 6 out of 10"],
        ),
        ("sessions_this_week", ["2 sessions this week, 1 of them to the end"]),
    ],
)  # fmt: skip
def test_each_spoken_question_is_answered_from_the_history(
    cases: list[Case], question: str, answer_has: list[str]
) -> None:
    seed_history()
    clip = passing_clip(cases, question)
    result = run("ask", "--engine", "pocketsphinx", "--audio", str(clip), "--mute")
    assert result.returncode == 0, result.stderr
    assert f"-> {question}" in result.stderr
    for part in answer_has:
        assert part in result.stdout, result.stdout


def test_talk_that_is_not_a_question_gets_the_hint_and_exit_1(cases: list[Case]) -> None:
    clip = next(c.audio for c in cases if c.expect is None and c.known_failure is None)
    result = run("ask", "--engine", "pocketsphinx", "--audio", str(clip), "--mute")
    assert result.returncode == 1
    assert "didn't catch a question" in result.stdout
    assert "what did I do last time" in result.stdout


def test_the_answer_is_spoken_to_a_wav(cases: list[Case], tmp_path: Path) -> None:
    out = tmp_path / "answer.wav"
    clip = passing_clip(cases, "sessions_this_week")
    result = run("ask", "--engine", "pocketsphinx", "--audio", str(clip), "--speak-to", str(out))
    assert result.returncode == 0, result.stderr
    assert "No sessions yet this week." in result.stdout
    assert read_wav(out).size > 16000 * 0.5  # about a second and a half of speech


def test_typed_question_and_bad_recordings(tmp_path: Path) -> None:
    typed = run("ask", "--text", "how", "many", "sessions", "this", "week", "--mute")
    assert typed.returncode == 0 and "No sessions yet this week." in typed.stdout
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not a wav file")
    assert_one_line_error(
        run("ask", "--engine", "pocketsphinx", "--audio", str(bad), "--mute"), str(bad)
    )
    missing = run("ask", "--engine", "pocketsphinx", "--audio", str(tmp_path / "no.wav"), "--mute")
    assert_one_line_error(missing, "no such file")


HUMAN_STOP = Path(__file__).parent / "data" / "human" / "an4" / "an304-mtcv-b.wav"
"""A real person saying "stop" (CMU's AN4, tests/data/human/README.md)."""


def test_stop_said_to_a_waiting_coach_is_not_taken_for_start(bundled_catalog: Catalog) -> None:
    """A bare "stop" sounds like "start", the waiting coach's command: in the test voices it was
    taken for it 6 times in 11 before the idle grammar held "stop" as not_yet."""
    from voicecoach.hearing.asr.stream import recognize_samples
    from voicecoach.hearing.audio import silence
    from voicecoach.hearing.recognition import understand
    from voicecoach.hearing.synthetic import TEST_VOICES, synthesize

    index = build_index(load_grammar(bundled_catalog, context="idle"))
    engine = build_engine("pocketsphinx", index.grammar, index)
    heard = []
    for voice in TEST_VOICES:
        audio = np.concatenate([silence(0.5), synthesize("stop", voice), silence(1.0)])
        taken = [u for u in recognize_samples(engine, audio) if u.accepted]
        intent = understand(taken[0], index).intent if taken else None
        heard.append(intent.name if intent else None)
    assert "start" not in heard, heard
    assert heard.count("not_yet") >= len(TEST_VOICES) // 2, heard


def test_a_waiting_coach_answers_questions_then_starts_on_start(
    bundled_catalog: Catalog, cases: list[Case]
) -> None:
    """`run --wait` with a fake microphone: a question, a real person's "stop", then "start",
    from recordings; the answer is spoken and, while it is, the microphone is not listened to;
    the "stop" is shown and nothing said."""
    from voicecoach.hearing.audio import silence
    from voicecoach.hearing.synthetic import PAD_S
    from voicecoach.idle import READY, wait_for_start
    from voicecoach.speaking.speakers import MuteSpeaker

    index = build_index(load_grammar(bundled_catalog, context="idle"))
    idle_engine = build_engine("pocketsphinx", index.grammar, index)
    starts = [c for c in load_script(AUDIO / "idle.toml") if c.known_failure is None]
    stream = [
        silence(3.0),  # while the coach says it is ready
        read_wav(passing_clip(cases, "last_session")),
        silence(3.0),  # while it answers
        read_wav(HUMAN_STOP),  # not a start: it goes on waiting, and says nothing
        silence(1.0),
        read_wav(starts[0].audio),
        silence(1.0),
    ]
    audio = np.concatenate(stream)
    frames = [audio[i : i + 1600] for i in range(0, audio.size, 1600)]  # 100 ms each
    clock = {"now": 0.0}
    speaker = MuteSpeaker()
    shown: list[str] = []

    def listen() -> list[np.ndarray]:
        clock["now"] += 0.1
        return [frames.pop(0)] if frames else [silence(0.1)]

    wait_for_start(
        listen, idle_engine, index, speaker, lambda question: f"answer to {question}",
        show=shown.append, clock=lambda: clock["now"], sleep=lambda _: None,
    )  # fmt: skip
    assert [s.text for s in speaker.spoken] == [READY, "answer to last_session"]
    assert shown[-2].endswith("-> not_yet") and shown[-1].endswith("-> start")
    # It returned as soon as "start" was decided: after the words (the clip ends with PAD_S of
    # quiet), before the second of silence after it was all read.
    assert 0 < len(frames) <= 10 + round(PAD_S * 10)
