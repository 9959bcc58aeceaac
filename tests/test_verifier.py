"""The verifier and the Silero endpointer on real recordings (the synthetic test clips)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voicecoach.core.errors import VoiceCoachError
from voicecoach.core.intents import Intent
from voicecoach.core.session import (
    MISHEARD_GAP_S,
    MISHEARD_SAY,
    REPEAT_AWAITED_S,
    Say,
    Session,
)
from voicecoach.hearing.asr.embedding import EMBEDDING_SIZE, SpeechEmbedder
from voicecoach.hearing.asr.endpoint import (
    CHUNK_SAMPLES,
    FOREGROUND_MARGIN_DB,
    BackgroundLevel,
    SileroEndpointer,
)
from voicecoach.hearing.asr.verifier import (
    DEFAULT_SENSITIVITY,
    NONE_CLASS,
    SENSITIVITIES,
    class_of,
    classifier_classes,
    fit_classifier,
    fit_fusion,
    load_verifier,
    rating_level,
)
from voicecoach.hearing.audio import read_wav, silence, to_int16
from voicecoach.hearing.synthetic import PAD_S, active_rms, babble, pink_noise

AUDIO = Path(__file__).parent / "audio" / "en"


def segments(samples: np.ndarray) -> list[tuple[float, float]]:
    endpointer = SileroEndpointer()
    found, start, was = [], 0.0, False
    for i in range(0, samples.size - 511, 512):
        endpointer.process(samples[i : i + 512].tobytes())
        if endpointer.in_speech and not was:
            start = endpointer.speech_start
        if was and not endpointer.in_speech:
            found.append((start, endpointer.speech_end))
        was = endpointer.in_speech
    return found


def test_silero_endpointer_cuts_a_command_out_of_continuous_pink_noise() -> None:
    speech = read_wav(AUDIO / "a sec please@espeak-en-gb-f2-165-60.wav")
    audio = np.concatenate([np.zeros(6 * 16000, np.int16), speech, np.zeros(3 * 16000, np.int16)])
    noise = pink_noise(audio.size, 1) * active_rms(speech) / 10 ** (10 / 20)
    found = segments(to_int16(audio + noise))
    assert len(found) == 1
    start, end = found[0]
    assert 6.0 <= start <= 6.6 and end <= 6.0 + speech.size / 16000


OTHER_TALK = (  # test voices saying things that are not commands: the room's other speech
    "oov_the bird and the dog were fighting again@espeak-en-029-f4-175-55.wav",
    "oov_that's enough television for today kids@espeak-en-us-belinda-160-65.wav",
    "oov_she said to keep going straight past the church@flite-awb-110.wav",
    "oov_the cobra is one of the most venomous snakes@flite-rms-95.wav",
    "oov_i'm going to walk to the shop@espeak-en-029-f4-175-55.wav",
)


COMMAND_AT_S = 5.0


def command_in_babble(talkers: list[np.ndarray]) -> tuple[np.ndarray, float]:
    """A command COMMAND_AT_S into a recording, 2 s of quiet after it, all under the babble of
    `talkers` 15 dB below the command; and where the command's speech ends."""
    speech = read_wav(AUDIO / "a sec please@espeak-en-gb-f2-165-60.wav")
    lead, tail = np.zeros(int(COMMAND_AT_S * 16000), np.int16), np.zeros(2 * 16000, np.int16)
    audio = np.concatenate([lead, speech, tail])
    talk = babble(talkers, audio.size)
    noise = talk * active_rms(speech) / float(np.sqrt(np.mean(talk**2))) / 10 ** (15 / 20)
    return to_int16(audio + noise), COMMAND_AT_S + speech.size / 16000 - PAD_S


def test_a_command_is_cut_out_of_babble_fifteen_db_below_it() -> None:
    audio, command_end = command_in_babble([read_wav(AUDIO / name) for name in OTHER_TALK[:3]])
    found = segments(audio)
    # Silero alone hears the babble as speech from its first word: one segment of all of it
    # (7.6 s), which no command fits and which is rejected as too long. With the background
    # tracked, the command's segment starts in the babble's last louder stretch before it.
    command_start = COMMAND_AT_S + PAD_S
    around = [(s, e) for s, e in found if s < command_end and e > command_start]
    assert len(around) == 1
    start, end = around[0]
    assert start >= 3.0 and command_end - 0.2 <= end <= command_end + 1.0


