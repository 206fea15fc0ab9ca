"""Training data (engine/training, `minutes data`) and scoring (engine/scoring.py) on real clips.

What a user notices: the manifest lines and their durations, the clips cut from a corrected
meeting (at most 30 s, one speaker each, their text the meeting's text), every problem of a bad
manifest on its own line, a dev set that shares no speaker with training, WER that agrees with
jiwer, and how often each listed name came out right.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from app.cli import main
from engine.audio.decode import load_audio
from engine.scoring import normalize_en, normalize_zh, parse_terms, score, term_recall
from engine.training.check import check_manifest
from engine.training.importers import import_transcript
from engine.training.manifest import ManifestError, Utterance, read_manifest, split_manifest, write_manifest
from engine.transcript import Transcript

DEMO = Path(__file__).resolve().parents[1] / "resources" / "demo"


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# ----------------------------------------------------------------------------- importers


def test_tsv_import_writes_one_line_per_clip_with_the_files_duration(data_dir, tmp_path, capsys):
    out = tmp_path / "train.jsonl"
    assert main(["data", "import", "--tsv", str(data_dir / "asr_en.tsv"), "--language", "en", "-o", str(out)]) == 0
    assert "50 utterances" in capsys.readouterr().out
    tsv = [line.split("\t") for line in (data_dir / "asr_en.tsv").read_text(encoding="utf-8").splitlines()]
    lines = _lines(out)
    assert len(lines) == len(tsv) == 50
    for line, (rel, text) in zip(lines, tsv):
        audio = (data_dir / rel).resolve()
        assert Path(line["audio_filepath"]).is_absolute()  # outside the manifest's folder: absolute
        assert Path(line["audio_filepath"]).resolve() == audio  # (../shared may be a link)
        assert line["text"] == text.strip() and line["language"] == "en"
        assert line["duration"] == pytest.approx(sf.info(str(audio)).duration, abs=1e-3)
    assert lines[0]["audio_filepath"].endswith("jfk.wav") and lines[0]["duration"] == 11.0
    assert main(["data", "check", str(out)]) == 0


def test_folder_import_pairs_audio_with_txt_and_keeps_paths_relative(data_dir, tmp_path, capsys):
    names = ["jfk", "cmu_cards_001", "cmu_goforward"]
    for name in names:
        shutil.copy(data_dir / "asr_en" / f"{name}.wav", tmp_path / f"{name}.wav")
    (tmp_path / "jfk.txt").write_text("And so, my fellow Americans,\nask not.\n", encoding="utf-8")
    (tmp_path / "cmu_goforward.txt").write_text("go forward ten meters", encoding="utf-8")
    out = tmp_path / "train.jsonl"
    assert main(["data", "import", "--folder", str(tmp_path), "-o", str(out)]) == 0
    assert "skipped" in capsys.readouterr().err  # cmu_cards_001 has no .txt
    assert _lines(out) == [
        {"audio_filepath": "cmu_goforward.wav", "text": "go forward ten meters", "duration": 2.786},
        {"audio_filepath": "jfk.wav", "text": "And so, my fellow Americans, ask not.", "duration": 11.0},
    ]
    m = read_manifest(out)
    assert m.utterances[1].audio_filepath == tmp_path / "jfk.wav" and m.lines == [1, 2]


def test_a_corrected_meeting_becomes_clips_of_one_speaker_whose_text_is_the_meetings(tmp_path, capsys):
    out = tmp_path / "train.jsonl"
    assert main(["data", "import", "--transcript", str(DEMO / "call.json"), "-o", str(out)]) == 0
    t = Transcript.load(DEMO / "call.json")
    lines = _lines(out)
    assert " ".join(line["text"] for line in lines) == t.text
    assert {line["speaker"] for line in lines} == {"call S1", "call S2"}  # "Speaker N" is this meeting's only
    for line in lines:
        info = sf.info(str(out.parent / line["audio_filepath"]))
        assert line["audio_filepath"].startswith("train_clips/call/")
        assert (info.samplerate, info.channels) == (16000, 1)
        assert line["duration"] == pytest.approx(info.duration, abs=1e-3) and line["duration"] <= 30
        assert line["language"] == "en"
    # the first clip is its segment's audio with 0.2 s of the silence before it (the next speaker
    # starts the moment it ends, so nothing of theirs is in it)
    first = t.segments[0]
    clip, _ = sf.read(str(out.parent / lines[0]["audio_filepath"]), dtype="float32")
    recording = load_audio(DEMO / "call.flac")
    start = round((first.start - 0.2) * 16000)
    assert lines[0]["text"] == "Hello. Hello." and len(clip) == round((first.end - first.start + 0.2) * 16000)
    assert np.abs(clip - recording[start : start + len(clip)]).max() < 1e-3
    assert main(["data", "check", str(out)]) == 0


def test_a_segment_longer_than_a_clip_is_cut_at_its_words_or_reported_without_them(tmp_path):
    got = import_transcript(DEMO / "call.json", tmp_path / "clips", max_seconds=4.0)
    t = Transcript.load(DEMO / "call.json")
    assert not got.skipped
    assert all(u.duration <= 4.0 for u in got.utterances)
    assert " ".join(u.text for u in got.utterances) == t.text
    assert [u.text for u in got.utterances][7:9] == [
        "Well, there's not much difference at least, you know, they all call",
        "me a Yankee down here. So I don't",
    ]
    d = json.loads((DEMO / "call.json").read_text(encoding="utf-8"))
    d["audio"]["path"] = str(DEMO / "call.flac")  # absolute this time
    d["segments"][10]["words"] = []  # 5.7 s, no word times
    (tmp_path / "edited.json").write_text(json.dumps(d), encoding="utf-8")
    got = import_transcript(tmp_path / "edited.json", tmp_path / "clips2", max_seconds=4.0)
    assert len(got.skipped) == 1 and "0:21.8" in got.skipped[0] and "no word times" in got.skipped[0]
    assert "difference" not in " ".join(u.text for u in got.utterances)


# ----------------------------------------------------------------------------- checker


def _bad_manifest(folder: Path, data_dir: Path) -> Path:
    clips = data_dir / "asr_en"
    sf.write(folder / "long.wav", np.zeros(40 * 16000, dtype=np.float32), 16000)
    sf.write(folder / "quiet.wav", np.zeros(25 * 16000, dtype=np.float32), 16000)
    lines = [
        {"audio_filepath": str(clips / "jfk.wav"), "text": "ask not", "duration": 11.0},  # 1: fine
        '{"audio_filepath": "a.wav", "text": ',  # 2: not JSON
        {"audio_filepath": "missing.wav", "text": "hello", "duration": 2.0},  # 3
        {"audio_filepath": str(clips / "cmu_cards_001.wav"), "text": " ", "duration": 1.1},  # 4: empty text
        {"audio_filepath": "long.wav", "text": "a long one", "duration": 40.0},  # 5
        {"audio_filepath": str(clips / "jfk.wav"), "text": "ask  not", "duration": 11.0},  # 6: duplicate of 1
        {"audio_filepath": str(clips / "cmu_goforward.wav"), "text": "go " * 20, "duration": 2.786},  # 7
        {"text": "no audio"},  # 8
        {"audio_filepath": str(clips / "cmu_cards_002.wav"), "text": "three", "duration": 9.0},  # 9
        {"audio_filepath": "quiet.wav", "text": "我们讨论达格列净的剂量" * 40, "duration": 25, "language": "zh"},  # 10
    ]
    path = folder / "bad.jsonl"
    text = "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines)
    path.write_bytes(text.encode("utf-8") + '{"text": "café"}\n'.encode("latin-1"))  # 11: saved in another encoding
    return path


def test_a_bad_manifest_gives_each_problem_on_its_line_and_exit_1(data_dir, tmp_path, capsys):
    path = _bad_manifest(tmp_path, data_dir)
    problems = {p.line: p for p in check_manifest(path)}
    expected = {
        2: "not valid JSON",
        3: "audio file not found",
        4: "empty text",
        5: "clip is 40.0 s",
        6: "duplicate of line 1",
        7: "text too long for the audio: 20 words",
        8: "missing 'audio_filepath', 'duration'",
        9: "'duration' is 9.00 s but the file holds",
        10: "over Whisper's limit of 448",
        11: "not UTF-8",
    }
    assert sorted(problems) == sorted(expected)
    for line, what in expected.items():
        assert what in problems[line].problem and problems[line].hint
    assert main(["data", "check", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["line", "problem", "what", "to", "do"]
    rows = {int(row.split()[0]): row for row in out[1:-1]}
    assert sorted(rows) == sorted(expected)
    assert all(expected[n] in rows[n] and problems[n].hint in rows[n] for n in rows)
    assert "10 problems on 10 lines" in out[-1]
    with pytest.raises(ManifestError, match="line 2: not valid JSON"):
        read_manifest(path)


def test_an_empty_or_missing_manifest_is_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "empty.jsonl").write_text("\n\n", encoding="utf-8")
    for name, why in (("empty.jsonl", "is empty"), ("nothing.jsonl", "no such file")):
        assert main(["data", "check", str(tmp_path / name)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("minutes: error:") and why in err[0]
    assert main(["data", "import", "--tsv", str(tmp_path / "nothing.tsv"), "-o", str(tmp_path / "o.jsonl")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


# ----------------------------------------------------------------------------- split


def _utts(n: int, speakers: int | None, seed: int = 0) -> list[Utterance]:
    rng = np.random.default_rng(seed)
    seconds = rng.uniform(1, 20, n)
    who = [f"P{i % speakers}" if speakers else None for i in range(n)]
    return [Utterance(Path(f"/c/{i}.wav"), f"u{i}", float(seconds[i]), "en", who[i]) for i in range(n)]


def test_the_dev_set_never_shares_a_speaker_with_training_and_follows_the_seed():
    utts = _utts(120, speakers=9)
    total = sum(u.duration for u in utts)
    splits = {}
    for seed in range(8):
        for fraction in (0.1, 0.25, 0.5):
            s = split_manifest(utts, fraction, seed)
            assert s.by_speaker and s.dev and s.train and len(s.dev) + len(s.train) == len(utts)
            assert not {u.speaker for u in s.dev} & {u.speaker for u in s.train}
            assert sum(u.duration for u in s.dev) / total == pytest.approx(fraction, abs=0.12)  # a speaker is 1/9
            assert split_manifest(utts, fraction, seed) == s
            splits[seed, fraction] = {u.speaker for u in s.dev}
    assert len({frozenset(v) for k, v in splits.items() if k[1] == 0.25}) > 1  # the seed matters
    plain = split_manifest(_utts(50, speakers=None), 0.2, 3)
    assert not plain.by_speaker and len(plain.dev) in range(5, 16)


def test_the_split_manifests_of_a_meeting_keep_each_speaker_on_one_side(tmp_path):
    train, dev = tmp_path / "train.jsonl", tmp_path / "dev.jsonl"
    args = ["data", "import", "--transcript", str(DEMO / "call.json"), "-o", str(train)]
    assert main([*args, "--dev-fraction", "0.3", "--dev-out", str(dev), "--seed", "1"]) == 0
    a, b = {x["speaker"] for x in _lines(train)}, {x["speaker"] for x in _lines(dev)}
    assert a and b and not a & b
    assert [Path(x["audio_filepath"]).parent.name for x in _lines(dev)] == ["call"] * len(_lines(dev))


def test_a_manifest_reads_back_as_written(tmp_path):
    utts = [
        Utterance(tmp_path / "clips" / "a.wav", "Kestrova said so.", 2.5, "en", "Anya"),
        Utterance(Path("/elsewhere/b.wav"), "达格列净", 1.25),
    ]
    write_manifest(tmp_path / "m.jsonl", utts)
    assert _lines(tmp_path / "m.jsonl")[0]["audio_filepath"] == "clips/a.wav"
    assert read_manifest(tmp_path / "m.jsonl").utterances == utts


# ----------------------------------------------------------------------------- scoring


def test_wer_of_known_pairs_equals_jiwer_on_normalised_text(data_dir):
    import jiwer

    from bench.scoring import wer as bench_wer

    refs = [line.split("\t")[1] for line in (data_dir / "asr_en.tsv").read_text(encoding="utf-8").splitlines()[:6]]
    hyps = [r.lower().replace("the", "a", 1) for r in refs[:3]] + ["", refs[4].upper() + " extra", refs[5]]
    s = score(refs, hyps, "en")
    expected = jiwer.wer([normalize_en(r) for r in refs], [normalize_en(h) for h in hyps])
    assert s.wer == pytest.approx(expected) and s.rate == s.wer and s.cer is None
    assert bench_wer(refs, hyps) == pytest.approx(expected)
    assert [u.unit for u in s.utterances] == ["word"] * 6 and s.utterances[5].errors == 0
    assert s.utterances[3].deletions == s.utterances[3].units > 0  # nothing heard: all deleted

    one = score(["The cat sat on the mat."], ["the cat sit on mat"]).utterances[0]
    assert [(op.kind, op.ref, op.hyp) for op in one.ops] == [
        ("equal", ["the", "cat"], ["the", "cat"]),
        ("substitute", ["sat"], ["sit"]),
        ("equal", ["on"], ["on"]),
        ("delete", ["the"], []),
        ("equal", ["mat"], ["mat"]),
    ]
    assert (one.ref_norm, one.errors, one.units) == ("the cat sat on the mat", 2, 6)


def test_chinese_is_scored_by_characters(data_dir):
    import jiwer

    refs = [line.split("\t")[1] for line in (data_dir / "asr_zh.tsv").read_text(encoding="utf-8").splitlines()]
    hyps = [r[:-3] + "好" for r in refs]
    s = score(refs, hyps, "zh")
    assert s.wer is None
    assert s.cer == pytest.approx(jiwer.cer([normalize_zh(r) for r in refs], [normalize_zh(h) for h in hyps]))
    assert score(refs, hyps).cer == s.cer  # no language given: the script decides
    mixed = score(["hello there", "你好吗"], ["hello", "你好"], ["en", "ja"])
    assert (mixed.wer, mixed.cer) == (0.5, pytest.approx(1 / 3))


def test_term_recall_counts_exact_names_where_the_reference_has_them():
    terms = parse_terms("Kestrova; dapagliflozin;  Anya Petrova ;达格列净; Zyntriva")
    assert terms == ["Kestrova", "dapagliflozin", "Anya Petrova", "达格列净", "Zyntriva"]
    refs = [
        "Kestrova called about dapagliflozin.",
        "Ask Anya Petrova; she met KESTROVA twice, Kestrova said.",
        "No names here.",
        "我们讨论了达格列净的剂量",
        "Dapagliflozin-based therapy.",
    ]
    hyps = [
        "kestrova called about dapa gliflozin",
        "Ask anya petrova, she met Kestrover twice. Kestrova said",
        "No names here, Kestrova.",  # not in the reference: not counted
        "我们讨论了达格列净的剂量",
        "dapagliflozin based therapy",
    ]
    got = {r.term: (r.found, r.expected, r.recall) for r in term_recall(terms, refs, hyps)}
    assert got == {
        "Kestrova": (2, 3, pytest.approx(2 / 3)),
        "dapagliflozin": (1, 2, 0.5),
        "Anya Petrova": (1, 1, 1.0),
        "达格列净": (1, 1, 1.0),
        "Zyntriva": (0, 0, None),
    }
