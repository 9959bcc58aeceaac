"""PocketSphinx: the embedded default engine, with the English model inside its PyPI wheel.

Decoding is constrained to the command sentences (their minimal word graph, see
`grammar.phrase_automaton`), so the engine always finds *some* command in any sound. Rejection
comes after: the first complete sentence in the n-best list is the candidate, and the verifier
(`verifier.py`, trained by bench/train_verifier.py on voices the tests do not use) fuses the
scores of that decode with what a speech embedding hears in the same segment to say how likely
it is right. The older decoder-only confidence model (`confidence.py`) is kept for comparison
(`rejection="decoder"`).
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np

from voicecoach.core.errors import VoiceCoachError
from voicecoach.core.grammar import Grammar, phrase_automaton
from voicecoach.core.intents import (
    CommandIndex,
    CommandKey,
    Intent,
    build_index,
    held_command,
    match,
)
from voicecoach.core.numbers import number_to_words
from voicecoach.hearing.asr import Decoded
from voicecoach.hearing.asr.confidence import ConfidenceModel, load_confidence_model
from voicecoach.hearing.asr.embedding import SpeechEmbedder, Vector
from voicecoach.hearing.asr.frontend import NoiseFloor
from voicecoach.hearing.asr.second_opinion import (
    OPEN_LISTENERS,
    OpenListener,
    agrees,
    answer_heard,
    listened_part,
    open_listeners,
    same_command,
    worth_asking,
    worth_decoding_as,
    worth_decoding_held,
)
from voicecoach.hearing.asr.silero import CHUNK_SAMPLES, SileroVad
from voicecoach.hearing.asr.threads import one_blas_thread
from voicecoach.hearing.asr.verifier import (
    DEFAULT_SENSITIVITY,
    Verifier,
    class_of,
    load_verifier,
    word_llr,
)
from voicecoach.hearing.asr.word_check import WordCheck, load_whisper
from voicecoach.hearing.audio import SAMPLE_RATE, Samples, silence

COMMANDS_SEARCH: Final = "commands"
ANSWERS_SEARCH: Final = "answers"
"""Searches of the awaited answers' sentences alone are named from this and the intents."""
ANSWERS_ONLY_THRESHOLD: Final = 0.9
"""While the coach waits for an answer (a pain rating, yes or no) and the whole grammar heard
something else, the segment is decoded again among the answers alone; that decode is taken when
the verifier gives it at least this (and more than the first decode). The verifier was fitted on
decodes of the whole grammar and rates these higher than it should. On the development set
(bench/devset.py: digits of the Free Spoken Digit Dataset speakers the verifier trains on, and
200 clips of other speech in held-out voices heard while an answer is awaited), taking every
such decode the awaited threshold accepts raised digits taken as the right rating from 63.4% to
79.0% but took 34 more clips of other speech for answers ("phone" as "four"); at 0.9, 76.6% and
4 more clips. Of the other speech's decodes that the awaited threshold would take, 0.8 keeps
7 of 29 and 80 of 88 right digits, 0.9 keeps 3 and 69, 0.95 keeps 2 and 44."""
RATING_BY_EMBEDDING: Final = 0.6
"""While the coach waits for a pain rating and neither decode above gave one it could take, the
rating that the speech embedding's classifier finds likeliest is taken when the classifier gives
it at least this probability. On real people's digits PocketSphinx errs where the classifier
does not ("six" heard as "eight" and "zero" as "two" in the Free Spoken Digit Dataset's 8 kHz
recordings). Chosen on the verifier's training segments (bench/train_verifier.py prints it;
the human digits split by speaker, each half judged by a classifier fitted on the other):
digits taken as the right rating 44.8% without, 53.4% at 0.6 (56.8% at 0.5, 49.7% at 0.7), as a
wrong rating 24 of 1439 either way (27 at 0.5); other speech taken as a rating while one is
awaited, synthetic 3.5% -> 4.2%, human 0.5% -> 0.6%."""
EDGES_S: Final = (0.15, 0.2)
"""How much of a rejected segment's start and end is left out when it is decoded again because
its edges hold talk (EDGE_TALK). A segment holds a quarter of a second before the speech the
endpointer found (stream.PREROLL_S) and about 0.3 s after it (endpoint.END_S): in a quiet room
that is quiet, which the decoder's silence explains, but in a talking room it is other people's
words, which the grammar can only explain as more words of a command. On the development set's
real people's digits (the tune half of the human set, in continuous babble of training voices at
15 dB; bench/devset.py), the decoder alone got the digit right in 22 of 250 segments as cut,
56 of 250 with these edges left out, 54 with 0.25 s and 0.3 s; the digit cut exactly from the
mixed recording, 23 of 40 against 8 of 40 with a quarter of a second of babble on either side
(26 of 40 clean). Decoding every segment so lost real people's digits in pink noise (233 -> 218
of 250 taken), where the edges hold only noise: so only a rejected segment whose edges talk is
decoded again."""
EDGE_SAMPLES: Final = (round(EDGES_S[0] * SAMPLE_RATE), round(EDGES_S[1] * SAMPLE_RATE))
"""EDGES_S in samples."""
EDGE_TALK: Final = 0.5
"""Silero VAD's mean speech probability over a segment's first or last EDGES_S above which its
edges are taken to hold talk (the segment is heard by Silero from its start, so its state is
the same whatever came before)."""
EDGE_MIN_S: Final = 0.3
"""Shortest audio left once the edges are left out for a segment to be decoded again."""
EDGE_MAX_S: Final = 1.4
"""Longest segment decoded again without its edges: a word or two (the development set's
real digits whose segments in babble were taken so were 0.6-1.2 s long). Longer segments are
mostly other people's sentences, whose edges are their own words: decoded again, three of the
development set's 50 sentences in pink noise were taken for a command ("set a timer for twenty
minutes" as "set the hold ninety nine"; 1.9-2.0 s)."""
PHONES_SEARCH: Final = "phones"
# The second pass: a loop of any phones (uniform, no phone language model), scoring every other
# frame (ds 2) so it costs about half the grammar decode. How much better it explains the
# segment than the grammar does ("phone_llr") is the strongest single clue that what was said
# is not a command.
PHONE_LOOP_OPTIONS: Final[dict[str, Any]] = {"ds": 2}
# With ds 2 the phone loop's scores depend on the segments it decoded before (its acoustic
# model carries the last frames' shortlist of senones over from one utterance to the next): the
# same command, decoded after ten other recordings, had a different phone_llr 7 times in 10.
# Decoding this fixed tenth of a second of the noise floor first puts it in the same state
# every time (0 in 10), for about a hundredth of the phone loop's cost.
PHONE_LOOP_RESET_S: Final = 0.1
# The grammar decode's search beams, far wider than PocketSphinx's defaults (beam and pbeam
# 1e-48, wbeam 7e-29): with a grammar of thousands of sentences the default beams often prune
# every path before the end of the segment, and the decoder returns nothing. On the development
# set (bench/devset.py, held-out voices), decodes right before rejection went from 72.5% /
# 65.8% / 24.2% (clean / pink 10 dB / babble 15 dB; no hypothesis at all for 6.5% / 4.2% / 3.3%)
# to 82.0% / 73.3% / 43.3% (none for 0.5% / 0% / 0%); 1e-64 / 1e-45 / 1e-64 gave 81.0% / 72.5% /
# 35.8%. The decode costs about 1.6 times as much. At most 3000 active HMMs a frame (maxhmmpf,
# default 30000) keeps every one of those decodes and takes the real-time factor of the
# development set's decodes from 0.121 to 0.109; 1500 cost 10 points in babble.
GRAMMAR_BEAMS: Final[dict[str, Any]] = {
    "beam": 1e-80,
    "wbeam": 1e-60,
    "pbeam": 1e-80,
    "maxhmmpf": 3000,
}
# How many n-best entries to look through for a complete sentence.
NBEST_DEPTH: Final = 10
# PocketSphinx returns acoustic scores as linear values exp(score), where score is about 1/1024
# of the natural log (its scores are shifted by 10 bits): around -0.004 per frame. A zero
# (underflow, not seen on the test or tuning clips) is taken as this, far below that.
UNDERFLOW_LOG_PER_FRAME: Final = -0.1
FILLER_WORDS: Final = frozenset(
    {"<s>", "</s>", "<sil>", "[NOISE]", "[BREATH]", "[COUGH]", "(NULL)"}
)
"""Not words of a command: sentence marks, fillers and the grammar's empty transitions."""
Rejection = Literal["verifier", "decoder", "none"]
"""How a decode is judged: the verifier (decoder scores and speech embedding), the decoder's
scores alone (the older confidence model), or not at all (every decode accepted)."""
FEATURE_NAMES: Final = (
    "complete", "gap", "speech_score", "worst_word_score", "frames_per_phone", "words",
    "phone_llr", "duration",
)  # fmt: skip


