"""The human recordings the benchmarks and the verifier's training read (never committed: see
bench/README.md for where they come from): a folder with manifest.tsv (path, kind
word|sentence|request|noise, text, speaker, source, license, rate) and 16 kHz WAV files.

Each recording belongs to one half, by speaker, so that no speaker is in both: "tune" (the
verifier may train and set its thresholds on it) or "eval" (bench/asr.py measures on it).

The folder is built from clones of eight public GitHub repositories, side by side in one
folder, each in the folder `git clone` names (SOURCES below; NeMo-text-processing checked out at
AN4_COMMIT, as its later commits no longer hold the recordings):

    .venv/bin/python bench/humanset.py build --sources SRC --out OUT

writes OUT/manifest.tsv, OUT/SOURCES.md and the recordings as 16 kHz mono PCM16 WAV files
(resampled band-limited, by voicecoach.hearing.audio), in sorted order under stable names. A
missing clone is skipped with a notice; files that are not audio (Git LFS pointers, say) are
skipped and counted, and the few that libsndfile cannot decode go through ffmpeg if it is
installed. The rate column is the recording's original sample rate.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import numpy as np
import soundfile

from voicecoach.core.errors import VoiceCoachError
from voicecoach.core.numbers import number_to_words
from voicecoach.hearing.audio import (
    SAMPLE_RATE,
    AudioError,
    Samples,
    read_wav,
    resample,
    to_int16,
    write_wav,
)

Half = Literal["tune", "eval"]
TUNE_DIGIT_SPEAKERS: Final = frozenset({"fsdd-george", "fsdd-jackson", "fsdd-lucas"})
"""Free Spoken Digit Dataset speakers for tuning; nicolas, theo and yweweler are for measuring."""
TUNE_SOURCES: Final = ("Picovoice/wake-word-benchmark",)
"""Sources whose every recording is for tuning (their speakers carry no labels, so they cannot
be split by speaker): the wake-word benchmark's crowd-sourced words."""
DIGITS: Final = {number_to_words(n): n for n in range(10)}
TUNE_ACTORS: Final = 12
"""RAVDESS actors 1-12 are for tuning, 13-24 for measuring."""


@dataclass(frozen=True)
class HumanRecording:
    path: Path
    kind: str
    """word, sentence, request (said to a voice assistant: never a command of the coach's,
    and never in the TV-like streams) or noise."""
    text: str
    speaker: str
    source: str

    @property
    def half(self) -> Half:
        if self.speaker.startswith("fsdd-"):
            return "tune" if self.speaker in TUNE_DIGIT_SPEAKERS else "eval"
        if self.source.startswith(TUNE_SOURCES):
            return "tune"
        if self.speaker.startswith("ravdess-actor"):
            return "tune" if int(self.speaker[-2:]) <= TUNE_ACTORS else "eval"
        return "eval"

    @property
    def digit(self) -> int | None:
        """The digit a Free Spoken Digit Dataset recording says (a pain rating); None for
        any other recording."""
        return DIGITS.get(self.text) if self.speaker.startswith("fsdd-") else None


def read_human_set(folder: Path) -> list[HumanRecording]:
    """Every recording listed in `folder`/manifest.tsv."""
    with (folder / "manifest.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [
        HumanRecording(folder / r["path"], r["kind"], r["text"], r["speaker"], r["source"])
        for r in rows
    ]


# Building the set from clones of the source repositories.

