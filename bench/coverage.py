"""Coverage benchmark: is every sentence in the transcript? Ours (the CLI's JSON) against faster-whisper.

A transcript that silently drops a sentence is the worst fault a meeting tool can have, and read
speech (asr_en, the long-form file) hardly shows it: quick turn-taking does. This runs both
engines on every multi-speaker shared set and on turn-taking conversations built here from
`asr_en` utterances (several seeds; some turns start 0.2-0.8 s before the last one ends), and
prints, per set, side by side:

* words in the transcript (ours / faster-whisper, and the ratio);
* WER where a reference exists (the conversations, pyannote_sample's STM, picovoice_leopard);
* on librispeech_turns_synthetic (no transcripts): utterances present and words timed more than
  1 s outside the utterance they belong to. The reference for each utterance is faster-whisper's
  reading of that utterance's span alone; hypothesis words are matched to it by alignment.

Ours is the product: `minutes transcribe FILES -f json --language en` (default options, as a user
runs it), timed as one call. faster-whisper 1.2.1 runs in `.venv-fw` on the same weights with its
VAD on (`vad_filter=True`), int8, beam 5, word timestamps. `--baseline REV` also runs the CLI of
an older commit (a git worktree) in the same run, to show what a change bought.

    make .venv-fw/.done
    .venv/bin/python -m bench.coverage [--seeds 1,2,3,4] [--baseline HEAD~1] [--threads 2]
        [--sets libri,pyannote,falcon,leopard,ami,ami_concat,conv] [--out bench/out/coverage]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FW_PYTHON = ROOT / ".venv-fw" / "bin" / "python"
SAMPLE_RATE = 16000
TIME_TOLERANCE = 1.0  # seconds a word may lie outside its utterance
DETAILS = False  # --details: print missing utterances and misplaced words
ALL_SETS = ("libri", "pyannote", "falcon", "leopard", "ami", "ami_concat", "conv")


# ------------------------------------------------------------------------------------------------
# faster-whisper worker (runs in .venv-fw: imports nothing from this repo)
# ------------------------------------------------------------------------------------------------
def fw_worker(files: list[str], out: str, threads: int, model_dir: str) -> None:
    """Transcribe ``files`` with faster-whisper (VAD on, word timestamps); write {path: {...}} JSON."""
    from faster_whisper import WhisperModel

    model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=threads, num_workers=1)
    result: dict = {}
    t0 = time.perf_counter()
    for path in files:
        segments, _ = model.transcribe(path, language="en", beam_size=5, vad_filter=True, word_timestamps=True)
        words, texts = [], []
        for s in segments:
            texts.append(s.text)
            words.extend([w.start, w.end, w.word] for w in s.words or [])
        result[path] = {"text": "".join(texts).strip(), "words": words}
    result["_wall_s"] = time.perf_counter() - t0
    Path(out).write_text(json.dumps(result))


# ------------------------------------------------------------------------------------------------
# data
# ------------------------------------------------------------------------------------------------
@dataclass
class Utterance:
    start: float
    end: float
    text: str | None = None  # reference text, when known


@dataclass
class Item:
    """One audio file of a set, with what is known about it."""

    set: str
    path: Path
    reference: str | None = None
    utterances: list[Utterance] = field(default_factory=list)
    clips: list[Path] = field(default_factory=list)  # one per utterance: its span cut from the file


def _speaker_group(name: str) -> str:
    """Who speaks in an asr_en file, from its name (LJSpeech is one woman, LibriVox one reader, ...)."""
    for prefix in ("ljspeech", "librivox", "cmu_cards"):
        if name.startswith(prefix):
            return prefix
    return name


def build_conversation(seed: int, out_dir: Path, n_turns: int = 16) -> Item:
    """Turn-taking from asr_en: consecutive turns by different voices, a third of them overlapping.

    Each turn starts 0.1-1.0 s after the previous one ends, or (one in three) 0.2-0.8 s before
    it ends; levels are evened out. The reference is the turns' texts in order.
    """
    import numpy as np
    import soundfile as sf

    from bench.scoring import read_asr_en

    rng = np.random.default_rng(seed)
    pool = read_asr_en()
    order = [pool[i] for i in rng.permutation(len(pool))]
    chosen: list[tuple[Path, str]] = []
    while order and len(chosen) < n_turns:
        last = _speaker_group(chosen[-1][0].name) if chosen else None
        k = next((i for i, (p, _) in enumerate(order) if _speaker_group(p.name) != last), 0)
        chosen.append(order.pop(k))
    clips = []
    for path, _ in chosen:
        audio, rate = sf.read(path, dtype="float32")
        assert rate == SAMPLE_RATE and audio.ndim == 1, path
        rms = float(np.sqrt(np.mean(audio**2))) or 1.0
        clips.append(audio * (0.05 / rms))
    starts, t = [], 0.5
    for i, clip in enumerate(clips):
        if i:
            overlap = rng.random() < 1 / 3
            gap = -rng.uniform(0.2, 0.8) if overlap else rng.uniform(0.1, 1.0)
            t = max(starts[-1] + 0.5, t + gap)
        starts.append(t)
        t += clip.size / SAMPLE_RATE
    mix = np.zeros(int((t + 0.5) * SAMPLE_RATE), dtype=np.float32)
    utterances = []
    for (_, text), clip, start in zip(chosen, clips, starts):
        a = int(round(start * SAMPLE_RATE))
        mix[a : a + clip.size] += clip
        utterances.append(Utterance(start, start + clip.size / SAMPLE_RATE, text))
    peak = float(np.max(np.abs(mix)))
    if peak > 0.99:
        mix *= 0.99 / peak
    out_dir.mkdir(parents=True, exist_ok=True)
    wav = out_dir / f"conv_seed{seed}.wav"
    sf.write(wav, mix, SAMPLE_RATE, subtype="PCM_16")
    with open(wav.with_suffix(".tsv"), "w", encoding="utf-8") as f:
        f.writelines(f"{u.start:.3f}\t{u.end:.3f}\t{u.text}\n" for u in utterances)
    return Item("conv", wav, " ".join(u.text for u in utterances if u.text), utterances)


def libri_items(data: Path, out_dir: Path) -> list[Item]:
    """librispeech_turns_synthetic: utterance spans from *.sources.tsv, each span also cut out alone."""
    import soundfile as sf

    folder = data / "diarization" / "librispeech_turns_synthetic"
    items = []
    for wav in sorted(folder.glob("*.wav")):
        audio, rate = sf.read(wav, dtype="float32")
        rows = (wav.with_suffix(".sources.tsv")).read_text().splitlines()[1:]
        item = Item("libri", wav)
        clip_dir = out_dir / "libri_utterances" / wav.stem
        clip_dir.mkdir(parents=True, exist_ok=True)
        for n, row in enumerate(rows):
            start, dur = (float(x) for x in row.split("\t")[:2])
            item.utterances.append(Utterance(start, start + dur))
            clip = clip_dir / f"{wav.stem}_{n:02d}.wav"
            if not clip.exists():
                sf.write(clip, audio[int(start * rate) : int((start + dur) * rate)], rate, subtype="PCM_16")
            item.clips.append(clip)
        items.append(item)
    return items


def reference_items(data: Path) -> list[Item]:
    """The other multi-speaker sets: pyannote_sample (STM text), falcon, leopard (turn texts), AMI."""
    d = data / "diarization"
    stm = (d / "pyannote_sample" / "sample.stm").read_text().splitlines()
    sample_ref = " ".join(" ".join(line.split()[5:]) for line in stm if line.strip())
    leopard_rows = (d / "picovoice_leopard_3spk" / "diarization_test.speaker_turns.tsv").read_text().splitlines()[1:]
    leopard_ref = " ".join(r.split("\t")[2] for r in leopard_rows if r.strip())
    items = [
        Item("pyannote", d / "pyannote_sample" / "sample.wav", sample_ref),
        Item("falcon", d / "picovoice_falcon_3spk" / "falcon_test.wav"),
        Item("leopard", d / "picovoice_leopard_3spk" / "diarization_test.wav", leopard_ref),
        Item("ami_concat", data / "longform" / "ami_debug_concat_7min.wav"),
    ]
    items += [Item("ami", p) for p in sorted((d / "ami_pyannote_debug").glob("*.wav"))]
    return items


# ------------------------------------------------------------------------------------------------
# running the engines
# ------------------------------------------------------------------------------------------------
def run_fw(files: list[Path], out: Path, threads: int, reuse: bool = False) -> tuple[dict, float]:
    """faster-whisper on ``files`` in its own venv; (results by path, wall seconds).

    ``reuse``: take an earlier run's results from ``out`` when it holds every file (no timing then).
    """
    if reuse and out.exists():
        old = json.loads(out.read_text())
        if all(str(f) in old for f in files):
            return {str(f): old[str(f)] for f in files}, old.get("_wall_s", float("nan"))
    if not FW_PYTHON.exists():
        raise SystemExit("faster-whisper venv missing: run `make .venv-fw/.done` first.")
    model_dir = (
        subprocess.run(
            [str(FW_PYTHON), str(ROOT / "bench" / "fw_model.py")], check=True, capture_output=True, text=True
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    cmd = [str(FW_PYTHON), str(Path(__file__).resolve()), "--fw-worker", "--out", str(out), "--threads", str(threads)]
    subprocess.run([*cmd, "--model-dir", model_dir, *map(str, files)], check=True)
    result = json.loads(out.read_text())
    wall = result.pop("_wall_s")
    if reuse:
        out.write_text(json.dumps(result | {"_wall_s": wall}))
    return result, wall


def run_cli(files: list[Path], out_dir: Path, threads: int, source: Path = ROOT) -> tuple[dict, float]:
    """`minutes transcribe` (the code in ``source``) on ``files``; (JSON transcripts by path, wall s)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for f in files:  # the CLI keeps files it did not write itself (an older revision's): start clean
        (out_dir / f"{f.stem}.json").unlink(missing_ok=True)
    env = dict(os.environ, PYTHONPATH=str(source))
    cmd = [sys.executable, "-m", "app.cli", "transcribe", *map(str, files)]
    cmd += ["-o", str(out_dir), "-f", "json", "--language", "en", "--threads", str(threads), "-q"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=source, env=env)
    wall = time.perf_counter() - t0
    result = {}
    for f in files:
        data = json.loads((out_dir / f"{f.stem}.json").read_text(encoding="utf-8"))
        words = [[w["start"], w["end"], w["word"]] for s in data["segments"] for w in s["words"]]
        text = " ".join(s["text"] for s in data["segments"])
        result[str(f)] = {"text": text, "words": words}
    return result, wall


