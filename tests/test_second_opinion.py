"""The second opinion (second_opinion.py): Whisper tiny.en, then Moonshine tiny, hear a segment the
verifier rejected again, from its audio before noise suppression, and the decode is taken when
one heard the same command, or heard word for word the pain rating the coach waits for. Real
recognition on real recordings: CMU AN4's people saying "stop", "repeat that" and "yeah"
(tests/data/human/an4), a Free
Spoken Digit Dataset speaker saying "seven" (tests/data/human) and the test voices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.test_awaited import SECOND_OPINION
from tests.test_human_commands import AN4, NEAR_MISSES
from tests.test_human_commands import STOPS as REAL_STOPS
from voicecoach.core.intents import CommandIndex, Intent, held_command, match
from voicecoach.hearing.asr import Decoded, Utterance, pocketsphinx_engine
from voicecoach.hearing.asr.pocketsphinx_engine import PocketSphinxEngine
from voicecoach.hearing.asr.second_opinion import (
    ASK_FLOOR,
    CLOSE_SCORE,
    EXACT_SCORE,
    MoonshineListener,
    OpenListener,
    SecondOpinionError,
    agrees,
    answer_heard,
    listened_part,
    open_listeners,
    same_command,
    worth_asking,
    worth_decoding_as,
    worth_decoding_held,
)
from voicecoach.hearing.asr.stream import recognize_samples, recording_recognizer
from voicecoach.hearing.asr.word_check import WhisperCheck
from voicecoach.hearing.audio import Samples, read_wav, silence
from voicecoach.hearing.recognition import understand

TEST_CLIPS = Path(__file__).parent / "audio" / "en"
OTHER_SPEECH = TEST_CLIPS / "oov_go to the kitchen and get a spoon@flite-slt-100.wav"
TALK = ("go to the kitchen and get a spoon", "why did you do that")
"""Other speech, said one after the other, that makes the room a talking one."""
HELP = TEST_CLIPS / "help@espeak-en-gb-f2-165-60.wav"
"""A test voice's "help" that the grammar decoder hears as "nope" (a known failure before the
listeners' commands were decoded among their sentences)."""
SEVEN = Path(__file__).parent / "data" / "human" / "7_nicolas_48.wav"
"""A real "seven" that the grammar decoder hears as "all done" when a pain rating is awaited."""
SURELY_NOT = TEST_CLIPS / "oov_ask your doctor if it is right for you@flite-awb-110.wav"
"""Other speech the decoder hears as "let us start a figure four", which the verifier gives
about 0.01, under ASK_FLOOR."""


def recorded(path: Path) -> Samples:
    return np.concatenate([silence(0.5), read_wav(path), silence(1.0)])


@pytest.fixture(scope="module", params=["whisper", "moonshine"])
def listener(request: pytest.FixtureRequest) -> OpenListener:
    return WhisperCheck() if request.param == "whisper" else MoonshineListener()


def test_each_open_listener_writes_down_real_people(
    listener: OpenListener, bundled_index: CommandIndex
) -> None:
    for name in REAL_STOPS:
        words = listener.transcribe(recorded(AN4 / name))
        heard = match(words, bundled_index)
        assert heard is not None and heard.name == "stop", f"{name}: '{words}'"
    assert listener.transcribe(silence(0.0)) == ""


def test_the_same_command_means_the_same_intent_and_slots(bundled_index: CommandIndex) -> None:
    phrase_of = {p.text: p for p in bundled_index.grammar.phrases()}

    def read(words: str) -> Intent | None:
        return match(words, bundled_index)

    assert same_command(read("Hang on."), "hang on", phrase_of)
    assert same_command(read("Pause the session, please."), "pause it", phrase_of)
    assert not same_command(read("Pause."), "hold it for three", phrase_of)
    assert not same_command(read("Hold it for four."), "hold it for three", phrase_of)
    assert not same_command(read(""), "pause it", phrase_of)
    assert not same_command(read("Pause."), "not a sentence of the grammar", phrase_of)