MANIFEST_COLUMNS: Final = ("path", "kind", "text", "speaker", "source", "license", "rate")
RAVDESS_STATEMENTS: Final = {
    "01": "kids are talking by the door",
    "02": "dogs are sitting by the door",
}
ARCTIC_PROMPTS: Final = {
    "a0001": "author of the danger trail philip steels etc",
    "a0002": "not at this particular case tom apologized whittemore",
    "a0003": "for the twentieth time that evening the two men shook hands",
    "a0004": "lord but i'm glad to see you again phil",
    "a0005": "will we ever forget it",
    "a0006": "god bless 'em i hope i'll go on seeing them forever",
}
"""CMU ARCTIC's prompts (its etc/arctic.data) for the utterances pyroomacoustics ships."""
ARCTIC_LICENCE: Final = "CMU ARCTIC licence (free, BSD-style)"
PRECISE_WAKE_WORDS: Final = {
    "heychatterbox": "hey chatterbox",
    "heycomputer": "hey computer",
    "heysavant": "hey savant",
}
"""Precise-Community-Data's wake-word folders whose name is not the word as said (the others,
athena, amelia, computer, are)."""
PRECISE_CC_FOLDER: Final = ("heysavant", "CC BY-NC-SA 4.0", "smartormaster")
"""Precise-Community-Data's folder under its own licence (heysavant/licenses/ holds the CC
BY-NC-SA 4.0 text, named license-2020-07-02-smartormaster.txt) and its contributor. Every other
English clip is public domain, its contributor named by the licenses/ file that lists it."""
AN4_COMMIT: Final = "abcaa91e0eea51c16ca2fc339f32272a54818add"
"""The commit of NVIDIA/NeMo-text-processing whose tests/.data holds its AN4 recordings."""
AN4_LICENCE: Final = "CMU AN4 licence (free for any use, BSD-style)"
PICOVOICE_NOISES: Final = ("kitchen.wav",)
"""speech-to-intent-benchmark's noises taken: cafe.wav is left out, as a café's babble may hold
intelligible speech (the README says only that the noise is from Freesound)."""


class BuildError(VoiceCoachError):
    """SRC holds none of the sources, a file in it cannot be read, or OUT cannot be written."""


@dataclass(frozen=True)
class SourceFile:
    """One recording in a clone, and what the manifest says of it."""

    audio: Path
    name: str
    """Its path in the set (relative to OUT, ending .wav)."""
    kind: str
    text: str
    speaker: str
    license: str


def normalise(text: str) -> str:
    """Lower case, words separated by single spaces, no punctuation but apostrophes inside words:
    " He's distraught!" -> "he's distraught"."""
    return " ".join(re.findall(r"[^\W_]+(?:'[^\W_]+)*", text.lower().replace("\u2019", "'")))


def word_or_sentence(text: str) -> str:
    return "word" if len(text.split()) == 1 else "sentence"


def fsdd_files(root: Path) -> list[SourceFile]:
    """recordings/D_NAME_I.wav: the digit D said by NAME (8 kHz)."""
    files = []
    for audio in sorted((root / "recordings").glob("*.wav")):
        match = re.fullmatch(r"(\d)_([a-z]+)_(\d+)\.wav", audio.name)
        if match:
            digit, name = int(match[1]), match[2]
            text = number_to_words(digit)
            files.append(
                SourceFile(
                    audio, f"fsdd/{audio.name}", "word", text, f"fsdd-{name}", "CC BY-SA 4.0"
                )
            )
    return files


def precise_contributors(root: Path) -> dict[str, str]:
    """The contributor of each clip (by file name) that a licence in licenses/ lists: its first
    line says "I, NAME, hereby agree to ... place ... into the public domain", then the files."""
    owners: dict[str, str] = {}
    for licence in sorted((root / "licenses").glob("license-*.txt")):
        text = licence.read_text(encoding="utf-8", errors="replace")
        match = re.search(r"I, ([^,(\[]+?)\s*(?:\([^)]*\))?, hereby", text)
        if match is None or "public domain" not in text:
            continue
        name = "-".join(re.findall(r"[a-z0-9]+", match[1].lower()))
        for line in text.splitlines():
            if line.strip().endswith(".wav"):
                owners[Path(line.strip()).name] = name
    return owners


def precise_transcripts(root: Path) -> dict[Path, str]:
    """Each not-wake-word clip's transcript, from the metadata.csv beside it or above it
    (filename, transcript[, language, related wake word])."""
    transcripts: dict[Path, str] = {}
    for metadata in sorted(root.rglob("metadata.csv")):
        with metadata.open(encoding="utf-8", errors="replace", newline="") as handle:
            for row in csv.reader(handle):
                if len(row) >= 2 and row[0].strip():
                    transcripts[metadata.parent / row[0].strip()] = normalise(row[1])
    return transcripts


def precise_transcript(audio: Path, transcripts: dict[Path, str]) -> str:
    """From a metadata.csv in the clip's folder or a folder above; else the folder's name split
    at capitals ("HesDistraught" -> "hes distraught")."""
    for folder in audio.parents:
        if folder / audio.name in transcripts:
            return transcripts[folder / audio.name]
    return normalise(" ".join(re.findall(r"[A-Z][a-z']*|[a-z']+|\d+", audio.parent.name)))


