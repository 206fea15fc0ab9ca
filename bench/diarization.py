"""Diarization benchmark: DER (pyannote.metrics) and speaker-count accuracy on every shared set with an RTTM.

    .venv/bin/python bench/diarization.py                       # default settings, all sets
    .venv/bin/python bench/diarization.py --method agglomerative
    .venv/bin/python bench/diarization.py --sensitivity         # window length x0.5, x1, x1.5
    .venv/bin/python bench/diarization.py --threads 1           # as measured for docs/benchmarks.md
    .venv/bin/python bench/diarization.py --oracle-count        # also with each file's true count given
    .venv/bin/python bench/diarization.py --pipeline overlap    # segmentation-3.0 + CAM++ (the default)
    .venv/bin/python bench/diarization.py --pipeline both --robustness --threads 1  # side by side

--pipeline: ``ge2e`` (the fallback), ``overlap`` (engine.speakers.overlap_diarize, what file jobs
use when its models are installed) or ``both``, one after the other on the same files.
--robustness (overlap): the clustering threshold +-0.05 and the window step 1 s / 2.5 s.
AMI is also reported for its trn files and its dev+tst files apart (segmentation-3.0 was
probably trained on AMI's training split).

--oracle-count runs every configuration a second time with each file's number of reference
speakers passed as num_speakers (what a user typing ``--speakers N`` gets).

--sensitivity scales the labelling window (and hop) with the clustered window held at 1.5 s, as
the engine does, and then also the clustered window itself, so both dependences are reported.

DER is scored with overlap (skip_overlap=False) at collar 0.25 s and 0 s (pyannote's collar is the
total width removed around each reference boundary), within each file's UEM where one exists.
Speed is the seconds per minute of audio of the whole diarization: the front end (two VAD passes
and the mel frames) and the speaker embeddings + clustering + turns, each timed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.scoring import data_dir  # noqa: E402
from engine.audio.decode import load_audio  # noqa: E402
from engine.speakers.diarize import DiarizationOptions, Diarizer, diarize_features  # noqa: E402

SETS = ["librispeech_turns_synthetic", "pyannote_sample", "ami_pyannote_debug", "picovoice_falcon_3spk"]


def load_reference(rttm: Path):
    from pyannote.core import Annotation, Segment

    ref = Annotation(uri=rttm.stem)
    for line in rttm.read_text().splitlines():
        f = line.split()
        if len(f) >= 8 and f[0] == "SPEAKER":
            start, dur = float(f[3]), float(f[4])
            ref[Segment(start, start + dur)] = f[7]
    return ref


def load_uem(path: Path, duration: float):
    from pyannote.core import Segment, Timeline

    if not path.exists():
        return Timeline([Segment(0, duration)])
    segs = []
    for line in path.read_text().splitlines():
        f = line.split()
        if len(f) >= 4:
            segs.append(Segment(float(f[2]), float(f[3])))
    return Timeline(segs)


def solo_seconds(ref) -> dict[str, float]:
    """Seconds each reference speaker talks with nobody else talking."""
    overlap = ref.get_overlap()
    out = {}
    for label in ref.labels():
        tl = ref.label_timeline(label).support()
        out[label] = tl.duration() - tl.crop(overlap, mode="intersection").duration() if overlap else tl.duration()
    return out


class Runner:
    """Caches each file's features (mel frames, speech, segments), so settings compare on equal input."""

    def __init__(self, threads: int = 2) -> None:
        self.diarizer = Diarizer(threads=threads)
        self.cache: dict[Path, tuple] = {}

    def prepare(self, wav: Path):
        if wav not in self.cache:
            audio = load_audio(wav)
            t0 = time.perf_counter()
            mel, speech, segments = self.diarizer.features([audio])
            self.cache[wav] = (mel, speech, segments, time.perf_counter() - t0, len(audio) / 16000)
        return self.cache[wav]

    def run(self, wav: Path, opts: DiarizationOptions):
        from pyannote.core import Annotation, Segment

        mel, speech, segments, feat_s, dur = self.prepare(wav)
        t0 = time.perf_counter()
        result = diarize_features(mel, speech, segments, self.diarizer.encoder, opts)
        took = time.perf_counter() - t0
        hyp = Annotation(uri=wav.stem)
        for t in result.turns:
            hyp[Segment(t.start, t.end)] = f"S{t.speaker + 1}"
        return hyp, result.num_speakers, took, feat_s, dur