def baseline_source(rev: str, out_dir: Path) -> Path:
    """A worktree of ``rev`` to run the older CLI from (replaced on every run)."""
    tree = out_dir / "baseline-src"
    subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), rev], cwd=ROOT, check=True, capture_output=True)
    return tree


# ------------------------------------------------------------------------------------------------
# scoring
# ------------------------------------------------------------------------------------------------
def _tokens(words: list) -> tuple[list[str], list[float]]:
    """Normalised tokens of timed words, each with its word's midpoint."""
    from bench.scoring import normalize_en

    toks, times = [], []
    for start, end, word in words:
        for t in normalize_en(word).split():
            toks.append(t)
            times.append((start + end) / 2)
    return toks, times


def utterance_check(item: Item, hyp_words: list, refs: list[str]) -> tuple[list[bool], int]:
    """(utterance present, for each; hypothesis words timed > 1 s outside their utterance).

    ``refs``: reference text per utterance. An utterance is present when the hypothesis has at
    least half as many words timed inside its span as its reference has (a dropped sentence has
    none; a misheard one is still there). Misplaced words come from aligning the hypothesis of the
    whole file to the references in order: a word matched to utterance u but timed away from it.
    """
    import jiwer

    from bench.scoring import normalize_en

    ref_toks, owner = [], []
    for u, text in enumerate(refs):
        toks = normalize_en(text).split()
        ref_toks += toks
        owner += [u] * len(toks)
    hyp_toks, times = _tokens(hyp_words)
    sizes = [len(normalize_en(t).split()) for t in refs]
    inside = [sum(1 for x in times if u.start <= x <= u.end) for u in item.utterances]
    present = [n > 0 and k >= n / 2 for k, n in zip(inside, sizes)]
    misplaced = 0
    if ref_toks and hyp_toks:
        align = jiwer.process_words(" ".join(ref_toks), " ".join(hyp_toks)).alignments[0]
        for chunk in align:
            if chunk.type not in ("equal", "substitute"):
                continue
            pairs = zip(range(chunk.ref_start_idx, chunk.ref_end_idx), range(chunk.hyp_start_idx, chunk.hyp_end_idx))
            for r, h in pairs:
                u = item.utterances[owner[r]]
                if times[h] < u.start - TIME_TOLERANCE or times[h] > u.end + TIME_TOLERANCE:
                    misplaced += 1
                    if DETAILS:
                        print(f"  {item.path.stem}: {hyp_toks[h]!r} at {times[h]:.1f} s, utterance {owner[r]} "
                              f"is {u.start:.1f}-{u.end:.1f}", file=sys.stderr)  # fmt: skip
    if DETAILS:
        for u, ok in enumerate(present):
            if not ok:
                span = item.utterances[u]
                said = [t for t, x in zip(hyp_toks, times) if span.start <= x <= span.end]
                print(f"  {item.path.stem} utterance {u} ({span.start:.1f}-{span.end:.1f}) missing: "
                      f"ref {refs[u]!r} | hyp {' '.join(said)!r}", file=sys.stderr)  # fmt: skip
    return present, misplaced


