"""Live latency benchmark: `minutes live --from-file longform --realtime --events`, measured from outside.

The long-form English file (332 s, 50 utterances) is fed at real-time pace through the real live
path (file source -> recorder -> streaming recognizer -> speakers/chapters) in a subprocess; its
JSON-lines events are read afterwards. For every word of the *file* transcript (our file engine,
beam 5, word times from DTW alignment) that the live transcript also has:

* first-partial latency = wall time of the first event (partial or confirmed) showing the word
  (same normalised text, overlapping time) - (started.wall + the word's end time);
* confirmation latency  = wall time of the confirmed event holding it - the same word end.

Negative first-partial latencies happen (a word is guessed before its last sound ends). Also:
loop real-time factor (recognizer compute / audio), backlog (wall - W0 - audio_end of each
hypothesis: how far behind live the text is), live WER and the file transcript's WER against the
reference, peak RSS of the process (psutil, sampled every 0.5 s), and the 1-minute load average
before and after (the CPU is shared: compare runs made under similar load).

``--loops 6`` plays the file six times back to back (33 min) and adds a table per 5 minutes of
audio: latency, backlog and memory must not grow.

Conversation (``--set call``: the two-person telephone sample, scored against its STM; ``--set
ami``: the 7-minute AMI concatenation, no transcript: live text is scored against the file
transcript; ``--set conv``: bench/coverage.py's turn-taking conversation, seed 1, with its
reference) shows what read speech hides: few pauses, overlaps, backchannels.

Usage: .venv/bin/python bench/latency.py [--set longform|call|ami] [--loops 1] [--threads 2] [--no-speakers]
       [--out FILE.json]
       [--events-in EVENTS.jsonl] (re-analyse a run) [--live-args "--encoder-seconds 30"]
       .venv/bin/python bench/latency.py --trim-study   (shorter encoder input: WER and time on asr_en)
Needs MINUTES_DATA_DIR with the exported model (e.g. /tmp/mdata); jiwer, whisper-normalizer, psutil.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__:
    from . import scoring
else:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench import scoring

ROOT = Path(__file__).resolve().parents[1]
BUCKET_SECONDS = 300.0


def key(word: str) -> str:
    return "".join(c for c in word.lower() if c.isalnum())


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, max(0, round(q * (len(v) - 1))))]


def summary(values: list[float]) -> dict:
    return {
        "n": len(values),
        "median": round(statistics.median(values), 3) if values else None,
        "p95": round(pct(values, 0.95), 3) if values else None,
        "max": round(max(values), 3) if values else None,
    }


# -- the file transcript: reference word times ---------------------------------------------------------
def file_transcript(wav: Path, threads: int, cache: Path) -> dict:
    if cache.exists():
        return json.loads(cache.read_text())
    from engine.file_job import AsrOptions, ChapterOptions, SpeakerOptions, TranscribeOptions
    from engine.recognizer import Recognizer

    t = Recognizer(device="cpu", precision="int8", threads=threads)
    t0 = time.perf_counter()
    tr = t.transcribe(
        wav,
        TranscribeOptions(
            asr=AsrOptions(language="en"),
            speakers=SpeakerOptions(enabled=False),
            chapters=ChapterOptions(enabled=False),
        ),
    )
    words = [(w.start, w.end, w.word) for s in tr.segments for w in s.words]
    out = {"text": tr.text, "words": words, "duration": tr.audio.duration, "wall": time.perf_counter() - t0}
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(out))
    return out


# -- running the live session -------------------------------------------------------------------------
def run_live(wav: Path, events: Path, loops: int, threads: int, speakers: bool, extra: list[str]) -> dict:
    import psutil

    cmd = [sys.executable, "-m", "app.cli", "live", "--from-file", str(wav), "--realtime", "--loops", str(loops),
           "--language", "en", "--events", str(events), "--threads", str(threads), "--device", "cpu",
           "--precision", "int8", "-q", "-f", "json", "--out", str(events.parent), *extra]  # fmt: skip
    if not speakers:
        cmd.append("--no-speakers")
    load_before = os.getloadavg()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    p = psutil.Process(proc.pid)
    rss: list[tuple[float, float]] = []  # (wall, MiB)
    loads: list[tuple[float, float]] = []
    while proc.poll() is None:
        try:
            rss.append((time.time(), p.memory_info().rss / 2**20))
        except psutil.Error:
            break
        if not loads or time.time() - loads[-1][0] >= 30:
            loads.append((time.time(), os.getloadavg()[0]))
        time.sleep(0.5)
    err = proc.stderr.read()
    if proc.returncode != 0:
        raise SystemExit(f"minutes live failed ({proc.returncode}):\n{err}")
    return {"rss": rss, "load_before": load_before[0], "load_after": os.getloadavg()[0], "loads": loads}


# -- analysis ---------------------------------------------------------------------------------------------
def analyse(
    events_path: Path, ref_words: list, ref_text: str | None, file_text: str, duration: float, run: dict
) -> dict:
    events = [json.loads(line) for line in events_path.read_text().splitlines() if line.strip()]
    started = next(e for e in events if e["type"] == "started")
    w0 = started["wall"]
    stats = next((e for e in events if e["type"] == "summary"), {})
    texts = [e for e in events if e["type"] in ("partial", "confirmed")]
    confirmed = [(e["wall"], s, en, w) for e in texts if e["type"] == "confirmed" for s, en, w in e["words"]]
    confirmed = [c for c in confirmed if key(c[3])]
    # every showing of a word: key -> [(wall, start, end)] in event order
    shown: dict[str, list[tuple[float, float, float]]] = {}
    for e in texts:
        for s, en, w in e["words"]:
            shown.setdefault(key(w), []).append((e["wall"], s, en))
    loops = max(1, round((max((c[2] for c in confirmed), default=0.0) + 1.0) / duration + 0.49))
    loops = run.get("loops", loops)
    refs = [(s + k * duration, e + k * duration, w) for k in range(loops) for s, e, w in ref_words if key(w)]
    first, conf, rows = [], [], []
    for k in range(loops):  # match loop by loop (the text repeats)
        lo, hi = k * duration, (k + 1) * duration
        r = [x for x in refs if lo <= x[1] < hi]
        h = [c for c in confirmed if lo - 1.0 <= c[2] < hi - 1.0 or (k == loops - 1 and c[2] >= hi - 1.0)]
        sm = difflib.SequenceMatcher(None, [key(x[2]) for x in r], [key(c[3]) for c in h], autojunk=False)
        for block in sm.get_matching_blocks():
            for i in range(block.size):
                rs, re_, rw = r[block.a + i]
                cw, cs, ce, _ = h[block.b + i]
                lat_c = cw - (w0 + re_)
                seen = next((t for t, s, e in shown.get(key(rw), []) if s <= ce + 0.5 and e >= cs - 0.5), cw)
                lat_p = min(seen, cw) - (w0 + re_)
                conf.append(lat_c)
                first.append(lat_p)
                rows.append((re_, lat_p, lat_c))
    backlog = [(e["wall"] - w0, e["wall"] - w0 - e["audio_end"]) for e in events if e["type"] == "partial"]
    segments = [e for e in events if e["type"] == "segment"]
    live_text = " ".join(e["text"] for e in segments)
    audio = duration * loops
    out = {
        "audio_seconds": round(audio, 1),
        "load_before": round(run.get("load_before", float("nan")), 2),
        "load_after": round(run.get("load_after", float("nan")), 2),
        "first_partial_latency": summary(first),
        "confirmation_latency": summary(conf),
        "matched_words": len(conf),
        "reference_words": len(refs),
        "loop_rtf": round(stats.get("compute_seconds", float("nan")) / audio, 3),
        "hypotheses": stats.get("hypotheses"),
        "backlog": summary([b for _, b in backlog]),
        "backlog_at_end": round(backlog[-1][1], 3) if backlog else None,
        "drain_after_audio_end": round(max(e["wall"] for e in texts) - (w0 + audio), 3) if texts else None,
        "peak_rss_mib": round(max((m for _, m in run.get("rss", [])), default=float("nan")), 1),
    }
    if ref_text is not None:
        refs_text = " ".join([ref_text] * loops)
        out["live_wer"] = round(100 * scoring.wer([refs_text], [live_text]), 2)
        out["file_wer"] = round(100 * scoring.wer([ref_text], [file_text]), 2)
    # how far the live text is from the file transcript of the same audio (no reference needed)
    out["live_vs_file_wer"] = round(100 * scoring.wer([" ".join([file_text] * loops)], [live_text]), 2)
    if loops > 1:
        table = []
        rss = run.get("rss", [])
        for b in range(int(audio // BUCKET_SECONDS) + (audio % BUCKET_SECONDS > 1)):
            lo, hi = b * BUCKET_SECONDS, (b + 1) * BUCKET_SECONDS
            sel = [(p, c) for t, p, c in rows if lo <= t < hi]
            bl = [x for t, x in backlog if lo <= t < hi]
            mem = [m for t, m in rss if lo <= t - w0 < hi]
            table.append(
                {
                    "minutes": f"{lo / 60:.0f}-{min(hi, audio) / 60:.0f}",
                    "words": len(sel),
                    "first_partial_median": round(statistics.median([p for p, _ in sel]), 3) if sel else None,
                    "confirmation_median": round(statistics.median([c for _, c in sel]), 3) if sel else None,
                    "confirmation_p95": round(pct([c for _, c in sel], 0.95), 3) if sel else None,
                    "backlog_median": round(statistics.median(bl), 3) if bl else None,
                    "rss_mib_max": round(max(mem), 1) if mem else None,
                }
            )
        out["per_5_minutes"] = table
    # the memory curve: the largest RSS in each 30 s of the session (minutes from the start, MiB)
    curve: dict[int, float] = {}
    for t, m in run.get("rss", []):
        b = int((t - w0) // 30)
        curve[b] = max(curve.get(b, 0.0), m)
    out["rss_curve"] = [[round(b / 2, 1), round(m, 1)] for b, m in sorted(curve.items()) if b >= 0]
    return out


def audio_set(name: str) -> tuple[Path, str | None]:
    """The file played live and its reference text (None: no transcript exists)."""
    if name == "longform":
        return scoring.read_longform()
    if name == "call":
        folder = scoring.data_dir() / "diarization" / "pyannote_sample"
        stm = (folder / "sample.stm").read_text(encoding="utf-8").splitlines()
        return folder / "sample.wav", " ".join(" ".join(line.split()[5:]) for line in stm if line.strip())
    if name == "conv":  # a turn-taking conversation of asr_en utterances (bench/coverage.py builds it)
        from bench.coverage import build_conversation

        item = build_conversation(1, ROOT / "bench" / "out" / "coverage" / "conversations")
        return item.path, item.reference
    return scoring.data_dir() / "longform" / "ami_debug_concat_7min.wav", None


def loop_guard(tokens: list[int], seconds: float) -> list[int]:
    """What the live decoder keeps of a greedy token sequence: stop at a repeat or past the token budget."""
    from engine.asr.streaming import REPEAT_TOKENS, StreamingOptions, _repeats

    budget = int(StreamingOptions().max_tokens_per_second * seconds) + 8
    out: list[int] = []
    for tok in tokens[:budget]:
        out.append(tok)
        if _repeats(out, len(out)):
            return out[:-REPEAT_TOKENS]
    return out


def trim_study(threads: int) -> dict:
    """Does a shorter encoder input keep accuracy? asr_en (50 utterances), greedy, one window each."""
    import math

    from engine.asr.decoding import Decoder, DecodingOptions
    from engine.asr.features import log_mel
    from engine.audio.decode import load_audio
    from engine.recognizer import Recognizer

    t = Recognizer(device="cpu", precision="int8", threads=threads)
    model = t.live_model()
    dec = Decoder(model, t.tokenizer)
    pairs = scoring.read_asr_en()
    configs = {
        "30 s (the export)": lambda s: 30.0,
        "audio only": lambda s: s,
        "audio + 1 s": lambda s: s + 1,
        "audio + 2 s": lambda s: s + 2,
        "audio + 3 s": lambda s: s + 3,
        "max(10 s, audio + 2 s) (live default)": lambda s: max(10.0, s + 2),
    }
    out = {}
    for name, seconds in configs.items():
        hyps, guarded, enc, total = [], [], 0.0, 0.0
        for path, _ in pairs:
            audio = load_audio(path)
            frames = min(3000, 2 * math.ceil(seconds(audio.size / 16000) * 50))
            opts = DecodingOptions(language="en", beam_size=1, without_timestamps=True, temperatures=(0.0,))
            t0 = time.perf_counter()
            cross = model.encode(log_mel(audio, model.n_mels, frames)[None])
            enc += time.perf_counter() - t0
            r = dec.decode(cross, opts)[0]
            total += time.perf_counter() - t0
            hyps.append(t.tokenizer.decode(r.tokens))
            guarded.append(t.tokenizer.decode(loop_guard(r.tokens, audio.size / 16000)))
        refs = [r for _, r in pairs]
        out[name] = {
            "wer": round(100 * scoring.wer(refs, hyps), 2),
            "wer_with_loop_guard": round(100 * scoring.wer(refs, guarded), 2),
            "encoder_ms_per_utterance": round(1000 * enc / len(pairs), 1),
            "total_ms_per_utterance": round(1000 * total / len(pairs), 1),
        }
        print(name, out[name], flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trim-study", action="store_true", help="only: WER/time of shorter encoder inputs on asr_en")
    ap.add_argument("--set", choices=("longform", "call", "ami", "conv"), default="longform", help="what is played")
    ap.add_argument("--loops", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-speakers", action="store_true", help="live speaker labels off")
    ap.add_argument("--out", type=Path, default=None, help="write the results here (JSON)")
    ap.add_argument("--events-in", type=Path, default=None, help="analyse an existing events file")
    ap.add_argument("--keep-events", type=Path, default=None, help="keep the events file here")
    ap.add_argument("--live-args", default="", help="extra `minutes live` arguments, e.g. '--encoder-seconds 30'")
    args = ap.parse_args()
    if args.trim_study:
        result = {"trim_study": trim_study(args.threads), "load": os.getloadavg()[0]}
        if args.out:
            args.out.write_text(json.dumps(result, indent=2) + "\n")
        return
    wav, ref_text = audio_set(args.set)
    suffix = "" if args.set == "longform" else f"_{args.set}"
    ft = file_transcript(wav, args.threads, ROOT / "bench" / "out" / f"latency_file_transcript{suffix}.json")
    run: dict = {"loops": args.loops}
    with tempfile.TemporaryDirectory() as tmp:
        events = args.events_in or (args.keep_events or Path(tmp) / "events.jsonl")
        if args.events_in is None:
            run.update(run_live(wav, events, args.loops, args.threads, not args.no_speakers, args.live_args.split()))
        result = analyse(events, ft["words"], ref_text, ft["text"], ft["duration"], run)
    result["config"] = {"set": args.set, "loops": args.loops, "threads": args.threads, "speakers": not args.no_speakers,
                        "live_args": args.live_args, "cpu_count": os.cpu_count()}  # fmt: skip
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
