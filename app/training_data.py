"""What the Training tab's Data page shows about a source: its utterances and the checker's report.

Runs off the GUI thread (Background): importing probes every audio file and the checker loads the
tokenizer. A source is a manifest (.jsonl), a TSV (path<TAB>text), a folder of audio + .txt, or a
corrected meeting's JSON. Problems carry the index of the utterance they are about, so the page can
leave bad rows out with one click.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from engine.training.manifest import Utterance


@dataclass
class RowProblem:
    line: int  # 1-based line of the (imported) manifest
    problem: str
    hint: str
    index: int | None  # the utterance it is about (None: a line that is no utterance)
    source: str = ""


@dataclass
class SourceReport:
    source: str
    utterances: list[Utterance] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)  # words the editor's corrections brought in


def load_source(path: str, language: str | None = None) -> SourceReport:
    """Import ``path`` (any kind the Data page accepts) and check every row; MinutesError if unusable."""
    from engine.errors import MinutesError
    from engine.training import importers
    from engine.training.check import check_manifest
    from engine.training.manifest import manifest_lines, parse_line, write_manifest

    p = Path(path)
    if not p.exists():
        raise MinutesError(f"'{path}' does not exist.")
    terms: list[str] = []
    tmp = None
    if p.is_dir():
        utts = importers.import_folder(p, language).utterances
    elif p.suffix.lower() in (".tsv", ".txt"):
        utts = importers.import_tsv(p, language).utterances
    elif p.suffix.lower() == ".json":
        tmp = tempfile.mkdtemp(prefix="minutes-import-")
        utts = importers.import_transcript(p, tmp).utterances
        terms = corrected_terms(p)
    else:
        utts = None
    if utts is not None:
        manifest = write_manifest(Path(tempfile.mkdtemp(prefix="minutes-check-")) / "data.jsonl", utts)
    else:
        manifest = p
    report = SourceReport(str(p), terms=terms)
    line_to_index: dict[int, int] = {}
    root = manifest.parent
    for number, text in manifest_lines(manifest):
        utt, _ = parse_line(text, root)
        if utt is not None:
            line_to_index[number] = len(report.utterances)
            report.utterances.append(utt)
    for prob in check_manifest(manifest):
        report.problems.append(RowProblem(prob.line, prob.problem, prob.hint, line_to_index.get(prob.line), p.name))
    return report


def corrected_terms(transcript_json: Path) -> list[str]:
    """Words of the edited transcript that its recognizer did not write (the editor keeps the
    original text of a corrected segment as ``original_text`` where it has it); capitalised words
    otherwise, since names are what people correct."""
    import json
    import re

    try:
        data = json.loads(transcript_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    seen: dict[str, None] = {}
    for seg in data.get("segments", []):
        words = re.findall(r"[\w'’-]+", seg.get("text", ""))
        original = seg.get("original_text")
        if original is not None:
            before = {w.lower() for w in re.findall(r"[\w'’-]+", original)}
            new = [w for w in words if w.lower() not in before]
        else:
            new = [w for i, w in enumerate(words) if i and w[:1].isupper() and len(w) > 2]
        for w in new:
            seen.setdefault(w, None)
    return list(seen)[:50]


def write_split(train: list[Utterance], dev: list[Utterance], folder: Path) -> tuple[Path, Path]:
    """The two manifests a run reads, written into its folder."""
    from engine.training.manifest import write_manifest

    folder.mkdir(parents=True, exist_ok=True)
    return write_manifest(folder / "train.jsonl", train), write_manifest(folder / "dev.jsonl", dev)