def precise_files(root: Path) -> list[SourceFile]:
    """English clips only (a folder en or en-*; es/ is skipped; models/ and .tar.gz hold no
    .wav): wake words (WORD/en/, heysavant/wake-word/en/), other speech (not-wake-words/en/, its
    transcript in metadata.csv) and noises (not-wake-words/noises/)."""
    owners = precise_contributors(root)
    transcripts = precise_transcripts(root)
    cc_folder, cc_license, cc_speaker = PRECISE_CC_FOLDER
    files = []
    for audio in sorted(root.rglob("*.wav")):
        parts = audio.relative_to(root).parts
        if "noises" in parts:
            kind, text = "noise", ""
        elif not any(p == "en" or p.startswith("en-") for p in parts[:-1]):
            continue
        elif "not-wake-words" in parts:
            text = precise_transcript(audio, transcripts)
            kind = word_or_sentence(text)
        else:
            kind, text = "word", PRECISE_WAKE_WORDS.get(parts[0], normalise(parts[0]))
        if parts[0] == cc_folder:
            licence, speaker = cc_license, cc_speaker
        elif audio.name in owners:
            licence, speaker = "public domain", owners[audio.name]
        else:
            licence, speaker = "not listed in licenses/", parts[0]
        name = "precise/" + "/".join(parts)
        files.append(SourceFile(audio, name, kind, text, f"precise-{speaker}", licence))
    return files


def wake_word_files(root: Path) -> list[SourceFile]:
    """audio/WORD/N.flac or .wav: the wake word WORD, crowd-sourced (speakers not labelled)."""
    files = []
    for folder in sorted(p for p in (root / "audio").glob("*") if p.is_dir()):
        text = normalise(folder.name)
        for audio in sorted(p for p in folder.iterdir() if p.suffix in (".flac", ".wav")):
            name = f"picovoice-ww/{'-'.join(text.split())}/{audio.stem}.wav"
            files.append(SourceFile(audio, name, "word", text, "picovoice-ww", "Apache 2.0"))
    return files


def noise_files(root: Path) -> list[SourceFile]:
    """data/noise/kitchen.wav, whole (two minutes)."""
    paths = [root / "data" / "noise" / name for name in PICOVOICE_NOISES]
    return [
        SourceFile(p, f"noise/{p.name}", "noise", "", "noise", "Apache 2.0")
        for p in paths
        if p.is_file()
    ]


def coffee_order_files(root: Path) -> list[SourceFile]:
    """data/speech/clean/UUID.wav: a coffee order said to a voice assistant, crowd-sourced (over
    50 speakers, unlabelled). data/label/label.json gives each order's slots, not what was said:
    the text is the slot values in the order the label lists them ("latte dark roast brown
    sugar")."""
    labels = json.loads((root / "data" / "label" / "label.json").read_text(encoding="utf-8"))
    files = []
    for audio in sorted((root / "data" / "speech" / "clean").glob("*.wav")):
        label = labels.get(audio.name)
        if label is None:
            continue
        text = normalise(" ".join(str(value) for value in label.get("slots", {}).values()))
        name = f"coffee/{audio.name}"
        files.append(SourceFile(audio, name, "request", text, "picovoice-sti", "Apache 2.0"))
    return files


AN4_UTTERANCE: Final = re.compile(r"((?:an|cen)\d+)-([a-z]+\d*)-b")
"""An AN4 utterance's name: its prompt number and the speaker ("an251-fash-b")."""


def an4_transcripts(data: Path) -> dict[str, str]:
    """What each AN4 utterance says, by its name: from the NeMo tests' manifests (JSON lines
    with "audio_filepath" and "text") and Kaldi's text file ("fash-an251-b YES")."""
    texts: dict[str, str] = {}
    for manifest in sorted(data.rglob("*.json")):
        if "an4" not in str(manifest.relative_to(data)) or manifest.name.startswith("._"):
            continue  # another test's data, or a macOS resource fork
        for line in manifest.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(entry, dict):
                continue
            name = AN4_UTTERANCE.search(str(entry.get("audio_filepath", "")))
            if name and entry.get("text"):
                texts[name[0]] = normalise(str(entry["text"]))
    for kaldi in sorted(data.rglob("kaldi_an4/text")):
        for line in kaldi.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, text = line.partition(" ")
            speaker, _, prompt = key.rpartition("-b")[0].partition("-")
            if speaker and prompt:
                texts[f"{prompt}-{speaker}-b"] = normalise(text)
    return texts