ADAPTATION: Final = Path(__file__).with_name("mllr_matrix")
"""One MLLR transform of the model's means (an affine map of each 13-dimensional feature stream)
that adapts the wheel's model, trained on clean read speech, to real people's microphones heard
through voicecoach's front end: estimated by bench/adapt_acoustic.py from the human set's tune
half (crowd-sourced wake words and RAVDESS sentences, 16 kHz) as the decoder is given them. The
grammar decoder and the phone loop both load it."""


class EngineError(VoiceCoachError):
    """A speech engine that cannot be loaded or configured."""


def model_paths() -> dict[str, str]:
    """The acoustic model, dictionary and language model shipped in the pocketsphinx wheel."""
    import pocketsphinx

    root = Path(pocketsphinx.get_model_path()) / "en-us"
    return {
        "hmm": str(root / "en-us"),
        "dict": str(root / "cmudict-en-us.dict"),
        "lm": str(root / "en-us.lm.bin"),
    }


def read_pronunciations(path: Path) -> dict[str, str]:
    """Extra dictionary words: one `word PH ON ES` per line."""
    if not path.exists():
        return {}
    entries = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        word, _, phones = line.strip().partition(" ")
        if not phones:
            raise EngineError(f"line {number}: expected 'word PHONES'", path=path)
        entries[word] = phones.strip()
    return entries


