"""Chapter benchmark: Pk and WindowDiff of engine/chapters/ against known topic boundaries.

The set (bench/data/chapters/) is built from meeting scripts written as agendas
(``scripts/*.txt``: ``== topic`` lines split the topics, ``X: text`` lines are speaker turns).
English scripts are spoken by espeak-ng, one voice per speaker, and transcribed by our engine
(Whisper base, INT8, CPU), so chapters are found on real ASR output with its errors and its own
segment times; the reference boundary is the time the first turn of each topic starts in the
built audio. espeak-ng's Mandarin voice gives speech Whisper cannot read (it comes out as
strings of digits), so the Chinese scripts are used as text: one segment per turn, timed at
4.5 characters a second.

Scripts named ``*_heldout_*`` were written and built after the method and its constants were
fixed on the others, and are reported apart: they show what tuning on the rest was worth.

Scoring follows Beeferman et al. (Pk) and Pevzner & Hearst (WindowDiff) over word units
(characters for Chinese): each word takes the topic of the reference and of the hypothesis
chapter at its midpoint; k is half the mean reference topic length in words.

Usage (repo root):
    .venv/bin/python -m bench.chapters                # score the stored set
    .venv/bin/python -m bench.chapters --build        # rebuild it (espeak-ng + our engine)
    .venv/bin/python -m bench.chapters --zh-tokens jieba,bigram   # compare Chinese tokenizers
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

if not __package__:  # `python bench/chapters.py`: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.transcript import AudioInfo, ModelInfo, Segment, Transcript  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data" / "chapters"
SCRIPTS = DATA / "scripts"
VOICES = {"A": "en-us+m3", "B": "en-gb+f2", "C": "en-gb-x-rp+m5", "D": "en-us+f4"}
GAP = 0.35  # seconds of silence between turns, the same within and between topics
ZH_RATE = 4.5  # characters a second for the text-only Chinese set


@dataclass
class Script:
    name: str
    title: str
    language: str
    agenda: str
    topics: list[tuple[str, list[tuple[str, str]]]]  # (topic, [(speaker, text)])


def read_script(path: Path) -> Script:
    meta: dict[str, str] = {}
    topics: list[tuple[str, list[tuple[str, str]]]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            meta[key.strip()] = value.strip()
        elif line.startswith("=="):
            topics.append((line[2:].strip(), []))
        else:
            spk, _, text = line.partition(":")
            topics[-1][1].append((spk.strip(), text.strip()))
    return Script(path.stem, meta["title"], meta["language"], meta["agenda"], topics)


def _speak(text: str, voice: str, folder: Path) -> np.ndarray:
    from engine.audio.decode import load_audio

    wav = folder / "turn.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "165", "-w", str(wav), text], check=True)
    return load_audio(wav)


def build_spoken(script: Script, transcriber) -> tuple[Transcript, list[float]]:
    """Speak the script, transcribe it; (transcript, start time of each topic)."""
    import soundfile as sf

    from engine.file_job import AsrOptions, ChapterOptions, TranscribeOptions

    sr = 16000
    gap = np.zeros(int(GAP * sr), np.float32)
    parts: list[np.ndarray] = []
    starts: list[float] = []
    t = 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for _, turns in script.topics:
            starts.append(t / sr)
            for spk, text in turns:
                audio = _speak(text, VOICES[spk], folder)
                parts += [audio, gap]
                t += len(audio) + len(gap)
        wav = folder / f"{script.name}.wav"
        sf.write(wav, np.concatenate(parts), sr, subtype="PCM_16")
        opts = TranscribeOptions(asr=AsrOptions(language=script.language), chapters=ChapterOptions(enabled=False))
        tr = transcriber.transcribe(wav, opts)
    tr.audio.path = f"{script.name}.wav"
    tr.chapters = []
    return tr, starts


def build_text(script: Script) -> tuple[Transcript, list[float]]:
    """The script as a transcript without audio: one segment per turn, timed by its length."""
    segs: list[Segment] = []
    starts: list[float] = []
    t = 0.0
    for _, turns in script.topics:
        starts.append(round(t, 3))
        for spk, text in turns:
            d = len(text) / ZH_RATE
            segs.append(Segment(round(t, 3), round(t + d, 3), text, f"S{spk}"))
            t += d + GAP
    tr = Transcript(AudioInfo(f"{script.name}.txt", round(t, 3)), script.language, ModelInfo("script", "-", "-"), segs)
    return tr, starts


def build(names: list[str] | None) -> None:
    transcriber = None
    for path in sorted(SCRIPTS.glob("*.txt")):
        script = read_script(path)
        if names and script.name not in names:
            continue
        if script.language == "en":
            if transcriber is None:
                from engine.recognizer import Recognizer

                transcriber = Recognizer(device="cpu", precision="int8", threads=2)
            tr, starts = build_spoken(script, transcriber)
            source = "espeak-ng + whisper-base int8"
        else:
            tr, starts = build_text(script)
            source = "script text"
        (DATA / f"{script.name}.json").write_text(json.dumps(tr.to_dict(), ensure_ascii=False) + "\n", "utf-8")
        ref = {
            "title": script.title,
            "language": script.language,
            "agenda": script.agenda,
            "source": source,
            "topics": [{"title": title, "start": s} for (title, _), s in zip(script.topics, starts)],
        }
        (DATA / f"{script.name}.ref.json").write_text(json.dumps(ref, ensure_ascii=False, indent=1) + "\n", "utf-8")
        print(f"built {script.name}: {tr.audio.duration:.0f} s, {len(tr.segments)} segments", file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------------
def units(tr: Transcript) -> list[float]:
    """The midpoint time of every word (every character for Chinese without word times)."""
    out: list[float] = []
    for seg in tr.segments:
        words = [w for w in seg.words if w.word.strip()]
        if words:
            out += [(w.start + w.end) / 2 for w in words]
            continue
        pieces = re.findall(r"[\u4e00-\u9fff]|[A-Za-z0-9']+", seg.text)
        n = len(pieces)
        out += [seg.start + (seg.end - seg.start) * (i + 0.5) / n for i in range(n)]
    return out


def labels(times: list[float], starts: list[float]) -> list[int]:
    """The index of the section (given by start times) that each time falls in."""
    edges = np.asarray(sorted(starts[1:]))
    return [int(x) for x in np.searchsorted(edges, np.asarray(times), side="right")]


def _boundaries(labels: list[int]) -> np.ndarray:
    """1 at unit j when a section ends after it (never after the last unit)."""
    lab = np.asarray(labels)
    return np.append((lab[1:] != lab[:-1]).astype(int), 0)


def pk(ref: list[int], hyp: list[int], k: int) -> float:
    """Beeferman's Pk: share of windows of k units where reference and hypothesis disagree on
    whether a boundary falls inside (windows and denominator as in NLTK's ``pk``)."""
    rb, hb = np.cumsum(np.append(0, _boundaries(ref))), np.cumsum(np.append(0, _boundaries(hyp)))
    n = len(ref) - k + 1
    r = (rb[k : k + n] - rb[:n]) > 0
    h = (hb[k : k + n] - hb[:n]) > 0
    return float(np.mean(r != h))


def window_diff(ref: list[int], hyp: list[int], k: int) -> float:
    """Pevzner & Hearst's WindowDiff: share of windows of k units whose boundary counts differ."""
    rb, hb = np.cumsum(np.append(0, _boundaries(ref))), np.cumsum(np.append(0, _boundaries(hyp)))
    n = len(ref) - k + 1
    return float(np.mean((rb[k : k + n] - rb[:n]) != (hb[k : k + n] - hb[:n])))


def score(tr: Transcript, ref_starts: list[float], chapter_starts: list[float]) -> tuple[float, float]:
    times = units(tr)
    ref = labels(times, ref_starts)
    hyp = labels(times, chapter_starts)
    k = max(2, round(len(times) / (2 * len(ref_starts))))
    return pk(ref, hyp, k), window_diff(ref, hyp, k)


def titles_right(ref: dict, found: list, duration: float) -> float:
    """Share of agenda topics whose time is mostly covered by a chapter titled with that item."""
    topics = ref["topics"]
    ok = 0
    for i, topic in enumerate(topics):
        t0, t1 = topic["start"], topics[i + 1]["start"] if i + 1 < len(topics) else duration
        mine = [c for c in found if c.title.lower() == agenda_title(ref, i).lower()]
        cover = sum(max(0.0, min(t1, c.end) - max(t0, c.start)) for c in mine)
        ok += cover > (t1 - t0) / 2
    return ok / len(topics)


def agenda_title(ref: dict, i: int) -> str:
    return [item.strip() for item in ref["agenda"].split(";")][i]


def evaluate(zh_tokens: str = "jieba", verbose: bool = True) -> dict[str, dict[str, float]]:
    """Scores of every stored meeting, with and without its agenda; ``zh_tokens``: how Chinese
    is cut into words (engine.chapters' ``zh_tokenizer``: ``"jieba"`` or ``"bigram"``)."""
    from engine import chapters

    rows: dict[str, dict[str, float]] = {}
    for ref_path in sorted(DATA.glob("*.ref.json")):
        name = ref_path.name[: -len(".ref.json")]
        ref = json.loads(ref_path.read_text("utf-8"))
        tr = Transcript.load(DATA / f"{name}.json")
        starts = [t["start"] for t in ref["topics"]]
        row: dict[str, float] = {"topics": len(starts)}
        for mode, kw in (("keywords", ref["agenda"]), ("auto", None)):
            found = chapters.find_chapters(tr.segments, tr.language, keywords=kw, zh_tokenizer=zh_tokens)
            p, w = score(tr, starts, [c.start for c in found])
            row[f"{mode}_pk"], row[f"{mode}_wd"], row[f"{mode}_n"] = p, w, len(found)
            if kw:
                row["titles"] = titles_right(ref, found, tr.audio.duration)
            if verbose:
                print(
                    f"{name:24s} {mode:8s} Pk {p:.3f} WD {w:.3f} chapters {len(found)}/{len(starts)}: "
                    + " | ".join(f"{c.start:.0f}s {c.title}" for c in found),
                    file=sys.stderr,
                )
        rows[name] = row
    return rows


def summary(rows: dict[str, dict[str, float]]) -> str:
    lines = [
        "| set | meetings | topics | Pk with keywords | WindowDiff with keywords | topics titled right "
        "| Pk automatic | WindowDiff automatic |",
        "|---|---|---|---|---|---|---|---|",
    ]
    dev = {n: r for n, r in rows.items() if "_heldout_" not in n}
    held = {n: r for n, r in rows.items() if "_heldout_" in n}
    groups = {
        "English (espeak-ng + ASR)": [r for n, r in dev.items() if n.startswith("en_")],
        "Chinese (text)": [r for n, r in dev.items() if n.startswith("zh_")],
        "development set": list(dev.values()),
        "held out, English": [r for n, r in held.items() if n.startswith("en_")],
        "held out, Chinese": [r for n, r in held.items() if n.startswith("zh_")],
        "held out": list(held.values()),
        "all": list(rows.values()),
    }
    for label, rs in groups.items():
        if not rs:
            continue
        keys = ("keywords_pk", "keywords_wd", "titles", "auto_pk", "auto_wd")
        m = {key: float(np.mean([r[key] for r in rs])) for key in keys}
        lines.append(
            f"| {label} | {len(rs)} | {int(sum(r['topics'] for r in rs))} | {m['keywords_pk']:.3f} | "
            f"{m['keywords_wd']:.3f} | {m['titles']:.0%} | {m['auto_pk']:.3f} | {m['auto_wd']:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", action="store_true", help="rebuild the set (needs espeak-ng)")
    ap.add_argument("--only", default=None, help="comma-separated script names to build")
    ap.add_argument("--zh-tokens", default=None, help="compare Chinese tokenizers, e.g. jieba,bigram")
    args = ap.parse_args()
    if args.build:
        build(args.only.split(",") if args.only else None)
    if args.zh_tokens:
        for tok in args.zh_tokens.split(","):
            rows = evaluate(tok, verbose=False)
            zh = [r for n, r in rows.items() if n.startswith("zh_")]
            print(
                f"Chinese tokens {tok}: Pk keywords {np.mean([r['keywords_pk'] for r in zh]):.3f}, "
                f"automatic {np.mean([r['auto_pk'] for r in zh]):.3f}"
            )
        return
    print(summary(evaluate()))


if __name__ == "__main__":
    main()