def an4_files(root: Path) -> list[SourceFile]:
    """tests/.data/**/an4/wav/**/PROMPT-SPEAKER-b.wav (16 kHz): the AN4 recordings NeMo's tests
    used, each utterance once (its longest copy), with the text a manifest beside them gives it
    (single words: yes, no, stop, repeat, help, start, go; else spelled names and numbers). The
    six with no transcript there, and the copies inside tar files, are left out."""
    data = root / "tests" / ".data"
    texts = an4_transcripts(data)
    longest: dict[str, Path] = {}
    for audio in sorted(data.rglob("*.wav")):
        if "an4" not in audio.parts or audio.name.startswith("._"):
            continue
        if AN4_UTTERANCE.fullmatch(audio.stem) is None:
            continue
        if audio.stem not in longest or audio.stat().st_size > longest[audio.stem].stat().st_size:
            longest[audio.stem] = audio
    files = []
    for utterance, audio in sorted(longest.items()):
        text = texts.get(utterance)
        if text:
            speaker = "an4-" + utterance.split("-")[1]
            name = f"an4/{utterance}.wav"
            kind = word_or_sentence(text)
            files.append(SourceFile(audio, name, kind, text, speaker, AN4_LICENCE))
    return files


DSPSPEECH_WORDS: Final = (
    "数字", "语音", "语言", "识别", "中国", "总工", "北京", "背景", "上海", "商行",
    "复旦", "饭店", "speech", "speaker", "signal", "process", "print", "open", "close", "project",
)  # fmt: skip
"""DSPSpeech-20's words by their label (00-19): twelve Mandarin words, then eight English ones."""
DSPSPEECH_TAKES: Final = ("01", "11")
"""The takes kept of each speaker's twenty of every word: the first and the eleventh (the set
would otherwise hold 13,599 recordings of 20 words)."""
DSPSPEECH_NAME: Final = re.compile(r"(\d+)-(\d\d)-(\d\d)\.wav")
"""A recording's name: the speaker's student number, the word's label and the take."""


def dspspeech_files(root: Path) -> list[SourceFile]:
    """speech_data/SPEAKER/SPEAKER-LABEL-TAKE.wav (16 kHz, about 2 s): isolated words that 34
    students of a signal-processing course recorded in their web browsers, DSPSPEECH_TAKES of
    each word and speaker. None of the words is a command of the coach's."""
    files = []
    for audio in sorted((root / "speech_data").glob("*/*.wav")):
        match = DSPSPEECH_NAME.fullmatch(audio.name)
        if match is None or match[1] != audio.parent.name or match[3] not in DSPSPEECH_TAKES:
            continue
        label = int(match[2])
        if label < len(DSPSPEECH_WORDS):
            name = f"dspspeech/{audio.name}"
            speaker = f"dspspeech-{match[1]}"
            text = DSPSPEECH_WORDS[label]
            files.append(SourceFile(audio, name, "word", text, speaker, "MIT"))
    return files


def ravdess_files(root: Path) -> list[SourceFile]:
    """03-01-EE-II-SS-RR-AA.wav (audio-only speech; emotion, intensity, statement, repetition,
    actor), anywhere under the RAVDESS folder (48 kHz)."""
    folder = root / "Speech_Emotion_Recogntion_from_audio" / "data" / "RAVDESS"
    files = []
    for audio in sorted(folder.rglob("03-01-*.wav"), key=lambda p: p.name):
        match = re.fullmatch(r"03-01-\d\d-\d\d-(\d\d)-\d\d-(\d\d)\.wav", audio.name)
        if match and match[1] in RAVDESS_STATEMENTS:
            text, actor = RAVDESS_STATEMENTS[match[1]], match[2]
            speaker = f"ravdess-actor{actor}"
            files.append(
                SourceFile(
                    audio, f"ravdess/{audio.name}", "sentence", text, speaker, "CC BY-NC-SA 4.0"
                )
            )
    return files


def arctic_files(root: Path) -> list[SourceFile]:
    """examples/input_samples/cmu_arctic_us_SPK_aNNNN.wav: ARCTIC prompt aNNNN said by SPK."""
    files = []
    for audio in sorted((root / "examples" / "input_samples").glob("cmu_arctic_*.wav")):
        match = re.fullmatch(r"cmu_arctic_us_([a-z]+)_(a\d{4})\.wav", audio.name)
        if match and match[2] in ARCTIC_PROMPTS:
            text, speaker = ARCTIC_PROMPTS[match[2]], f"arctic-{match[1]}"
            name = f"arctic/{audio.name}"
            files.append(SourceFile(audio, name, "sentence", text, speaker, ARCTIC_LICENCE))
    return files


