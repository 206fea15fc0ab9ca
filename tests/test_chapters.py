"""Chapters as a reader meets them: on transcribed meetings (bench/data/chapters: scripts spoken
by espeak-ng and transcribed by our engine; Chinese scripts as text) the chapters start where
the topic changes, carry the agenda's titles or telling keywords, and in a live session the
early ones settle while the meeting goes on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.chapters import pk, window_diff
from engine.chapters import MIN_CHAPTER_SECONDS, ChapterTracker, find_chapters, parse_agenda, tokenize
from engine.transcript import Segment, Transcript

BENCH = Path(__file__).resolve().parents[1] / "bench" / "data" / "chapters"


def load(name: str) -> tuple[Transcript, dict]:
    return Transcript.load(BENCH / f"{name}.json"), json.loads((BENCH / f"{name}.ref.json").read_text("utf-8"))


def starts(ref: dict) -> list[float]:
    return [t["start"] for t in ref["topics"]]


def text_of(tr: Transcript, start: float, end: float) -> str:
    return " ".join(s.text for s in tr.segments if start <= s.start < end).lower()


def test_agenda_titles_chapters_where_the_talk_turns() -> None:
    tr, ref = load("en_product_weekly")
    chapters = find_chapters(tr.segments, tr.language, ref["agenda"], tr.audio.duration)
    assert [c.title for c in chapters] == ["Budget", "Hiring", "Roadmap", "Office move"]
    for c, t in zip(chapters, starts(ref)):
        assert abs(c.start - t) < 5.0, (c, t)
    assert chapters[0].start == 0.0 and chapters[-1].end == pytest.approx(tr.audio.duration)
    assert all(a.end == b.start for a, b in zip(chapters, chapters[1:])), "no gaps, no overlaps"
    hiring = chapters[1]
    assert hiring.keywords[0] == "hiring" and {"candidates", "interview"} & set(hiring.keywords)


def test_automatic_chapters_and_their_keywords() -> None:
    tr, ref = load("en_community_council")
    chapters = find_chapters(tr.segments, tr.language, None, tr.audio.duration)
    assert len(chapters) == len(ref["topics"])
    for c, t in zip(chapters, starts(ref)):
        assert abs(c.start - t) < 10.0, (c, t)
    for c in chapters:
        assert c.title and len(c.keywords) >= 3
        said = text_of(tr, c.start, c.end)
        assert all(k.lower() in said for k in c.keywords), (c.keywords, said[:200])
        assert c.end - c.start >= MIN_CHAPTER_SECONDS
    assert "toilets" in chapters[2].keywords or "cups" in chapters[2].keywords  # the festival


def test_chinese_with_and_without_an_agenda() -> None:
    tr, ref = load("zh_neighbourhood")
    with_agenda = find_chapters(tr.segments, "zh", ref["agenda"], tr.audio.duration)
    assert [c.title for c in with_agenda] == ["垃圾分类", "停车", "老年人活动"]
    auto = find_chapters(tr.segments, "zh", None, tr.audio.duration)
    assert [round(c.start) for c in auto] == [round(t) for t in starts(ref)]
    assert "垃圾" in auto[0].keywords and "车位" in auto[1].keywords
    assert all(" " not in k for c in auto for k in c.keywords), "Chinese keywords are words, not spaced pieces"


def test_cue_phrase_marks_the_turn() -> None:
    """Two halves that share their vocabulary: only "moving on" says where the second begins."""
    base = "We need to check the numbers for the project again before the review."
    segs = [Segment(i * 6.0, i * 6.0 + 5.5, base) for i in range(20)]
    segs[11].text = "Moving on to the next item, the schedule for the project review."
    chapters = find_chapters(segs, "en")
    assert [c.start for c in chapters] == [0.0, 66.0]


def test_short_or_empty_transcripts_get_no_chapters() -> None:
    assert find_chapters([Segment(0.0, 11.0, "And so, my fellow Americans, ask not.")], "en") == []
    assert find_chapters([], "en") == []


def test_unmentioned_agenda_falls_back_to_automatic() -> None:
    tr, _ = load("en_school_pta")
    chapters = find_chapters(tr.segments, "en", "quarterly taxes; kubernetes", tr.audio.duration)
    assert len(chapters) >= 3 and not {"Quarterly taxes", "Kubernetes"} & {c.title for c in chapters}


def test_agenda_forms() -> None:
    items = parse_agenda("budget, costs; hiring\nroadmap；GPU cluster")
    assert [i.title for i in items] == ["Budget", "Hiring", "Roadmap", "GPU cluster"]
    assert items[0].terms == ["budget", "cost"] and items[1].terms == ["hir"]
    assert parse_agenda([["on-call", "pager"], "office move"])[1].terms == ["offic", "mov"]
    assert tokenize("hiring hires HIRE") == [("hir", "hiring"), ("hir", "hires"), ("hir", "hire")]


def test_chinese_tokenizer_is_chosen_per_call() -> None:
    """jieba words by default, character bigrams when asked; no module state carries over."""
    assert tokenize("垃圾分类", zh_tokenizer="bigram") == [("垃圾", "垃圾"), ("圾分", "圾分"), ("分类", "分类")]
    assert "圾分" not in [t for t, _ in tokenize("垃圾分类")]
    tr, _ = load("zh_neighbourhood")
    words = find_chapters(tr.segments, "zh", None, tr.audio.duration)
    bigram = find_chapters(tr.segments, "zh", None, tr.audio.duration, zh_tokenizer="bigram")
    assert [c.keywords for c in bigram] != [c.keywords for c in words]
    assert find_chapters(tr.segments, "zh", None, tr.audio.duration) == words
    with pytest.raises(ValueError, match="bigram"):
        ChapterTracker("zh", zh_tokenizer="bigrams")


@pytest.mark.parametrize("name, agenda", [("en_sprint_retro", False), ("en_product_weekly", True)])
def test_live_chapters_settle_as_the_meeting_goes_on(name: str, agenda: bool) -> None:
    tr, ref = load(name)
    tracker = ChapterTracker(tr.language, ref["agenda"] if agenda else None, settle_seconds=60.0)
    settled: list = []
    seen_at_half = None
    for seg in tr.segments:
        chapters = tracker.add([seg])
        assert chapters[: len(settled)] == settled, "a settled chapter never changes"
        settled = chapters[: tracker.settled]
        if seg.start > tr.audio.duration / 2 and seen_at_half is None:
            seen_at_half = list(chapters)
    assert seen_at_half is not None and len(seen_at_half) >= 2, "chapters appear while the meeting goes on"
    assert len(settled) >= 2, "early chapters settle"
    final = tracker.finish(tr.audio.duration)
    assert tracker.settled == len(final) and final[: len(settled)] == settled
    batch = find_chapters(tr.segments, tr.language, ref["agenda"] if agenda else None, tr.audio.duration)
    assert [c.title for c in final] == [c.title for c in batch] or agenda is False
    assert len(final) == len(batch), "live and after-the-fact chapters agree"
    assert all(abs(a.start - b.start) < 5.0 for a, b in zip(final, batch))


def test_pk_and_windowdiff_match_the_textbook_examples() -> None:
    """The examples of NLTK's segmentation metrics, as boundary strings."""

    def labels(bounds: str) -> list[int]:
        out = [0]
        for b in bounds[:-1]:
            out.append(out[-1] + (b == "1"))
        return out

    s1, s2, s3 = "000100000010", "000010000100", "100000010000"
    assert window_diff(labels(s1), labels(s1), 3) == 0.0
    assert window_diff(labels(s1), labels(s2), 3) == pytest.approx(0.3)
    assert window_diff(labels(s2), labels(s3), 3) == pytest.approx(0.8)
    assert pk(labels(s1), labels(s2), 3) == pytest.approx(0.3)
    assert pk(labels(s2), labels(s3), 3) == pytest.approx(0.8)


def test_transcription_finds_chapters_from_the_agenda(data_dir: Path, recognizer) -> None:
    from engine.file_job import AsrOptions, ChapterOptions, TranscribeOptions

    wav = data_dir / "diarization" / "pyannote_sample" / "sample.wav"
    tr = recognizer.transcribe(
        wav, TranscribeOptions(asr=AsrOptions(language="en"), chapters=ChapterOptions(keywords="New Jersey; Chicago"))
    )
    assert tr.chapters and tr.chapters[0].start == 0.0
    assert {c.title for c in tr.chapters} <= {"New Jersey", "Chicago"}
