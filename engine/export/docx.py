"""Word export: the transcript as a document people read, forward and print.

Layout: title; date, duration and participants; a table of contents of the chapters with their
times (each entry links to its chapter); then each chapter as a heading with its keywords and
the speaker turns under it, one paragraph per turn, with its time and the speaker's name in the
speaker's own colour. ``times=False`` or ``speakers=False`` leave those out (e.g. for minutes
that are handed on without the recording). Only built-in styles and plain OOXML are used, so
Word and LibreOffice open it alike.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from docx.text.paragraph import Paragraph

from engine.export.txt import clock, speaker_names
from engine.speaker_colors import speaker_color
from engine.text import join_text
from engine.transcript import Chapter, Segment, Transcript

GREY = RGBColor(0x6B, 0x6B, 0x6B)
LINK = RGBColor(0x0B, 0x5F, 0xA5)


def speaker_colours(transcript: Transcript) -> dict[str, str]:
    """Speaker id -> hex colour, the window's light palette: by the speaker's number ("S3" the
    third colour), ids without a number by their place in the list."""
    order = [s.id for s in transcript.speakers]
    for seg in transcript.segments:
        if seg.speaker is not None and seg.speaker not in order:
            order.append(seg.speaker)
    return {sid: speaker_color(sid, fallback=i) for i, sid in enumerate(order)}


def duration_text(seconds: float) -> str:
    s = max(0, round(seconds))
    h, m, sec = s // 3600, s // 60 % 60, s % 60
    return f"{h} h {m:02d} min" if h else f"{m} min {sec:02d} s"


def _date(transcript: Transcript, date: dt.date | str | None) -> str:
    if isinstance(date, str):
        return date
    if date is None:
        try:  # the recording's own date says when the meeting was; export time does not
            date = dt.date.fromtimestamp(Path(transcript.audio.path).stat().st_mtime)
        except OSError:
            date = dt.date.today()
    return f"{date.day} {date.strftime('%B %Y')}"


def _turns(segments: list[Segment], speakers: bool) -> Iterator[tuple[Segment, str]]:
    """(first segment, text) per paragraph: one speaker's consecutive segments make one turn."""
    first: Segment | None = None
    text = ""
    for seg in segments:
        piece = " ".join(seg.text.split())
        if not piece:
            continue
        same = first is not None and speakers and seg.speaker is not None and seg.speaker == first.speaker
        if same:
            text = join_text(text, piece)
            continue
        if first is not None:
            yield first, text
        first, text = seg, piece
    if first is not None:
        yield first, text


def _chapter_segments(transcript: Transcript) -> list[tuple[Chapter | None, list[Segment]]]:
    """Segments grouped under the chapter their start falls in (None: before any chapter)."""
    segs = sorted(transcript.segments, key=lambda s: s.start)
    chapters = sorted(transcript.chapters, key=lambda c: c.start)
    if not chapters:
        return [(None, segs)]
    groups: list[tuple[Chapter | None, list[Segment]]] = [(None, [])] + [(c, []) for c in chapters]
    k = 0
    for seg in segs:
        while k < len(chapters) and seg.start >= chapters[k].start - 0.5:
            k += 1
        groups[k][1].append(seg)
    return [g for g in groups if g[0] is not None or g[1]]


def _bookmark(paragraph: Paragraph, name: str, ident: int) -> None:
    start = OxmlElement("w:bookmarkStart")
    start.set(qn("w:id"), str(ident))
    start.set(qn("w:name"), name)
    end = OxmlElement("w:bookmarkEnd")
    end.set(qn("w:id"), str(ident))
    paragraph._p.insert(1 if paragraph._p.pPr is not None else 0, start)
    paragraph._p.append(end)


def _internal_link(paragraph: Paragraph, text: str, anchor: str) -> None:
    link = OxmlElement("w:hyperlink")
    link.set(qn("w:anchor"), anchor)
    link.set(qn("w:history"), "1")
    run = paragraph.add_run(text)
    run.font.color.rgb = LINK
    run.font.underline = True
    link.append(run._r)
    paragraph._p.append(link)


