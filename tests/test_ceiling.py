"""bench/ceiling.py: what the grammar decoder's guesses are, and how they are counted."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from asr import Clip
from ceiling import Heard, hear, tally

AUDIO = Path(__file__).parent / "audio" / "en"
TAKEN_CLEAN = AUDIO / "back to it@espeak-en-us-belinda-160-65.wav"
"""A clean test clip the engine takes as "resume" (not among tests/audio/known_failures.toml)."""


def test_a_command_taken_is_the_decoders_best_sentence_and_in_its_guesses() -> None:
    clip = Clip("clean, commands", "resume", (), TAKEN_CLEAN)
    [heard] = hear(([clip], 30))
    assert heard.taken == heard.truth == ("resume", ())
    assert heard.best == [heard.truth]  # one segment, one decode of the whole grammar
    assert heard.guessed[0] == heard.truth  # the n-best list starts with the best sentence
    counts = tally([heard])["clean, commands"]
    assert (counts["taken"], counts["best"], counts["n-best"], counts["either"]) == (1, 1, 1, 1)


def test_the_counts_keep_what_was_taken_apart_from_what_was_guessed() -> None:
    stop, pause = ("stop", ()), ("pause", ())
    rows = tally(
        [
            Heard("clean", stop, None, [stop], [stop, pause]),  # rejected, the best was right
            Heard("clean", stop, None, [pause], [pause, stop]),  # second among the guesses
            Heard("clean", stop, stop, [], []),  # taken with no decode of the whole grammar
            Heard("clean", stop, pause, [pause], [pause]),  # lost before any rejection
        ]
    )
    counts = rows["clean"]
    assert counts["clips"] == 4
    assert (counts["taken"], counts["best"], counts["n-best"], counts["either"]) == (1, 1, 2, 3)