def test_babble_from_the_first_sample_is_cut_after_a_while() -> None:
    from voicecoach.hearing.asr.endpoint import UNGATED_S

    audio, command_end = command_in_babble(
        [read_wav(AUDIO / name)[6400:] for name in OTHER_TALK[2:5]]  # talking from the start
    )
    found = segments(audio)
    # The babble starts with the recording: Silero's alone at first, then the background is
    # known and the babble's segment ends; the command has one of its own.
    assert found and found[0][1] < COMMAND_AT_S
    assert found[0][1] - found[0][0] >= min(UNGATED_S, found[0][1]) - 0.5
    latest_start = COMMAND_AT_S + 0.1 + PAD_S
    assert any(4.0 <= s <= latest_start and e >= command_end - 0.2 for s, e in found)


def test_the_background_level_follows_the_room_and_not_the_person() -> None:
    levels = BackgroundLevel()
    rng = np.random.default_rng(3)

    def chunk(rms: float) -> bytes:
        return to_int16(rng.standard_normal(CHUNK_SAMPLES) * rms).tobytes()

    levels.add(chunk(300.0))
    assert levels.above(FOREGROUND_MARGIN_DB)  # not known yet: a clip may start with the command
    for _ in range(100):  # 3.2 s of a room at about 300 (a TV next door)
        levels.add(chunk(300.0))
    room = levels.background_db
    assert not levels.above(FOREGROUND_MARGIN_DB)
    for _ in range(30):  # a second of the person, 15 dB louder
        levels.add(chunk(300.0 * 10 ** (15 / 20)))
        assert levels.above(FOREGROUND_MARGIN_DB) or levels.level_db < room + 15
    assert levels.above(FOREGROUND_MARGIN_DB)
    assert abs(levels.background_db - room) < 1.0  # the person did not raise the background


def test_silero_endpointer_finds_nothing_in_silence() -> None:
    assert segments(silence(3.0)) == []


def test_bundled_verifier_loads_and_knows_every_session_intent() -> None:
    from voicecoach.core.grammar import INTENT_NAMES

    verifier = load_verifier()
    assert verifier.classifier.classes == classifier_classes()
    named = {c.split(":")[0] for c in verifier.classifier.classes}
    assert named == {*INTENT_NAMES, NONE_CLASS}
    assert {f"rating:{level}" for level in range(11)} <= set(verifier.classifier.classes)
    assert 0 < verifier.near_miss <= verifier.threshold < 1
    assert 0 < verifier.awaited_threshold < verifier.threshold


def test_the_verifier_file_keeps_every_threshold(tmp_path: Path) -> None:
    verifier = load_verifier()
    copy = tmp_path / "verifier.json"
    copy.write_text(verifier.to_json(), encoding="utf-8")
    again = load_verifier(copy)
    assert again.threshold == verifier.threshold
    assert again.near_miss == verifier.near_miss
    assert again.awaited_threshold == verifier.awaited_threshold
    assert dict(again.intent_thresholds) == dict(verifier.intent_thresholds)
    for sensitivity in SENSITIVITIES:
        read, kept = again.at_sensitivity(sensitivity), verifier.at_sensitivity(sensitivity)
        assert (read.threshold, read.near_miss) == (kept.threshold, kept.near_miss)
        assert dict(read.intent_thresholds) == dict(kept.intent_thresholds)


def test_a_higher_sensitivity_takes_commands_more_readily() -> None:
    verifier = load_verifier()
    low, medium, high = (verifier.at_sensitivity(s) for s in SENSITIVITIES)
    assert verifier.at_sensitivity(DEFAULT_SENSITIVITY) is verifier
    assert low.threshold > medium.threshold > high.threshold
    for intent in verifier.intent_thresholds:
        assert low.threshold_for(intent) >= medium.threshold_for(intent)
        assert medium.threshold_for(intent) >= high.threshold_for(intent)
    for judged in (low, medium, high):
        assert 0 < judged.near_miss <= judged.threshold < 1
        assert judged.threshold_for("rating", awaited=True) <= judged.threshold
        again = judged.at_sensitivity(DEFAULT_SENSITIVITY)
        assert (again.threshold, again.near_miss) == (verifier.threshold, verifier.near_miss)
        assert dict(again.intent_thresholds) == dict(verifier.intent_thresholds)


