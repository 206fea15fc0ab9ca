"""Documents and subtitles of a real recording, checked as a reader and a player would:
the Word file reopens with every turn in order and converts in LibreOffice, SRT parses with
the `srt` package and keeps the subtitle rules, WebVTT passes a strict reading of the spec,
and `minutes export` refuses files that are not transcripts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from app.cli import main
from engine import export
from engine.chapters import find_chapters
from engine.file_job import AsrOptions, ChapterOptions, TranscribeOptions
from engine.speaker_colors import LIGHT as PALETTE
from engine.transcript import Chapter, Speaker, Transcript

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench" / "data" / "chapters"


@pytest.fixture(scope="module")
def meeting(data_dir: Path, recognizer) -> Transcript:
    """The 30 s two-person call, transcribed by our engine; speakers from its reference STM
    (so the test does not depend on diarization), two chapters."""
    folder = data_dir / "diarization" / "pyannote_sample"
    tr = recognizer.transcribe(
        folder / "sample.wav", TranscribeOptions(asr=AsrOptions(language="en"), chapters=ChapterOptions(enabled=False))
    )
    turns = []
    for line in (folder / "sample.stm").read_text(encoding="utf-8").splitlines():
        parts = line.split(maxsplit=5)
        turns.append((float(parts[3]), float(parts[4]), parts[2]))
    for seg in tr.segments:
        overlap: dict[str, float] = {}
        for start, end, who in turns:
            overlap[who] = overlap.get(who, 0.0) + max(0.0, min(end, seg.end) - max(start, seg.start))
        seg.speaker = max(overlap, key=overlap.get)
    tr.speakers = [Speaker("Diane", "Diane"), Speaker("Sheila", "Sheila")]
    mid = tr.segments[len(tr.segments) // 2].start
    tr.chapters = [Chapter(0.0, mid, "Introductions", ["chicago"]), Chapter(mid, tr.audio.duration, "Weather", [])]
    assert len(tr.segments) >= 6 and {s.speaker for s in tr.segments} == {"Diane", "Sheila"}
    return tr


def bench_meeting() -> Transcript:
    """A 4-minute transcribed meeting from the chapter benchmark, three speakers taking turns."""
    tr = Transcript.load(BENCH / "en_product_weekly.json")
    for i, seg in enumerate(tr.segments):
        seg.speaker = f"S{i // 3 % 3 + 1}"
    tr.speakers = [Speaker("S1", "Anna Lee"), Speaker("S2", "Ben"), Speaker("S3", "Chen Wei")]
    tr.chapters = find_chapters(tr.segments, tr.language, "budget; hiring; roadmap; office move", tr.audio.duration)
    return tr


# ---------------------------------------------------------------------------------------------
# Word
# ---------------------------------------------------------------------------------------------
def body(path: Path) -> list:
    from docx import Document

    return Document(str(path)).paragraphs


def run_colour(run) -> str | None:
    return str(run.font.color.rgb) if run.font.color and run.font.color.type is not None else None


def check_document(tr: Transcript, path: Path) -> None:
    paras = body(path)
    texts = [p.text for p in paras]
    assert paras[0].style.name == "Title"
    assert any(t.startswith("Duration: ") for t in texts[:5])
    names = {s.id: s.name for s in tr.speakers}
    participants = next(t for t in texts[:5] if t.startswith("Participants: "))
    assert all(n in participants for n in names.values())
    # table of contents: one entry per chapter, with its time, before the first chapter heading
    headings = [(i, p.text) for i, p in enumerate(paras) if p.style.name == "Heading 1"]
    assert headings[0][1] == "Contents"
    chapter_headings = headings[1:]
    assert [t for _, t in chapter_headings] == [c.title for c in tr.chapters]
    toc = texts[headings[0][0] + 1 : headings[0][0] + 1 + len(tr.chapters)]
    for entry, chapter in zip(toc, tr.chapters):
        assert re.fullmatch(rf"\d\d:\d\d:\d\d\t{re.escape(chapter.title)}", entry), entry
    # every segment's words, in order, each under the chapter it falls in, after its speaker
    assert path.read_bytes()[:2] == b"PK", "a zip package"
    turn_paras = [(i, p) for i, p in enumerate(paras) if re.match(r"\[\d\d:\d\d:\d\d\] ", p.text)]
    flat = " ".join(p.text for _, p in turn_paras)
    pos = 0
    heading_at = {i: t for i, t in chapter_headings}
    for seg in tr.segments:
        piece = " ".join(seg.text.split())
        found = flat.find(piece, pos)
        assert found >= 0, f"segment missing or out of order: {piece!r}"
        pos = found + len(piece)
        # the paragraph holding it sits under the right chapter heading
        para_index = next(i for i, p in turn_paras if piece in " ".join(p.text.split()))
        chapter = max((i for i in heading_at if i < para_index), default=None)
        owner = max((c for c in tr.chapters if c.start <= seg.start + 0.5), key=lambda c: c.start)
        assert heading_at[chapter] == owner.title
    # speaker names lead their turns, in a colour that is always the same for one speaker
    colours: dict[str, set[str]] = {}
    for _, p in turn_paras:
        label = p.runs[1]
        name = label.text.rstrip(": ")
        assert name in names.values(), p.text
        assert label.bold
        colours.setdefault(name, set()).add(run_colour(label))
    assert all(len(c) == 1 for c in colours.values()), colours
    assert len({next(iter(c)) for c in colours.values()}) == len(colours), "each speaker its own colour"
    assert all(next(iter(c)) in PALETTE for c in colours.values())


def test_docx_of_a_real_call_reopens_in_order(meeting: Transcript, tmp_path: Path) -> None:
    out = export.write(meeting, "docx", tmp_path / "call.docx")
    check_document(meeting, out)


def test_docx_of_a_longer_meeting_with_found_chapters(tmp_path: Path) -> None:
    tr = bench_meeting()
    assert [c.title for c in tr.chapters] == ["Budget", "Hiring", "Roadmap", "Office move"]
    out = export.write(tr, "docx", tmp_path / "weekly.docx")
    check_document(tr, out)
    from docx import Document

    doc = Document(str(out))
    xml = doc.element.xml
    anchors = re.findall(r'w:anchor="([^"]+)"', xml)
    marks = re.findall(r'w:bookmarkStart[^>]*w:name="([^"]+)"', xml)
    assert anchors == marks == [f"chapter_{n}" for n in range(1, 5)], "contents entries jump to their chapters"
    kw = [p.text for p in doc.paragraphs if p.text.startswith("00:") and "Keywords: " in p.text]
    assert len(kw) == 4 and kw[0].startswith("00:00:00 – 00:01:0") and "budget" in kw[0]


def test_docx_without_times_or_speakers(meeting: Transcript, tmp_path: Path) -> None:
    out = export.write(meeting, "docx", tmp_path / "plain.docx", times=False, speakers=False, title="Call")
    texts = [p.text for p in body(out)]
    assert texts[0] == "Call"
    joined = "\n".join(texts)
    assert not re.search(r"\d\d:\d\d:\d\d", joined), "no times anywhere"
    assert "Diane:" not in joined and "Sheila:" not in joined and "Participants" not in joined  # they say their names
    paras = body(out)
    first = [i for i, p in enumerate(paras) if p.style.name == "Heading 1"][1]
    turns = [p.text for p in paras[first:] if p.style.name == "Normal" and not p.text.startswith("Keywords: ")]
    said = " ".join(" ".join(s.text.split()) for s in meeting.segments)
    assert " ".join(turns).split() == said.split()


def test_docx_chinese_and_no_chapters(tmp_path: Path) -> None:
    tr = Transcript.load(BENCH / "zh_neighbourhood.json")
    tr.chapters = []
    out = export.write(tr, "docx", tmp_path / "zh.docx")
    texts = [p.text for p in body(out)]
    assert "Contents" not in texts
    assert tr.segments[0].text in "".join(texts) and tr.segments[-1].text in "".join(texts)


def soffice() -> str:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice is missing in CI: .ci/run installs libreoffice-writer-nogui")
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install libreoffice-writer-nogui")
    return exe


def test_libreoffice_converts_the_docx(meeting: Transcript, tmp_path: Path) -> None:
    exe = soffice()
    src = export.write(bench_meeting(), "docx", tmp_path / "weekly.docx")
    export.write(meeting, "docx", tmp_path / "call.docx")
    profile = (tmp_path / "lo-profile").as_uri()  # own profile: no clash with a running office
    result = subprocess.run(
        [exe, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path)]
        + [str(src), str(tmp_path / "call.docx")],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    for name in ("weekly.pdf", "call.pdf"):
        pdf = (tmp_path / name).read_bytes()
        assert pdf.startswith(b"%PDF") and len(pdf) > 5000
        assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 1
    assert len(re.findall(rb"/Type\s*/Page[^s]", (tmp_path / "weekly.pdf").read_bytes())) >= 3, "a 4-min meeting"


# ---------------------------------------------------------------------------------------------
# Subtitles of the real call
# ---------------------------------------------------------------------------------------------
def test_srt_of_a_real_transcript(meeting: Transcript) -> None:
    import srt

    text = export.render(meeting, "srt")
    subs = list(srt.parse(text))  # raises on anything a player would choke on
    assert [s.index for s in subs] == list(range(1, len(subs) + 1))
    prev_end = 0.0
    for sub in subs:
        start, end = sub.start.total_seconds(), sub.end.total_seconds()
        assert prev_end <= start < end, "times go forward and never overlap"
        assert end - start <= 7.0
        lines = sub.content.split("\n")
        assert 1 <= len(lines) <= 2
        assert all(0 < len(line) <= 42 and line == line.strip() for line in lines), lines
        prev_end = end
    shown = " ".join(re.sub(r"^\[(Diane|Sheila)\] ", "", line) for s in subs for line in s.content.split("\n"))
    said = " ".join(s.text.strip() for s in meeting.segments)
    assert shown.split() == said.split(), "every word, in order, none split"
    labels = [m for s in subs for m in re.findall(r"^\[(\w+)\] ", s.content)]
    segs = meeting.segments
    changes = [b.speaker for k, b in enumerate(segs) if k == 0 or segs[k - 1].speaker != b.speaker]
    assert labels == changes, "the name is shown where the speaker changes"
    assert subs[0].content.startswith(f"[{meeting.segments[0].speaker}] ")


VTT_TIME = r"(?:\d{2,}:)?[0-5]\d:[0-5]\d\.\d{3}"


def validate_vtt(text: str) -> list[tuple[float, float, list[str]]]:
    """A strict WebVTT reader (W3C WebVTT: file structure, cue timings, voice spans)."""
    header = text.split("\n", 1)[0]
    assert header == "WEBVTT" or header.startswith(("WEBVTT ", "WEBVTT\t")), header
    blocks = text.rstrip("\n").split("\n\n")
    cues = []
    for block in blocks[1:]:
        lines = block.split("\n")
        if "-->" not in lines[0]:
            lines = lines[1:]  # a cue identifier
        m = re.fullmatch(rf"({VTT_TIME}) --> ({VTT_TIME})(?: .*)?", lines[0])
        assert m, lines[0]

        def secs(t: str) -> float:
            parts = [float(x) for x in t.split(":")]
            return sum(v * 60**i for i, v in enumerate(reversed(parts)))

        payload = lines[1:]
        assert payload and all(line and "-->" not in line for line in payload)
        joined = "\n".join(payload)
        # tags: only voice spans here, opened with an annotation, closed at most once
        tags = re.findall(r"<(/?)([a-z]*)([^>]*)>", joined)
        for closing, name, rest in tags:
            assert name == "v", f"unexpected tag <{closing}{name}{rest}>"
            assert closing or rest.startswith(" ") and rest.strip(), "a voice span names its voice"
        assert "&" not in re.sub(r"&(amp|lt|gt|nbsp|lrm|rlm);", "", joined), "bare ampersand"
        cues.append((secs(m.group(1)), secs(m.group(2)), payload))
    return cues


def test_vtt_of_a_real_transcript_validates(meeting: Transcript) -> None:
    text = export.render(meeting, "vtt")
    cues = validate_vtt(text)
    prev_end = 0.0
    for start, end, lines in cues:
        assert prev_end <= start < end and end - start <= 7.0
        assert lines[0].startswith(("<v Diane>", "<v Sheila>")) and lines[-1].endswith("</v>")
        assert all(len(re.sub(r"</?v[^>]*>", "", line)) <= 42 for line in lines)
        prev_end = end
    srt_times = re.findall(r"(\d\d:\d\d:\d\d),(\d{3}) --> ", export.render(meeting, "srt"))
    vtt_times = re.findall(r"(\d\d:\d\d:\d\d)\.(\d{3}) --> ", text)
    assert srt_times == vtt_times, "the same cues as the SRT"


# ---------------------------------------------------------------------------------------------
# minutes export
# ---------------------------------------------------------------------------------------------
def test_export_command_writes_each_format(meeting: Transcript, tmp_path: Path) -> None:
    src = export.write(meeting, "json", tmp_path / "call.json")
    edited = Transcript.load(src)
    edited.segments[0].text = " Hello? (edited)"
    edited.speakers[0].name = "Diane K."
    export.write(edited, "json", src)
    out = tmp_path / "out"
    assert main(["export", str(src), "-f", "docx,srt,vtt,txt", "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["call.docx", "call.srt", "call.txt", "call.vtt"]
    assert "(edited)" in (out / "call.srt").read_text(encoding="utf-8")
    assert "Diane K." in (out / "call.txt").read_text(encoding="utf-8")
    assert [p.text for p in body(out / "call.docx") if p.style.name == "Heading 1"][1:] == ["Introductions", "Weather"]
    assert main(["export", str(src), "-f", "docx", "-o", str(out), "--keywords", "Chicago; Texas"]) == 0
    titles = [p.text for p in body(out / "call.docx") if p.style.name == "Heading 1"]
    assert titles[0] == "Contents" and set(titles[1:]) <= {"Chicago", "Texas"}


@pytest.mark.parametrize(
    "content, says",
    [
        ('{"version": 1, "audio": {"path": "a.wav", "duration": 3.0}, "segm', "ends in the middle (truncated?)"),
        ('{"title": "my notes", "items": []}', "is not a Minutes transcript: it has no 'audio', 'model', 'segments'"),
        ("[1, 2, 3]", "is not a Minutes transcript: it holds a JSON list"),
        ("", "is empty"),
        ("WEBVTT\n\n00:00.000 --> 00:01.000\nhi", "is not a readable transcript: invalid JSON at line 1"),
        (
            '{"audio": {"path": "a.wav", "duration": 3}, "model": {"name": "m", "precision": "int8", "device": "cpu"},'
            ' "segments": [{"start": 0, "end": "x", "text": "hi"}]}',
            "segment 1 has no numeric 'start' and 'end'",
        ),
        (
            '{"version": 9, "audio": {"path": "a.wav", "duration": 3}, "model": {}, "segments": []}',
            "newer than this Minutes reads",
        ),
    ],
)
def test_export_refuses_what_is_not_a_transcript(
    content: str, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    assert main(["export", str(bad), "-f", "docx,srt", "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("minutes: error: ") and says in err[0], err
    assert list((tmp_path / "out").iterdir()) == []


def test_export_to_an_unwritable_folder_leaves_nothing(
    meeting: Transcript, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import errno

    src = export.write(meeting, "json", tmp_path / "call.json")
    (tmp_path / "afile").write_text("x")
    assert main(["export", str(src), "-o", str(tmp_path / "afile" / "sub")]) == 2
    assert "cannot create output folder" in capsys.readouterr().err
    out = tmp_path / "ro"
    out.mkdir()

    def denied(*args: object) -> None:  # a read-only folder (root ignores chmod, so simulate it)
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(os, "replace", denied)
    assert main(["export", str(src), "-f", "docx,srt", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"minutes: error: Cannot write '{out / 'call.docx'}': permission denied. " + (
        "Choose another folder or free some space."
    )
    assert list(out.iterdir()) == [], "no temp file, no half-written file"