def read_dictionary(path: str) -> dict[str, str]:
    """The first pronunciation of every word in a CMU dictionary file."""
    entries: dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            word, _, phones = line.strip().partition(" ")
            if "(" not in word:
                entries.setdefault(word, phones)
    return entries


def grammar_dictionary(path: str, words: set[str], extra: dict[str, str]) -> str:
    """The lines of the CMU dictionary at `path` for `words` (every pronunciation, "word(2)"
    too), plus `extra` pronunciations for words it lacks: a dictionary file of a few hundred
    words instead of 126k (about 50 MB less for the two decoders)."""
    lines = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            head = line.split(maxsplit=1)[0] if line.strip() else ""
            if head.split("(")[0] in words:
                lines.append(line.rstrip("\n"))
    known = {line.split(maxsplit=1)[0].split("(")[0] for line in lines}
    lines += [f"{word} {phones}" for word, phones in extra.items() if word in words - known]
    return "\n".join(lines) + "\n"


def new_decoder(*, adapted: bool = True, **options: Any) -> Any:
    """A quiet PocketSphinx decoder on the bundled model, with `options` on top; `adapted`:
    with voicecoach's transform of the model (ADAPTATION)."""
    import pocketsphinx

    paths = model_paths()
    config: dict[str, Any] = {"hmm": paths["hmm"], "dict": paths["dict"], "samprate": SAMPLE_RATE}
    config["loglevel"] = "FATAL"
    if adapted:
        if not ADAPTATION.is_file():
            raise EngineError(
                "the model's transform is missing (reinstall voicecoach)", path=ADAPTATION
            )
        config["mllr"] = str(ADAPTATION)
    config.update(options)
    try:
        return pocketsphinx.Decoder(**config)
    except (RuntimeError, ValueError) as error:
        raise EngineError(f"cannot start PocketSphinx: {error}") from None


def _ln(value: float) -> float | None:
    return math.log(value) if value > 0 else None


def acoustic_log_score(segments: Any) -> tuple[float, int]:
    """Natural-log acoustic score of a whole segmentation (words and fillers, or phones) and
    its number of frames; a segment whose score underflowed to 0 counts
    UNDERFLOW_LOG_PER_FRAME per frame."""
    total, frames = 0.0, 0
    for segment in segments or ():
        count = max(1, segment.end_frame - segment.start_frame + 1)
        score = _ln(segment.ascore)
        total += score if score is not None else UNDERFLOW_LOG_PER_FRAME * count
        frames += count
    return total, frames


def edges_talk(vad: SileroVad, segment: Samples) -> bool:
    """Whether Silero, hearing `segment` from its start, finds talk in its first or last
    EDGES_S (a mean speech probability of at least EDGE_TALK over their chunks)."""
    head, tail = EDGE_SAMPLES
    vad.reset()
    chunks = segment.size // CHUNK_SAMPLES
    probabilities = [
        vad(segment[i * CHUNK_SAMPLES : (i + 1) * CHUNK_SAMPLES].tobytes()) for i in range(chunks)
    ]
    if not probabilities:
        return False
    first = probabilities[: max(1, round(head / CHUNK_SAMPLES))]
    last = probabilities[-max(1, round(tail / CHUNK_SAMPLES)) :]
    return max(float(np.mean(first)), float(np.mean(last))) >= EDGE_TALK


