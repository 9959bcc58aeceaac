"""Synthetic test speech: espeak-ng and flite voices, pink noise and babble mixed at a set SNR.

For test audio and benchmarks (not used by a coaching session). Needs the `espeak-ng` and
`flite` programs (Debian packages of the same names)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from voicecoach.core.errors import VoiceCoachError
from voicecoach.hearing.audio import SAMPLE_RATE, Samples, read_wav, to_int16
from voicecoach.hearing.audio import active_rms as active_rms

PAD_S: Final = 0.4
"""Silence before and after each synthetic utterance."""


@dataclass(frozen=True)
class Voice:
    """A TTS voice with its speaking rate and pitch: `engine` is "espeak" or "flite"."""

    engine: str
    """"espeak" (espeak-ng, its mbrola voices "mb-..." too), "flite", "festival" (its
    text2wave) or "pico" (SVOX Pico's pico2wave)."""
    name: str
    speed: int = 160
    """Words per minute (espeak); for flite and festival, 100 * duration stretch (100 = normal);
    for pico, its speed level (100 = normal, lower is slower)."""
    pitch: int = 50
    """espeak pitch 0-99; pico pitch level (100 = normal); ignored by flite and festival."""

    @property
    def id(self) -> str:
        if self.engine in ("flite", "festival"):
            return f"{self.engine}-{self.name}-{self.speed}"
        if self.engine == "pico":
            return f"pico-{self.name}-{self.speed}-{self.pitch}"
        return f"espeak-{self.name.replace('+', '-')}-{self.speed}-{self.pitch}"


def synthesize(text: str, voice: Voice) -> Samples:
    """`text` spoken by `voice`, as 16 kHz mono int16 with PAD_S of silence around it."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "speech.wav"
        if voice.engine == "espeak":
            command = [
                "espeak-ng",
                "-v",
                voice.name,
                "-s",
                str(voice.speed),
                "-p",
                str(voice.pitch),
            ]
            command += ["-w", str(out), text]
        elif voice.engine == "flite":
            stretch = f"{voice.speed / 100:.2f}"
            command = ["flite", "-voice", voice.name, "--setf", f"duration_stretch={stretch}"]
            command += ["-t", text, "-o", str(out)]
        elif voice.engine == "festival":
            stretch = f"{voice.speed / 100:.2f}"
            setup = f"(voice_{voice.name}) (Parameter.set 'Duration_Stretch {stretch})"
            command = ["text2wave", "-eval", setup, "-o", str(out)]
        elif voice.engine == "pico":
            marked = (
                f"<speed level='{voice.speed}'><pitch level='{voice.pitch}'>{text}</pitch></speed>"
            )
            command = ["pico2wave", "-l", voice.name, "-w", str(out), marked]
        else:
            raise VoiceCoachError(f"unknown TTS engine {voice.engine!r}")
        if shutil.which(command[0]) is None:
            package = {"text2wave": "festival", "pico2wave": "libttspico-utils"}.get(
                command[0], command[0]
            )
            raise VoiceCoachError(f"{command[0]} is not installed: apt-get install {package}")
        if voice.engine == "festival":
            spoken = text.encode()
            subprocess.run(command, input=spoken, check=True, capture_output=True, timeout=60)
        else:
            subprocess.run(command, check=True, capture_output=True, timeout=60)
        if not out.exists():  # text2wave reports an unknown voice but exits 0
            raise VoiceCoachError(f"{voice.engine} could not speak with voice {voice.name!r}")
        speech = read_wav(out)
    pad = np.zeros(round(PAD_S * SAMPLE_RATE), np.int16)
    return np.concatenate([pad, trim_silence(speech), pad])


def trim_silence(samples: Samples, threshold: float = 100.0) -> Samples:
    """Drops leading and trailing samples quieter than `threshold` (TTS adds its own pauses)."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > threshold)
    if loud.size == 0:
        return samples[:0]
    return samples[loud[0] : loud[-1] + 1]


def pink_noise(count: int, seed: int) -> npt.NDArray[np.float64]:
    """Pink (1/f) noise with unit RMS, shaped in the frequency domain."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(count))
    frequencies = np.fft.rfftfreq(count)
    frequencies[0] = frequencies[1]
    noise: npt.NDArray[np.float64] = np.fft.irfft(spectrum / np.sqrt(frequencies), count)
    return noise / float(np.sqrt(np.mean(noise**2)))


def mix_at_snr(speech: Samples, noise: npt.NDArray[np.float64], snr_db: float) -> Samples:
    """Speech plus noise scaled so that active speech level / noise RMS is `snr_db`."""
    if noise.size < speech.size:
        noise = np.resize(noise, speech.size)
    noise = noise[: speech.size]
    noise_rms = float(np.sqrt(np.mean(noise**2))) or 1.0
    gain = active_rms(speech) / noise_rms / (10 ** (snr_db / 20))
    mixed = speech.astype(np.float64) + gain * noise
    peak = np.max(np.abs(mixed))
    if peak > 32000:
        mixed *= 32000 / peak
    return to_int16(mixed)


def babble(talkers: list[Samples], count: int) -> npt.NDArray[np.float64]:
    """Several talkers at once, each looped to `count` samples and levelled, then summed."""
    total = np.zeros(count)
    for index, talker in enumerate(talkers):
        level = active_rms(talker) or 1.0
        looped = np.resize(talker.astype(np.float64) / level, count + index * 3001)
        total += looped[index * 3001 :]
    return total


# Voices of the committed test clips (tests/audio/en). Thresholds are tuned on TUNING_VOICES,
# which share no voice variant with these, so test figures are on unseen voices.
TEST_VOICES: Final = (
    Voice("espeak", "en-us+m3", 150, 45),
    Voice("espeak", "en-gb+f2", 165, 60),
    Voice("espeak", "en-gb-scotland+m1", 140, 40),
    Voice("espeak", "en-029+f4", 175, 55),
    Voice("espeak", "en-us+Annie", 155, 50),
    Voice("espeak", "en-us-nyc+m5", 170, 35),
    Voice("espeak", "en-gb-x-rp+andy", 145, 50),
    Voice("espeak", "en-us+belinda", 160, 65),
    Voice("flite", "slt", 100),
    Voice("flite", "awb", 110),
    Voice("flite", "rms", 95),
)
TUNING_VOICES: Final = (
    Voice("espeak", "en-us+f1", 160, 55),
    Voice("espeak", "en-gb+m2", 150, 45),
    Voice("espeak", "en-us+edward", 170, 40),
    Voice("espeak", "en-gb+linda", 145, 60),
    Voice("espeak", "en-029+m6", 155, 50),
    Voice("flite", "kal16", 100),
    Voice("flite", "kal", 105),
)

# The verifier's training voices (bench/train_verifier.py): many more, and still none of the test
# voices' variants (espeak-ng) or speakers (flite slt, awb, rms). Festival's kal and ked are
# diphone voices cut from recordings of two men; the MBROLA voices (espeak-ng's "mb-" voices and
# festival's "_mbrola" ones) are diphones of recorded speakers too, some of them speaking English
# with a German, French, Dutch, Swedish, Polish, Hungarian, Romanian, Greek or Afrikaans accent;
# SVOX Pico's en-US is a statistical voice trained on one woman.
TRAINING_ESPEAK_VARIANTS: Final = (
    "f1", "f3", "f5", "m2", "m4", "m6", "m7", "edward", "linda", "steph", "travis", "john",
    "david", "max", "robert", "zac", "victor", "shelby", "Alicia", "Andrea", "Caleb", "Lee",
    "Mike", "Paul", "Quincy", "Rob", "Storm", "anika", "grandma", "grandpa", "norbert", "Gene",
)  # fmt: skip
TRAINING_ESPEAK_LANGUAGES: Final = ("en-us", "en-gb", "en-029", "en-gb-x-rp", "en-us-nyc")
TRAINING_MBROLA_VOICES: Final = (
    "mb-us1", "mb-us2", "mb-en1", "en-german-1", "en-german-2", "en-german-4", "en-german-6",
    "en-french-1", "en-dutch", "en-swedish", "en-polish", "en-hungarian", "en-romanian",
    "en-greek", "en-afrikaans",
)  # fmt: skip
TRAINING_FIXED_VOICES: Final = (
    Voice("flite", "kal16", 100),
    Voice("flite", "kal", 105),
    Voice("festival", "kal_diphone", 100),
    Voice("festival", "ked_diphone", 100),
    Voice("festival", "us1_mbrola", 100),
    Voice("festival", "us2_mbrola", 100),
    Voice("festival", "en1_mbrola", 100),
)
TRAINING_PICO_LANGUAGES: Final = ("en-US",)
# Voices neither the tests nor training use, for checking that tuning carries over to new
# speakers (bench/devset.py): pico's British woman, MBROLA us3 and four accented speakers.
HELD_OUT_VOICES: Final = (
    Voice("pico", "en-GB", 100, 100),
    Voice("espeak", "mb-us3", 150, 50),
    Voice("festival", "us3_mbrola", 100),
    Voice("espeak", "en-german-3", 155, 55),
    Voice("espeak", "en-german-5", 145, 45),
    Voice("espeak", "en-french-4", 150, 60),
    Voice("espeak", "en-swedish-f", 160, 50),
)


def training_voice(rng: np.random.Generator) -> Voice:
    """A random training voice: an espeak-ng formant variant at a random rate and pitch (two in
    five draws), an MBROLA voice through espeak-ng (one in four), a recorded-speaker voice of
    flite or festival at a random pace, or Pico at a random speed and pitch."""
    draw = rng.random()
    if draw < 0.2:
        fixed = TRAINING_FIXED_VOICES[int(rng.integers(len(TRAINING_FIXED_VOICES)))]
        return Voice(fixed.engine, fixed.name, int(rng.integers(85, 125)))
    if draw < 0.3:
        language = TRAINING_PICO_LANGUAGES[int(rng.integers(len(TRAINING_PICO_LANGUAGES)))]
        return Voice("pico", language, int(rng.integers(75, 125)), int(rng.integers(80, 125)))
    rate, pitch = int(rng.integers(125, 200)), int(rng.integers(20, 80))
    if draw < 0.55:
        name = TRAINING_MBROLA_VOICES[int(rng.integers(len(TRAINING_MBROLA_VOICES)))]
        return Voice("espeak", name, rate, pitch)
    language = TRAINING_ESPEAK_LANGUAGES[int(rng.integers(len(TRAINING_ESPEAK_LANGUAGES)))]
    variant = TRAINING_ESPEAK_VARIANTS[int(rng.integers(len(TRAINING_ESPEAK_VARIANTS)))]
    return Voice("espeak", f"{language}+{variant}", rate, pitch)


def at_level_of(original: Samples, changed: npt.NDArray[np.float64]) -> Samples:
    """`changed` (a filtered `original`) scaled back to `original`'s active level, as int16."""
    level = active_rms(original) / (active_rms(to_int16(changed)) or 1.0)
    return to_int16(np.clip(changed * level, -32000, 32000))


def reverberate(samples: Samples, rt60_s: float, seed: int) -> Samples:
    """`samples` in a simulated room: convolved with exponentially decaying noise whose level
    falls 60 dB in `rt60_s` (a direct path first), at the same active level as before."""
    rng = np.random.default_rng(seed)
    length = max(1, round(rt60_s * SAMPLE_RATE))
    t = np.arange(length) / SAMPLE_RATE
    response = rng.standard_normal(length) * np.exp(-6.9 * t / rt60_s) * 0.2
    response[0] = 1.0
    size = samples.size + length - 1
    spectrum = np.fft.rfft(samples.astype(np.float64), size) * np.fft.rfft(response, size)
    wet = np.fft.irfft(spectrum, size)[: samples.size]  # convolution, by FFT: rooms are long
    return at_level_of(samples, wet)


def microphone_colour(samples: Samples, seed: int) -> Samples:
    """`samples` as a cheaper microphone or a phone hears them: cut above a random frequency
    between 3.5 and 7.5 kHz (an 8 kHz recording resampled has nothing above 4 kHz) and tilted
    by a random slope of -6 to +6 dB across the band, at the same active level."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(samples.astype(np.float64))
    frequencies = np.fft.rfftfreq(samples.size, 1 / SAMPLE_RATE)
    cutoff = float(rng.uniform(3500.0, 7500.0))
    tilt_db = float(rng.uniform(-6.0, 6.0)) * (frequencies / (SAMPLE_RATE / 2) - 0.5)
    spectrum *= 10 ** (tilt_db / 20) / (1.0 + (frequencies / cutoff) ** 12)
    return at_level_of(samples, np.fft.irfft(spectrum, samples.size))
