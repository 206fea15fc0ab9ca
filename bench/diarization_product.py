"""Diarization as a user gets it: score the RTTM and JSON that `minutes transcribe` writes.

    .venv/bin/python bench/diarization_product.py                    # every shared set with an RTTM
    .venv/bin/python bench/diarization_product.py --sets pyannote_sample

bench/diarization.py scores the diarizer's internal turns; a user scores the files the CLI
writes. This runs the real CLI once per file,

    .venv/bin/minutes transcribe FILE -f rttm,json --language en -o OUTDIR -q

and scores, per set:

- DER of the written ``.rttm`` with pyannote.metrics exactly as bench/diarization.py scores its
  internal output (collar 0.25 s, overlap scored, within the file's UEM where one exists);
- for comparison, in the same run, DER of the internal frames (bench/diarization.py's Runner)
  and of turns rebuilt from the JSON's segments (what ``-f rttm`` wrote before the diarization's
  turns were kept: speech between words is missing);
- the word speaker error from the written ``.json``: of the words (timed at their midpoint,
  within the UEM) spoken where exactly one reference speaker talks, the share whose speaker is
  wrong after the best one-to-one mapping of hyp speaker ids to reference speakers (Hungarian
  assignment on word co-occurrence counts, per file). A word without a speaker counts as wrong.
  This is what a reader of the transcript sees.

Outputs stay in --out (default bench/out/diarization_product/<set>/) for inspection; a file's
earlier results are removed before its run, so every figure comes from this run's CLI.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.diarization import SETS, Runner, files_of, load_reference, load_uem  # noqa: E402
from bench.scoring import data_dir  # noqa: E402
from engine.speakers.diarize import DiarizationOptions  # noqa: E402

LONGFORM = "longform/ami_debug_concat_7min"
COLLAR = 0.25


@dataclass
class Item:
    """One scored recording: its set, audio, reference RTTM and (possibly missing) UEM."""

    set: str
    wav: Path
    rttm: Path
    uem: Path


@dataclass
class SetScore:
    """Pooled figures of one set: pyannote metrics accumulate over files, words are summed."""

    product: object  # DiarizationErrorRate of the written RTTM
    internal: object  # ... of the internal frames
    segments: object  # ... of turns rebuilt from segments
    word_errors: int = 0
    words_scored: int = 0
    words_total: int = 0
    seconds: float = 0.0
    audio: float = 0.0
    files: list[dict] = field(default_factory=list)


def items_of(name: str) -> list[Item]:
    """The recordings of a shared set: a diarization folder, or ``longform/<stem>``."""
    if name.startswith("longform/"):
        wav = data_dir() / f"{name}.wav"
        rttm = wav.with_suffix(".rttm")
        return [Item(name, wav, rttm, wav.with_suffix(".uem"))] if wav.exists() and rttm.exists() else []
    return [Item(name, wav, rttm, uem) for wav, rttm, uem in files_of(name)]


def minutes_command() -> list[str]:
    """The installed ``minutes`` script beside this interpreter, else the module."""
    script = Path(sys.executable).with_name("minutes")
    return [str(script)] if script.exists() else [sys.executable, "-m", "app.cli"]


def run_cli(wav: Path, out: Path) -> tuple[Path, Path, float]:
    """Transcribe ``wav`` with the real CLI into ``out``: (rttm, json, wall seconds)."""
    out.mkdir(parents=True, exist_ok=True)
    rttm, js = out / f"{wav.stem}.rttm", out / f"{wav.stem}.json"
    for old in (rttm, js):  # the CLI keeps earlier results: score only what this run writes
        old.unlink(missing_ok=True)
    cmd = [*minutes_command(), "transcribe", str(wav), "-f", "rttm,json", "--language", "en", "-o", str(out), "-q"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    took = time.perf_counter() - t0
    if proc.returncode != 0 or not rttm.exists() or not js.exists():
        raise RuntimeError(f"minutes failed on {wav} (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return rttm, js, took


def annotation(turns, uri: str):
    """A pyannote Annotation of (start, end, label) turns."""
    from pyannote.core import Annotation, Segment

    ann = Annotation(uri=uri)
    for start, end, label in turns:
        if end > start:
            ann[Segment(start, end)] = label
    return ann


def segment_annotation(json_path: Path, uri: str):
    """Turns rebuilt from the JSON's segments, as ``-f rttm`` wrote them before turns were kept."""
    from engine.export.rttm import segment_turns
    from engine.transcript import Transcript

    return annotation(segment_turns(Transcript.load(json_path)), uri)


def word_speakers(json_path: Path) -> list[tuple[float, str | None]]:
    """(midpoint time, speaker id) of every word in a transcript JSON."""
    data = json.loads(json_path.read_text(encoding="utf-8"))
    return [((w["start"] + w["end"]) / 2, s.get("speaker")) for s in data["segments"] for w in s.get("words", [])]


def single_speaker_at(ref, times: np.ndarray) -> list[str | None]:
    """The reference speaker at each time when exactly one talks there, else None."""
    tracks = [(seg.start, seg.end, label) for seg, _, label in ref.itertracks(yield_label=True)]
    starts = np.array([t[0] for t in tracks])
    ends = np.array([t[1] for t in tracks])
    labels = np.array([t[2] for t in tracks], dtype=object)
    out: list[str | None] = []
    for t in times:
        active = set(labels[(starts <= t) & (t < ends)]) if len(tracks) else set()
        out.append(next(iter(active)) if len(active) == 1 else None)
    return out


def in_uem(uem, times: np.ndarray) -> np.ndarray:
    """Which times lie within the UEM timeline."""
    keep = np.zeros(len(times), dtype=bool)
    for seg in uem:
        keep |= (times >= seg.start) & (times < seg.end)
    return keep