@dataclass
class Row:
    name: str
    files: int = 0
    words: dict = field(default_factory=dict)  # engine -> word count
    refs: list = field(default_factory=list)
    hyps: dict = field(default_factory=dict)  # engine -> list of texts
    present: dict = field(default_factory=dict)  # engine -> utterances present
    utterances: int = 0
    misplaced: dict = field(default_factory=dict)


def score(items: list[Item], results: dict[str, dict], clip_refs: list[dict]) -> list[Row]:
    """One row per set (and per libri file), engines side by side.

    ``clip_refs``: readings of each utterance clip alone (faster-whisper's, ours): an utterance is
    present when it matches one of them; misplaced words are counted against the closer one."""
    from bench.scoring import wer

    rows: dict[str, Row] = {}
    for item in items:
        keys = [item.set] + ([item.path.stem] if item.set == "libri" else [])
        for key in keys:
            row = rows.setdefault(key, Row(key))
            row.files += 1
            for engine, res in results.items():
                r = res[str(item.path)]
                row.words[engine] = row.words.get(engine, 0) + len(r["words"])
                if item.reference is not None:
                    row.hyps.setdefault(engine, []).append(r["text"])
                if item.clips:
                    checks = [
                        utterance_check(item, r["words"], [c[str(p)]["text"] for p in item.clips]) for c in clip_refs
                    ]
                    present = sum(any(flags) for flags in zip(*(p for p, _ in checks)))
                    row.present[engine] = row.present.get(engine, 0) + present
                    row.misplaced[engine] = row.misplaced.get(engine, 0) + min(m for _, m in checks)
            if item.reference is not None:
                row.refs.append(item.reference)
            row.utterances += len(item.clips)
    for row in rows.values():
        row.wer = {e: wer(row.refs, h) for e, h in row.hyps.items()} if row.refs else {}
    return list(rows.values())


