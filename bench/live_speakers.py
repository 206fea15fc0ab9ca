"""Live speaker labels against the file job's, per set: final DER of each live tracker beside the
offline overlap-aware pipeline's, on the same utterances.

    .venv/bin/python bench/live_speakers.py [--sets pyannote_sample,ami_pyannote_debug] [--every 4]

Each recording is cut into utterances by the voice detector (as a live session's lines) and fed
in order to the tracker, which relabels every ``--every`` utterances and once at the end (the
labels a live transcript ends with; "turns" adds the second voices its saved turns and RTTM
carry). Scored with pyannote.metrics at collar 0.25 s, overlap
scored, within each file's UEM. "offline" is the file job's diarization of the same file with
its second voices; "offline, one voice" without them (what a live transcript can carry). CPU is
the tracker's time per minute of audio (one thread).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.diarization import SETS, load_reference  # noqa: E402
from bench.scoring import data_dir  # noqa: E402


def _uem(wav: Path):
    from pyannote.core import Segment, Timeline

    path = wav.with_suffix(".uem")
    if not path.exists():
        return None
    return Timeline(
        [Segment(float(f[2]), float(f[3])) for f in (line.split() for line in path.read_text().splitlines()) if f]
    )


def _annotation(pieces):
    from pyannote.core import Annotation, Segment

    out = Annotation()
    for a, b, lab in pieces:
        out[Segment(a, b), len(out)] = lab
    return out


def main(argv: list[str] | None = None) -> int:
    from pyannote.metrics.diarization import DiarizationErrorRate

    from engine.audio.decode import load_audio
    from engine.speakers.diarize import Diarizer
    from engine.speakers.live import LiveSpeakerTracker
    from engine.speakers.live_overlap import OverlapSpeakerTracker
    from engine.speakers.overlap_diarize import OverlapDiarizer

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--every", type=int, default=4, help="relabel every N utterances")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore", message=".*uem.*")
    ge2e = Diarizer(threads=2)
    offline_diarizer = OverlapDiarizer(threads=2)
    live_diarizer = OverlapDiarizer(threads=1)
    rows = ["offline", "offline, one voice", "live overlap", "live overlap, turns", "live GE2E"]
    print(f"{'set':30s}" + "".join(f"{r:>21s}" for r in rows) + f"{'CPU overlap / GE2E':>22s}")
    for name in args.sets.split(","):
        err = dict.fromkeys(rows, 0.0)
        total = 0.0
        cpu = {"live overlap": 0.0, "live GE2E": 0.0}
        minutes = 0.0
        for wav in sorted((data_dir() / "diarization" / name).glob("*.wav")):
            if not wav.with_suffix(".rttm").exists():
                continue
            audio = load_audio(wav)
            ref, uem = load_reference(wav.with_suffix(".rttm")), _uem(wav)
            minutes += len(audio) / 16000 / 60
            _, _, segments = ge2e.features([audio])
            off = offline_diarizer(audio)
            hyps = {
                "offline": _annotation([(t.start, t.end, t.speaker) for t in off.turns + off.overlaps]),
                "offline, one voice": _annotation([(t.start, t.end, t.speaker) for t in off.turns]),
            }
            for row in ("live overlap", "live GE2E"):
                if row == "live overlap":

                    def read(a: float, b: float, audio=audio) -> np.ndarray:
                        return audio[int(a * 16000) : int(min(b, len(audio) / 16000) * 16000)]

                    tracker = OverlapSpeakerTracker(live_diarizer, read)
                else:
                    tracker = LiveSpeakerTracker(encoder=ge2e.encoder)
                started = time.perf_counter()
                for i, (a, b) in enumerate(segments):
                    tracker.add(audio[int(a * 16000) : int(b * 16000)], a, b)
                    if i % args.every == args.every - 1:
                        tracker.relabel()
                final = tracker.relabel(final=True)
                cpu[row] += time.perf_counter() - started
                hyps[row] = _annotation(final)
                if row == "live overlap":  # the saved transcript's turns: second voices as well
                    hyps["live overlap, turns"] = _annotation(final + tracker.overlaps)
            for row in rows:
                metric = DiarizationErrorRate(collar=0.25, skip_overlap=False)
                r = metric(ref, hyps[row], uem=uem, detailed=True)
                err[row] += r["confusion"] + r["missed detection"] + r["false alarm"]
            total += r["total"]
        cells = "".join(f"{100 * err[r] / total:20.1f}%" for r in rows)
        speed = f"{cpu['live overlap'] / minutes:.2f} / {cpu['live GE2E'] / minutes:.2f} s/min"
        print(f"{name:30s}{cells}{speed:>22s}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
