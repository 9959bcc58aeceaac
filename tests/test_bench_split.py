"""bench/asr.py and devset.py can deal a system's clips out to several processes (`--split`)
and write each clip's decodes and reasons (`--clips`): the split must count what one process
counts."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import asr
from asr import CASES, Tally, run_systems, write_clips


def test_tallies_add_up_counts_and_keep_the_largest_process() -> None:
    first = Tally(Counter({"a": 1}), Counter({"a": 2}), audio_s=3.0, decode_s=0.3, peak_mb=500)
    first.false_heard = {"tv": [(1.0, "next")]}
    second = Tally(Counter({"a": 1, "b": 1}), Counter({"a": 1, "b": 1}), audio_s=1.0, peak_mb=400)
    second.false_heard = {"babble": []}
    second.clips = [{"row": "b"}]
    first.add(second)
    assert first.rate("a") == "66.7% (2/3)" and first.rate("b") == "100.0% (1/1)"
    assert first.audio_s == 4.0 and first.peak_mb == 500
    assert first.false_heard == {"tv": [(1.0, "next")], "babble": []}
    assert first.clips == [{"row": "b"}]


def test_a_split_run_counts_what_one_process_counts(tmp_path: Path) -> None:
    """Real decodes of the first test clips (commands, clean and in continuous noise, and
    other speech), by one process and dealt out to two: each segment is decoded from the same
    state, so the same clips give the same commands, and every clip has its decodes' reasons."""
    clips = asr.test_clips(CASES, 3)
    assert len(clips) >= 4
    keys = ["no-second-opinion"]
    alone = run_systems(keys, "session", clips, {}, jobs=1)
    shared = run_systems(keys, "session", clips, {}, jobs=2, split=2)
    one, two = alone["no second opinion"], shared["no second opinion"]
    assert one.total == two.total and one.right == two.right
    assert sum(one.total[row] for row in {clip.row for clip in clips}) == len(clips)

    def taken(tally: Tally) -> dict[tuple[object, object], object]:
        return {(c["row"], c["path"]): c["taken"] for c in tally.clips}

    assert taken(one) == taken(two) and len(taken(one)) == len(clips)
    out = tmp_path / "clips.jsonl"
    write_clips(shared, out)
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == len(clips)
    assert all(r["heard"] and all(h["reason"] for h in r["heard"]) for r in records)
    assert {r["right"] for r in records} <= {True, False}
