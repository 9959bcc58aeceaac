"""Adapts PocketSphinx's English model to real people heard through voicecoach's front end:
one global MLLR transform of the model's means (voicecoach/hearing/asr/mllr_matrix), which
the grammar decoder and the phone loop load with the model.

The model in the pocketsphinx wheel was trained on clean read speech through PocketSphinx's
own front end; voicecoach hears crowd-sourced microphones after its gain, denoiser and noise
floor. The transform is estimated by SphinxTrain's Baum-Welch counts (`bw`) and `mllr_solve`
on what the decoder itself is given: each recording of the human set's *tune* half is heard
as bench/asr.py hears one (0.5 s of quiet around it, the same front end and endpointer), and
the audio of its one speech segment is aligned with what was said. Recordings heard as more
or fewer than one segment are left out. Only recordings made at 16 kHz or more (SOURCES: the
wake-word benchmark and RAVDESS), as a microphone gives: the digits of the Free Spoken Digit
Dataset were recorded at 8 kHz. Never on a test set: nothing of the eval half.

Needs SphinxTrain and the PocketSphinx and SphinxBase tools from Debian (bench/README.md):

    sudo apt-get install sphinxtrain sphinxbase-utils pocketsphinx
    .venv/bin/python bench/adapt_acoustic.py --human DIR [--write]

About 8 minutes on two cores, most of it hearing the recordings; the segments are kept in
out/adapt/ for the next run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import struct
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import numpy as np

from voicecoach.core.catalog import load_catalog
from voicecoach.core.grammar import load_grammar
from voicecoach.hearing.asr.pocketsphinx_engine import ADAPTATION, PocketSphinxEngine, model_paths
from voicecoach.hearing.asr.stream import recognize_samples
from voicecoach.hearing.audio import read_wav, silence

sys.path.insert(0, str(Path(__file__).parent))
from humanset import HumanRecording, read_human_set

ROOT: Final = Path(__file__).resolve().parent.parent
WORK: Final = ROOT / "out" / "adapt"
PAD_S: Final = 0.5
"""Quiet around each recording, as bench/asr.py hears the human set (HUMAN_PAD_S)."""
SOURCES: Final = ("Picovoice/wake-word-benchmark", "RAVDESS")
EXTRA_PRONUNCIATIONS: Final = {"snowboy": "S N OW B OY"}
"""Words of the tune half that the CMU dictionary lacks."""
SPHINXTRAIN: Final = Path("/usr/lib/sphinxtrain")
TOOLS: Final = {
    "bw": SPHINXTRAIN / "bw",
    "mllr_solve": SPHINXTRAIN / "mllr_solve",
    "sphinx_fe": Path(shutil.which("sphinx_fe") or "/usr/bin/sphinx_fe"),
    "pocketsphinx_mdef_convert": Path(
        shutil.which("pocketsphinx_mdef_convert") or "/usr/bin/pocketsphinx_mdef_convert"
    ),
}


class AdaptError(Exception):
    """Something the adaptation needs is missing."""


def adaptation_recordings(folder: Path) -> list[HumanRecording]:
    """The tune half's words and sentences of SOURCES."""
    return [
        r
        for r in read_human_set(folder)
        if r.half == "tune" and r.kind != "noise" and r.source.startswith(SOURCES)
    ]


_ENGINE: PocketSphinxEngine | None = None


def _start_worker() -> None:
    global _ENGINE
    _ENGINE = PocketSphinxEngine(load_grammar(load_catalog()), rejection="none")


def segment_of(path: Path) -> bytes | None:
    """The audio the grammar decoder is given for the recording at `path`, when it is heard as
    one segment (16-bit little-endian, 16 kHz)."""
    assert _ENGINE is not None
    pad = silence(PAD_S)
    heard = recognize_samples(_ENGINE, np.concatenate([pad, read_wav(path), pad]))
    return _ENGINE.last_segment if len(heard) == 1 else None


def hear_all(recordings: list[HumanRecording], work: Path, jobs: int) -> list[str]:
    """Writes each recording's segment to work/raw/N.raw (kept from an earlier run) and returns
    the names of those heard as one segment."""
    raw = work / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    done = work / "heard.tsv"
    known = (
        dict(line.split("\t") for line in done.read_text().splitlines() if line)
        if done.exists()
        else {}
    )
    names = [f"{n:05d}" for n in range(len(recordings))]
    todo = [
        (name, r) for name, r in zip(names, recordings, strict=True) if str(r.path) not in known
    ]
    if todo:
        print(f"hearing {len(todo)} recordings ({len(known)} heard before)", file=sys.stderr)
        with multiprocessing.Pool(jobs, initializer=_start_worker) as pool, done.open("a") as log:
            segments = pool.imap(segment_of, [r.path for _, r in todo], chunksize=8)
            for count, ((name, recording), segment) in enumerate(
                zip(todo, segments, strict=True), 1
            ):
                if segment is not None:
                    (raw / f"{name}.raw").write_bytes(segment)
                kept = name if segment is not None else "-"
                log.write(f"{recording.path}\t{kept}\n")
                known[str(recording.path)] = kept
                if count % 250 == 0:
                    print(f"  {count}/{len(todo)}", file=sys.stderr)
    return [known[str(r.path)] for r in recordings if known[str(r.path)] != "-"]


