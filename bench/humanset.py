"""The human recordings the benchmarks and the verifier's training read (never committed: see
bench/README.md for where they come from): a folder with manifest.tsv (path, kind
word|sentence|noise, text, speaker, source, license, rate) and 16 kHz WAV files.

Each recording belongs to one half, by speaker, so that no speaker is in both: "tune" (the
verifier may train and set its thresholds on it) or "eval" (bench/asr.py measures on it).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from voicecoach.core.numbers import number_to_words

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
    """word, sentence or noise."""
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
