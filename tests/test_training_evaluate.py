"""`minutes evaluate`: the packaged model on real clips, scored as a fine-tune will be."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from engine.training.manifest import Utterance, write_manifest


def run(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "app.cli", "evaluate", "--precision", "int8", "--threads", "2", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def clips(data_dir):
    lines = (data_dir / "asr_en.tsv").read_text(encoding="utf-8").splitlines()[:4]
    return [Utterance(data_dir / p, text, 5.0, "en") for p, text in (line.split("\t", 1) for line in lines)]


def test_evaluate_reports_wer_diffs_and_term_recall(tmp_path, clips):
    # the last reference is changed: the model reads what was said, so that one counts errors
    wrong = Utterance(clips[3].audio_filepath, "Kestrova said nothing of the kind", clips[3].duration, "en")
    manifest = tmp_path / "dev.jsonl"
    write_manifest(manifest, [*clips[:3], wrong])
    terms = f"Kestrova; {clips[0].text.split()[1]}"
    r = run("--data", str(manifest), "--terms", terms, "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["utterances"] == 4 and d["cer"] is None
    per = d["per_utterance"]
    assert [u["errors"] for u in per[:3]] == [0, 0, 0]  # the packaged model reads LJ Speech clips exactly
    assert per[3]["errors"] >= 5 and any(op[0] != "equal" for op in per[3]["ops"])
    assert 0.05 < d["wer"] < 0.5
    found = {t["term"]: (t["found"], t["expected"]) for t in d["terms"]}
    assert found["Kestrova"] == (0, 1)  # said in no clip: never found
    assert found[clips[0].text.split()[1]][0] >= 1
    # the table for people names the worst utterance with both texts
    r = run("--data", str(manifest))
    assert r.returncode == 0 and "Kestrova said nothing" in r.stdout and "WER" in r.stdout


def test_evaluate_bad_input_is_one_line_and_exit_2(tmp_path, clips):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    ok = tmp_path / "ok.jsonl"
    write_manifest(ok, clips[:1])
    for args in (
        ("--data", str(empty)),
        ("--data", str(tmp_path / "missing.jsonl")),
        ("--data", str(ok), "--model", "no-such-model-here"),
    ):
        r = run(*args)
        assert r.returncode == 2, (args, r.stderr)
        lines = [x for x in r.stderr.splitlines() if x.strip()]
        assert len(lines) == 1 and lines[0].startswith("minutes: error:"), r.stderr