def clean_words(text: str) -> str:
    """Hypothesis text without fillers and alternate-pronunciation marks ("word(2)")."""
    return " ".join(w.split("(")[0] for w in text.split() if w not in FILLER_WORDS)


class PocketSphinxEngine:
    """Grammar-constrained decoding of one segment, with a confidence for rejection."""

    name = "pocketsphinx"

    def __init__(
        self,
        grammar: Grammar,
        *,
        rejection: Rejection = "verifier",
        sensitivity: str = DEFAULT_SENSITIVITY,
        second_opinion: bool = True,
        listeners: tuple[str, ...] = OPEN_LISTENERS,
        word_check: bool = True,
        index: CommandIndex | None = None,
    ) -> None:
        """`sensitivity` (verifier.SENSITIVITIES): how readily the verifier takes a command;
        `second_opinion`: whether a decode the verifier rejects is heard again by the open
        `listeners` (`second_opinion.py`, in turn) that are installed; `index`: the grammar's
        command index, which the second opinion reads the listener's words with, when the caller
        has built it already (else it is built here: about a quarter of a second); `word_check`:
        whether Whisper checks each decoded sentence (`word_check.py`, the verifier's `word_fit`)
        when its wheels are installed and a verdict can use it (not with the decoder's own
        model)."""
        one_blas_thread()
        self.grammar = grammar
        self.rejection = rejection
        self.confidence: ConfidenceModel | None = None
        self.verifier: Verifier | None = None
        self.embedder: SpeechEmbedder | None = None
        if rejection == "decoder":
            self.confidence = load_confidence_model()
        elif rejection == "verifier":
            # Questions (`voicecoach ask`) are not among the verifier's intents: the decoder's
            # model judges them.
            self.confidence = load_confidence_model()
            self.verifier = load_verifier().at_sensitivity(sensitivity)
            self.embedder = SpeechEmbedder()
        asks_again = rejection == "verifier" and second_opinion
        # Whisper is loaded once, for the check and the listener, and only for what uses it.
        checks = word_check and rejection != "decoder"
        whisper = load_whisper() if checks or (asks_again and "whisper" in listeners) else None
        self.word_check: WordCheck | None = whisper if checks else None
        self.listeners: tuple[OpenListener, ...] = ()
        if asks_again:
            self.listeners = open_listeners(listeners, whisper)
        if self.listeners:
            self._index = index or build_index(grammar)
        paths = model_paths()
        words = grammar.words()
        dictionary = read_dictionary(paths["dict"])
        extra = read_pronunciations(grammar.path / "pronunciations.dict")
        missing = sorted(w for w in words if w not in dictionary and w not in extra)
        if missing:
            raise EngineError(
                f"words with no pronunciation: {', '.join(missing)} "
                f"(add them to {grammar.path / 'pronunciations.dict'})"
            )
        self.phones = {w: extra.get(w) or dictionary[w] for w in words}
        del dictionary  # 126k words: the decoders get the grammar's own words only
        with tempfile.TemporaryDirectory(prefix="voicecoach-") as folder:
            small = Path(folder) / "grammar.dict"
            small.write_text(grammar_dictionary(paths["dict"], words, extra), encoding="utf-8")
            self.decoder = new_decoder(lm=None, bestpath=False, dict=str(small), **GRAMMAR_BEAMS)
            self.phone_loop = new_decoder(lm=None, dict=str(small), **PHONE_LOOP_OPTIONS)
        self.phrase_of = {p.text: p for p in grammar.phrases()}
        sentences = sorted(self.phrase_of)
        self.sentences = frozenset(sentences)
        self._add_search(COMMANDS_SEARCH, sentences)
        self.decoder.activate_search(COMMANDS_SEARCH)
        self._answer_searches: dict[frozenset[str], str | None] = {}
        self.phone_loop.add_allphone_file(PHONES_SEARCH, None)
        self.phone_loop.activate_search(PHONES_SEARCH)
        self._phone_loop_reset = NoiseFloor()(silence(PHONE_LOOP_RESET_S)).tobytes()
        self._edge_vad = SileroVad()
        self.awaited: frozenset[str] = frozenset()
        """Intents the coach is waiting for: judged at the verifier's threshold for answers, not
        their own stricter one (see `Verifier.threshold_for`), and looked for again among their
        own sentences alone when the whole grammar heard something else (`finish`)."""
        self._loop: tuple[float, int] | None = None
        """The phone loop's score and frames on the last segment."""
        self._pooled: Vector | None = None
        """The speech embedding of the last segment, pooled."""
        self.last_features: dict[str, float] = {}
        self.last_segment = b""
        """The audio of the last finished segment (16-bit little-endian), for the verifier."""
        self._undenoised: list[bytes] = []
        self.last_undenoised = b""
        """The last segment's audio before noise suppression, when the stream gave it
        (`feed_undenoised`): what the open listener hears again."""
        self.last_words: list[tuple[str, int, int, float]] = []
        """The words of the last decode: word, first and last frame (10 ms each), natural-log
        acoustic score per frame."""
        self.last_phones: list[tuple[str, int, int, float]] = []
        """The phone loop's phones on the last segment: phone, first and last frame, natural-log
        acoustic score (of the whole phone)."""

    def _add_search(self, name: str, sentences: list[str]) -> None:
        """Adds a search of the grammar decoder constrained to `sentences`."""
        automaton = phrase_automaton(sentences)
        transitions = [
            (source, target, 1.0, word) if word else (source, target, 1.0)
            for source, target, word in automaton.transitions
        ]
        start, final = automaton.start, automaton.final
        fsg = self.decoder.create_fsg(name, start, final, transitions)
        self.decoder.add_fsg(name, fsg)

    def _answer_search(self, intents: frozenset[str]) -> str | None:
        """The search of the sentences of `intents` alone (built the first time they are
        awaited), or None when the grammar has none of them."""
        if intents not in self._answer_searches:
            sentences = sorted(t for t, p in self.phrase_of.items() if p.intent in intents)
            name = None
            if sentences:
                name = f"{ANSWERS_SEARCH}-{'-'.join(sorted(intents))}"
                self._add_search(name, sentences)
            self._answer_searches[intents] = name
        return self._answer_searches[intents]

    def expect(self, intents: frozenset[str]) -> None:
        self.awaited = intents

    def start(self) -> None:
        self._segment: list[bytes] = []
        self._undenoised = []

    def feed(self, samples: Samples) -> None:
        self._segment.append(samples.tobytes())

    def feed_undenoised(self, samples: Samples) -> None:
        if self.listeners or self.word_check is not None:
            self._undenoised.append(samples.tobytes())

    def _decode_segment(self, audio: bytes) -> None:
        # The whole segment at once (full_utt): the cepstral mean is the segment's own, so a
        # segment gives the same result whatever was heard before it. On the test commands
        # before rejection, streaming from a fixed start mean got 58.8% / 17.1% / 17.1% right
        # (clean / pink / babble), this 54.7% / 65.7% / 30.0% (both before the noise floor).
        self.decoder.reinit_feat()  # the noise estimate must not carry over between segments
        self.decoder.start_utt()
        self.decoder.process_raw(audio, False, True)
        self.decoder.end_utt()

    def partial(self) -> str:
        """Decodes what has been heard so far (asked for at most every PARTIAL_EVERY_S)."""
        self._decode_segment(b"".join(self._segment))
        hyp = self.decoder.hyp()
        return clean_words(hyp.hypstr) if hyp is not None else ""

    def finish(self) -> Decoded:
        self.last_segment = b"".join(self._segment)
        self.last_undenoised = b"".join(self._undenoised)
        self.last_words, self.last_phones = [], []
        self._loop, self._pooled = None, None
        heard = self._heard_again(self._judged())
        if heard.accepted or not heard.text:
            return heard
        return self._without_talking_edges(heard)

    def _without_talking_edges(self, heard: Decoded) -> Decoded:
        """`heard` (rejected), or the segment decoded and judged again without its first and
        last EDGES_S when they hold talk (`edges_talk`) and that decode is taken. The last
        segment's audio, words and features stay those of the first decode unless it is."""
        segment = np.frombuffer(self.last_segment, dtype=np.int16)
        head, tail = EDGE_SAMPLES
        short_enough = segment.size <= EDGE_MAX_S * SAMPLE_RATE
        if not short_enough or segment.size - head - tail < EDGE_MIN_S * SAMPLE_RATE:
            return heard
        if not edges_talk(self._edge_vad, segment):
            return heard
        kept = (
            self.last_segment, self.last_words, self.last_phones, self.last_features,
            self._loop, self._pooled,
        )  # fmt: skip
        self.last_segment = segment[head : segment.size - tail].tobytes()
        self.last_words, self.last_phones = [], []
        self._loop, self._pooled = None, None
        again = self._judged()
        if again.accepted:
            cut = f"{EDGES_S[0]:.2f} s and last {EDGES_S[1]:.2f} s"
            return replace(again, reason=f"{again.reason} (without the segment's first {cut}, "
                           "which held talk)")  # fmt: skip
        (
            self.last_segment, self.last_words, self.last_phones, self.last_features,
            self._loop, self._pooled,
        ) = kept  # fmt: skip
        return heard

    def _heard_again(self, judged: Decoded) -> Decoded:
        """`judged`, or, when it was rejected, taken after all if an open listener heard the
        same command in the segment's audio before noise suppression, or word for word an
        answer the coach is waiting for (`second_opinion.py`); the listeners are asked in turn
        until one does. When none does but one wrote another command (`worth_decoding_as`), the
        segment is decoded among that command's sentences, and taken if the verifier finds that
        decode at least a near miss (`_listeners_command`). Only when the stream gave that audio
        (`feed_undenoised`; not in a talking room). Whisper, which writes the segment down from
        the encoding its word check computed, is asked whatever the verifier gave; another
        listener only when the verifier gave the decode at least ASK_FLOOR or a rating is
        awaited (`worth_asking`). A decode still rejected has what each listener wrote added
        to its reason."""
        if judged.accepted or not judged.text or not self.last_undenoised:
            return judged
        listeners = [
            listener
            for listener in self.listeners
            if worth_asking(judged.confidence, self.awaited, encoded=self._is_check(listener))
        ]
        if not listeners:
            return judged
        segment = listened_part(np.frombuffer(self.last_undenoised, dtype=np.int16))
        doubt = judged.reason.removeprefix("rejected: ")
        # Other commands the listeners wrote, each once (decoded among its sentences below):
        # (intent, slots) -> (listener, words, command).
        others: dict[CommandKey, tuple[str, str, Intent]] = {}
        written: list[str] = []
        for listener in listeners:
            words = listener.transcribe(segment)
            written.append(
                f"{listener.name} wrote '{words}'" if words else f"{listener.name} wrote nothing"
            )
            heard = match(words, self._index)
            if heard is not None and worth_decoding_as(heard, self.awaited):
                others.setdefault(heard.command, (listener.name, words, heard))
            else:
                held = held_command(words, self._index)
                if held is not None and worth_decoding_held(held):
                    others.setdefault(held.command, (listener.name, words, held))
            if agrees(heard, judged.text, self.phrase_of, self.awaited):
                return replace(
                    judged,
                    accepted=True,
                    near_miss=False,
                    reason=f"accepted: {listener.name} heard the same command ('{words}') "
                    f"where the verifier was unsure ({doubt})",
                )
            answer = answer_heard(heard, self.awaited)
            if answer is not None:
                return Decoded(
                    answer.phrase,
                    judged.confidence,
                    accepted=True,
                    reason=f"accepted: {listener.name} heard the awaited answer "
                    f"'{answer.phrase}' ('{words}') where the decoder heard '{judged.text}' "
                    f"({doubt})",
                )
        for name, words, heard in others.values():
            instead = self._listeners_command(heard)
            if instead is not None:
                return replace(
                    instead,
                    reason=f"accepted: {name} wrote '{words}', and decoded among its sentences "
                    f"the verifier gives it {instead.confidence:.2f}, at least a near miss, where "
                    f"the decoder heard '{judged.text}' ({doubt})",
                )
        # Still rejected: what each listener wrote, so `recognize` and `test` show it.
        return replace(judged, reason=f"{judged.reason}; {'; '.join(written)}")

    def _is_check(self, listener: OpenListener) -> bool:
        """Whether `listener` is the word check (Whisper), which writes a segment down from the
        encoding it computed for the check already."""
        check: object = self.word_check
        return listener is check

    def _listeners_command(self, heard: Intent) -> Decoded | None:
        """The last segment decoded among the sentences of the command an open listener wrote
        (`heard`, `worth_decoding_as`) and judged as if nothing were awaited, taken when it is
        the same command and the verifier takes that decode or finds it a near miss (the
        listener's words and the decoder, held to that command, agree: `second_opinion.py`);
        else None."""
        search = self._answer_search(frozenset({heard.name}))
        if search is None or self.verifier is None:
            return None
        kept = (self.last_features, self.last_words, self.awaited)
        self.awaited = frozenset()
        try:
            decoded = self._decode_among(search)
        finally:
            self.awaited = kept[2]
        likely = decoded.accepted or decoded.near_miss
        if likely and same_command(heard, decoded.text, self.phrase_of):
            return replace(decoded, accepted=True, near_miss=False)
        self.last_features, self.last_words = kept[0], kept[1]
        return None

    def _decode_among(self, search: str) -> Decoded:
        """The last segment decoded with the grammar decoder's `search` (some sentences of the
        grammar alone) and judged; the whole grammar's search is active again after it."""
        self.decoder.activate_search(search)
        try:
            return self._decode_and_judge()
        finally:
            self.decoder.activate_search(COMMANDS_SEARCH)

    def _judged(self) -> Decoded:
        """The last segment decoded and judged by the verifier (and, while an answer is
        awaited, decoded again among the answers)."""
        heard = self._decode_and_judge()
        search = self._answer_search(self.awaited) if self.awaited else None
        if search is None or self.verifier is None:
            return heard
        intent = self.phrase_of[heard.text].intent if heard.text else None
        if heard.accepted and intent in self.awaited:
            return heard
        # An answer is awaited and the whole grammar did not hear one: the same segment
        # decoded among the answers alone (ANSWERS_ONLY_THRESHOLD).
        kept = (self.last_features, self.last_words)
        answer = self._decode_among(search)
        sure = answer.confidence >= max(ANSWERS_ONLY_THRESHOLD, heard.confidence)
        if answer.text and sure:
            reason = answer.reason.replace("rejected:", "accepted:")
            return replace(
                answer,
                accepted=True,
                near_miss=False,
                reason=f"{reason} (among the awaited answers alone)",
            )
        self.last_features, self.last_words = kept
        return self._rating_by_embedding(heard)

    def _rating_by_embedding(self, heard: Decoded) -> Decoded:
        """`heard`, or, when it was not taken and a pain rating is awaited, the rating the
        speech embedding's classifier finds likeliest if it is sure enough of it
        (RATING_BY_EMBEDDING)."""
        if heard.accepted or "rating" not in self.awaited:
            return heard
        if self.verifier is None or self.embedder is None:
            return heard
        likeliest = self.verifier.classifier.likeliest_rating(
            self._segment_embedding(self.embedder)
        )
        if likeliest is None or likeliest[1] < RATING_BY_EMBEDDING:
            return heard
        level, probability = likeliest
        text = number_to_words(level)
        phrase = self.phrase_of.get(text)
        if phrase is None or phrase.intent != "rating":
            return heard
        return Decoded(
            text,
            probability,
            accepted=True,
            reason=f"accepted: the speech embedding heard the rating {level} ({probability:.2f}) "
            f"where the decoder heard '{heard.text}' ({heard.confidence:.2f})",
        )

    def _segment_embedding(self, embedder: SpeechEmbedder) -> Vector:
        """The last segment's pooled speech embedding: computed once a segment, whichever
        searches decode it and whatever asks for it."""
        if self._pooled is None:
            segment = np.frombuffer(self.last_segment, dtype=np.int16)
            self._pooled = embedder.pooled(segment)
        return self._pooled

    def _word_fit(self, phrase: str) -> dict[str, float]:
        """Whisper's fit of the decoded sentence to the audio the second opinion hears (none
        without the check or that audio: the verifier then takes the feature's mean)."""
        if self.word_check is None or not self.last_undenoised:
            return {}
        heard = listened_part(np.frombuffer(self.last_undenoised, dtype=np.int16))
        return {"word_fit": self.word_check.mean_log_probability(heard, phrase)}

    def _decode_and_judge(self) -> Decoded:
        """Decodes the last segment with the active search and judges the decode."""
        self._decode_segment(self.last_segment)
        phrase, features = self._analyse()
        if phrase is not None:
            features.update(self._phone_loop_features(self.last_segment))
            features.update(word_llr(self.last_words, self.last_phones))
        self.last_features = features
        if phrase is None:
            return Decoded("", 0.0, accepted=False, reason="rejected: no whole command decoded")
        verifier = self.verifier
        said = self.phrase_of[phrase]
        decoded = class_of(said.intent, said.slots)
        known = verifier is None or decoded in verifier.classifier.classes
        if known:
            # Only where the verifier judges, or every decode's features are kept (training):
            # the questions of `ask` are judged by the decoder's own model.
            features.update(self._word_fit(phrase))
        if verifier is not None and self.embedder is not None and known:
            awaited = said.intent in self.awaited
            pooled = self._segment_embedding(self.embedder)
            verdict = verifier.judge(features, pooled, decoded, awaited=awaited)
            return Decoded(
                phrase,
                verdict.probability,
                accepted=verdict.accepted,
                near_miss=verdict.near_miss,
                reason=verdict.reason,
            )
        if self.confidence is None:
            return Decoded(phrase, 1.0, accepted=True, reason="accepted: no rejection")
        probability = self.confidence.probability(features)
        accepted = probability >= self.confidence.threshold
        reason = f"{'accepted' if accepted else 'rejected'}: decoder {probability:.2f}"
        return Decoded(phrase, probability, accepted=accepted, reason=reason)

    def _phone_loop_features(self, audio: bytes) -> dict[str, float]:
        """The grammar decode's log acoustic score per frame minus the phone loop's on the
        same segment (both are relative to each frame's best senone), and the segment's
        length in seconds."""
        if self._loop is None:  # once a segment, whichever searches decode it
            for utterance in (self._phone_loop_reset, audio):
                self.phone_loop.reinit_feat()  # as for the grammar decode: no noise estimate
                self.phone_loop.start_utt()
                self.phone_loop.process_raw(utterance, False, True)
                self.phone_loop.end_utt()
            phones = list(self.phone_loop.seg())
            self._loop = acoustic_log_score(phones)
            self.last_phones = [
                (p.word, p.start_frame, p.end_frame, _ln(p.ascore) or 0.0) for p in phones
            ]
        grammar_score, grammar_frames = acoustic_log_score(self.decoder.seg())
        loop_score, loop_frames = self._loop
        llr = (
            grammar_score / grammar_frames - loop_score / loop_frames
            if grammar_frames and loop_frames
            else UNDERFLOW_LOG_PER_FRAME
        )
        return {"phone_llr": llr, "duration": len(audio) / 2 / SAMPLE_RATE}

    def _analyse(self) -> tuple[str | None, dict[str, float]]:
        """The first complete sentence in the n-best list and the features of the decode."""
        hyp = self.decoder.hyp()
        if hyp is None:
            return None, {}
        top_text = clean_words(hyp.hypstr)
        entries: list[tuple[str, float | None]] = [(top_text, _ln(hyp.score))]
        if top_text not in self.sentences:
            # The search can end off the grammar's final state (it then returns a part of a
            # sentence); the n-best list usually holds a complete one. It costs about twice the
            # decode, so only then.
            for entry in self.decoder.nbest():
                if entry is None or len(entries) > NBEST_DEPTH:
                    break
                entries.append((clean_words(entry.hypstr), _ln(entry.score)))
        complete = [(text, score) for text, score in entries if text in self.sentences]
        if not complete:
            return None, {}
        phrase, chosen_score = complete[0]
        top_score = entries[0][1] if entries else chosen_score

        words = [s for s in self.decoder.seg() if s.word not in FILLER_WORDS]
        frames = [max(1, s.end_frame - s.start_frame + 1) for s in words]
        per_frame = []
        for segment, count in zip(words, frames, strict=True):
            score = _ln(segment.ascore)
            per_frame.append(score / count if score is not None else UNDERFLOW_LOG_PER_FRAME)
        self.last_words = [
            (s.word.split("(")[0], s.start_frame, s.end_frame, score)
            for s, score in zip(words, per_frame, strict=True)
        ]
        speech_frames = sum(frames) or 1
        phones = sum(len(self.phones.get(w, "x").split()) for w in phrase.split())
        features = {
            "complete": float(top_text in self.sentences),
            "gap": (top_score - chosen_score)
            if top_score is not None and chosen_score is not None
            else 5.0,
            "speech_score": sum(p * f for p, f in zip(per_frame, frames, strict=True))
            / speech_frames,
            "worst_word_score": min(per_frame, default=UNDERFLOW_LOG_PER_FRAME),
            "frames_per_phone": speech_frames / max(1, phones),
            "words": float(len(phrase.split())),
        }
        return phrase, features