def word_speaker_error(words: list[tuple[float, str | None]], ref, uem) -> tuple[int, int]:
    """(wrong, scored) words: scored are those within the UEM where one reference speaker talks;
    wrong after the best one-to-one mapping of hyp ids to reference speakers."""
    from scipy.optimize import linear_sum_assignment

    times = np.array([t for t, _ in words], dtype=float)
    truth = single_speaker_at(ref, times) if len(times) else []
    pairs = [(hyp, r) for (_, hyp), r, ok in zip(words, truth, in_uem(uem, times)) if ok and r is not None]
    if not pairs:
        return 0, 0
    hyps = sorted({h for h, _ in pairs if h is not None})
    refs = sorted({r for _, r in pairs})
    counts = np.zeros((len(hyps), len(refs)))
    for h, r in pairs:
        if h is not None:
            counts[hyps.index(h), refs.index(r)] += 1
    rows, cols = linear_sum_assignment(-counts) if hyps else ([], [])
    matched = int(sum(counts[r, c] for r, c in zip(rows, cols)))
    return len(pairs) - matched, len(pairs)


def new_score() -> SetScore:
    from pyannote.metrics.diarization import DiarizationErrorRate

    def der():
        return DiarizationErrorRate(collar=COLLAR, skip_overlap=False)

    return SetScore(der(), der(), der())


def score_item(item: Item, runner: Runner, out: Path, score: SetScore) -> dict:
    """Run the CLI on one recording and add its figures to ``score``; returns the file's row."""
    rttm, js, took = run_cli(item.wav, out / item.set.replace("/", "_"))
    ref = load_reference(item.rttm)
    internal, _, _, _, dur = runner.run(item.wav, DiarizationOptions())
    uem = load_uem(item.uem, dur)
    uri = item.wav.stem
    product = load_reference(rttm)  # the written file, read as any RTTM
    words = word_speakers(js)
    wrong, scored = word_speaker_error(words, ref, uem)
    row = {
        "file": uri,
        "seconds_audio": dur,
        "cli_seconds": took,
        "der_product": score.product(ref, product, uem=uem),
        "der_internal": score.internal(ref, internal, uem=uem),
        "der_segments": score.segments(ref, segment_annotation(js, uri), uem=uem),
        "word_errors": wrong,
        "words_scored": scored,
        "words_total": len(words),
        "hyp_speakers": len(product.labels()),
        "ref_speakers": len(ref.labels()),
    }
    score.word_errors += wrong
    score.words_scored += scored
    score.words_total += len(words)
    score.seconds += took
    score.audio += dur
    score.files.append(row)
    return row


def file_line(name: str, row: dict) -> str:
    wse = 100 * row["word_errors"] / row["words_scored"] if row["words_scored"] else float("nan")
    return (
        f"  {name:34s} {row['file']:22s} {row['seconds_audio']:6.1f}s  ref {row['ref_speakers']} hyp "
        f"{row['hyp_speakers']}  DER rttm {100 * row['der_product']:5.1f}%  internal "
        f"{100 * row['der_internal']:5.1f}%  segments {100 * row['der_segments']:5.1f}%  "
        f"word spk err {wse:5.1f}% of {row['words_scored']}  ({row['cli_seconds']:.1f} s)"
    )


def set_summary(score: SetScore) -> dict:
    """A set's pooled figures (DER is pyannote's total over files, as bench/diarization.py reports)."""
    return {
        "files": len(score.files),
        "minutes": score.audio / 60,
        "der_product": abs(score.product),
        "der_internal": abs(score.internal),
        "der_segments": abs(score.segments),
        "word_speaker_error": score.word_errors / score.words_scored if score.words_scored else None,
        "words_scored": score.words_scored,
        "words_total": score.words_total,
        "cli_seconds": score.seconds,
        "rows": score.files,
    }


def table(summaries: dict[str, dict]) -> str:
    """A Markdown table of the per-set figures, ready for docs/benchmarks.md."""
    lines = [
        "| set | files | min | DER, CLI's RTTM | DER, internal frames | DER, RTTM from segments (before) "
        "| word speaker error | words scored / all |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in summaries.items():
        wse = "–" if s["word_speaker_error"] is None else f"{100 * s['word_speaker_error']:.1f}%"
        lines.append(
            f"| {name} | {s['files']} | {s['minutes']:.1f} | {100 * s['der_product']:.1f}% | "
            f"{100 * s['der_internal']:.1f}% | {100 * s['der_segments']:.1f}% | {wse} | "
            f"{s['words_scored']} / {s['words_total']} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default=",".join([*SETS, LONGFORM]), help=f"comma-separated (default: all, {LONGFORM})")
    ap.add_argument("--out", default=str(REPO / "bench" / "out" / "diarization_product"), help="CLI output folder")
    ap.add_argument("--threads", type=int, default=2, help="threads of the internal-frames diarizer")
    ap.add_argument("--json", default=str(REPO / "bench" / "out" / "diarization_product.json"))
    args = ap.parse_args()
    runner = Runner(args.threads)
    out = Path(args.out)
    summaries: dict[str, dict] = {}
    for name in [s for s in args.sets.split(",") if s]:
        todo = items_of(name)
        if not todo:
            print(f"  {name}: no recordings with an RTTM under {data_dir()}, skipped", flush=True)
            continue
        score = new_score()
        for item in todo:
            print(file_line(name, score_item(item, runner, out, score)), flush=True)
        summaries[name] = set_summary(score)
    print(table(summaries))
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summaries, indent=2, default=float))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
