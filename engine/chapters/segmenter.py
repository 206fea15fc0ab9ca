"""Chapters over a run of sentences: the agenda decoder when there is an agenda that the talk
mentions, TextTiling otherwise; then each chapter's times, keywords and title."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from engine.chapters.agenda import AgendaItem, agenda_runs
from engine.chapters.keywords import keywords_of, surface_forms, title_of
from engine.chapters.text import Sentence
from engine.chapters.texttiling import auto_boundaries
from engine.chapters.tuning import MAX_KEYWORDS, MIN_CHAPTER_SECONDS
from engine.transcript import Chapter

log = logging.getLogger("minutes.chapters")


def _chapters_from_starts(
    sents: Sequence[Sentence],
    starts: Sequence[int],
    titles: Sequence[str | None],
    whole: Sequence[Sentence],
    end: float,
    seed_terms: Sequence[Sequence[str]] | None = None,
    begin: float | None = None,
) -> list[Chapter]:
    forms = surface_forms(whole)
    out = []
    for c, first in enumerate(starts):
        last = starts[c + 1] if c + 1 < len(starts) else len(sents)
        part = sents[first:last]
        kws = keywords_of(part, whole, forms=forms)
        if seed_terms is not None:
            said = [forms[t] for t in seed_terms[c] if t in forms]
            kws = (said + [k for k in kws if k not in said])[:MAX_KEYWORDS]
        title = titles[c] or title_of(kws)
        t0 = part[0].start if c or begin is None else begin
        t1 = sents[last].start if last < len(sents) else end
        out.append(Chapter(round(t0, 3), round(max(t1, t0), 3), title, kws))
    return out


def segment(
    sents: Sequence[Sentence],
    items: Sequence[AgendaItem],
    end: float,
    min_seconds: float = MIN_CHAPTER_SECONDS,
    whole: Sequence[Sentence] | None = None,
    begin: float | None = None,
    start_ban: str | None = None,
) -> list[Chapter]:
    """Chapters over ``sents`` (agenda mode when ``items``), keywords weighed against ``whole``.

    Sentences come already tokenized (``sentences(..., zh_tokenizer)``), so the Chinese
    tokenizer is chosen there, not here.
    """
    whole = whole if whole is not None else sents
    if not sents:
        return []
    if items:
        runs = agenda_runs(sents, items, min_seconds, start_ban)
        if runs is not None:
            return _chapters_from_starts(
                sents,
                [b for b, _ in runs],
                [items[i].title for _, i in runs],
                whole,
                end,
                [items[i].terms for _, i in runs],
                begin,
            )
        log.info("No agenda item is mentioned: finding chapters automatically.")
    starts = [0, *auto_boundaries(sents, min_seconds)]
    return _chapters_from_starts(sents, starts, [None] * len(starts), whole, end, None, begin)
