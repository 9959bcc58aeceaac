"""bench/humanset.py builds the human set from clones of its source repositories: here a fake
folder of two of them (Free Spoken Digit Dataset at 8 kHz, RAVDESS at 48 kHz), read back the
way the benchmarks read it."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import asr
import humanset

from voicecoach.core.catalog import load_catalog
from voicecoach.core.grammar import load_grammar
from voicecoach.core.intents import build_index

RAVDESS = Path("Speech_Emotion_Recogntion_from_audio/data/RAVDESS/Audio_Speech_Actors_01-24")


def tone(path: Path, rate: int, seconds: float, hz: float = 440.0) -> None:
    """A sine of amplitude 0.5 as 16-bit PCM."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(round(seconds * rate)) / rate
    soundfile.write(str(path), 0.5 * np.sin(2 * np.pi * hz * t), rate, subtype="PCM_16")


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    fsdd = src / "free-spoken-digit-dataset" / "recordings"
    tone(fsdd / "3_george_0.wav", 8000, 0.5)
    tone(fsdd / "7_theo_12.wav", 8000, 0.25)
    # A Git LFS pointer where a recording should be: skipped, not fatal.
    (fsdd / "9_lucas_1.wav").write_text("version https://git-lfs.github.com/spec/v1\n")
    ravdess = src / "Projet-Son-Jedha" / RAVDESS
    tone(ravdess / "Actor_07" / "03-01-05-02-01-01-07.wav", 48000, 1.5)
    tone(ravdess / "Actor_20" / "03-01-01-01-02-02-20.wav", 48000, 0.75)
    (ravdess / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    return src


def test_builds_manifest_and_16khz_recordings(sources: Path, tmp_path: Path) -> None:
    out = tmp_path / "human"
    assert humanset.main(["build", "--sources", str(sources), "--out", str(out)]) == 0

    lines = (out / "manifest.tsv").read_text(encoding="utf-8").splitlines()
    assert lines == [
        "path\tkind\ttext\tspeaker\tsource\tlicense\trate",
        "fsdd/3_george_0.wav\tword\tthree\tfsdd-george\t"
        "Jakobovski/free-spoken-digit-dataset\tCC BY-SA 4.0\t8000",
        "fsdd/7_theo_12.wav\tword\tseven\tfsdd-theo\t"
        "Jakobovski/free-spoken-digit-dataset\tCC BY-SA 4.0\t8000",
        "ravdess/03-01-01-01-02-02-20.wav\tsentence\tdogs are sitting by the door\t"
        "ravdess-actor20\tRAVDESS (simiya/Projet-Son-Jedha)\tCC BY-NC-SA 4.0\t48000",
        "ravdess/03-01-05-02-01-01-07.wav\tsentence\tkids are talking by the door\t"
        "ravdess-actor07\tRAVDESS (simiya/Projet-Son-Jedha)\tCC BY-NC-SA 4.0\t48000",
    ]

    recordings = humanset.read_human_set(out)
    assert [(r.half, r.digit) for r in recordings] == [
        ("tune", 3), ("eval", 7), ("eval", None), ("tune", None),
    ]  # fmt: skip
    for recording, seconds in zip(recordings, (0.5, 0.25, 0.75, 1.5), strict=True):
        info = soundfile.info(str(recording.path))
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
        assert info.frames == round(seconds * 16000)
        samples, _ = soundfile.read(str(recording.path))
        middle = samples[len(samples) // 4 : -len(samples) // 4]  # away from the edges
        assert np.sqrt(np.mean(middle**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.02)

    # bench/asr.py hears the eval half's digit as a rating, as recorded and again in continuous
    # pink noise and babble; the sentence is never a command.
    index = build_index(load_grammar(load_catalog(), context="session"))
    heard = [(c.row, c.expect, c.setting) for c in asr.human_clips(out, index, every=1)]
    assert heard[:3] == [
        ("human commands", "rating", "human"),
        ("human commands, pink 10 dB, continuous", "rating", "pink"),
        ("human commands, babble 15 dB, continuous", "rating", "babble"),
    ]
    assert all(expect is None for _, expect, _ in heard[3:])

    sources_md = (out / "SOURCES.md").read_text(encoding="utf-8")
    assert (
        "https://github.com/Jakobovski/free-spoken-digit-dataset: CC BY-SA 4.0; 2 files"
        in sources_md
    )
    assert (
        "https://github.com/simiya/Projet-Son-Jedha: CC BY-NC-SA 4.0 (RAVDESS); 2 files"
        in sources_md
    )


def test_coffee_orders_are_requests_of_the_eval_half_after_every_other_source(
    sources: Path, tmp_path: Path
) -> None:
    """The speech-to-intent benchmark's noise keeps its place; its coffee orders (said to a voice
    assistant, speakers unlabelled) come last, so the other sources' recordings keep theirs."""
    benchmark = sources / "speech-to-intent-benchmark" / "data"
    tone(benchmark / "noise" / "kitchen.wav", 16000, 0.5)
    tone(benchmark / "speech" / "clean" / "b-2.wav", 16000, 1.0)
    tone(benchmark / "speech" / "clean" / "a-1.wav", 16000, 0.5)
    tone(benchmark / "speech" / "clean" / "unlabelled.wav", 16000, 0.5)
    (benchmark / "label").mkdir()
    (benchmark / "label" / "label.json").write_text(
        '{"a-1.wav": {"intent": "orderDrink", "slots": {"coffeeDrink": "Latte",'
        ' "milkAmount": " almond milk"}}, "b-2.wav": {"intent": "orderDrink", "slots": {}}}'
    )
    out = tmp_path / "human"
    assert humanset.main(["build", "--sources", str(sources), "--out", str(out)]) == 0

    recordings = humanset.read_human_set(out)
    assert [(r.path.name, r.kind, r.text, r.half) for r in recordings] == [
        ("3_george_0.wav", "word", "three", "tune"),
        ("7_theo_12.wav", "word", "seven", "eval"),
        ("kitchen.wav", "noise", "", "eval"),
        ("03-01-01-01-02-02-20.wav", "sentence", "dogs are sitting by the door", "eval"),
        ("03-01-05-02-01-01-07.wav", "sentence", "kids are talking by the door", "tune"),
        ("a-1.wav", "request", "latte almond milk", "eval"),
        ("b-2.wav", "request", "", "eval"),
    ]
    assert {r.speaker for r in recordings if r.kind == "request"} == {"picovoice-sti"}


def test_an4_recordings_come_last_once_each_with_their_transcripts(
    sources: Path, tmp_path: Path
) -> None:
    """NeMo-text-processing's tests hold AN4 recordings in several copies, some with no
    transcript: each utterance once (its longest copy), its text from the manifests or Kaldi's
    text file, a word or a sentence by its length, the speaker from its name, all measured on."""
    data = sources / "NeMo-text-processing" / "tests" / ".data"
    asr = data / "asr"
    tone(asr / "train" / "an4" / "wav" / "an46-mmap-b.wav", 16000, 1.0)
    speaker_copy = data / "an4_speaker" / "an4" / "wav" / "an4_clstk" / "mmap" / "an46-mmap-b.wav"
    tone(speaker_copy, 16000, 1.5)
    tone(asr / "test" / "an4" / "wav" / "cen3-fjdn-b.wav", 16000, 1.0)
    tone(asr / "test" / "an4" / "wav" / "cen1-ffmm-b.wav", 16000, 1.0)  # no transcript
    (asr / "test" / "an4" / "wav" / "._cen3-fjdn-b.wav").write_bytes(b"\0\5\26\7")  # macOS
    tone(data / "tts" / "wav" / "an99-mzzz-b.wav", 16000, 1.0)  # another test's, not AN4's
    (asr / "an4_train.json").write_text(
        '{"audio_filepath": "tests/data/asr/train/an4/wav/an46-mmap-b.wav", "text": "stop"}\n'
        '{"audio_filepath": "tests/data/asr/train/an4/wav/an5-mblw-b.wav", "text": "repeat"}'
    )
    (asr / "._an4_train.json").write_bytes(b"\0\5\26\7")
    (asr / "kaldi_an4").mkdir()
    (asr / "kaldi_an4" / "text").write_text("fjdn-cen3-b THIRTY THREE\n")
    out = tmp_path / "human"
    assert humanset.main(["build", "--sources", str(sources), "--out", str(out)]) == 0

    recordings = humanset.read_human_set(out)
    an4 = [r for r in recordings if r.source.startswith("CMU AN4")]
    assert recordings[-len(an4) :] == an4
    assert [(r.path.name, r.kind, r.text, r.speaker, r.half) for r in an4] == [
        ("an46-mmap-b.wav", "word", "stop", "an4-mmap", "eval"),
        ("cen3-fjdn-b.wav", "sentence", "thirty three", "an4-fjdn", "eval"),
    ]
    assert soundfile.info(str(an4[0].path)).frames == 24000  # the longer copy


def test_dspspeech_keeps_two_takes_of_each_word_last_and_for_measuring(
    sources: Path, tmp_path: Path
) -> None:
    """DSPSpeech-20's students said each of 20 words 20 times: the first and the eleventh
    take of each, the word from its label (Mandarin or English), the speaker from the folder,
    after every other source and all measured on; a file that does not follow the naming, or
    whose number is not its folder's, is left out."""
    data = sources / "DSPSpeech-20" / "speech_data"
    for name in ("16307130194-12-01", "16307130194-12-02", "16307130194-00-11"):
        tone(data / "16307130194" / f"{name}.wav", 16000, 1.0)
    tone(data / "16307130194" / "16307130023-13-01.wav", 16000, 1.0)  # another's number
    tone(data / "16307130194" / "notes.wav", 16000, 1.0)
    tone(data / "17307130354" / "17307130354-19-11.wav", 16000, 1.0)
    out = tmp_path / "human"
    assert humanset.main(["build", "--sources", str(sources), "--out", str(out)]) == 0

    recordings = humanset.read_human_set(out)
    words = [r for r in recordings if r.source == "zhongyuchen/DSPSpeech-20"]
    assert recordings[-len(words) :] == words
    assert [(r.path.name, r.kind, r.text, r.speaker, r.half) for r in words] == [
        ("16307130194-00-11.wav", "word", "数字", "dspspeech-16307130194", "eval"),
        ("16307130194-12-01.wav", "word", "speech", "dspspeech-16307130194", "eval"),
        ("17307130354-19-11.wav", "word", "project", "dspspeech-17307130354", "eval"),
    ]
    # bench/asr.py counts them in rows of their own, as they come and while an answer is
    # awaited, never as commands, and thins them like any source.
    index = build_index(load_grammar(load_catalog(), context="session"))
    heard = [c for c in asr.human_clips(out, index, every=1) if c.path.parent.name == "dspspeech"]
    assert [(c.row, c.expect) for c in heard[:2]] == [
        (asr.DSPSPEECH_ROW, None),
        (f"{asr.DSPSPEECH_ROW} while an answer is awaited", None),
    ]
    assert len(heard) == 6


def test_no_source_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "src").mkdir()
    code = humanset.main(
        ["build", "--sources", str(tmp_path / "src"), "--out", str(tmp_path / "o")]
    )
    err = capsys.readouterr().err.splitlines()
    assert code == 2
    assert len(err) == len(humanset.SOURCES) + 1
    assert any("https://github.com/LCAV/pyroomacoustics" in line for line in err[:-1])
    assert err[-1].startswith("humanset: ") and "none of the source repositories" in err[-1]
    assert humanset.main(["build", "--sources", str(tmp_path / "nope"), "--out", "o"]) == 2