def test_a_real_command_the_verifier_doubts_is_taken_at_once(
    bundled_index: CommandIndex,
) -> None:
    """Without the second opinion each is a near miss (the coach would ask again); with it, an
    open listener heard the same command, and it is taken the first time."""
    alone = PocketSphinxEngine(bundled_index.grammar, second_opinion=False)
    both = PocketSphinxEngine(bundled_index.grammar)
    assert both.listeners
    for name, said in NEAR_MISSES.items():
        (doubted,) = recognize_samples(alone, recorded(AN4 / name))
        assert not doubted.accepted and doubted.near_miss, doubted.reason
        (taken,) = recognize_samples(both, recorded(AN4 / name))
        intent = understand(taken, bundled_index).intent
        assert taken.accepted and intent is not None and intent.name == said, taken.reason
        assert SECOND_OPINION in taken.reason
        assert taken.confidence == doubted.confidence


class SaysPause:
    """An open listener that always hears "pause", and counts the segments it is asked."""

    name = "always pause"

    def __init__(self) -> None:
        self.asked = 0

    def transcribe(self, samples: Samples) -> str:
        self.asked += 1
        return "Pause."


class Says(SaysPause):
    def __init__(self, words: str) -> None:
        super().__init__()
        self.words = words
        self.name = f"always {words}"

    def transcribe(self, samples: Samples) -> str:
        self.asked += 1
        return self.words


def test_the_open_listeners_are_asked_in_turn_until_one_hears_the_command(
    bundled_index: CommandIndex,
) -> None:
    """Real commands the verifier doubts: a listener that heard something else leaves it to the
    next, and once one heard the same command the rest are not asked."""
    engine = PocketSphinxEngine(bundled_index.grammar, index=bundled_index)
    for name, said in NEAR_MISSES.items():
        engine.listeners = ()
        (doubted,) = recognize_samples(engine, recorded(AN4 / name))
        assert not doubted.accepted and doubted.text, doubted.reason
        other = Says("Hold it for seventy seconds.")
        same, unasked = Says(doubted.text), Says(doubted.text)
        engine.listeners = (other, same, unasked)
        (heard,) = recognize_samples(engine, recorded(AN4 / name))
        assert heard.accepted and f"{same.name} heard the same command" in heard.reason, said
        assert (other.asked, same.asked, unasked.asked) == (1, 1, 0)


def test_the_open_listeners_are_the_installed_ones_in_the_order_asked() -> None:
    whisper = Says("Whisper's words")
    assert open_listeners(("whisper",), whisper) == (whisper,)
    assert open_listeners(("whisper",), None) == ()
    (moonshine, first) = open_listeners(("moonshine", "whisper"), whisper)
    assert isinstance(moonshine, MoonshineListener) and first is whisper
    with pytest.raises(SecondOpinionError, match="no open listener vosk"):
        open_listeners(("vosk",), whisper)


def test_whisper_listens_with_the_model_that_checks_the_words(bundled_index: CommandIndex) -> None:
    """Whisper writes a segment down from the encoding it computed to check the decode: one
    model, loaded once."""
    engine = PocketSphinxEngine(bundled_index.grammar, index=bundled_index)
    assert id(engine.listeners[0]) == id(engine.word_check)
    assert [type(listener) for listener in engine.listeners] == [WhisperCheck, MoonshineListener]
    alone = PocketSphinxEngine(bundled_index.grammar, listeners=("moonshine",))
    assert [type(listener) for listener in alone.listeners] == [MoonshineListener]
    assert isinstance(alone.word_check, WhisperCheck)