def render(rows: list[Row], engines: list[str], walls: dict[str, float]) -> str:
    """A markdown table: words, ratio to faster-whisper, WER, utterances present, misplaced words."""
    head = ["set", "files"] + [f"words {e}" for e in engines] + [f"{e}/fw" for e in engines if e != "fw"]
    head += [f"WER {e}" for e in engines] + [
        "utterances present " + "/".join(engines),
        "misplaced " + "/".join(engines),
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r.name, str(r.files)] + [str(r.words.get(e, 0)) for e in engines]
        cells += [f"{r.words.get(e, 0) / max(1, r.words.get('fw', 0)):.1%}" for e in engines if e != "fw"]
        cells += [f"{r.wer[e]:.1%}" if e in r.wer else "" for e in engines]
        cells.append("/".join(f"{r.present[e]}" for e in engines) + f" of {r.utterances}" if r.utterances else "")
        cells.append("/".join(str(r.misplaced[e]) for e in engines) if r.utterances else "")
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("wall s (all files, one call each): " + ", ".join(f"{e} {walls[e]:.1f}" for e in engines))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="1,2,3,4", help="turn-taking conversations to build (one per seed)")
    parser.add_argument("--sets", default=",".join(ALL_SETS))
    parser.add_argument("--baseline", help="also run the CLI of this git revision")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--details", action="store_true", help="print missing utterances and misplaced words")
    parser.add_argument("--reuse-fw", action="store_true", help="reuse faster-whisper's results of an earlier run")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "coverage")
    parser.add_argument("--fw-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", help=argparse.SUPPRESS)
    parser.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.fw_worker:
        fw_worker(args.files, str(args.out), args.threads, args.model_dir)
        return 0
    sys.path.insert(0, str(ROOT))
    from bench.scoring import data_dir

    global DETAILS
    DETAILS = args.details

    data = data_dir()
    if not data.exists():
        raise SystemExit(f"shared data not found at {data}")
    sets = {s.strip() for s in args.sets.split(",") if s.strip()}
    args.out.mkdir(parents=True, exist_ok=True)
    items: list[Item] = []
    if "libri" in sets:
        items += libri_items(data, args.out)
    items += [i for i in reference_items(data) if i.set in sets]
    if "conv" in sets:
        items += [build_conversation(int(s), args.out / "conversations") for s in re.split(r"[, ]+", args.seeds) if s]
    files = [i.path for i in items]
    clips = [c for i in items for c in i.clips]
    print(f"{len(files)} files, {len(clips)} utterance clips", file=sys.stderr)
    tag = "-".join(sorted(sets)) + (f"-s{args.seeds}" if "conv" in sets else "")
    fw_files, fw_wall = run_fw(files, args.out / f"fw-{tag}.json", args.threads, args.reuse_fw)
    fw_clips = run_fw(clips, args.out / "fw-clips.json", args.threads, True)[0] if clips else {}
    results = {"fw": fw_files}
    walls = {"fw": fw_wall}
    results["ours"], walls["ours"] = run_cli(files, args.out / "ours", args.threads)
    engines = ["ours", "fw"]
    if args.baseline:
        tree = baseline_source(args.baseline, args.out)
        results["base"], walls["base"] = run_cli(files, args.out / "base", args.threads, tree)
        engines = ["ours", "base", "fw"]
    ours_clips = run_cli(clips, args.out / "ours_clips", args.threads)[0] if clips else {}
    rows = score(items, results, [fw_clips, ours_clips])
    table = render(rows, engines, walls)
    print(table)
    (args.out / "table.md").write_text(table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