class OverlapRunner:
    """The overlap-aware diarizer; each file's window pass (segmentation, embeddings, voice
    detector) is kept per step, so clustering settings compare on equal input."""

    def __init__(self, threads: int = 2) -> None:
        from engine.speakers.overlap_diarize import OverlapDiarizer

        self.diarizer = OverlapDiarizer(threads=threads)
        self.cache: dict[tuple[Path, float], tuple] = {}
        self.overlap = self.diarizer.options

    def prepare(self, wav: Path):
        key = (wav, self.overlap.step)
        if key not in self.cache:
            audio = load_audio(wav)
            t0 = time.perf_counter()
            win, speech, dur = self.diarizer._windows([audio], self.overlap, None, None, None)
            self.cache[key] = (win, speech, dur, time.perf_counter() - t0)
        return self.cache[key]

    def run(self, wav: Path, opts: DiarizationOptions):
        from pyannote.core import Annotation, Segment

        win, speech, dur, feat_s = self.prepare(wav)
        t0 = time.perf_counter()
        result = self.diarizer.diarize_windows(win, speech, dur, opts, self.overlap)
        took = time.perf_counter() - t0
        hyp = Annotation(uri=wav.stem)
        for t in result.turns + result.overlaps:
            hyp[Segment(t.start, t.end)] = f"S{t.speaker + 1}"
        return hyp, result.num_speakers, took, feat_s, dur


def files_of(name: str) -> list[tuple[Path, Path, Path]]:
    folder = data_dir() / "diarization" / name
    out = []
    for rttm in sorted(folder.glob("*.rttm")):
        wav = rttm.with_suffix(".wav")
        if wav.exists():
            out.append((wav, rttm, rttm.with_suffix(".uem")))
    return out


def evaluate(
    runner: Runner, opts: DiarizationOptions, sets: list[str], verbose: bool = True, oracle_count: bool = False
) -> dict:
    """DER per set; ``oracle_count``: each file's number of reference speakers is given as num_speakers."""
    from pyannote.metrics.diarization import DiarizationErrorRate

    report: dict = {"options": {k: v for k, v in vars(opts).items()}, "oracle_count": oracle_count, "sets": {}}
    total_audio = total_time = total_vad = 0.0
    for name in sets:
        parts = {"trn": DiarizationErrorRate(collar=0.25, skip_overlap=False)}
        parts["dev+tst"] = DiarizationErrorRate(collar=0.25, skip_overlap=False)
        der25 = DiarizationErrorRate(collar=0.25, skip_overlap=False)
        der0 = DiarizationErrorRate(collar=0.0, skip_overlap=False)
        rows = []
        for wav, rttm, uem_path in files_of(name):
            ref = load_reference(rttm)
            n_ref = len(ref.labels())
            hyp, n_hyp, took, vad_s, dur = runner.run(wav, replace(opts, num_speakers=n_ref) if oracle_count else opts)
            uem = load_uem(uem_path, dur)
            d25 = der25(ref, hyp, uem=uem)
            d0 = der0(ref, hyp, uem=uem)
            parts["trn" if wav.stem.startswith("trn") else "dev+tst"](ref, hyp, uem=uem)
            solo = solo_seconds(ref)
            rows.append(
                {
                    "file": wav.stem,
                    "minutes": dur / 60,
                    "ref_speakers": n_ref,
                    "hyp_speakers": n_hyp,
                    "count_ok": n_ref == n_hyp,
                    "all_solo_2s": all(v >= 2.0 for v in solo.values()),
                    "der_c025": d25,
                    "der_c0": d0,
                    "seconds": took,
                    "vad_seconds": vad_s,
                }
            )
            total_audio += dur
            total_time += took
            total_vad += vad_s
            if verbose:
                print(
                    f"  {name:28s} {wav.stem:12s} {dur:6.1f}s ref {n_ref} hyp {n_hyp} "
                    f"DER {100 * d25:5.1f}% (collar 0: {100 * d0:5.1f}%)  {took:5.2f}s",
                    flush=True,
                )
        report["sets"][name] = {
            "files": rows,
            "der_c025": abs(der25),
            "der_c0": abs(der0),
            "count_accuracy": float(np.mean([r["count_ok"] for r in rows])) if rows else None,
            "der_components_c025": {k: float(v) for k, v in der25[:].items()} if rows else {},
        }
        if name.startswith("ami"):
            report["sets"][name]["der_c025_parts"] = {k: abs(m) for k, m in parts.items()}
    eligible = [r for s in report["sets"].values() for r in s["files"] if r["all_solo_2s"]]
    report["count_accuracy_solo2s"] = float(np.mean([r["count_ok"] for r in eligible])) if eligible else None
    report["n_solo2s"] = len(eligible)
    report["seconds_per_minute"] = total_time / (total_audio / 60) if total_audio else None
    report["vad_seconds_per_minute"] = total_vad / (total_audio / 60) if total_audio else None
    return report