@dataclass(frozen=True)
class Source:
    repo: str
    """The clone's folder name (the repository's name, as `git clone` names it)."""
    address: str
    source: str
    """The manifest's source column."""
    license: str
    what: str
    files: Callable[[Path], list[SourceFile]]


SOURCES: Final = (
    Source(
        "free-spoken-digit-dataset",
        "https://github.com/Jakobovski/free-spoken-digit-dataset",
        "Jakobovski/free-spoken-digit-dataset",
        "CC BY-SA 4.0",
        "digits 0-9, six speakers, recorded at 8 kHz",
        fsdd_files,
    ),
    Source(
        "Precise-Community-Data",
        "https://github.com/MycroftAI/Precise-Community-Data",
        "MycroftAI/Precise-Community-Data",
        "public domain (licenses/); heysavant/ CC BY-NC-SA 4.0",
        "English wake words and other words and phrases",
        precise_files,
    ),
    Source(
        "wake-word-benchmark",
        "https://github.com/Picovoice/wake-word-benchmark",
        "Picovoice/wake-word-benchmark",
        "Apache 2.0",
        "six wake words, crowd-sourced (over 50 speakers, unlabelled)",
        wake_word_files,
    ),
    Source(
        "speech-to-intent-benchmark",
        "https://github.com/Picovoice/speech-to-intent-benchmark",
        "Picovoice/speech-to-intent-benchmark",
        "Apache 2.0 (the noise is from Freesound)",
        "kitchen noise",
        noise_files,
    ),
    Source(
        "Projet-Son-Jedha",
        "https://github.com/simiya/Projet-Son-Jedha",
        "RAVDESS (simiya/Projet-Son-Jedha)",
        "CC BY-NC-SA 4.0 (RAVDESS)",
        "RAVDESS: two sentences in eight emotions, 24 actors",
        ravdess_files,
    ),
    Source(
        "pyroomacoustics",
        "https://github.com/LCAV/pyroomacoustics",
        "CMU ARCTIC (LCAV/pyroomacoustics)",
        ARCTIC_LICENCE,
        "CMU ARCTIC: six sentences, two speakers",
        arctic_files,
    ),
    # Last, so that the recordings of the sources above keep their places in the manifest
    # (bench/asr.py takes every Nth of the eval half in that order).
    Source(
        "speech-to-intent-benchmark",
        "https://github.com/Picovoice/speech-to-intent-benchmark",
        "Picovoice/speech-to-intent-benchmark (speech)",
        "Apache 2.0",
        "coffee orders said to a voice assistant, crowd-sourced (over 50 speakers, unlabelled)",
        coffee_order_files,
    ),
    Source(
        "NeMo-text-processing",
        "https://github.com/NVIDIA/NeMo-text-processing",
        "CMU AN4 (NVIDIA/NeMo-text-processing tests)",
        AN4_LICENCE,
        "CMU AN4 (1991): 45 recordings of 33 speakers, single words (yes, no, stop, repeat, help,"
        " start, go) and spelled names and numbers",
        an4_files,
    ),
    Source(
        "DSPSpeech-20",
        "https://github.com/zhongyuchen/DSPSpeech-20",
        "zhongyuchen/DSPSpeech-20",
        "MIT",
        "20 isolated words (12 Mandarin, 8 English) recorded in web browsers by 34 students,"
        " two takes of each",
        dspspeech_files,
    ),
)