def test_an_unknown_sensitivity_is_a_one_line_error() -> None:
    with pytest.raises(VoiceCoachError, match=r"unknown sensitivity 'loud'.*low, medium, high"):
        load_verifier().at_sensitivity("loud")


def test_a_pain_rating_is_its_own_class_for_each_number() -> None:
    assert class_of("rating", {"level": 3}) == "rating:3"
    assert class_of("set_hold", {"seconds": 20}) == "set_hold"
    assert class_of(None, {}) == NONE_CLASS


def test_a_damaged_verifier_file_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "verifier.json"
    bad.write_text('{"classifier": {}}', encoding="utf-8")
    with pytest.raises(VoiceCoachError, match="unreadable verifier model"):
        load_verifier(bad)


def test_the_speech_embedding_writes_nothing_to_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    # LiteRT's C++ side announces its XNNPACK delegate on file descriptor 2; it must not reach
    # the terminal, where a person sees the coach's own lines.
    embedder = SpeechEmbedder()
    short, long = read_wav(AUDIO / "pause@espeak-en-gb-scotland-m1-140-40.wav"), silence(3.0)
    vectors = [embedder.pooled(short), embedder.pooled(long), embedder.pooled(short)]
    assert capfd.readouterr().err == ""
    assert all(v.shape == (2 * EMBEDDING_SIZE,) for v in vectors)
    assert np.array_equal(vectors[0], vectors[2])  # a resize in between changes nothing


def test_fit_classifier_separates_two_clouds() -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(-1, 0.3, (50, 4)), rng.normal(1, 0.3, (50, 4))])
    y = np.array([0] * 50 + [1] * 50)
    model = fit_classifier(x, y, ("a", NONE_CLASS))
    assert (model.probabilities_batch(x).argmax(axis=1) == y).mean() > 0.95


def test_a_rating_class_gives_back_its_level_and_no_other_class_does() -> None:
    for name in classifier_classes():
        level = rating_level(name)
        if name.startswith("rating"):
            assert level is not None and class_of("rating", {"level": level}) == name
        else:
            assert level is None
    assert rating_level("rating") is None and rating_level("rating:x") is None


def test_the_likeliest_rating_is_the_rating_class_of_highest_probability() -> None:
    rng = np.random.default_rng(1)
    centres = {"yes": -2.0, "rating:3": 0.0, "rating:7": 2.0, NONE_CLASS: 4.0}
    classes = tuple(centres)
    x = np.concatenate([rng.normal(c, 0.2, (40, 3)) for c in centres.values()])
    y = np.repeat(np.arange(len(classes)), 40)
    model = fit_classifier(x, y, classes)
    seven, yes = np.full(3, 2.0), np.full(3, -2.0)
    p = model.probabilities(seven)
    assert model.likeliest_rating(seven) == (7, float(p[2])) and p.argmax() == 2
    # Most probably "yes": the likeliest rating is still a rating, with its own probability.
    p = model.probabilities(yes)
    assert model.likeliest_rating(yes) == (3, float(p[1])) and p.argmax() == 0
    no_ratings = fit_classifier(x[y != 1], np.where(y[y != 1] > 1, 1, 0), ("yes", NONE_CLASS))
    assert no_ratings.likeliest_rating(np.zeros(3)) is None


def test_a_row_without_a_feature_is_fitted_at_that_features_mean() -> None:
    """Whisper's fit is missing where the stream kept no audio for it (a talking room): the
    fusion is fitted with the feature's mean there, as it judges such a decode, and the same
    rows with the mean written in give the same network."""
    rng = np.random.default_rng(2)
    rows: list[dict[str, float]] = [
        {"a": float(a), "b": float(b)} for a, b in rng.normal(0, 1, (60, 2))
    ]
    labels = [row["a"] - row["b"] > 0 for row in rows]
    del rows[5]["b"]
    fitted = fit_fusion(rows, labels, ("a", "b"), hidden=3, members=1, steps=100)
    b_mean = float(np.mean([row["b"] for row in rows if "b" in row]))
    assert fitted.mean[1] == pytest.approx(b_mean)
    filled = [row if "b" in row else {**row, "b": b_mean} for row in rows]
    same = fit_fusion(filled, labels, ("a", "b"), hidden=3, members=1, steps=100)
    assert np.allclose(fitted.hidden_weights, same.hidden_weights)
    assert np.all(np.isfinite(fitted.probabilities_batch(fitted.table(rows))))


