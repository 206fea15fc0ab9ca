"""Chapters of a whole transcript, or of a meeting still going on (live sessions)."""

from __future__ import annotations

from collections.abc import Iterable

from engine.chapters.agenda import Agenda, parse_agenda
from engine.chapters.segmenter import segment
from engine.chapters.text import DEFAULT_ZH_TOKENIZER, Sentence, ZhTokenizer, check_zh_tokenizer, sentences
from engine.chapters.tuning import MIN_CHAPTER_SECONDS, SETTLE_SECONDS
from engine.transcript import Chapter, Segment


def find_chapters(
    segments: Iterable[Segment],
    language: str | None = None,
    keywords: Agenda = None,
    duration: float | None = None,
    min_seconds: float = MIN_CHAPTER_SECONDS,
    zh_tokenizer: ZhTokenizer = DEFAULT_ZH_TOKENIZER,
) -> list[Chapter]:
    """Chapters of a whole transcript; the first starts at 0, the last ends at ``duration``.

    ``language`` is informational (tokens are chosen by script, so mixed text works);
    a transcript with less speech than one chapter gets none. ``zh_tokenizer``: how Chinese is
    cut into words, ``"jieba"`` or ``"bigram"`` (character pairs).
    """
    tracker = ChapterTracker(language, keywords, min_seconds=min_seconds, zh_tokenizer=zh_tokenizer)
    tracker.add(list(segments))
    return tracker.finish(duration)


class ChapterTracker:
    """Chapters of a meeting that is still going on; see the package docstring for the contract."""

    def __init__(
        self,
        language: str | None = None,
        keywords: Agenda = None,
        min_seconds: float = MIN_CHAPTER_SECONDS,
        settle_seconds: float = SETTLE_SECONDS,
        zh_tokenizer: ZhTokenizer = DEFAULT_ZH_TOKENIZER,
    ):
        self.language = language
        self.zh_tokenizer = check_zh_tokenizer(zh_tokenizer)
        self.items = parse_agenda(keywords, self.zh_tokenizer)
        self.min_seconds = min_seconds
        self.settle_seconds = settle_seconds
        self._sents: list[Sentence] = []
        self._final: list[Chapter] = []  # settled chapters
        self._tail_from = 0  # index of the first sentence after the last settled boundary
        self._open: list[Chapter] = []

    @property
    def settled(self) -> int:
        """How many of the chapters returned last are final."""
        return len(self._final)

    @property
    def chapters(self) -> list[Chapter]:
        """All chapters so far: the settled ones, then those that may still change."""
        return self._final + self._open

    def add(self, segments: Iterable[Segment]) -> list[Chapter]:
        """Take newly confirmed segments (in time order); return all chapters so far."""
        new = sentences(segments, self.zh_tokenizer)
        if not new:
            return self.chapters
        self._sents.extend(new)
        self._sents.sort(key=lambda s: s.start)
        self._update(final=False)
        return self.chapters

    def finish(self, duration: float | None = None) -> list[Chapter]:
        """The meeting is over: every chapter is final and the last ends at ``duration``."""
        self._update(final=True, duration=duration)
        self._final += self._open
        self._open = []
        return self.chapters

    def _update(self, final: bool, duration: float | None = None) -> None:
        tail = self._sents[self._tail_from :]
        if not tail:
            self._open = []
            return
        speech_end = max(s.end for s in self._sents)
        end = max(duration or 0.0, speech_end)
        if not self._final and speech_end - self._sents[0].start < self.min_seconds:
            self._open = []  # too little speech for a chapter yet
            if final and speech_end - self._sents[0].start >= self.min_seconds / 3 and self.items:
                self._open = segment(tail, self.items, end, self.min_seconds, self._sents, 0.0)
            return
        begin = 0.0 if not self._final else None
        prev_title = self._final[-1].title if self._final else None
        chapters = segment(tail, self.items, end, self.min_seconds, self._sents, begin, prev_title)
        if not final:
            # boundaries with enough speech after them settle, with the chapters before them
            while len(chapters) > 1 and speech_end - chapters[1].start >= self.settle_seconds:
                done = chapters.pop(0)
                self._final.append(done)
                while self._tail_from < len(self._sents) and self._sents[self._tail_from].start < chapters[0].start:
                    self._tail_from += 1
        self._open = chapters