def _page_number(paragraph: Paragraph, size_pt: int) -> None:
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    rpr = OxmlElement("w:rPr")
    sz = OxmlElement("w:sz")
    sz.set(qn("w:val"), str(size_pt * 2))  # half-points
    rpr.append(sz)
    run.append(rpr)
    t = OxmlElement("w:t")
    t.text = "1"
    run.append(t)
    field.append(run)
    paragraph._p.append(field)


def _setup(doc, transcript: Transcript, title: str) -> None:
    normal = doc.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(11)
    normal.paragraph_format.space_after = Pt(6)
    if transcript.language in ("zh", "yue", "ja"):
        rpr = normal.element.get_or_add_rPr()
        lang = rpr.find(qn("w:lang"))
        if lang is None:
            lang = OxmlElement("w:lang")
            rpr.append(lang)
        lang.set(qn("w:eastAsia"), {"zh": "zh-CN", "yue": "zh-HK", "ja": "ja-JP"}[transcript.language])
    doc.core_properties.title = title
    doc.core_properties.author = "Minutes"
    footer = doc.sections[0].footer.paragraphs[0]
    run = footer.add_run(f"{title} · page ")
    run.font.size, run.font.color.rgb = Pt(9), GREY
    _page_number(footer, 9)


def render(
    transcript: Transcript,
    times: bool = True,
    speakers: bool = True,
    title: str | None = None,
    date: dt.date | str | None = None,
) -> bytes:
    """The transcript as a .docx file (bytes); ``times``/``speakers`` off leave them out."""
    doc = Document()
    title = title or Path(transcript.audio.path).stem or "Transcript"
    _setup(doc, transcript, title)
    names = speaker_names(transcript)
    colours = speaker_colours(transcript)

    doc.add_heading(title, level=0)
    facts = [("Date", _date(transcript, date)), ("Duration", duration_text(transcript.audio.duration))]
    used = [sid for sid in colours if any(s.speaker == sid for s in transcript.segments)]
    if speakers and used:
        facts.append(("Participants", None))
    for label, value in facts:
        p = doc.add_paragraph()
        p.paragraph_format.space_after = Pt(2)
        p.add_run(f"{label}: ").bold = True
        if value is not None:
            p.add_run(value)
            continue
        for i, sid in enumerate(used):
            if i:
                p.add_run(", ")
            run = p.add_run(names.get(sid, sid))
            run.bold = True
            run.font.color.rgb = RGBColor.from_string(colours[sid])

    groups = _chapter_segments(transcript)
    chapters = [c for c, _ in groups if c is not None]
    if chapters:
        doc.add_heading("Contents", level=1)
        for n, chapter in enumerate(chapters, 1):
            p = doc.add_paragraph()
            p.paragraph_format.space_after = Pt(2)
            if times:
                t = p.add_run(f"{clock(chapter.start)}\t")
                t.font.color.rgb = GREY
            _internal_link(p, chapter.title, f"chapter_{n}")

    n = 0
    for chapter, segs in groups:
        if chapter is not None:
            n += 1
            heading = doc.add_heading(chapter.title, level=1)
            _bookmark(heading, f"chapter_{n}", n)
            details = []
            if times:
                details.append(f"{clock(chapter.start)} – {clock(chapter.end)}")
            if chapter.keywords:
                details.append("Keywords: " + ", ".join(chapter.keywords))
            if details:
                run = doc.add_paragraph().add_run(" · ".join(details))
                run.italic = True
                run.font.color.rgb = GREY
        for first, text in _turns(segs, speakers):
            p = doc.add_paragraph()
            if times:
                t = p.add_run(f"[{clock(first.start)}] ")
                t.font.color.rgb = GREY
                t.font.size = Pt(9)
            if speakers and first.speaker is not None:
                who = p.add_run(f"{names.get(first.speaker, first.speaker)}: ")
                who.bold = True
                who.font.color.rgb = RGBColor.from_string(colours[first.speaker])
            p.add_run(text)

    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