def sendump_to_mixture_weights(sendump: Path, target: Path) -> None:
    """SphinxTrain needs the model's mixture weights as a float file; the wheel has them
    quantised to a byte each (sendump: -log base 1.0001, shifted). Written normalised."""
    data = sendump.read_bytes()
    position = 0
    order = "<I"

    def number() -> int:
        nonlocal position, order
        if position == 0 and struct.unpack("<I", data[:4])[0] > 65536:
            order = ">I"
        value: int = struct.unpack(order, data[position : position + 4])[0]
        position += 4
        return value

    def text() -> str | None:
        nonlocal position
        length = number()
        if length == 0:
            return None
        value = data[position : position + length - 1].decode("ascii")
        position += length
        return value

    text()  # title
    header: dict[str, int] = {}
    while (line := text()) is not None:
        key, *values = line.split()
        if values and values[0].isdigit():
            header[key] = int(values[0])
    if header.get("cluster_count", 0):
        raise AdaptError(f"{sendump}: clustered mixture weights are not supported")
    shift, streams = header.get("mixw_shift", 10), header["feature_count"]
    densities, senones = number(), number()
    raw = np.frombuffer(data, dtype=np.uint8, count=streams * densities * senones, offset=position)
    weights = np.power(1.0001, -(raw.reshape(streams, densities, senones).astype(float) * 2**shift))
    weights = weights.transpose(2, 0, 1)  # senone, stream, density
    weights /= weights.sum(axis=2, keepdims=True)
    with target.open("wb") as out:
        out.write(b"s3\nversion 1.0\n")
        misaligned = (out.tell() + len(b"endhdr\n")) & 3
        out.write(b" " * (4 - misaligned if misaligned else 0) + b"endhdr\n")
        out.write(struct.pack("=i", 0x11223344))
        out.write(struct.pack("=IIII", senones, streams, densities, weights.size))
        weights.astype("<f4").tofile(out)


def run(tool: str, *args: str | Path, log: Path) -> None:
    with log.open("w") as handle:
        done = subprocess.run([str(TOOLS[tool]), *map(str, args)], stdout=handle, stderr=handle)
    if done.returncode:
        raise AdaptError(f"{tool} failed (exit {done.returncode}); see {log}")


def estimate(names: list[str], texts: list[str], work: Path) -> Path:
    """Runs SphinxTrain on the segments and returns the transform's path."""
    wheel = model_paths()
    model = work / "model"
    shutil.rmtree(model, ignore_errors=True)
    shutil.copytree(wheel["hmm"], model)
    run(
        "pocketsphinx_mdef_convert",
        "-text",
        model / "mdef",
        model / "mdef.txt",
        log=work / "mdef.log",
    )
    sendump_to_mixture_weights(model / "sendump", model / "mixture_weights")
    dictionary = work / "adapt.dict"
    with open(wheel["dict"], encoding="utf-8") as cmu, dictionary.open("w") as out:
        out.write(cmu.read())
        out.writelines(f"{word} {phones}\n" for word, phones in EXTRA_PRONUNCIATIONS.items())
    (work / "fileids").write_text("".join(f"{name}\n" for name in names))
    (work / "transcription").write_text(
        "".join(f"<s> {text} </s> ({name})\n" for name, text in zip(names, texts, strict=True))
    )
    features = work / "mfc"
    shutil.rmtree(features, ignore_errors=True)
    features.mkdir()
    run(
        "sphinx_fe", "-argfile", model / "feat.params", "-samprate", "16000",
        "-c", work / "fileids", "-di", work / "raw", "-do", features, "-ei", "raw", "-eo", "mfc",
        "-raw", "yes", "-remove_silence", "no", "-dither", "no", log=work / "fe.log",
    )  # fmt: skip
    counts = work / "counts"
    shutil.rmtree(counts, ignore_errors=True)
    counts.mkdir()
    print(f"aligning {len(names)} segments (bw)", file=sys.stderr)
    run(
        "bw", "-hmmdir", model, "-moddeffn", model / "mdef.txt", "-ts2cbfn", ".ptm.",
        "-feat", "1s_c_d_dd", "-svspec", "0-12/13-25/26-38", "-cmn", "batch", "-agc", "none",
        "-dictfn", dictionary, "-fdictfn", model / "noisedict", "-ctlfn", work / "fileids",
        "-lsnfn", work / "transcription", "-accumdir", counts, "-cepdir", features,
        "-cepext", "mfc", log=work / "bw.log",
    )  # fmt: skip
    matrix = work / "mllr_matrix"
    run(
        "mllr_solve", "-meanfn", model / "means", "-varfn", model / "variances",
        "-outmllrfn", matrix, "-accumdir", counts, log=work / "mllr_solve.log",
    )  # fmt: skip
    return matrix


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--human", type=Path, required=True, help="a human set (bench/humanset.py)")
    parser.add_argument("--work", type=Path, default=WORK, help=f"working folder (default {WORK})")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--write", action="store_true", help=f"replace {ADAPTATION.name} in the package"
    )
    args = parser.parse_args(argv)
    if not (args.human / "manifest.tsv").is_file():
        parser.error(f"{args.human}: no manifest.tsv (bench/humanset.py build)")
    missing = [name for name, path in TOOLS.items() if not path.is_file()]
    if missing:
        parser.error(
            f"missing {', '.join(missing)}: "
            "apt-get install sphinxtrain sphinxbase-utils pocketsphinx"
        )
    recordings = adaptation_recordings(args.human)
    names = hear_all(recordings, args.work, args.jobs)
    text_of = {f"{n:05d}": r.text for n, r in enumerate(recordings)}
    try:
        matrix = estimate(names, [text_of[name] for name in names], args.work)
    except AdaptError as error:
        print(f"adapt_acoustic: {error}", file=sys.stderr)
        return 2
    print(f"{len(names)} of {len(recordings)} recordings heard as one segment; transform {matrix}")
    if args.write:
        shutil.copyfile(matrix, ADAPTATION)
        print(f"wrote {ADAPTATION}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
