"""The front end on real recordings: the gain that brings speech to one level, the noise floor,
RNNoise per speech segment, the background known from a whole recording, and Silero asked only
about chunks loud enough to matter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voicecoach.core.intents import CommandIndex
from voicecoach.hearing.asr import Decoded, Engine
from voicecoach.hearing.asr.endpoint import (
    BACKGROUND_CHUNKS,
    BACKGROUND_PERCENTILE,
    CHUNK_SAMPLES,
    FOREGROUND_MARGIN_DB,
    BackgroundLevel,
    SileroEndpointer,
    chunk_levels,
    loud_span,
    sorted_percentile,
)
from voicecoach.hearing.asr.frontend import (
    GAIN_SMOOTHING,
    KEEP,
    LAG,
    MAX_GAIN,
    MIN_GAIN,
    NOISE_FLOOR_RMS,
    SPEECH_LEVEL_RMS,
    InputGain,
    NoiseFloor,
    SegmentDenoiser,
    level_gain,
    recording_gain,
)
from voicecoach.hearing.asr.pocketsphinx_engine import PocketSphinxEngine
from voicecoach.hearing.asr.stream import (
    PREROLL_S,
    Recognizer,
    recognize_samples,
)
from voicecoach.hearing.audio import SAMPLE_RATE, Samples, read_wav, silence, to_int16
from voicecoach.hearing.recognition import build_engine, understand
from voicecoach.hearing.synthetic import active_rms, babble, pink_noise

AUDIO = Path(__file__).parent / "audio" / "en"
COMMAND = "a sec please@espeak-en-gb-f2-165-60.wav"
OTHER_TALK = (
    "oov_she said to keep going straight past the church@flite-awb-110.wav",
    "oov_the cobra is one of the most venomous snakes@flite-rms-95.wav",
    "oov_i'm going to walk to the shop@espeak-en-029-f4-175-55.wav",
)


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def test_the_floor_is_seeded_and_about_minus_sixty_one_dbfs() -> None:
    first, second = NoiseFloor()(silence(1.0)), NoiseFloor()(silence(1.0))
    assert np.array_equal(first, second)
    assert abs(rms(first) - NOISE_FLOOR_RMS) < 2.0


def test_rnnoise_takes_pink_noise_down_and_keeps_the_speech() -> None:
    speech = read_wav(AUDIO / COMMAND)
    lead = np.zeros(SAMPLE_RATE, np.int16)
    clean = np.concatenate([lead, speech])
    noise = pink_noise(clean.size, 2) * active_rms(speech) / 10 ** (10 / 20)
    noisy = to_int16(clean + noise)
    denoiser = SegmentDenoiser("rnnoise")
    out = np.concatenate([denoiser.process(noisy[i : i + 320]) for i in range(0, noisy.size, 320)])
    out = out[LAG:]  # the output lags the input
    quiet_before, quiet_after = rms(noisy[4000:15000]), rms(out[4000:15000])
    # The noise alone: down to the share of the input mixed back (6 dB for a half), not below.
    assert quiet_after < (KEEP + 0.05) * quiet_before
    speech_after = active_rms(out[SAMPLE_RATE:])
    assert speech_after > 0.8 * active_rms(speech)  # the command keeps its level
    snr_before = 20 * np.log10(active_rms(speech) / quiet_before)
    snr_after = 20 * np.log10(speech_after / quiet_after)
    assert snr_after - snr_before > 6.0


def test_the_denoised_segment_lags_its_input_by_lag_samples() -> None:
    speech = read_wav(AUDIO / COMMAND).astype(np.float64)
    denoiser = SegmentDenoiser("rnnoise")
    out = denoiser.process(to_int16(speech)).astype(np.float64)
    size = min(out.size, speech.size) - 2 * LAG
    shifts = range(LAG - 40, LAG + 41)
    best = max(shifts, key=lambda k: float(np.dot(out[k : k + size], speech[:size])))
    assert abs(best - LAG) <= 2


def test_no_denoiser_passes_the_segment_through() -> None:
    speech = read_wav(AUDIO / COMMAND)
    assert np.array_equal(SegmentDenoiser("none").process(speech), speech)


def test_the_loud_span_is_what_stands_out_from_the_recordings_background() -> None:
    quiet, loud = 30.0, 30.0 + FOREGROUND_MARGIN_DB
    assert loud_span([quiet] * 10 + [loud, loud - 1, loud + 5] + [quiet] * 10) == (10, 12)
    assert loud_span([quiet] * 10 + [loud - 1] + [quiet] * 10) is None
    assert loud_span([]) is None


def test_the_background_is_the_percentile_numpy_gives_of_the_recent_levels() -> None:
    rng = np.random.default_rng(3)
    for size in (1, 2, 5, BACKGROUND_CHUNKS - 1, BACKGROUND_CHUNKS):
        levels = sorted(rng.uniform(20.0, 70.0, size).round(rng.integers(1, 16)).tolist())
        for percent in (0.0, BACKGROUND_PERCENTILE, 50.0, 100.0):
            assert sorted_percentile(levels, percent) == float(np.percentile(levels, percent))
    assert sorted_percentile([], BACKGROUND_PERCENTILE) == 0.0
    background = BackgroundLevel()
    gains = np.repeat(rng.uniform(10.0, 3000.0, 300), CHUNK_SAMPLES)
    audio = to_int16(rng.normal(0.0, 1.0, gains.size) * gains)
    background.prime(chunk_levels(audio[: 40 * CHUNK_SAMPLES]))
    heard = []
    for start in range(0, audio.size, CHUNK_SAMPLES):
        background.add(audio[start : start + CHUNK_SAMPLES].tobytes())
        heard.append(background.level_db)
        if len(heard) >= BACKGROUND_CHUNKS:
            recent = heard[-BACKGROUND_CHUNKS:]
            assert background.background_db == float(np.percentile(recent, BACKGROUND_PERCENTILE))


HUMAN = Path(__file__).parent / "data" / "human"


def test_a_recording_without_speech_the_endpointer_finds_has_its_loud_part_decoded(
    bundled_index: CommandIndex,
) -> None:
    """An 8 kHz "four" (tests/data/human/4_nicolas_11.wav) that Silero is never sure of: heard
    as a recording, its loud part is decoded and taken as the rating; heard without that rescue
    (as live listening and the verifier's training hear), it gives nothing, and a recording of
    quiet gives nothing."""
    engine = PocketSphinxEngine(bundled_index.grammar)
    audio = np.concatenate([silence(0.5), read_wav(HUMAN / "4_nicolas_11.wav"), silence(0.5)])
    engine.expect(frozenset({"rating"}))
    heard = recognize_samples(engine, audio)
    assert len(heard) == 1 and heard[0].accepted, heard
    assert "the recording's loud part decoded" in heard[0].reason
    intent = understand(heard[0], bundled_index).intent
    assert intent is not None and intent.name == "rating" and intent.slots["level"] == 4

    assert recognize_samples(engine, audio, loud_part=False) == []
    assert recognize_samples(engine, silence(2.0)) == []
    engine.expect(frozenset())


def test_silero_is_not_asked_about_a_quiet_room() -> None:
    endpointer = SileroEndpointer()
    room = NoiseFloor()(silence(4.0))
    endpointer.levels.prime(chunk_levels(room))
    for start in range(0, room.size - CHUNK_SAMPLES + 1, CHUNK_SAMPLES):
        endpointer.process(room[start : start + CHUNK_SAMPLES].tobytes())
    assert endpointer.model_calls == 0 and not endpointer.in_speech


def test_silero_hears_only_the_command_and_a_little_before_it() -> None:
    speech = read_wav(AUDIO / COMMAND)
    audio = NoiseFloor()(np.concatenate([silence(3.0), speech, silence(2.0)]))
    endpointer = SileroEndpointer()
    endpointer.levels.prime(chunk_levels(audio))
    starts = []
    for start in range(0, audio.size - CHUNK_SAMPLES + 1, CHUNK_SAMPLES):
        was = endpointer.in_speech
        endpointer.process(audio[start : start + CHUNK_SAMPLES].tobytes())
        if endpointer.in_speech and not was:
            starts.append(endpointer.speech_start)
    assert len(starts) == 1 and 3.0 <= starts[0] <= 3.0 + speech.size / SAMPLE_RATE
    chunks = audio.size // CHUNK_SAMPLES
    assert endpointer.model_calls < chunks / 2  # the 5 s of quiet around it were skipped


def babble_from_the_first_sample() -> tuple[np.ndarray, float]:
    """A command 4 s into babble that runs from the recording's first sample to its end, 15 dB
    below the command; and where the command starts."""
    speech = read_wav(AUDIO / COMMAND)
    audio = np.concatenate([silence(4.0), speech, silence(1.5)])
    talk = babble([read_wav(AUDIO / name)[6400:] for name in OTHER_TALK], audio.size)
    noise = talk * active_rms(speech) / rms(talk) / 10 ** (15 / 20)
    return to_int16(audio + noise), 4.0


def test_a_recording_knows_its_background_from_the_first_sample(
    bundled_index: CommandIndex,
) -> None:
    engine: Engine = build_engine("pocketsphinx", bundled_index.grammar, bundled_index)
    audio, command_s = babble_from_the_first_sample()
    heard = recognize_samples(engine, audio)
    # Heard as a file, the babble is the background from its first sample: the only segment is
    # the command's. (What is decoded in it under babble at 15 dB is often wrong, and then
    # rejected: bench/asr.py measures how often.)
    assert len(heard) == 1
    assert command_s - 0.5 <= heard[0].start_s <= command_s + 0.5
    assert heard[0].end_s >= command_s + 0.5


def test_live_input_learns_the_background_as_it_goes(bundled_index: CommandIndex) -> None:
    engine: Engine = build_engine("pocketsphinx", bundled_index.grammar, bundled_index)
    audio, command_s = babble_from_the_first_sample()
    recognizer = Recognizer(engine)
    heard = [u for s in range(0, audio.size, 320) for u in recognizer.accept(audio[s : s + 320])]
    heard += recognizer.flush()
    finals = [u for u in heard if u.final]
    # Heard live, the first second of babble is speech to it (nothing is known of the room
    # yet), but none of it is taken for a command, and then the command gets its own segment.
    assert any(u.start_s < 1.0 for u in finals)
    babble_only = [u for u in finals if u.end_s < command_s]
    assert all(understand(u, bundled_index).intent is None for u in babble_only)
    assert any(abs(u.start_s - command_s) <= 0.5 for u in finals)


def test_the_same_recording_gives_the_same_utterances(bundled_index: CommandIndex) -> None:
    engine: Engine = build_engine("pocketsphinx", bundled_index.grammar, bundled_index)
    audio, _ = babble_from_the_first_sample()
    first, second = recognize_samples(engine, audio), recognize_samples(engine, audio)
    # The same segments, words and decisions. The confidence may move in its third decimal:
    # PocketSphinx's phone loop keeps the best Gaussians of the frame before from one decode to
    # the next (the noise floor, RNNoise and the background level are seeded or reset).
    assert [(u.text, u.start_s, u.end_s, u.accepted) for u in first] == [
        (u.text, u.start_s, u.end_s, u.accepted) for u in second
    ]
    assert all(abs(a.confidence - b.confidence) < 0.01 for a, b in zip(first, second, strict=True))


class HeardAudio:
    """An engine that keeps the audio of each segment it is given (and decodes nothing)."""

    name = "heard-audio"

    def __init__(self) -> None:
        self.segments: list[list[Samples]] = []

    def start(self) -> None:
        self.segments.append([])

    def feed(self, samples: Samples) -> None:
        self.segments[-1].append(samples.copy())

    def partial(self) -> str:
        return ""

    def finish(self) -> Decoded:
        return Decoded("", 0.0, accepted=False)

    def expect(self, intents: frozenset[str]) -> None:
        """Nothing is judged here."""


def segment_heard(recording: Samples) -> Samples:
    """What the engine is given of the one speech segment in `recording` (with the noise floor,
    no denoiser), after checking that the recording gave exactly one segment."""
    engine = HeardAudio()
    recognizer = Recognizer(engine, denoiser="none", floored=True)
    for start in range(0, recording.size, 320):
        recognizer.accept(recording[start : start + 320])
    recognizer.flush()
    assert len(engine.segments) == 1
    return np.concatenate(engine.segments[0])


def test_a_recording_that_starts_on_the_word_is_given_quiet_before_it() -> None:
    speech = read_wav(AUDIO / COMMAND)
    word = speech[int(np.argmax(np.abs(speech) > 500)) :]  # cut tight to its first sound
    recording = NoiseFloor()(np.concatenate([word, silence(1.0)]))
    heard = segment_heard(recording)
    lead = round(PREROLL_S * SAMPLE_RATE)
    # The decoder hears PREROLL_S of the noise floor alone, as a microphone would have given,
    # then the recording from its first sample.
    assert rms(heard[:lead]) < 1.2 * NOISE_FLOOR_RMS
    rest = heard[lead:]
    assert rest.size > SAMPLE_RATE // 2 and np.array_equal(rest, recording[: rest.size])


def test_a_recording_with_quiet_before_the_word_is_given_its_own() -> None:
    speech = read_wav(AUDIO / COMMAND)
    recording = NoiseFloor()(np.concatenate([silence(1.0), speech, silence(1.0)]))
    heard = segment_heard(recording)
    lead = round(PREROLL_S * SAMPLE_RATE)
    # Nothing made up: the segment is the recording's own audio from its preroll on.
    windows = np.lib.stride_tricks.sliding_window_view(recording, 64)
    found = np.flatnonzero((windows == heard[:64]).all(axis=1))
    assert found.size == 1
    first = int(found[0])
    onset = SAMPLE_RATE + int(np.argmax(np.abs(speech) > 500))
    assert onset - 2 * lead <= first < onset  # in the quiet just before the word
    assert np.array_equal(heard, recording[first : first + heard.size])


def test_the_gain_brings_speech_to_one_level_within_its_bounds() -> None:
    assert level_gain(SPEECH_LEVEL_RMS / 4) == 4.0
    assert level_gain(SPEECH_LEVEL_RMS * 2) == 0.5
    assert level_gain(1.0) == MAX_GAIN and level_gain(0.0) == MAX_GAIN
    assert level_gain(SPEECH_LEVEL_RMS * 100) == MIN_GAIN
    speech = read_wav(AUDIO / COMMAND)
    quiet = to_int16(speech * 0.05)
    brought = InputGain(recording_gain(quiet))(quiet)
    assert abs(active_rms(brought) - SPEECH_LEVEL_RMS) < 0.05 * SPEECH_LEVEL_RMS


def test_live_input_learns_its_gain_from_the_speech_it_hears() -> None:
    speech = read_wav(AUDIO / COMMAND)
    quiet = to_int16(speech * SPEECH_LEVEL_RMS / active_rms(speech) / 8)  # 18 dB too quiet
    gain = InputGain()
    assert gain.gain == 1.0  # nothing known before anyone speaks
    gain.heard(gain(quiet))
    assert gain.gain == pytest.approx(8.0**GAIN_SMOOTHING, rel=0.02)
    for _ in range(12):
        gain.heard(gain(quiet))
    assert gain.gain == pytest.approx(8.0, rel=0.02)
    fixed = InputGain(2.0)
    fixed.heard(fixed(quiet))
    assert fixed.gain == 2.0


def test_a_quiet_recording_is_heard_as_a_loud_one(bundled_index: CommandIndex) -> None:
    """Real recognition of one recording at its own level and 26 dB quieter: the same words."""
    engine: Engine = build_engine("pocketsphinx", bundled_index.grammar, bundled_index)
    speech = np.concatenate([silence(0.5), read_wav(AUDIO / COMMAND), silence(0.5)])
    loud = [(u.text, u.accepted) for u in recognize_samples(engine, speech)]
    quiet = [(u.text, u.accepted) for u in recognize_samples(engine, to_int16(speech * 0.05))]
    assert loud == quiet and any(accepted for _, accepted in loud)


def test_a_live_recogniser_raises_the_gain_of_a_quiet_talker(bundled_index: CommandIndex) -> None:
    engine: Engine = build_engine("pocketsphinx", bundled_index.grammar, bundled_index)
    speech = read_wav(AUDIO / COMMAND)
    quiet = to_int16(speech * SPEECH_LEVEL_RMS / active_rms(speech) / 10)
    audio = np.concatenate([silence(1.0), quiet, silence(1.0), quiet, silence(1.0)])
    recognizer = Recognizer(engine)
    finals = [u for s in range(0, audio.size, 320) for u in recognizer.accept(audio[s : s + 320])]
    finals += recognizer.flush()
    assert len([u for u in finals if u.final]) == 2
    assert 3.0 < recognizer.gain.gain <= 10.5  # half-way to the 20 dB it needs, in dB, twice
