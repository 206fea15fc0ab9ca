"""Chapters: where a meeting turns to a new topic, and what each part is about.

A transcript is read as a document; chapters let a reader jump to "hiring" without scrolling
through the budget. Two ways to find them:

- **With an agenda** (``keywords="budget; hiring; roadmap"``; ``;`` or new lines separate the
  items, ``,`` separates synonyms of one item: ``"budget, costs; hiring, candidates"``). A
  chapter starts where the talk turns to an item's topic and is titled by the item as the user
  wrote it (``agenda.py``). Items never mentioned get no chapter; when no item is mentioned at
  all, the automatic mode runs instead.
- **Automatically**: TextTiling over TF-IDF blocks of sentences, helped by cue phrases
  ("moving on", "next item", "下一个议题"); boundaries never closer than
  ``MIN_CHAPTER_SECONDS`` (``texttiling.py``). Titles are the chapter's top keywords: words and
  two-word phrases frequent in the chapter and rare in the rest of the meeting (``keywords.py``).

English and Chinese (``text.py``): English words are lower-cased, stop words dropped and
suffixes lightly stripped; Chinese is cut into words with jieba (``zh_tokenizer="jieba"``, the
default) or into character bigrams (``"bigram"``); bench/chapters.py measures both
(docs/benchmarks.md). Cue phrases and stop words are text files in ``resources/chapters/``
(``wordlists.py``); the tuned numbers are in ``tuning.py``.

Batch use: ``find_chapters(transcript.segments, transcript.language, keywords)``.

Incremental use (live sessions)::

    tracker = ChapterTracker(language="en", keywords="budget; hiring")  # keywords optional
    for segments in confirmed_batches:       # segments as the recognizer confirms them
        chapters = tracker.add(segments)     # all chapters so far, in time order
        settled = tracker.settled            # how many of them are final
    chapters = tracker.finish(duration)      # at the end: every chapter final

Every call returns the full list. The first ``tracker.settled`` chapters never change again
(start, end, title and keywords): a boundary settles once ``SETTLE_SECONDS`` of speech have
been confirmed after it, and later text is only segmented after the last settled boundary.
The open chapters at the end may still move, split, merge or be renamed as speech arrives.
The last chapter's ``end`` is the end of the speech so far. ``add`` costs one segmentation
of the unsettled tail, so call it per confirmed batch (seconds apart), not per word.
"""

from engine.chapters.agenda import Agenda, AgendaItem, parse_agenda
from engine.chapters.keywords import keywords_of
from engine.chapters.segmenter import segment
from engine.chapters.text import (
    DEFAULT_ZH_TOKENIZER,
    ZH_TOKENIZERS,
    Sentence,
    ZhTokenizer,
    sentences,
    stem,
    tokenize,
)
from engine.chapters.texttiling import depth_scores
from engine.chapters.tracker import ChapterTracker, find_chapters
from engine.chapters.tuning import (
    BLOCK_TOKENS,
    CUE_BONUS,
    MAX_KEYWORDS,
    MIN_CHAPTER_SECONDS,
    SETTLE_SECONDS,
    SWITCH_PENALTY,
)

__all__ = [
    "BLOCK_TOKENS",
    "CUE_BONUS",
    "DEFAULT_ZH_TOKENIZER",
    "MAX_KEYWORDS",
    "MIN_CHAPTER_SECONDS",
    "SETTLE_SECONDS",
    "SWITCH_PENALTY",
    "ZH_TOKENIZERS",
    "Agenda",
    "AgendaItem",
    "ChapterTracker",
    "Sentence",
    "ZhTokenizer",
    "depth_scores",
    "find_chapters",
    "keywords_of",
    "parse_agenda",
    "segment",
    "sentences",
    "stem",
    "tokenize",
]