def summary(report: dict, label: str = "") -> str:
    lines = [f"{label}"] if label else []
    for name, s in report["sets"].items():
        comp = s["der_components_c025"]
        tot = comp.get("total", 0) or 1
        parts = ", ".join(
            f"{k.split(' ')[0]} {100 * comp.get(k, 0) / tot:.1f}%"
            for k in ("missed detection", "false alarm", "confusion")
        )
        lines.append(
            f"{name:28s} DER {100 * s['der_c025']:5.1f}% (collar 0: {100 * s['der_c0']:5.1f}%)  "
            f"count exact {100 * s['count_accuracy']:.0f}%  [{parts}]"
        )
        if "der_c025_parts" in s:
            lines.append("    " + ", ".join(f"{k} {100 * v:.1f}%" for k, v in s["der_c025_parts"].items()))
    lines.append(
        f"count exact on files where every speaker has >= 2 s alone: "
        f"{100 * (report['count_accuracy_solo2s'] or 0):.0f}% of {report['n_solo2s']}"
    )
    lines.append(
        f"speed: embeddings + clustering {report['seconds_per_minute']:.2f} s per minute of audio "
        f"+ front end (VAD, mel) {report['vad_seconds_per_minute']:.2f} s/min = "
        f"{report['seconds_per_minute'] + report['vad_seconds_per_minute']:.2f} s per minute in all"
    )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--method", default=None, help="spectral or agglomerative (default: the engine's)")
    ap.add_argument("--window", type=float, default=None)
    ap.add_argument("--hop", type=float, default=None)
    ap.add_argument("--cluster-window", type=float, default=None, help="length of the clustered windows")
    ap.add_argument(
        "--sensitivity", action="store_true", help="window x0.5 and x1.5 (hop alike), then the clustered window"
    )
    ap.add_argument("--compare", action="store_true", help="run every clustering method")
    ap.add_argument(
        "--oracle-count", action="store_true", help="also run each setting with the reference speaker count given"
    )
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--pipeline", choices=["ge2e", "overlap", "both"], default="ge2e")
    ap.add_argument("--robustness", action="store_true", help="overlap: threshold +-0.05, step 1 s and 2.5 s")
    ap.add_argument("--json", default=str(REPO / "bench" / "out" / "diarization.json"))
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args()
    sets = [s for s in args.sets.split(",") if s]
    base = DiarizationOptions()
    if args.method:
        base = replace(base, method=args.method)
    if args.window:
        base = replace(base, window=args.window)
    if args.hop:
        base = replace(base, hop=args.hop)
    if args.cluster_window:
        base = replace(base, cluster_window=args.cluster_window)
    runs: list[tuple[str, DiarizationOptions]] = [("default", base)]
    if args.compare:
        from engine.speakers.clustering import METHODS

        runs += [(m, replace(base, method=m)) for m in METHODS if m != base.method]
    if args.sensitivity:
        for f in (0.5, 1.5):
            runs.append((f"window x{f}", replace(base, window=base.window * f, hop=base.hop * f)))
        for f in (0.5, 1.5):
            cw = (base.cluster_window or base.window) * f
            runs.append((f"cluster window x{f}", replace(base, cluster_window=cw)))
    plan = [(label, opts, False) for label, opts in runs]
    if args.oracle_count:
        plan += [(f"{label}, count given", opts, True) for label, opts in runs]
    reports = {}
    if args.pipeline in ("overlap", "both"):
        reports.update(overlap_reports(args, sets))
    if args.pipeline == "overlap":
        _write(args.json, reports)
        return
    runner = Runner(args.threads)
    for label, opts, oracle in plan:
        print(
            f"== {label}: method {opts.method}, window {opts.window:.2f} s, hop {opts.hop:.2f} s, "
            f"clustered window {opts.cluster_window or opts.window:.2f} s"
            + (", reference count given" if oracle else ""),
            flush=True,
        )
        rep = evaluate(runner, opts, sets, verbose=not args.quiet, oracle_count=oracle)
        reports[label] = rep
        print(summary(rep), flush=True)
    _write(args.json, reports)


def _write(path: str, reports: dict) -> None:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(reports, indent=2, default=str))
    print(f"wrote {out}")


def overlap_reports(args, sets: list[str]) -> dict:
    from engine.speakers.local_clustering import LocalClusteringOptions

    runner = OverlapRunner(args.threads)
    base = runner.overlap
    plan = [("overlap", base)]
    if args.robustness:
        t = base.clustering.threshold
        for d in (-0.05, 0.05):
            plan.append((f"overlap, threshold {t + d:.2f}", replace(base, clustering=LocalClusteringOptions(t + d))))
        other = 1.0 if base.step != 1.0 else 2.5
        plan.append((f"overlap, step {other:g} s", replace(base, step=other)))
    reports = {}
    for label, overlap in plan:
        runner.overlap = overlap
        print(f"== {label}: step {overlap.step:g} s, threshold {overlap.clustering.threshold:.2f}", flush=True)
        for oracle in (False, True) if args.oracle_count else (False,):
            rep = evaluate(runner, DiarizationOptions(), sets, verbose=not args.quiet, oracle_count=oracle)
            name = label + (", count given" if oracle else "")
            reports[name] = rep
            print(summary(rep, name), flush=True)
    return reports


if __name__ == "__main__":
    main()