def ffmpeg_samples(audio: Path, rate: int) -> Samples | None:
    """`audio` as 16 kHz mono through ffmpeg, for files libsndfile cannot decode (14 FLAC files
    of the wake-word benchmark: "flac decoder lost sync"; ffmpeg decodes them whole and agrees
    with libsndfile on what both decode); None without ffmpeg, or when it fails too."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return None
    command = [ffmpeg, "-v", "error", "-nostdin", "-i", str(audio), "-f", "f64le", "-ac", "1", "-"]
    result = subprocess.run(command, capture_output=True, check=False)
    if result.returncode != 0 or not result.stdout:
        return None
    mono = np.frombuffer(result.stdout, dtype="<f8") * 32768.0  # as read_wav scales
    return to_int16(resample(mono, rate, SAMPLE_RATE))


def convert(audio: Path, target: Path) -> tuple[int, str] | None:
    """Writes `audio` to `target` as 16 kHz mono PCM16; its original sample rate and what
    decoded it (libsndfile, or ffmpeg), or None when it is not audio (a Git LFS pointer, say)."""
    try:
        rate = int(soundfile.info(str(audio)).samplerate)
    except RuntimeError:  # soundfile's LibsndfileError: no audio header at all
        return None
    try:
        samples, decoder = read_wav(audio), "libsndfile"
    except AudioError:
        ffmpeg = ffmpeg_samples(audio, rate)
        if ffmpeg is None:
            return None
        samples, decoder = ffmpeg, "ffmpeg"
    write_wav(target, samples)
    return rate, decoder


def commit_of(clone: Path) -> str | None:
    """The commit a git clone is at; None for a work tree without .git (an export)."""
    if not (clone / ".git").exists():
        return None
    result = subprocess.run(
        ["git", "-C", str(clone), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or None


def build_source(source: Source, clone: Path, out: Path) -> list[dict[str, str]]:
    """The manifest rows of one source, its recordings written under `out`; a progress line."""
    files = source.files(clone)
    print(f"{source.repo}: converting {len(files)} files", flush=True)
    rows, skipped, by_ffmpeg = [], [], 0
    for file in files:
        converted = convert(file.audio, out / file.name)
        if converted is None:
            skipped.append(file.audio)
            continue
        rate, decoder = converted
        by_ffmpeg += decoder == "ffmpeg"
        rows.append({
            "path": file.name, "kind": file.kind, "text": file.text, "speaker": file.speaker,
            "source": source.source, "license": file.license, "rate": str(rate),
        })  # fmt: skip
    kinds = Counter(r["kind"] for r in rows)
    speakers = len({r["speaker"] for r in rows})
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) or "nothing"
    plural = "" if speakers == 1 else "s"
    line = f"{source.repo}: {len(rows)} files ({summary}), {speakers} speaker{plural}"
    if by_ffmpeg:
        line += f"; {by_ffmpeg} decoded by ffmpeg (libsndfile could not)"
    if skipped:
        line += f"; {len(skipped)} not audio (or not decodable without ffmpeg), skipped"
        line += f", such as {skipped[0]}"
    print(line, flush=True)
    return rows


def write_manifest(out: Path, rows: list[dict[str, str]]) -> None:
    with (out / "manifest.tsv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=MANIFEST_COLUMNS, delimiter="\t", lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(rows)


def write_sources(out: Path, built: list[tuple[Source, Path, int]]) -> None:
    lines = ["# Sources", "", "Built by `bench/humanset.py build` from clones of:", ""]
    for source, clone, count in built:
        commit = commit_of(clone)
        at = f" at {commit}" if commit else ""
        lines.append(f"- {source.address}{at}: {source.license}; {count} files; {source.what}")
    (out / "SOURCES.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def build(sources: Path, out: Path) -> int:
    """Builds the human set in `out` from the clones in `sources`; how many recordings."""
    if not sources.is_dir():
        raise BuildError("no such folder", path=sources)
    present = []
    for source in SOURCES:
        clone = sources / source.repo
        if clone.is_dir():
            present.append((source, clone))
        else:
            print(f"skipped {source.repo}: not in {sources} ({source.address})", file=sys.stderr)
    if not present:
        raise BuildError(
            "none of the source repositories is here (see bench/README.md)", path=sources
        )
    rows: list[dict[str, str]] = []
    built = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        for source, clone in present:
            source_rows = build_source(source, clone, out)
            rows += source_rows
            built.append((source, clone, len(source_rows)))
        write_manifest(out, rows)
        write_sources(out, built)
    except OSError as error:  # a clone's file unreadable, or `out` not writable
        raise BuildError(error.strerror or str(error), path=error.filename or out) from None
    print(f"{len(rows)} recordings in {out / 'manifest.tsv'}")
    return len(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("build", help="build the human set from clones of its sources")
    make.add_argument("--sources", type=Path, required=True, help="the folder of the clones")
    make.add_argument("--out", type=Path, required=True, help="the folder to write the set to")
    args = parser.parse_args(argv)
    try:
        build(args.sources, args.out)
    except VoiceCoachError as error:
        print(f"humanset: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
