"""Local speaker segmentation (engine.speakers.segmentation): speech detection, overlap, speed.

    .venv/bin/python bench/segmentation.py                       # step 2.5 s, all sets, 1 thread
    .venv/bin/python bench/segmentation.py --step 1 --last pad   # pyannote's zero-padded last window
    .venv/bin/python bench/segmentation.py --short 6             # also the first 6 s of every file

Per file: detection error (pyannote.metrics DetectionErrorRate, collar 0, within the UEM where
one exists) of ``speech()`` against the reference's speech (the union of its turns), split into
missed and false-alarm seconds; precision and recall of overlap frames (speaker count >= 2)
against the frames where the reference has two or more speakers, on the global frame grid;
and seconds of CPU (process time, so the other core's load does not count) per minute of audio.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.diarization import SETS, files_of, load_reference, load_uem  # noqa: E402
from engine.audio import SAMPLE_RATE  # noqa: E402
from engine.audio.decode import load_audio  # noqa: E402
from engine.speakers import segmentation  # noqa: E402


def reference_count(ref, times: np.ndarray) -> np.ndarray:
    """Reference speakers talking at each time (frame centres)."""
    count = np.zeros(len(times), np.int32)
    for label in ref.labels():
        for seg in ref.label_timeline(label).support():
            count[(times >= seg.start) & (times < seg.end)] += 1
    return count


def score(ref, uem, seg: segmentation.LocalSegmentation) -> dict:
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.detection import DetectionErrorRate

    hyp = Annotation()
    for a, b in seg.speech():
        hyp[Segment(a, b)] = "speech"
    metric = DetectionErrorRate(collar=0.0, skip_overlap=False)
    detail = metric(ref, hyp, uem=uem, detailed=True)
    sc = seg.speaker_count()
    times = sc.frame_times()
    inside = np.zeros(len(times), bool)
    for s in uem:
        inside |= (times >= s.start) & (times < s.end)
    truth = reference_count(ref, times)[inside]
    hyp2 = sc.count[inside] >= 2
    ref2 = truth >= 2
    return {
        "der": detail["detection error rate"],
        "miss": detail["miss"],
        "fa": detail["false alarm"],
        "speech": detail["total"],
        "ov_ref_s": float(ref2.sum() * sc.frame_step),
        "ov_hyp_s": float(hyp2.sum() * sc.frame_step),
        "ov_tp_s": float((ref2 & hyp2).sum() * sc.frame_step),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--step", type=float, default=2.5)
    ap.add_argument("--last", choices=["end", "pad"], default=segmentation.LAST_WINDOW)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--short", type=float, default=0.0, help="cut each file to its first N seconds")
    ap.add_argument("--tail", type=float, default=0.0, help="score only the last N seconds (where the last window is)")
    args = ap.parse_args()
    segmentation.LAST_WINDOW = args.last
    from pyannote.core import Segment, Timeline

    seg = segmentation.Segmenter(threads=args.threads)
    total_cpu = total_audio = 0.0
    every = dict.fromkeys(("miss", "fa", "speech"), 0.0)
    for name in args.sets.split(","):
        agg = dict.fromkeys(("miss", "fa", "speech", "ov_ref_s", "ov_hyp_s", "ov_tp_s"), 0.0)
        for wav, rttm, uem_path in files_of(name):
            audio = load_audio(wav)
            ref = load_reference(rttm)
            uem = load_uem(uem_path, len(audio) / SAMPLE_RATE)
            if args.short:
                audio = audio[: round(args.short * SAMPLE_RATE)]
                end = len(audio) / SAMPLE_RATE
                uem = Timeline([s & Segment(0, end) for s in uem if s.start < end])
                ref = ref.crop(Segment(0, end))
            if args.tail:
                end = len(audio) / SAMPLE_RATE
                uem = Timeline([s & Segment(end - args.tail, end) for s in uem if s.end > end - args.tail])
            t = time.process_time()
            out = seg(audio, step=args.step)
            cpu = time.process_time() - t
            total_cpu += cpu
            total_audio += len(audio) / SAMPLE_RATE
            r = score(ref, uem, out)
            for k in agg:
                agg[k] += r[k]
            p = r["ov_tp_s"] / r["ov_hyp_s"] if r["ov_hyp_s"] else float("nan")
            rc = r["ov_tp_s"] / r["ov_ref_s"] if r["ov_ref_s"] else float("nan")
            print(
                f"{name}/{wav.stem}: detection error {r['der']:.1%} (miss {r['miss']:.2f} s, false alarm "
                f"{r['fa']:.2f} s of {r['speech']:.1f} s speech); overlap ref {r['ov_ref_s']:.1f} s hyp "
                f"{r['ov_hyp_s']:.1f} s precision {p:.2f} recall {rc:.2f}; cpu {cpu / (len(audio) / 960000):.2f} s/min"
            )
        for k in every:
            every[k] += agg[k]
        if agg["speech"]:
            p = agg["ov_tp_s"] / agg["ov_hyp_s"] if agg["ov_hyp_s"] else float("nan")
            rc = agg["ov_tp_s"] / agg["ov_ref_s"] if agg["ov_ref_s"] else float("nan")
            print(
                f"== {name}: detection error {(agg['miss'] + agg['fa']) / agg['speech']:.2%} (miss "
                f"{agg['miss'] / agg['speech']:.2%}, false alarm {agg['fa'] / agg['speech']:.2%}); overlap precision "
                f"{p:.2f} recall {rc:.2f}"
            )
    if every["speech"]:
        print(
            f"== all: detection error {(every['miss'] + every['fa']) / every['speech']:.2%} of "
            f"{every['speech']:.0f} s speech (miss {every['miss']:.1f} s, false alarm {every['fa']:.1f} s)"
        )
    print(
        f"step {args.step} s, last window {args.last}, {args.threads} thread(s): "
        f"{total_cpu / (total_audio / 60):.2f} s CPU per minute of audio"
    )


if __name__ == "__main__":
    main()