def test_the_fusion_averages_the_logits_of_its_members() -> None:
    rng = np.random.default_rng(1)
    rows = [{"a": float(a), "b": float(b)} for a, b in rng.normal(0, 1, (80, 2))]
    labels = [row["a"] + 0.5 * row["b"] > 0 for row in rows]
    merged = fit_fusion(rows, labels, ("a", "b"), hidden=4, members=3, steps=200)
    members = [
        fit_fusion(rows, labels, ("a", "b"), hidden=4, members=1, steps=200, seed=seed)
        for seed in range(3)
    ]
    assert merged.hidden_bias.size == 12

    def logit(p: np.ndarray) -> np.ndarray:
        result: np.ndarray = np.log(p / (1 - p))
        return result

    table = merged.table(rows)
    mean_logit = np.mean([logit(m.probabilities_batch(table)) for m in members], axis=0)
    assert np.allclose(logit(merged.probabilities_batch(table)), mean_logit)
    assert np.mean((merged.probabilities_batch(table) > 0.5) == np.array(labels)) > 0.95


def test_a_near_miss_is_answered_once_in_a_while(bundled_catalog: object) -> None:
    from voicecoach.core.catalog import Catalog, RoutineItem

    assert isinstance(bundled_catalog, Catalog)
    first = bundled_catalog.exercises[0]
    session = Session(bundled_catalog, [RoutineItem(first.id, None)])
    session.start(0.0)
    session.handle(Intent("pause", {}, 100.0, "pause"), 1.0)  # paused: nothing moves on
    said = [a.text for a in session.misheard(30.0) if isinstance(a, Say)]
    assert said[-1] == MISHEARD_SAY
    again = [a for a in session.misheard(31.0) if isinstance(a, Say) and a.text == MISHEARD_SAY]
    assert again == []
    later = session.misheard(31.0 + MISHEARD_GAP_S)
    assert any(isinstance(a, Say) and a.text == MISHEARD_SAY for a in later)


def test_after_say_that_again_the_command_it_sounded_like_is_awaited_for_a_while(
    bundled_catalog: object,
) -> None:
    from voicecoach.core.catalog import Catalog, RoutineItem

    assert isinstance(bundled_catalog, Catalog)
    session = Session(bundled_catalog, [RoutineItem(e.id, None) for e in bundled_catalog.exercises])
    session.start(0.0)
    session.handle(Intent("pause", {}, 100.0, "pause"), 1.0)
    assert session.listening_for(2.0) == frozenset()
    session.misheard(10.0, "next")
    assert session.listening_for(10.0) == {"next"}
    assert session.listening_for(10.0 + REPEAT_AWAITED_S - 0.01) == {"next"}
    assert session.listening_for(10.0 + REPEAT_AWAITED_S) == frozenset()
    # Not asked again within MISHEARD_GAP_S: no new window either.
    session.misheard(20.0, "skip")
    assert session.listening_for(20.5) == frozenset()
    # A command heard closes the window.
    session.misheard(10.0 + MISHEARD_GAP_S, "whats_next")
    assert session.listening_for(31.0) == {"whats_next"}
    session.handle(Intent("resume", {}, 100.0, "resume"), 32.0)
    assert session.listening_for(33.0) == frozenset()
    # Nothing to await when the near miss was no session command; answers stay awaited.
    session.misheard(60.0, "start")
    assert session.listening_for(61.0) == frozenset()
    session.handle(Intent("stop", {}, 100.0, "stop"), 62.0)
    session.misheard(90.0, "repeat")
    assert session.listening_for(91.0) == {"yes", "no", "repeat"}


def test_training_microphones_cut_the_top_of_the_band_and_keep_the_level() -> None:
    from voicecoach.hearing.synthetic import microphone_colour

    speech = read_wav(AUDIO / "a sec please@espeak-en-gb-f2-165-60.wav")
    coloured = microphone_colour(speech, seed=4)
    assert coloured.dtype == np.int16 and coloured.size == speech.size
    assert abs(active_rms(coloured) / active_rms(speech) - 1.0) < 0.05

    def share_above(samples: np.ndarray, hz: float) -> float:
        power = np.abs(np.fft.rfft(samples.astype(np.float64))) ** 2
        return float(power[np.fft.rfftfreq(samples.size, 1 / 16000) > hz].sum() / power.sum())

    assert share_above(coloured, 7900) < share_above(speech, 7900) / 5
