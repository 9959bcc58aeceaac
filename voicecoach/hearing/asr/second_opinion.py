"""Second listeners: open-vocabulary recognisers that hear a rejected segment again.

The grammar decoder always finds some command in any sound, so the verifier must reject most of
what it hears, and it rejects many right decodes with them. A recogniser that is not bound to the
commands is an independent witness: when it writes down, in its own words, the same command
(same intent, same slots, as `intents.match` reads free text) that the grammar decoder heard,
the decode is taken even though the verifier was unsure. Two recognisers that share neither
model nor search rarely agree on a command by chance, so this takes back right decodes without
taking much of the other speech. While the coach waits for a pain rating, the listener's words are
also taken when they are word for word a rating, whatever the decoder heard (`answer_heard`).
And when a listener writes another command than the decoder heard, closely enough (an answer
word for word: `worth_decoding_as`), the segment is decoded again among that command's
sentences alone, and the decode is taken if the verifier, judging it as if nothing were awaited,
takes it or finds it a near miss (pocketsphinx_engine `_listeners_command`): the listener's words
alone took other speech in babble on the development set; held to the verifier's near miss,
commands 152 / 76 / 59 -> 154 / 76 / 60 of 200 / 120 / 120 (clean / pink / babble) against the
verifier's acceptance, and the only other speech it took was a "goodbye", which the grammar has
for "stop" (bench/README.md, "A listener's command at a near miss"). Words that hold a sentence
of a command whole among words that were not said ("I'm ready, let's go again.",
`intents.held_command`: a sentence of two words or more that is more than half of them; not
an answer) are decoded among that command's sentences in the same way (`worth_decoding_held`):
on the development set, commands 159 / 76 / 64 -> 161 / 76 / 66 for the same other speech
rejected (bench/README.md, "Commands held among other words").

The listener hears the segment as it came, before noise suppression (the stream gives it,
`HearsAgain`): RNNoise's output, which suits the grammar decoder, made Moonshine write babble
into the words. Chosen on the development set (bench/README.md, "The second opinion"): with the
audio before noise suppression, commands right in babble 38 -> 48 of 120, clean 139 -> 137 of
200, pink noise 71 of 120 both; the answers rule took 17 more of 500 human digits.

The listeners are asked in turn (OPEN_LISTENERS) until one hears the command or the answer
(Moonshine only about decodes the verifier gave at least ASK_FLOOR):
Whisper tiny.en first, from the encoding its word check (`word_check.py`) computed for the same
audio already, so that only its greedy writing costs (20 to 45 ms a segment, by its length:
`word_check.token_budget`); then Moonshine tiny (English, 27 million parameters, MIT), whose
model and runtime ship inside the moonshine-voice 0.0.73 wheel (later versions download the
model instead). They miss different commands: on the development set (bench/README.md, "Two
listeners"), Moonshine alone / both took commands clean 147 / 150 of 200, real digits in babble
166 / 177 of 250, for the same other speech rejected but one clip while an answer is awaited.
A listener whose wheels are not installed is left out; with neither, the engine hears without
the second opinion.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Final, Protocol

import numpy as np

from voicecoach.core.errors import VoiceCoachError
from voicecoach.core.grammar import Phrase
from voicecoach.core.intents import Intent
from voicecoach.core.session import ANSWERS_AWAITED
from voicecoach.hearing.asr.stream import PREROLL_S
from voicecoach.hearing.audio import SAMPLE_RATE, Samples

OPEN_LISTENERS: Final = ("whisper", "moonshine")
"""The open listeners a rejected decode is heard again by, in turn (`open_listeners`): Whisper
first, which writes the segment down from the encoding its word check computed already."""
MODEL_NAME: Final = "tiny-en"
SINGLE_THREAD: Final = "MOONSHINE_ORT_SINGLE_THREAD"
NO_VOICE_DETECTION: Final = "0"
"""Moonshine's own voice activity threshold: 0, every window is speech. The segment it is given
was cut by the stream's endpointer already; left on, the library's detector (Silero, in one
stream that every `transcribe_without_streaming` call reuses) carries its state from call to
call, and the same recording came out "You.", "The heel.", "Heal.", "The fuel.", then nothing,
on five calls in a row."""
ANSWERS_IN_WORDS: Final = frozenset({"rating"})
"""The awaited answers taken from the open listener's words alone (`answer_heard`): a pain
rating. Not yes or no: on the development set they took no more commands, and on the human
set's tune half (Picovoice's words and RAVDESS's sentences, a third of them, heard while an
answer is awaited) Moonshine's "Uh-huh" in a sentence was taken for a yes; "yeah", "okay" and
"no" are what an open recogniser writes for an unclear short sound. With ratings alone the
human digits gained the same (454 -> 471 of 500)."""
ASK_FLOOR: Final = 0.03
"""A decode the verifier gives less than this is not heard again by Moonshine, unless a pain
rating is awaited (the answers rule takes a rating whatever the decoder heard). Whisper, which
writes a segment down from the encoding its word check computed already (20 to 45 ms for the
greedy writing), hears every rejected decode (`worth_asking`): since a listener's other command
is decoded among its sentences, what it writes under the floor takes commands the decoder
misheard. On the development set, against the floor for both: commands 157 / 76 / 61 ->
159 / 76 / 64 of 200 / 120 / 120, the same other speech rejected (with `agrees`), 2.5% more
computing (bench/README.md, "Whisper under the floor"). For Moonshine: the open listener then
almost never agrees with the decoder, and its run is a tenth of all the computing. On the
development set (bench/devset.py, every rejected decode with Moonshine's words; a script outside
the repository), of 683 decodes heard again, 98 were under 0.03 with no rating awaited, and
hearing them again took no command, right or wrong; under 0.05, 138 and two wrong commands;
under 0.1, 207 and four right ones. On bench/asr.py's run (the eval half, looked at afterwards)
it lost three right commands that Moonshine had agreed with (a real person's "no" among them)
and avoided eight wrong takes of real people's other speech (README.md, "Cheaper")."""
EXACT_SCORE: Final = 100.0
"""`intents.match`'s score of words that are a sentence of the grammar."""
CLOSE_SCORE: Final = 85.0
"""The least `intents.match` score at which a listener's other command (not an answer) is
decoded among its sentences (`worth_decoding_as`). On the development set, with the near miss:
commands 154 / 76 / 60 of 200 / 120 / 120 when only exact words were, 157 / 76 / 61 at 85 for
the same other speech rejected, with answers word for word (bench/README.md, "A listener's
command at a near miss")."""
LEAD_S: Final = 0.1
"""How much of the quiet before the speech the open listener hears. A segment begins PREROLL_S
(0.25 s) before it, for the grammar decoder; from that much of the noise floor Moonshine often
writes a word that was not said ("You stop.", "The stop." for two real people's "stop"), and the
text no longer means the command. On the development set (bench/devset.py; a script outside the
repository), decodes taken by agreement: clean commands 136 of 200 with the whole preroll, 137
with 0.1 s of it, 133 with none; other speech rejected 95 and 96 of 100."""


class OpenListener(Protocol):
    """Writes down whatever was said in a segment (16 kHz mono int16)."""

    name: str

    def transcribe(self, samples: Samples) -> str: ...


class SecondOpinionError(VoiceCoachError):
    """The second listener's model cannot be loaded."""


class MoonshineListener:
    """Moonshine tiny, from the model files inside the moonshine-voice wheel."""

    name = f"moonshine {MODEL_NAME}"

    def __init__(self) -> None:
        # One thread: libmoonshine's ONNX runtime otherwise spreads each run over every core
        # and spends the second one waiting. On 124 segments of the development set (201 s of
        # audio, two cores): 10.2 s of CPU instead of 19.2 s, for 10.2 s of wall time instead
        # of 9.7 s; the same words on 311 segments. Read when the library makes its sessions.
        os.environ.setdefault(SINGLE_THREAD, "1")
        from moonshine_voice.moonshine_api import ModelArch
        from moonshine_voice.transcriber import Transcriber
        from moonshine_voice.utils import get_model_path

        folder = get_model_path(MODEL_NAME)
        if not (folder / "encoder_model.ort").is_file():
            raise SecondOpinionError(
                "this moonshine-voice has no bundled model (pip install moonshine-voice==0.0.73)",
                path=folder,
            )
        try:
            self._transcriber: Any = Transcriber(
                folder, ModelArch.TINY, options={"vad_threshold": NO_VOICE_DETECTION}
            )
        except Exception as error:  # the library raises its own error types
            raise SecondOpinionError(f"cannot load Moonshine: {error}", path=folder) from None

    def transcribe(self, samples: Samples) -> str:
        audio = (np.asarray(samples, dtype=np.float32) / 32768.0).tolist()
        if not audio:
            return ""
        transcript = self._transcriber.transcribe_without_streaming(audio, SAMPLE_RATE)
        return " ".join(line.text.strip() for line in transcript.lines).strip()


def listened_part(segment: Samples) -> Samples:
    """The part of a decoder's segment the open listener is given: from LEAD_S before the
    speech."""
    return segment[round((PREROLL_S - LEAD_S) * SAMPLE_RATE) :]


def load_moonshine() -> OpenListener | None:
    """Moonshine when its wheel (with the bundled model) is installed, else None."""
    try:
        import moonshine_voice  # noqa: F401
    except ImportError:
        return None
    return MoonshineListener()


def open_listeners(
    names: tuple[str, ...], whisper: OpenListener | None
) -> tuple[OpenListener, ...]:
    """The open listeners `names` (of OPEN_LISTENERS) that are installed, in that order: `whisper`
    is the engine's word check (`word_check.WhisperCheck`), which writes down a segment from
    the encoding it has already computed for the check."""
    unknown = sorted(set(names) - set(OPEN_LISTENERS))
    if unknown:
        raise SecondOpinionError(f"no open listener {', '.join(unknown)}")
    found = {"whisper": lambda: whisper, "moonshine": load_moonshine}
    listeners = (found[name]() for name in names)
    return tuple(listener for listener in listeners if listener is not None)


def worth_asking(confidence: float, awaited: frozenset[str], *, encoded: bool = False) -> bool:
    """Whether a rejected decode of this verifier `confidence` is heard again by a listener,
    while the coach waits for the `awaited` answers (ASK_FLOOR). `encoded`: the listener writes
    from an encoding of the segment computed already (Whisper, from its word check), and is
    asked whatever the verifier gave."""
    return encoded or confidence >= ASK_FLOOR or bool(awaited & ANSWERS_IN_WORDS)


def same_command(heard: Intent | None, decoded: str, phrase_of: Mapping[str, Phrase]) -> bool:
    """Whether `heard` (the open listener's words, as `intents.match` read them) is the command
    of the grammar's sentence `decoded`: the same intent with the same slots."""
    phrase = phrase_of.get(decoded)
    if phrase is None or heard is None:
        return False
    return (heard.name, dict(heard.slots)) == (phrase.intent, dict(phrase.slots))


ANSWERS: Final = frozenset().union(*ANSWERS_AWAITED.values())
"""Pain ratings, yes and no: they mean something only as the answer to the coach's question."""


def agrees(
    heard: Intent | None, decoded: str, phrase_of: Mapping[str, Phrase], awaited: frozenset[str]
) -> bool:
    """Whether the open listener's words (`heard`) take the decoder's sentence `decoded`: the
    same command (`same_command`), and for an answer nobody asked for (a rating, yes or no the
    coach is not waiting for) word for word, as `worth_decoding_as` asks. On the development
    set, Whisper's "Thank you," (read as "no thank you", 86) took a clip of other speech the
    decoder heard as "negative"."""
    if heard is None or not same_command(heard, decoded, phrase_of):
        return False
    return not unasked_answer(heard, awaited) or heard.score >= EXACT_SCORE


def unasked_answer(heard: Intent, awaited: frozenset[str]) -> bool:
    """Whether `heard` is an answer (ANSWERS) the coach is not waiting for."""
    return heard.name in ANSWERS and heard.name not in awaited


def worth_decoding_as(heard: Intent, awaited: frozenset[str]) -> bool:
    """Whether the segment is decoded again among the sentences of `heard`, a command an open
    listener wrote that the decoder did not hear. A pain rating, a yes or a no only when the
    coach has asked for it and the listener wrote it word for word (a sentence of the grammar
    once normalised): the session does nothing with an answer nobody asked for (a test voice's
    "freeze", which Moonshine wrote as "Three.", was taken as a rating where the coach had said
    "Sorry, say that again?"), and on the development set a near match took other speech for
    a number ("It's done" as "it's one"). Any other command when the matcher reads the words as
    it at CLOSE_SCORE or more ("Simple version, please." as "simple version please", easier)."""
    if heard.name in ANSWERS:
        return heard.score >= EXACT_SCORE and not unasked_answer(heard, awaited)
    return heard.score >= CLOSE_SCORE


def worth_decoding_held(held: Intent) -> bool:
    """Whether the segment is decoded again among the sentences of `held`, a command whose
    sentence an open listener's words hold among other words (`intents.held_command`): any but
    an answer (a rating, yes or no), which a listener writes for many short sounds."""
    return held.name not in ANSWERS


def answer_heard(heard: Intent | None, awaited: frozenset[str]) -> Intent | None:
    """`heard` (the open listener's words, as `intents.match` read them) when it is an answer
    the coach waits for (an intent of `awaited` and of ANSWERS_IN_WORDS) word for word (a
    sentence of the grammar once normalised), else None. The grammar decoder, whose best guess
    was something else, is then overruled: a person asked for a pain rating says a number, and
    the open listener writes a bare number down more surely than the decoder tells it from the
    other sentences of the grammar."""
    if heard is None or heard.score < EXACT_SCORE:
        return None
    return heard if heard.name in awaited & ANSWERS_IN_WORDS else None
