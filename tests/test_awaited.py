"""Answers the coach waits for: after "it hurts" a bare number, after "stop" yes or no, are taken
at the verifier's lower threshold for answers instead of their own stricter one (other speech is
often decoded as a number, as "yes" or "no"), on real recognition of spoken numbers."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voicecoach.app import JsonLog, ScriptedRun
from voicecoach.core.catalog import Catalog, RoutineItem
from voicecoach.core.grammar import SlotValue
from voicecoach.core.intents import CommandIndex, Intent
from voicecoach.core.session import ANSWERS_AWAITED, Session, awaited_as_answer
from voicecoach.core.timeline import load_timeline
from voicecoach.hearing.asr import Utterance
from voicecoach.hearing.asr.pocketsphinx_engine import (
    ANSWERS_ONLY_THRESHOLD,
    RATING_BY_EMBEDDING,
    PocketSphinxEngine,
)
from voicecoach.hearing.asr.stream import Recognizer, recognize_samples
from voicecoach.hearing.asr.verifier import load_verifier
from voicecoach.hearing.audio import Samples, read_wav, silence, write_wav
from voicecoach.hearing.recognition import understand
from voicecoach.hearing.synthetic import TEST_VOICES, Voice, synthesize
from voicecoach.speaking.speakers import MuteSpeaker
from voicecoach.testing import run_cli as run

NUMBERS = ("two", "three", "seven", "it's a four", "a six", "it's a two", "eight", "two out of ten")
AMONG_ANSWERS = "(among the awaited answers alone)"
SECOND_OPINION = "heard the same command"
"""How `recognize` says a decode was taken by the second opinion (second_opinion.py)."""
VOICES = [
    v
    for v in TEST_VOICES
    if v.id in ("espeak-en-gb-f2-165-60", "espeak-en-us-Annie-155-50", "espeak-en-us-m3-150-45")
]


def test_the_session_awaits_a_rating_after_it_hurts_and_yes_or_no_after_stop(
    bundled_catalog: Catalog,
) -> None:
    session = Session(bundled_catalog, [RoutineItem("bridge", None)])
    session.start(0.0)
    assert session.awaited == frozenset()
    session.handle(Intent("pain", {}, 100.0, "it hurts"), 1.0)
    assert session.awaited == {"rating"}
    session.handle(Intent("rating", {"level": 2}, 100.0, "two"), 2.0)
    assert session.awaited == frozenset()
    session.handle(Intent("stop", {}, 100.0, "stop"), 3.0)
    assert session.awaited == {"yes", "no"}
    assert set(ANSWERS_AWAITED) == {"pain_check", "confirm_stop"}
    # Heard on its own (recognize, test, the benchmarks), a rating is taken as such an answer.
    assert awaited_as_answer("rating") == {"rating"}
    assert awaited_as_answer("yes") == awaited_as_answer("no") == {"yes", "no"}
    assert awaited_as_answer("next") == awaited_as_answer(None) == frozenset()


def test_an_awaited_answer_is_judged_at_the_lower_threshold_for_answers() -> None:
    verifier = load_verifier()
    assert verifier.threshold_for("rating") > verifier.threshold  # numbers are often misheard
    assert verifier.near_miss <= verifier.threshold
    assert verifier.awaited_threshold < verifier.threshold
    for intent in ("rating", "yes", "no", "next"):
        assert verifier.threshold_for(intent, awaited=True) == verifier.awaited_threshold
        assert verifier.threshold_for(intent) >= verifier.threshold


def spoken(text: str, voice: Voice) -> Samples:
    """`text` in `voice`, with quiet before and after it."""
    return np.concatenate([silence(0.5), synthesize(text, voice), silence(1.0)])


@pytest.fixture(scope="module")
def spoken_numbers() -> list[tuple[str, Samples]]:
    return [
        (
            f"{text}@{voice.id}",
            spoken(text, voice),
        )
        for voice in VOICES
        for text in NUMBERS
    ]


def test_a_number_between_the_thresholds_is_taken_only_as_an_answer(
    bundled_index: CommandIndex, spoken_numbers: list[tuple[str, Samples]]
) -> None:
    """The verifier's thresholds alone: without the second opinion, which may take a number it
    also heard whether or not it was asked for (the session ignores a rating nobody asked)."""
    engine = PocketSphinxEngine(bundled_index.grammar, second_opinion=False)
    verifier = load_verifier()
    low = verifier.awaited_threshold
    in_band = 0
    for name, audio in spoken_numbers:
        engine.expect(frozenset())
        (unasked,) = recognize_samples(engine, audio)
        engine.expect(frozenset({"rating"}))
        (asked,) = recognize_samples(engine, audio)
        if asked.reason.endswith(AMONG_ANSWERS) or asked.reason.startswith(BY_EMBEDDING):
            continue  # decoded again among the answers alone, or the embedding's (tests below)
        assert asked.text == unasked.text, name
        assert abs(asked.confidence - unasked.confidence) < 0.01, name  # only the threshold moves
        is_rating = (understand(asked, bundled_index).intent or Intent("", {}, 0, "")).name
        if unasked.accepted:
            assert asked.accepted, name
        high = verifier.threshold_for(is_rating)  # the decoded command's own threshold
        if asked.text and low + 0.01 <= asked.confidence < high - 0.01:
            in_band += 1
            assert asked.accepted and not unasked.accepted, name
            assert is_rating == "rating", name
    # These voices give numbers in the band today; if a retrained verifier moves them all out of
    # it, pick other numbers or voices.
    assert in_band >= 1


BARE_NUMBERS = {"four": 4, "five": 5, "six": 6, "nine": 9}
NOT_ANSWERS = ("we're out of milk", "the kettle's boiling", "what time is it", "honey")


def test_a_number_the_whole_grammar_mishears_is_found_among_the_answers_alone(
    bundled_index: CommandIndex,
) -> None:
    """While a rating is awaited, a bare number that the whole grammar hears as another command
    ("six" as "skip it") is decoded again among the answers alone and taken when the verifier is
    sure of it; other speech is not made into an answer."""
    engine = PocketSphinxEngine(bundled_index.grammar)
    found = 0
    for voice in VOICES:
        for text, level in BARE_NUMBERS.items():
            audio = spoken(text, voice)
            engine.expect(frozenset())
            (unasked,) = recognize_samples(engine, audio)
            engine.expect(frozenset({"rating"}))
            (asked,) = recognize_samples(engine, audio)
            if not asked.reason.endswith(AMONG_ANSWERS):
                continue
            name = f"{text}@{voice.id}"
            intent = understand(asked, bundled_index).intent
            assert intent is not None and intent.name == "rating", name
            assert intent.slots["level"] == level, name
            assert asked.accepted and asked.confidence >= ANSWERS_ONLY_THRESHOLD, name
            found += unasked.text != asked.text
    # These voices give such numbers today; if a retrained verifier hears them all at once,
    # pick other numbers or voices.
    assert found >= 1
    for voice in VOICES:
        for text in NOT_ANSWERS:
            audio = spoken(text, voice)
            engine.expect(frozenset({"rating"}))
            heard = recognize_samples(engine, audio)
            assert not any(u.accepted for u in heard), f"{text}@{voice.id}: {heard}"
            engine.expect(frozenset({"yes", "no"}))
            heard = recognize_samples(engine, audio)
            assert not any(u.accepted for u in heard), f"{text}@{voice.id}: {heard}"


def hear_live(engine: PocketSphinxEngine, audio: Samples) -> list[Utterance]:
    """The final utterances of `audio` heard as a session hears its microphone: live, the gain
    learnt from the speech (`Recognizer` without a primed recording)."""
    recognizer = Recognizer(engine)
    return [u for u in recognizer.accept(audio) if u.final] + recognizer.flush()


def in_band_numbers(
    index: CommandIndex,
    spoken: list[tuple[str, Samples]],
    hear: Callable[[PocketSphinxEngine, Samples], list[Utterance]] = recognize_samples,
) -> list[tuple[str, Samples, SlotValue]]:
    """The spoken numbers taken as ratings when asked for, below the rating threshold (so taken
    only as answers), heard by `hear`: as a recording (`recognize`, `test`) or as a session
    hears its microphone (`hear_live`); a number heard at a recording's own level and at the
    live gain can be decoded differently."""
    engine = PocketSphinxEngine(index.grammar, second_opinion=False)
    engine.expect(frozenset({"rating"}))
    high = load_verifier().threshold_for("rating")
    found = []
    for name, audio in spoken:
        utterances = hear(engine, audio)
        intent = understand(utterances[0], index).intent if utterances else None
        taken = utterances[0].accepted if utterances else False
        if intent and intent.name == "rating" and taken and utterances[0].confidence < high:
            found.append((name, audio, intent.slots["level"]))
    return found


def scripted_events(
    catalog: Catalog, index: CommandIndex, script: Path, engine: PocketSphinxEngine
) -> list[dict[str, Any]]:
    """The log events of a scripted session (`script`, a timeline) heard by `engine`, on
    simulated time with a mute coach, until 200 s."""
    log = io.StringIO()
    ScriptedRun(
        catalog, index, load_timeline(script, catalog), MuteSpeaker(), JsonLog(log),
        engine_factory=lambda: engine, until_s=200.0, show=lambda _: None,
    ).run()  # fmt: skip
    return [json.loads(line) for line in log.getvalue().splitlines()]


def test_a_scripted_session_takes_a_spoken_number_after_it_hurts(
    bundled_catalog: Catalog,
    bundled_index: CommandIndex,
    spoken_numbers: list[tuple[str, Samples]],
    tmp_path: Path,
) -> None:
    """Without the second opinion, which may also take the number when nothing was asked (the
    session then ignores it: `Session._on_rating`)."""
    engine = PocketSphinxEngine(bundled_index.grammar, second_opinion=False)
    band = in_band_numbers(bundled_index, spoken_numbers, hear_live)
    assert band, "no spoken number between the thresholds (see the test above)"
    name, audio, level = band[0]
    recording = tmp_path / f"{name}.wav"
    write_wav(recording, audio)
    script = tmp_path / "scenario.toml"
    script.write_text(
        'exercises = ["bridge"]\n'
        '[[event]]\non = "hold"\ndelay = 1.0\nsay = "ouch"\n'
        f'[[event]]\non = "pain_check"\ndelay = 16.0\naudio = "{recording}"\n'
        '[[event]]\non = "hold"\nnth = 2\ndelay = 1.0\nsay = "pause"\n'
        f'[[event]]\non = "paused"\ndelay = 6.0\naudio = "{recording}"\n',
        encoding="utf-8",
    )
    events = scripted_events(bundled_catalog, bundled_index, script, engine)
    ratings = [e for e in events if e["event"] == "pain_rating"]
    assert [r["level"] for r in ratings] == [level]  # the answer, once
    logged = [e for e in events if e["event"] in ("heard", "gated")]
    assert [e["event"] for e in logged[-2:]] == ["heard", "heard"]
    # The same recording while paused, when nothing was asked: not taken for a command.
    assert logged[-1]["intent"] is None, (name, logged[-2:])
    assert str(logged[-1]["reason"]).startswith(("rejected", "near miss"))


def test_recognize_after_the_pain_question_and_test_scripts_hear_numbers_as_answers(
    bundled_index: CommandIndex, spoken_numbers: list[tuple[str, Samples]], tmp_path: Path
) -> None:
    band = in_band_numbers(bundled_index, spoken_numbers)
    assert band, "no spoken number between the thresholds (see above)"
    name, audio, level = band[0]
    recording = tmp_path / "number.wav"
    write_wav(recording, audio)
    plain = run("recognize", "--json", str(recording))
    after = run("recognize", "--json", "--after", "pain", str(recording))
    assert plain.returncode == after.returncode == 0, plain.stderr + after.stderr
    unasked = json.loads(plain.stdout)
    # Not taken by the verifier when nothing was asked; the second opinion may take it.
    assert unasked["intent"] is None or SECOND_OPINION in unasked["why"], name
    answer = json.loads(after.stdout)
    assert (answer["intent"], answer["slots"]) == ("rating", {"level": level}), name
    script = tmp_path / "numbers.toml"
    script.write_text(
        f'[[case]]\naudio = "number.wav"\nexpect = "rating"\nslots = {{ level = {level} }}\n',
        encoding="utf-8",
    )
    tested = run("test", str(script))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "1 cases: 1 pass" in tested.stdout


HUMAN_DIGITS = Path(__file__).parent / "data" / "human"
BY_EMBEDDING = "accepted: the speech embedding heard the rating"


def test_real_peoples_digits_are_taken_as_ratings_by_the_embedding_when_the_decoder_errs(
    bundled_index: CommandIndex,
) -> None:
    """Real people's digits (tests/data/human) while a rating is awaited: each is taken as the
    rating said, some of them because the speech embedding's classifier is sure of a rating that
    the decoder misheard ("six" as "eight" in an 8 kHz recording); not awaited, the embedding
    never makes a rating of them."""
    engine = PocketSphinxEngine(bundled_index.grammar)
    clips = sorted(HUMAN_DIGITS.glob("*.wav"))
    assert len(clips) == 8
    by_embedding = 0
    for clip in clips:
        level = int(clip.name.split("_")[0])
        audio = np.concatenate([silence(0.5), read_wav(clip), silence(0.5)])
        engine.expect(frozenset({"rating"}))
        taken = [u for u in recognize_samples(engine, audio) if u.accepted]
        assert len(taken) == 1, f"{clip.name}: {taken}"
        intent = understand(taken[0], bundled_index).intent
        assert intent is not None and intent.name == "rating", clip.name
        assert intent.slots["level"] == level, f"{clip.name}: {taken[0].reason}"
        if taken[0].reason.startswith(BY_EMBEDDING):
            by_embedding += 1
            assert taken[0].confidence >= RATING_BY_EMBEDDING, clip.name
            engine.expect(frozenset())
            unasked = recognize_samples(engine, audio)
            assert not any(u.reason.startswith(BY_EMBEDDING) for u in unasked), clip.name
    # Five of the eight are misheard by the decoder today; if a retrained model hears them, pick
    # other recordings of the dataset's eval speakers.
    assert by_embedding >= 2
