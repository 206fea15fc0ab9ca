"""Library open, list and search times over N meetings made from real transcripts.

    .venv/bin/python bench/library_search.py                  # 200 meetings of 300 segments
    .venv/bin/python bench/library_search.py -n 500 --segments 600 --compare-jieba --gui

The source transcripts are made once with the engine (CPU, INT8, 2 threads) from the shared data
and cached under bench/out/transcripts/. Meetings are then built from their segments: English ones
from the two-speaker sample, the AMI excerpts and the LibriSpeech concatenation, Chinese ones
(a quarter) from the Mandarin utterances; each meeting rotates its segments, gets a title, a date
and a code word of its own ("codeword17", "暗号17"), and its times run on. Everything is written
through ``Library.add`` into bench/out/library-bench/ (replaced on each run).

Printed: building, a full index rebuild (first start without an index), opening with an
up-to-date index, listing, and search times (median and p95 over the queries, each run
``--repeat`` times), English, Chinese and 1-2 character queries apart; ``--gui`` adds the Library
view offscreen (construction with first paint, and a search with its repaint); ``--compare-jieba``
measures the alternative: jieba-segmented text under FTS5's unicode61 tokenizer.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("MINUTES_DATA_DIR", str(REPO / ".cache" / "minutes-data"))

from engine.library import TRIGRAM, Library  # noqa: E402
from engine.transcript import Segment, Transcript, Word  # noqa: E402

DATA = Path(os.environ.get("MINUTES_DATA", REPO.parent / "shared" / "data"))
OUT = REPO / "bench" / "out"
SOURCES = [  # (cache name, audio under DATA, language)
    ("pyannote_sample", "diarization/pyannote_sample/sample.wav", "en"),
    ("ami_7min", "longform/ami_debug_concat_7min.wav", "en"),
    ("en_concat", "longform/en_asr_concat.wav", "en"),
    ("paddlespeech_zh", "asr_zh/paddlespeech_zh.wav", "zh"),
    ("funasr_zh", "asr_zh/funasr_asr_example.wav", "zh"),
    ("aishell_0724_0121", "asr_zh/aishell1_test_BAC009S0724W0121.wav", "zh"),
    ("aishell_0764_0121", "asr_zh/aishell1_test_BAC009S0764W0121.wav", "zh"),
    ("aishell_0764_0122", "asr_zh/aishell1_test_BAC009S0764W0122.wav", "zh"),
]
TITLES_EN = ["Weekly sync", "Budget review", "Hiring panel", "Roadmap", "Design critique", "Customer call"]
TITLES_ZH = ["周会", "季度规划", "客户访谈", "预算评审"]
QUERIES = {
    "en": [
        "marketing", "username", "specification", "printing", "java", "Quilter", "the", "spec", "pri",
        "duplication of effort", '"marketing expert"', "codeword137", "zebra", "don't", "ill-disposed",
    ],
    "zh": ["身体健康", "语音识别", "协会分析", "交易几乎", "暗号139", "天气预报"],
    "short": ["跑步", "地产", "的", "天气", "of", "zz"],
}  # fmt: skip


def source_transcripts() -> dict[str, Transcript]:
    cache = OUT / "transcripts"
    cache.mkdir(parents=True, exist_ok=True)
    missing = [s for s in SOURCES if not (cache / f"{s[0]}.json").exists()]
    if missing:
        from engine.file_job import AsrOptions, TranscribeOptions
        from engine.recognizer import Recognizer

        tr = Recognizer(device="cpu", precision="int8", threads=2)
        for name, audio, lang in missing:
            print(f"transcribing {audio} ...", flush=True)
            t = tr.transcribe(DATA / audio, TranscribeOptions(asr=AsrOptions(language=lang)))
            (cache / f"{name}.json").write_text(t.to_json(), encoding="utf-8")
    return {name: Transcript.load(cache / f"{name}.json") for name, _, _ in SOURCES}


def build_meeting(k: int, pool: list[Segment], lang: str, n_segments: int, audio: str) -> Transcript:
    """Meeting ``k``: ``n_segments`` segments from ``pool``, rotated by k, times running on."""
    segs, t = [], 0.0
    for i in range(n_segments):
        src = pool[(i + 7 * k) % len(pool)]
        shift = t - src.start
        words = [Word(w.start + shift, w.end + shift, w.word, w.probability) for w in src.words]
        segs.append(Segment(src.start + shift, src.end + shift, src.text, src.speaker, words))
        t = src.end + shift + 0.4
    mark = segs[(k * 13) % len(segs)]
    code = f"暗号{k}" if lang == "zh" else f" codeword{k}"
    mark.text = mark.text + code
    return Transcript.from_dict(
        {
            "audio": {"path": audio, "duration": round(t, 3)},
            "language": lang,
            "model": {"name": "whisper-base", "precision": "int8", "device": "cpu"},
            "speakers": [{"id": f"S{i}", "name": f"Speaker {i}"} for i in range(1, 8)],
            "segments": [_seg(s) for s in segs],
        }
    )


def _seg(s: Segment) -> dict:
    return {
        "start": round(s.start, 3),
        "end": round(s.end, 3),
        "speaker": s.speaker,
        "text": s.text,
        "words": [{"start": round(w.start, 3), "end": round(w.end, 3), "word": w.word} for w in s.words],
    }


def ms(xs: list[float]) -> str:
    xs = sorted(xs)
    p95 = xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]
    return f"median {statistics.median(xs) * 1e3:7.2f} ms   p95 {p95 * 1e3:7.2f} ms   max {xs[-1] * 1e3:7.2f} ms"


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=200, help="meetings (default 200)")
    ap.add_argument("--segments", type=int, default=300, help="segments per meeting (default 300, ~40 min)")
    ap.add_argument("--repeat", type=int, default=20, help="runs of each query")
    ap.add_argument("--root", type=Path, default=OUT / "library-bench")
    ap.add_argument("--gui", action="store_true", help="also time the Library view (offscreen)")
    ap.add_argument("--compare-jieba", action="store_true", help="also time jieba + unicode61")
    args = ap.parse_args()

    import sqlite3

    print(f"SQLite {sqlite3.sqlite_version}, FTS5 trigram: {TRIGRAM}; {os.cpu_count()} CPUs")
    sources = source_transcripts()
    en_pool = [s for n, _, lang in SOURCES if lang == "en" for s in sources[n].segments if s.text.strip()]
    zh_pool = [s for n, _, lang in SOURCES if lang == "zh" for s in sources[n].segments if s.text.strip()]
    print(f"source segments: {len(en_pool)} English, {len(zh_pool)} Chinese")

    shutil.rmtree(args.root, ignore_errors=True)
    lib = Library(args.root)
    now = datetime(2026, 6, 1, 10, 0).astimezone()
    t = time.perf_counter()
    for k in range(args.n):
        zh = k % 4 == 3
        tr = build_meeting(k, zh_pool if zh else en_pool, "zh" if zh else "en", args.segments, f"/missing/{k}.wav")
        title = f"{(TITLES_ZH if zh else TITLES_EN)[k % (4 if zh else 6)]} {k}"
        lib.add(tr, tr.audio.path, title=title, created=now - timedelta(days=k * 1.7, hours=k % 9))
    build = time.perf_counter() - t
    lib.close()
    n_segs = args.n * args.segments
    print(f"built {args.n} meetings x {args.segments} segments ({n_segs} segments) with Library.add in {build:.1f} s")

    def rebuild():
        lib = Library(args.root, sync=False)
        lib.rebuild_index()
        lib.close()

    rebuild_t = timed(rebuild, 3)
    size = (args.root / "library.sqlite").stat().st_size
    print(f"full rebuild from the files (first start, no index): {ms(rebuild_t)}; index {size / 2**20:.1f} MiB")

    def open_close():
        Library(args.root).close()

    print(f"open (index up to date, one stat per file):  {ms(timed(open_close, 20))}")

    def open_only():
        Library(args.root, sync=False).close()

    print(f"open without sync (the window; sync runs in a worker): {ms(timed(open_only, 20))}")
    lib = Library(args.root)
    some = lib.list()[len(lib.list()) // 2].id
    transcript = lib.transcript(some)
    saves = timed(lambda: lib.save(some, transcript), 5)
    print(f"save() of one {args.segments}-segment meeting (autosave, worker): {ms(saves)}")
    print(f"index() of one meeting (the editor's hook):  {ms(timed(lambda: lib.index(some), 10))}")
    print(f"list() of {args.n} meetings:                   {ms(timed(lib.list, 20))}")
    results = {}
    for group, queries in QUERIES.items():
        times, counts = [], []
        for q in queries:
            hits = lib.search(q)
            counts.append(len(hits))
            times += timed(lambda q=q: lib.search(q), args.repeat)
        results[group] = times
        label = {"en": "English", "zh": "Chinese (3+ chars)", "short": "1-2 characters (LIKE)"}[group]
        print(f"search, {label:22s} {ms(times)}   hits {counts}")
    everything = [x for v in results.values() for x in v]
    print(f"search, all {sum(map(len, QUERIES.values()))} queries:          {ms(everything)}")

    if args.gui:
        gui_bench(lib, args.repeat)
    if args.compare_jieba:
        jieba_bench(lib)
    lib.close()
    return 0


def gui_bench(lib: Library, repeat: int) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from ui.library import LibraryView

    app = QApplication.instance() or QApplication([])
    t = time.perf_counter()
    view = LibraryView(lib, sync=False)
    view.resize(900, 700)
    view.show()
    app.processEvents()
    view.grab()  # a full paint
    print(f"LibraryView with {view.meeting_model.rowCount()} meetings, built and painted: "
          f"{(time.perf_counter() - t) * 1e3:.1f} ms")  # fmt: skip
    times = []
    for q in QUERIES["en"] + QUERIES["zh"] + QUERIES["short"]:
        for _ in range(max(1, repeat // 4)):
            t = time.perf_counter()
            view.search(q)
            view.grab()
            times.append(time.perf_counter() - t)
    print(f"view search + repaint:                      {ms(times)}")


def jieba_bench(lib: Library) -> None:
    """The alternative: jieba-segmented text in an FTS5 unicode61 index (in memory)."""
    import sqlite3

    t = time.perf_counter()
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    load = time.perf_counter() - t
    con = lib._con()
    rows = con.execute("SELECT id, text FROM segments").fetchall()
    t = time.perf_counter()
    seg = [(i, " ".join(w for w in jieba.cut_for_search(text) if w.strip())) for i, text in rows]
    cut = time.perf_counter() - t
    mem = sqlite3.connect(":memory:")
    mem.execute("CREATE VIRTUAL TABLE f USING fts5(text, tokenize='unicode61')")
    t = time.perf_counter()
    mem.executemany("INSERT INTO f(rowid, text) VALUES (?, ?)", seg)
    mem.commit()
    build = time.perf_counter() - t
    print(f"jieba: dictionary load {load * 1e3:.0f} ms, segmenting {len(rows)} segments {cut:.2f} s, ", end="")
    print(f"FTS build {build:.2f} s")
    truth = {}
    for q in QUERIES["zh"] + ["线城", "市虽", "大家来体验", "识别模型"]:
        truth[q] = sum(1 for _, text in rows if q.lower() in text.lower())
        tokens = " ".join('"' + w.replace('"', '""') + '"' for w in jieba.cut_for_search(q) if w.strip())
        t = time.perf_counter()
        n_j = mem.execute("SELECT count(*) FROM f WHERE f MATCH ?", (tokens,)).fetchone()[0]
        dt = time.perf_counter() - t
        n_t = len(lib.search(q, limit=10**6))
        print(f"  {q:8s} substring truth {truth[q]:6d}   trigram {n_t:6d}   ", end="")
        print(f"jieba+unicode61 {n_j:6d} ({dt * 1e3:.1f} ms)")


if __name__ == "__main__":
    sys.exit(main())