def test_a_command_two_listeners_both_wrote_is_decoded_among_its_sentences_once(
    bundled_index: CommandIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two listeners write the same hold in their own words: its sentences are searched once."""
    engine = PocketSphinxEngine(bundled_index.grammar, index=bundled_index)
    searched: list[str] = []
    decode_among = engine._decode_among

    def counted(search: str) -> Decoded:
        searched.append(search)
        return decode_among(search)

    monkeypatch.setattr(engine, "_decode_among", counted)
    engine.listeners = (
        Says("Pause."), Says("Hold it for 70 seconds."), Says("Hold it for seventy seconds.")
    )  # fmt: skip
    (heard,) = recognize_samples(engine, recorded(HELP))  # decoded "nope", rejected
    assert not heard.accepted, heard.reason
    searches = [engine._answer_search(frozenset({intent})) for intent in ("pause", "set_hold")]
    assert searched == searches


def test_whisper_is_loaded_only_for_what_uses_it(
    bundled_index: CommandIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded: list[WhisperCheck | None] = []

    def counted() -> WhisperCheck | None:
        loaded.append(None)
        return None

    monkeypatch.setattr(pocketsphinx_engine, "load_whisper", counted)
    grammar = bundled_index.grammar
    PocketSphinxEngine(grammar, second_opinion=False, word_check=False, index=bundled_index)
    PocketSphinxEngine(grammar, rejection="decoder", index=bundled_index)
    assert loaded == []
    PocketSphinxEngine(grammar, word_check=False, listeners=("whisper",), index=bundled_index)
    PocketSphinxEngine(grammar, second_opinion=False, index=bundled_index)
    assert len(loaded) == 2


def test_a_command_the_segment_does_not_hold_is_not_taken(bundled_index: CommandIndex) -> None:
    """An open listener that writes "Pause." whatever it hears: other speech, and a "help" the
    decoder hears as "nope", decoded among the sentences of pause are not taken (the verifier
    rejects those decodes)."""
    engine = PocketSphinxEngine(bundled_index.grammar)
    fake = SaysPause()
    engine.listeners = (fake,)
    heard = recognize_samples(engine, recorded(OTHER_SPEECH))
    assert heard and fake.asked == sum(u.confidence >= ASK_FLOOR for u in heard)
    assert not any(u.accepted for u in heard), [u.reason for u in heard]
    (help_heard,) = recognize_samples(engine, recorded(HELP))
    assert fake.asked > 0 and not help_heard.accepted, help_heard.reason


def test_only_a_close_command_or_an_awaited_answer_word_for_word_is_decoded_again(
    bundled_index: CommandIndex,
) -> None:
    def read(words: str) -> Intent:
        heard = match(words, bundled_index)
        assert heard is not None, words
        return heard

    nothing: frozenset[str] = frozenset()
    rating: frozenset[str] = frozenset({"rating"})
    assert worth_decoding_as(read("Help."), nothing)
    close = read("Simple version, please.")  # "simpler version": easier
    assert CLOSE_SCORE <= close.score < EXACT_SCORE and worth_decoding_as(close, nothing)
    far = read("Could you help me a bit?")  # read as "could you repeat it"
    assert far.score < CLOSE_SCORE and not worth_decoding_as(far, nothing)
    assert not worth_decoding_as(read("Three."), nothing)  # a rating nobody asked for
    assert worth_decoding_as(read("Three."), rating)
    near_number = read("It's done")  # "it is one": an answer must be word for word
    assert near_number.name == "rating" and near_number.score >= CLOSE_SCORE
    assert not worth_decoding_as(near_number, rating)
    assert not worth_decoding_as(read("Yes."), nothing)
    assert worth_decoding_as(read("Yes."), frozenset({"yes", "no"}))
    # A sentence held among other words: any command but an answer.
    held = held_command("I'm ready, let's go again.", bundled_index)
    assert held is not None and held.name == "resume" and worth_decoding_held(held)
    number = held_command("It's about a four.", bundled_index)
    assert number is not None and number.name == "rating" and not worth_decoding_held(number)


def test_a_command_an_open_listener_writes_is_decoded_among_its_sentences(
    bundled_index: CommandIndex,
) -> None:
    """The decoder hears a test voice's "help" as "nope"; Whisper writes "Help", and decoded
    among the sentences of help alone the verifier takes it (more than a near miss)."""
    alone = PocketSphinxEngine(bundled_index.grammar, second_opinion=False)
    (doubted,) = recognize_samples(alone, recorded(HELP))
    assert doubted.text == "nope" and not doubted.accepted, doubted.reason
    assert doubted.confidence >= ASK_FLOOR
    engine = PocketSphinxEngine(bundled_index.grammar, index=bundled_index)
    (taken,) = recognize_samples(engine, recorded(HELP))
    intent = understand(taken, bundled_index).intent
    assert taken.accepted and intent is not None and intent.name == "help", taken.reason
    assert "decoded among its sentences the verifier gives it" in taken.reason
    assert f"where the decoder heard 'nope' ({doubted.reason.removeprefix('rejected: ')})" in (
        taken.reason
    )


HARDER_IN_PINK = TEST_CLIPS / "harder@espeak-en-gb-x-rp-andy-145-50+pink10.wav"
"""A test voice's "harder" in pink noise that the decoder hears as "pause that"; decoded among
the sentences of harder alone, the verifier finds it a near miss."""


def test_a_listeners_command_the_verifier_finds_a_near_miss_among_its_sentences_is_taken(
    bundled_index: CommandIndex,
) -> None:
    """A listener that writes "Harder." (as a person would hear it): the segment decoded among
    the sentences of harder is under the verifier's threshold but a near miss, and is taken."""
    engine = PocketSphinxEngine(bundled_index.grammar, index=bundled_index)
    engine.listeners = ()
    (alone,) = recognize_samples(engine, recorded(HARDER_IN_PINK))
    assert not alone.accepted and engine.phrase_of[alone.text].intent != "harder", alone.reason
    engine.listeners = (Says("Harder."),)
    (taken,) = recognize_samples(engine, recorded(HARDER_IN_PINK))
    intent = understand(taken, bundled_index).intent
    assert taken.accepted and intent is not None and intent.name == "harder", taken.reason
    assert engine.verifier is not None
    assert engine.verifier.near_miss <= taken.confidence < engine.verifier.threshold_for("harder")
    assert "at least a near miss" in taken.reason


def test_a_decode_still_rejected_says_what_each_listener_wrote(
    bundled_index: CommandIndex,
) -> None:
    """`recognize` and `test` show why a segment was rejected: the verifier's doubt, then what
    each open listener asked wrote, in turn (nothing, for one that wrote nothing)."""
    engine = PocketSphinxEngine(bundled_index.grammar, index=bundled_index)
    engine.listeners = ()
    (alone,) = recognize_samples(engine, recorded(HARDER_IN_PINK))
    assert not alone.accepted, alone.reason
    engine.listeners = (Says("The weather is nice today."), Says(""))
    (doubted,) = recognize_samples(engine, recorded(HARDER_IN_PINK))
    assert not doubted.accepted and doubted.text == alone.text
    assert doubted.reason == (
        f"{alone.reason}; always The weather is nice today. wrote 'The weather is nice today.'"
        "; always  wrote nothing"
    )


def test_a_command_held_among_a_listeners_other_words_is_decoded_among_its_sentences(
    bundled_index: CommandIndex,
) -> None:
    """A listener whose words hold a sentence of harder among others ("I said make it harder.",
    which the matcher reads as harder under CLOSE_SCORE): decoded among the sentences of harder,
    the same segment is a near miss and is taken."""
    engine = PocketSphinxEngine(bundled_index.grammar, index=bundled_index)
    words = "I said make it harder."
    read = match(words, bundled_index)
    assert read is None or read.score < CLOSE_SCORE
    engine.listeners = (Says(words),)
    (taken,) = recognize_samples(engine, recorded(HARDER_IN_PINK))
    intent = understand(taken, bundled_index).intent
    assert taken.accepted and intent is not None and intent.name == "harder", taken.reason
    assert f"wrote '{words}'" in taken.reason and "at least a near miss" in taken.reason


class CountedWhisper:
    """The engine's Whisper (its word check and listener at once), counting the segments it is
    asked to write down."""

    def __init__(self, whisper: WhisperCheck) -> None:
        self.whisper = whisper
        self.name = whisper.name
        self.asked = 0

    def transcribe(self, samples: Samples) -> str:
        self.asked += 1
        return self.whisper.transcribe(samples)

    def mean_log_probability(self, samples: Samples, sentence: str) -> float:
        return self.whisper.mean_log_probability(samples, sentence)


def test_a_decode_the_verifier_is_all_but_sure_of_is_heard_again_only_for_a_rating(
    bundled_index: CommandIndex,
) -> None:
    """...by a listener that must encode the segment itself; Whisper, which wrote it from the
    encoding of its word check, hears every rejected decode."""
    assert worth_asking(ASK_FLOOR, frozenset()) and not worth_asking(0.9 * ASK_FLOOR, frozenset())
    assert worth_asking(0.0, frozenset({"rating"}))
    assert not worth_asking(0.0, frozenset({"yes", "no"}))
    assert worth_asking(0.0, frozenset(), encoded=True)
    engine = PocketSphinxEngine(bundled_index.grammar, index=bundled_index)
    fake = SaysPause()
    engine.listeners = (fake,)
    (surely_not,) = recognize_samples(engine, recorded(SURELY_NOT))
    assert surely_not.text and surely_not.confidence < ASK_FLOOR, surely_not.reason
    assert fake.asked == 0 and not surely_not.accepted
    engine.expect(frozenset({"rating"}))
    (asked,) = recognize_samples(engine, recorded(SURELY_NOT))
    assert fake.asked == 1 and not asked.accepted, asked.reason
    engine.expect(frozenset())
    assert isinstance(engine.word_check, WhisperCheck)
    whisper = CountedWhisper(engine.word_check)
    engine.word_check, engine.listeners = whisper, (whisper, fake)
    (encoded,) = recognize_samples(engine, recorded(SURELY_NOT))
    assert encoded.confidence < ASK_FLOOR and not encoded.accepted, encoded.reason
    assert whisper.asked == 1 and fake.asked == 1


CHALLENGE_ME = TEST_CLIPS / "challenge me@espeak-en-us-nyc-m5-170-35.wav"
"""A test voice's "challenge me" that the decoder hears as "set it three", which the verifier
gives about 0.00, under ASK_FLOOR."""


def test_whisper_hears_again_a_decode_under_the_floor_and_its_command_is_taken(
    bundled_index: CommandIndex,
) -> None:
    """Whisper writes "challenge me" from the encoding of its word check; decoded among the
    sentences of harder, the verifier takes it. A listener that must encode the segment itself
    is not asked."""
    engine = PocketSphinxEngine(bundled_index.grammar, index=bundled_index)
    assert isinstance(engine.word_check, WhisperCheck)
    whisper, other = CountedWhisper(engine.word_check), Says("Challenge me.")
    engine.listeners = ()
    (alone,) = recognize_samples(engine, recorded(CHALLENGE_ME))
    assert not alone.accepted and alone.confidence < ASK_FLOOR, alone.reason
    engine.word_check, engine.listeners = whisper, (other, whisper)
    (taken,) = recognize_samples(engine, recorded(CHALLENGE_ME))
    intent = understand(taken, bundled_index).intent
    assert taken.accepted and intent is not None and intent.name == "harder", taken.reason
    assert taken.reason.startswith(f"accepted: {whisper.name} wrote")
    assert whisper.asked == 1 and other.asked == 0


def test_an_answer_nobody_asked_for_agrees_with_the_decoder_only_word_for_word(
    bundled_index: CommandIndex,
) -> None:
    phrase_of = {p.text: p for p in bundled_index.grammar.phrases()}
    nothing: frozenset[str] = frozenset()
    no = frozenset({"yes", "no"})

    def agreed(words: str, decoded: str, awaited: frozenset[str]) -> bool:
        return agrees(match(words, bundled_index), decoded, phrase_of, awaited)

    thanks = match("Thank you,", bundled_index)
    assert thanks is not None and thanks.name == "no" and thanks.score < EXACT_SCORE
    assert not agreed("Thank you,", "negative", nothing)
    assert agreed("Thank you,", "negative", no)
    assert agreed("No.", "negative", nothing)
    assert agreed("Pause the session, please.", "pause it", nothing)  # not an answer
    assert not agreed("Pause.", "negative", no)


def test_an_awaited_answer_is_the_open_listeners_words_exactly(bundled_index: CommandIndex) -> None:
    rating = frozenset({"rating"})

    def read(words: str) -> Intent | None:
        return match(words, bundled_index)

    heard = answer_heard(read("Seven."), rating)
    assert heard is not None and (heard.name, heard.slots) == ("rating", {"level": 7})
    assert answer_heard(read("Seven."), frozenset()) is None  # nothing was asked
    assert answer_heard(read("Stop."), rating) is None  # not an answer to it
    assert answer_heard(read("It's about a seven."), rating) is None  # not word for word
    assert answer_heard(read(""), rating) is None
    # Yes or no is not taken from the listener's words alone (ANSWERS_IN_WORDS).
    assert answer_heard(read("Yes."), frozenset({"yes", "no"})) is None
    heard = answer_heard(read("Three."), frozenset({"rating", "yes", "no"}))
    assert heard is not None and (heard.name, heard.slots) == ("rating", {"level": 3})


def test_a_real_seven_the_decoder_hears_as_all_done_is_taken_as_the_answer(
    bundled_index: CommandIndex,
) -> None:
    """After "it hurts" a real person says "seven"; the grammar decoder hears "all done", and
    its verifier rejects it. Moonshine writes down "Seven.": the answer is seven, at once."""
    audio = recorded(SEVEN)
    alone = PocketSphinxEngine(bundled_index.grammar, second_opinion=False)
    alone.expect(frozenset({"rating"}))
    (doubted,) = recognize_samples(alone, audio)
    assert not doubted.accepted and doubted.text == "all done", doubted.reason
    both = PocketSphinxEngine(bundled_index.grammar, index=bundled_index)
    both.expect(frozenset({"rating"}))
    (taken,) = recognize_samples(both, audio)
    intent = understand(taken, bundled_index).intent
    assert intent is not None, taken.reason
    assert (intent.name, intent.slots) == ("rating", {"level": 7})
    assert "heard the awaited answer 'seven'" in taken.reason, taken.reason
    # Not asked for a rating, the same "seven" is not taken for one.
    both.expect(frozenset())
    (unasked,) = recognize_samples(both, audio)
    assert understand(unasked, bundled_index).intent is None, unasked.reason


def test_the_open_listener_hears_the_audio_before_noise_suppression(
    bundled_index: CommandIndex,
) -> None:
    engine = PocketSphinxEngine(bundled_index.grammar, index=bundled_index)
    heard: list[Samples] = []

    class Keeps(SaysPause):
        def transcribe(self, samples: Samples) -> str:
            heard.append(samples)
            return super().transcribe(samples)

    engine.listeners = (Keeps(),)
    recognize_samples(engine, recorded(OTHER_SPEECH))
    assert heard, "nothing was heard again"
    undenoised = np.frombuffer(engine.last_undenoised, dtype=np.int16)
    denoised = np.frombuffer(engine.last_segment, dtype=np.int16)
    assert undenoised.size == pytest.approx(denoised.size, abs=1000)
    assert not np.array_equal(heard[-1], listened_part(denoised)[: heard[-1].size])
    assert np.array_equal(heard[-1], listened_part(undenoised))


def test_nothing_is_heard_again_in_a_talking_room(bundled_index: CommandIndex) -> None:
    """In a talking room a command needs a surer decode than the second opinion makes: the
    open listener is not asked."""
    engine = PocketSphinxEngine(bundled_index.grammar, index=bundled_index)
    fake = SaysPause()
    engine.listeners = (fake,)
    talk = [read_wav(TEST_CLIPS / f"oov_{t}@flite-slt-100.wav") for t in TALK * 2]
    audio = np.concatenate([silence(0.5), *(np.concatenate([t, silence(1.5)]) for t in talk)])
    recognizer, heard = recording_recognizer(engine, audio)
    asked: list[tuple[Utterance, bool, bool]] = []  # (utterance, room talking, listener asked)
    for start in range(0, heard.size, 320):
        for utterance in recognizer.accept(heard[start : start + 320]):
            talking = recognizer.room.talking(utterance.start_s)
            asked.append((utterance, talking, fake.asked > sum(a for *_, a in asked)))
    doubted = [(talking, was_asked) for u, talking, was_asked in asked if u.text]
    assert (False, True) in doubted, [u.reason for u, *_ in asked]  # asked in a quiet room
    assert any(talking for talking, _ in doubted)
    assert (True, True) not in doubted  # never asked in a talking room
