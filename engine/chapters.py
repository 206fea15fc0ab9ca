"""Chapters: where a meeting turns to a new topic, and what each part is about.

A transcript is read as a document; chapters let a reader jump to "hiring" without scrolling
through the budget. Two ways to find them:

- **With an agenda** (``keywords="budget; hiring; roadmap"``; ``;`` or new lines separate the
  items, ``,`` separates synonyms of one item: ``"budget, costs; hiring, candidates"``). A
  chapter starts where the talk turns to an item's topic and is titled by the item as the user
  wrote it. Mentions of an item's words seed it; each item's vocabulary is then learnt from the
  talk around those mentions (so "interviewed three engineers" belongs to "hiring"), and a
  Viterbi pass assigns every sentence to an item, paying a price for each change of topic (a
  lower one for moving on to the next item of the agenda). Items never mentioned get no chapter;
  when no item is mentioned at all, the automatic mode runs instead.
- **Automatically**: TF-IDF vectors of the sentences (scikit-learn), compared across each gap
  between sentences by blocks of about ``BLOCK_TOKENS`` content words on either side;
  TextTiling depth scores where lexical cohesion drops, raised where a sentence opens with a
  cue phrase ("moving on", "next item", "下一个议题"); boundaries kept from the deepest down,
  never closer than ``MIN_CHAPTER_SECONDS``. Titles are the chapter's top keywords: words and
  two-word phrases frequent in the chapter and rare in the rest of the meeting.

English and Chinese: English words are lower-cased, stop words dropped and suffixes lightly
stripped; Chinese is cut into words with jieba (``ZH_TOKENIZER = "jieba"``) or into character
bigrams (``"bigram"``); bench/chapters.py measures both (docs/benchmarks.md) and jieba is the
default.

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

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from engine.transcript import Chapter, Segment

log = logging.getLogger("minutes.chapters")

MIN_CHAPTER_SECONDS = 30.0  # shorter stretches are not worth a heading
BLOCK_TOKENS = 30  # content words compared on each side of a candidate boundary
SETTLE_SECONDS = 120.0  # live: a boundary is final once this much speech follows it
CUE_BONUS = 0.15  # added to the depth score where a sentence opens with a cue phrase
SWITCH_PENALTY = 0.6  # agenda mode: price of changing topic, in units of typical sentence relevance
ZH_TOKENIZER = "jieba"  # or "bigram"
MAX_KEYWORDS = 5

_CUES_EN = (
    "next item", "next topic", "next point", "next thing", "next on the agenda", "moving on", "move on",
    "let's move", "turning to", "turn to", "let's talk about", "can we talk about", "i want to talk about",
    "i wanted to talk about", "let's discuss", "last item", "last point", "last thing", "final item",
    "final point", "finally", "one more thing", "on another note", "on a different note", "another thing",
    "let's start with", "first item", "first thing", "can i raise", "can i bring up", "i'd like to raise",
    "before we finish", "before we wrap up", "the other thing", "the other big thing", "my last point",
)  # fmt: skip
_CUES_ZH = (
    "下一个议题", "下一个问题", "下一项", "下一个事", "接下来", "下面我们", "下面说", "我们来看", "我们来讨论",
    "最后一个", "最后是", "最后一件", "还有一个", "再说一下", "我想说一下", "我想讨论", "先看一下",
    "第一件事", "另外一件", "我们讨论一下", "能不能讨论", "说一下",
)  # fmt: skip

_FILLERS = {
    "okay", "ok", "yeah", "yes", "yep", "no", "right", "sure", "think", "know", "just", "like", "really",
    "thing", "things", "good", "great", "let", "lets", "let's", "going", "gonna", "want", "wanted", "need",
    "make", "got", "get", "say", "said", "says", "well", "oh", "um", "uh", "mean", "actually", "maybe",
    "probably", "also", "one", "two", "time", "today", "thanks", "thank", "everyone", "everybody", "people",
    "guess", "lot", "bit", "kind", "sort", "way", "fine", "agreed", "idea", "can", "could", "would", "should",
    "will", "i'm", "it's", "that's", "don't", "didn't", "doesn't", "i'll", "we'll", "we're", "you're",
    "they're", "there's", "i've", "we've", "can't", "won't", "isn't", "wasn't", "aren't", "i'd", "what's",
    "hi", "hello", "morning", "evening", "alright", "point", "item", "question", "talk", "look", "ask",
    "use", "used", "does", "did", "done", "put", "come", "go", "went", "take", "took", "tell", "told",
    "start", "next", "last", "first", "finally", "much", "many", "still", "even", "quite",
    # conversation that says nothing about the topic
    "sorry", "stuff", "guys", "guy", "moment", "back", "understand", "basically", "totally", "exactly",
    "anyway", "whatever", "somebody", "cool", "nice", "bad", "pretty", "kinda", "wanna", "hmm", "mm", "mhm",
    "uh-huh", "ah", "eh", "hey", "wow", "please", "yup", "nope", "gotta", "true", "wrong", "happen", "happens",
    "saying", "talking", "thinking", "seems", "seem", "little", "big", "lots", "bunch", "stupid", "weird",
    "funny", "cause", "cos", "ya", "yo", "huh", "hm", "sounds", "sound", "means", "try", "trying", "doing",
    "getting", "makes", "made", "goes", "gets", "definitely", "certainly", "obviously", "course", "see",
    "seen", "saw", "looks", "feel",
}  # fmt: skip
_ZH_STOP = {
    "我们", "你们", "他们", "她们", "大家", "这个", "那个", "这些", "那些", "一下", "可以", "就是", "然后", "还是",
    "没有", "什么", "怎么", "因为", "所以", "但是", "如果", "已经", "一个", "现在", "今天", "觉得", "应该",
    "需要", "时候", "不是", "这样", "那么", "还有", "的话", "比如", "其实", "这次", "一点", "一些", "知道",
    "能不能", "是不是", "好的", "谢谢", "各位", "另外", "接下来", "最后", "下面", "主要", "问题", "事情",
    "讨论", "议题", "一件", "我想", "说一下", "看一下", "一直", "很多", "比较", "真的", "可能", "以后", "之前",
}  # fmt: skip

_SENT_END = re.compile(r"(?<=[.!?。！？])\s*")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[A-Za-z0-9][A-Za-z0-9'’]*(?:-[A-Za-z0-9'’]+)*")


# ---------------------------------------------------------------------------------------------
# Sentences and tokens
# ---------------------------------------------------------------------------------------------
@dataclass
class Sentence:
    start: float
    end: float
    text: str
    tokens: list[str] = field(default_factory=list)  # content terms (stems, Chinese words)
    surface: dict[str, str] = field(default_factory=dict)  # term -> a form as spoken


# Function words only: scikit-learn's list also drops content words a meeting needs ("move",
# "fire", "bill", "system"), which would make an agenda item such as "office move" unfindable.
_FUNCTION_WORDS = set(
    "a about above after again against all almost along already although always am among an and another "
    "any anyone anything are around as at be became because been before being below between both but by "
    "each either else enough etc every everyone everything few for from further had has have having he "
    "her here hers herself him himself his how however if in into is it its itself just less many me "
    "might mine more most mostly my myself neither nor not nothing now of off often on once only onto or "
    "other others otherwise our ours ourselves out over own per perhaps quite rather same she since so "
    "some somehow someone something sometimes somewhere such than that the their theirs them themselves "
    "then there therefore these they this those though through thus to together too toward towards under "
    "until up upon us very via was we were what whatever when whenever where whether which while who "
    "whoever whole whom whose why with within without yet you your yours yourself yourselves".split()
)
_STOP = frozenset(_FUNCTION_WORDS | _FILLERS)


def stem(word: str) -> str:
    """A light English stemmer: plurals, -ing, -ed and a final e, so "hiring" meets "hire"."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    for suffix in ("ing", "ed"):
        if len(w) > len(suffix) + 2 and w.endswith(suffix):
            w = w[: -len(suffix)]
            if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsfz":
                w = w[:-1]  # planned -> plan
            break
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    return w


def _zh_terms(run: str) -> list[str]:
    if ZH_TOKENIZER == "bigram":
        return [run[i : i + 2] for i in range(len(run) - 1)] if len(run) > 1 else []
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return [w for w in jieba.lcut(run) if len(w) > 1 and w not in _ZH_STOP]


def tokenize(text: str) -> list[tuple[str, str]]:
    """Content terms of a text as (term, surface form): English stems, Chinese words."""
    out: list[tuple[str, str]] = []
    for m in _TOKEN.finditer(text):
        piece = m.group(0)
        if _CJK.match(piece):
            out += [(t, t) for t in _zh_terms(piece)]
            continue
        whole = piece.lower().replace("’", "'")
        for part in whole.split("-"):  # "on-call" meets "on call"; it is shown as said
            low = part.strip("'")
            if low.endswith("'s"):
                low = low[:-2]  # the possessive: "document's" is "document"
            if len(low) < 3 or low in _STOP or low.isdigit() or "'" in low:
                continue  # "'" left: a contraction (you've, we're), never a topic
            term = stem(low)
            if term in _STOP or len(term) < 3:
                continue
            out.append((term, whole if "-" in whole else low))
    return out


def _segment_sentences(seg: Segment) -> list[tuple[float, float, str]]:
    """A segment cut at sentence ends, timed by its words when they still match the text."""
    words = [w for w in seg.words if w.word.strip()]
    if words and re.sub(r"\s", "", "".join(w.word for w in words)) == re.sub(r"\s", "", seg.text):
        out, cur = [], []
        for w in words:
            cur.append(w)
            if w.word.strip()[-1] in ".!?。！？":
                out.append((cur[0].start, cur[-1].end, "".join(x.word for x in cur).strip()))
                cur = []
        if cur:
            out.append((cur[0].start, cur[-1].end, "".join(x.word for x in cur).strip()))
        return out
    parts = [p for p in _SENT_END.split(seg.text.strip()) if p.strip()]
    total = sum(len(p) for p in parts) or 1
    t, span, out = float(seg.start), max(0.0, float(seg.end) - float(seg.start)), []
    for p in parts:
        d = span * len(p) / total
        out.append((t, t + d, p.strip()))
        t += d
    return out


def sentences(segments: Iterable[Segment]) -> list[Sentence]:
    """The transcript as sentences with their content terms, in time order."""
    out = []
    for seg in sorted(segments, key=lambda s: s.start):
        for start, end, text in _segment_sentences(seg):
            terms = tokenize(text)
            surface: dict[str, str] = {}
            for term, form in terms:
                surface.setdefault(term, form)
            out.append(Sentence(float(start), float(end), text, [t for t, _ in terms], surface))
    return out


def _opens_with_cue(text: str) -> bool:
    head = text.lower().replace("’", "'")
    if _CJK.search(head[:2]):
        return any(cue in head[:12] for cue in _CUES_ZH)
    head = " ".join(re.findall(r"[a-z']+", head)[:8])
    return any(re.search(rf"\b{re.escape(cue)}\b", head) for cue in _CUES_EN)


# ---------------------------------------------------------------------------------------------
# Shared maths
# ---------------------------------------------------------------------------------------------
def _tfidf(sents: Sequence[Sentence]):
    """Sentence x term TF-IDF matrix (rows L2-normalised) and the vocabulary, or None when empty."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = [s.tokens for s in sents]
    if not any(docs):
        return None, {}
    vec = TfidfVectorizer(analyzer=lambda d: d, sublinear_tf=True, norm="l2")
    x = vec.fit_transform(docs)
    return x.tocsr(), vec.vocabulary_


def _normalize_rows(m: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(n > 0, n, 1.0)


def _surface_forms(sents: Sequence[Sentence]) -> dict[str, str]:
    forms: dict[str, Counter[str]] = {}
    for s in sents:
        for term, form in s.surface.items():
            forms.setdefault(term, Counter())[form] += 1
    return {t: c.most_common(1)[0][0] for t, c in forms.items()}


def keywords_of(
    part: Sequence[Sentence], whole: Sequence[Sentence], limit: int = MAX_KEYWORDS, forms: dict[str, str] | None = None
) -> list[str]:
    """Words and two-word phrases frequent in ``part`` and rare elsewhere in ``whole``."""
    forms = forms or _surface_forms(whole)
    n = max(1, len(whole))
    df: Counter[str] = Counter()
    for s in whole:
        df.update(set(s.tokens))
    total: Counter[str] = Counter(t for s in whole for t in s.tokens)
    tf: Counter[str] = Counter(t for s in part for t in s.tokens)
    scores: dict[str, float] = {}
    for t, c in tf.items():
        idf = math.log((1 + n) / (1 + df[t])) + 1.0
        once = 0.3 if c < 2 else 1.0  # said once: a keyword only if nothing is said twice
        scores[t] = once * c * idf * (c / total[t])
    # two-word phrases: consecutive content terms seen at least twice in the part
    pairs: Counter[tuple[str, str]] = Counter()
    for s in part:
        pairs.update(zip(s.tokens, s.tokens[1:]))
    phrase_scores: dict[tuple[str, str], float] = {}
    for (a, b), c in pairs.items():
        if c >= 2 and a != b and a in scores and b in scores:
            phrase_scores[(a, b)] = 1.2 * (scores[a] + scores[b]) / 2 * min(1.0, c / min(tf[a], tf[b]) + 0.3)
    ranked: list[tuple[float, str, set[str]]] = [(v, t, {t}) for t, v in scores.items()]
    ranked += [(v, f"{a} {b}", {a, b}) for (a, b), v in phrase_scores.items()]
    ranked.sort(key=lambda r: -r[0])
    out: list[str] = []
    used: set[str] = set()
    for _, key, terms in ranked:
        if terms & used:
            continue
        used |= terms
        sep = "" if all(_CJK.match(t) for t in key.split()) else " "
        shown: list[str] = []
        for t in key.split():
            form = forms.get(t, t)
            if not shown or shown[-1] != form:  # both halves of "sign-on" show as one
                shown.append(form)
        out.append(sep.join(shown))
        if len(out) >= limit:
            break
    return out


def _title(keywords: Sequence[str]) -> str:
    if not keywords:
        return "Discussion"
    words = list(keywords[:2])
    title = "、".join(words) if all(_CJK.match(w) for w in words) else ", ".join(words)
    return title[:1].upper() + title[1:]


# ---------------------------------------------------------------------------------------------
# Automatic: TextTiling over TF-IDF blocks
# ---------------------------------------------------------------------------------------------
def _block_bounds(counts: np.ndarray, gap: int, size: int) -> tuple[int, int]:
    """Sentence indexes [lo, hi) holding about ``size`` content terms before/after ``gap``."""
    lo, acc = gap, 0
    while lo > 0 and acc < size:
        lo -= 1
        acc += counts[lo]
    hi, acc = gap, 0
    while hi < len(counts) and acc < size:
        acc += counts[hi]
        hi += 1
    return lo, hi


def depth_scores(sents: Sequence[Sentence], block_tokens: int = BLOCK_TOKENS) -> np.ndarray:
    """Depth of the cohesion valley at each gap (gap i lies before sentence i; gap 0 is unused)."""
    n = len(sents)
    x, _ = _tfidf(sents)
    depth = np.zeros(n)
    if x is None or n < 3:
        return depth
    counts = np.array([len(s.tokens) for s in sents])
    sim = np.ones(n)
    for g in range(1, n):
        lo, hi = _block_bounds(counts, g, block_tokens)
        a = np.asarray(x[lo:g].sum(axis=0)).ravel()
        b = np.asarray(x[g:hi].sum(axis=0)).ravel()
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        sim[g] = float(a @ b / (na * nb)) if na and nb else 1.0
    sim[0] = sim[1] if n > 1 else 1.0
    smooth = sim.copy()
    smooth[1:-1] = (sim[:-2] + sim[1:-1] + sim[2:]) / 3 if n > 2 else sim[1:-1]
    for g in range(1, n):
        left = smooth[g]
        i = g
        while i > 1 and smooth[i - 1] >= left:
            i -= 1
            left = smooth[i]
        right = smooth[g]
        i = g
        while i < n - 1 and smooth[i + 1] >= right:
            i += 1
            right = smooth[i]
        depth[g] = (left - smooth[g]) + (right - smooth[g])
    return depth


def _auto_boundaries(sents: Sequence[Sentence], min_seconds: float) -> list[int]:
    """Sentence indexes where a new chapter starts (the first chapter's 0 not included)."""
    n = len(sents)
    if n < 4:
        return []
    depth = depth_scores(sents)
    for g in range(1, n):
        if _opens_with_cue(sents[g].text):
            depth[g] += CUE_BONUS
    cands = depth[1:]
    positive = cands[cands > 0]
    if not len(positive):
        return []
    cutoff = max(positive.mean() - positive.std() / 2, 0.05)
    chosen: list[int] = []
    for g in sorted(range(1, n), key=lambda i: -depth[i]):
        if depth[g] < cutoff:
            break
        t = sents[g].start
        if t - sents[0].start < min_seconds or sents[-1].end - t < min_seconds:
            continue
        if any(abs(t - sents[c].start) < min_seconds for c in chosen):
            continue
        chosen.append(g)
    return sorted(chosen)


# ---------------------------------------------------------------------------------------------
# Agenda: items seeded by their words, learnt from the talk, assigned by Viterbi
# ---------------------------------------------------------------------------------------------
@dataclass
class AgendaItem:
    title: str
    terms: list[str]  # content terms of the item and its synonyms


def parse_agenda(keywords: str | Sequence[str] | Sequence[Sequence[str]] | None) -> list[AgendaItem]:
    """``"budget; hiring, candidates"`` or ``["budget", ["hiring", "candidates"]]`` -> items."""
    if not keywords:
        return []
    if isinstance(keywords, str):
        raw: list[list[str]] = [[w.strip() for w in item.split(",")] for item in re.split(r"[;\n；]", keywords)]
    else:
        raw = [[item] if isinstance(item, str) else list(item) for item in keywords]
    items = []
    for words in raw:
        words = [w.strip() for w in words if w and w.strip()]
        if not words:
            continue
        terms: list[str] = []
        for w in words:
            found = [t for t, _ in tokenize(w)]
            if not found and w.strip():  # a stop word such as "time" as the whole item: keep it
                found = [stem(w.lower())] if not _CJK.search(w) else [w]
            terms += [t for t in found if t not in terms]
        title = words[0][:1].upper() + words[0][1:]  # a heading, as typed otherwise ("GPU cluster")
        items.append(AgendaItem(title, terms))
    return items


def _viterbi(emit: np.ndarray, penalty: float, start_ban: int | None = None, min_run: int = 1) -> np.ndarray:
    """Best item per sentence: emissions summed, ``penalty`` per change (1.5x if out of agenda
    order), and no item left before it has held ``min_run`` sentences (each item is a chain of
    ``min_run`` states, so the decoder itself never cuts a topic into slivers)."""
    n, k = emit.shape
    m = max(1, min(min_run, n))
    trans = np.full((k, k), -1.5 * penalty)
    for i in range(k):
        trans[i, i] = -np.inf  # staying is the chain below, not a switch
        if i + 1 < k:
            trans[i, i + 1] = -penalty
    score = np.full((k, m), -np.inf)  # score[item, sentences held so far - 1, capped]
    score[:, 0] = emit[0] - 0.5 * penalty * np.arange(k) / max(1, k)  # meetings start at the top of the agenda
    if start_ban is not None and k > 1:
        score[start_ban, 0] = -np.inf
    # back[j, item, c]: the (item, c) state of sentence j - 1 on the best way into it
    back = np.zeros((n, k, m, 2), dtype=np.int32)
    for j in range(1, n):
        new = np.full((k, m), -np.inf)
        b = np.zeros((k, m, 2), dtype=np.int32)
        items = np.arange(k)
        if m > 1:
            new[:, 1:] = score[:, :-1]
            b[:, 1:, 0] = items[:, None]
            b[:, 1:, 1] = np.arange(m - 1)[None, :]
        stay = score[:, m - 1] > new[:, m - 1]
        new[stay, m - 1] = score[stay, m - 1]
        b[stay, m - 1] = np.stack([items[stay], np.full(stay.sum(), m - 1)], axis=1)
        cand = score[:, m - 1][:, None] + trans  # a finished item hands over to another
        new[:, 0] = cand.max(axis=0)
        b[:, 0, 0] = cand.argmax(axis=0)
        b[:, 0, 1] = m - 1
        score = new + emit[j][:, None]
        back[j] = b
    done = score[:, m - 1]
    item, c = (int(done.argmax()), m - 1) if np.isfinite(done).any() else np.unravel_index(score.argmax(), score.shape)
    path = np.zeros(n, dtype=int)
    path[-1] = item
    for j in range(n - 1, 0, -1):
        item, c = back[j, item, c]
        path[j - 1] = item
    return path


def _window(x: np.ndarray, half: int) -> np.ndarray:
    """Each row summed with its ``half`` neighbours on either side (a sentence's context)."""
    c = np.cumsum(np.vstack([np.zeros((1, x.shape[1])), x]), axis=0)
    n = x.shape[0]
    idx = np.arange(n)
    lo, hi = np.maximum(0, idx - half), np.minimum(n, idx + half + 1)
    return c[hi] - c[lo]


def _agenda_path(
    sents: Sequence[Sentence], items: Sequence[AgendaItem], start_ban: int | None
) -> tuple[np.ndarray, np.ndarray] | None:
    """The item of each sentence and the evidence for it (sentences x items), or None if no item is named."""
    x, vocab = _tfidf(sents)
    if x is None:
        return None
    dense = x.toarray()
    k = len(items)
    n = len(sents)
    df = np.asarray((dense > 0).sum(axis=0)).ravel()
    query = np.zeros((k, dense.shape[1]))
    said = np.zeros(k)  # weight of each item's words, said or not
    for i, item in enumerate(items):
        for t in item.terms:
            idf = math.log((1 + n) / (1 + (df[vocab[t]] if t in vocab else 0))) + 1.0
            said[i] += idf
            if t in vocab:
                query[i, vocab[t]] = idf
    if not query.any():
        return None
    ctx = _normalize_rows(_window(dense, 1))
    # how much of each item is named in each sentence: "new" alone names "new monitors" weakly
    mentions = (dense > 0).astype(float) @ query.T / np.maximum(said, 1e-9)
    # seed: the item's words said around here; refine: the vocabulary of the sentences it won
    emit = _window(mentions, 1)
    emit = emit / max(emit.max(), 1e-9)
    per = max(1.0, (sents[-1].end - sents[0].start) / len(sents))  # seconds a sentence
    min_run = max(1, int(MIN_CHAPTER_SECONDS / per))  # sentences in the shortest chapter
    path = _viterbi(emit, SWITCH_PENALTY, start_ban, min_run)
    for _ in range(3):
        profiles = np.zeros_like(query)
        for i in range(k):
            mask = path == i
            if mask.any():
                profiles[i] = _normalize_rows(dense[mask].sum(axis=0, keepdims=True))[0]
        profiles = _normalize_rows(profiles + _normalize_rows(query))
        rel = ctx @ profiles.T
        scale = np.median(rel.max(axis=1)) or 1.0
        emit = rel / scale + 0.5 * np.minimum(mentions, 1.0)
        new = _viterbi(emit, SWITCH_PENALTY * 2, start_ban, min_run)
        if np.array_equal(new, path):
            break
        path = new
    return path, emit


def _merge_short(
    path: np.ndarray, emit: np.ndarray, sents: Sequence[Sentence], min_seconds: float
) -> list[tuple[int, int]]:
    """Runs of one item as (first sentence, item). The shortest run under ``min_seconds`` takes
    the item of the neighbour its sentences fit better, until every run is long enough."""
    labels = path.copy()
    while True:
        starts = [0] + [j for j in range(1, len(labels)) if labels[j] != labels[j - 1]]
        ends = starts[1:] + [len(labels)]
        if len(starts) == 1:
            break
        lengths = [sents[e - 1].end - sents[b].start for b, e in zip(starts, ends)]
        r = int(np.argmin(lengths))
        if lengths[r] >= min_seconds:
            break
        b, e = starts[r], ends[r]
        options = [int(labels[b - 1])] if r else []
        if r + 1 < len(starts):
            options.append(int(labels[e]))
        labels[b:e] = max(options, key=lambda i: emit[b:e, i].sum())
    return [(0, int(labels[0]))] + [(j, int(labels[j])) for j in range(1, len(labels)) if labels[j] != labels[j - 1]]


def _snap_to_mentions(
    runs: list[tuple[int, int]], sents: Sequence[Sentence], items: Sequence[AgendaItem], reach: int = 3
) -> list[tuple[int, int]]:
    """Move each change of item to the first sentence near it that names the new item: the talk
    turns to "hiring" where someone says "hiring", not a sentence or two before or after."""
    out = list(runs)
    for r in range(1, len(out)):
        b, item = out[r]
        terms = set(items[item].terms)
        lo = max(out[r - 1][0] + 1, b - reach)
        hi = min(out[r + 1][0] if r + 1 < len(out) else len(sents), b + reach + 1)
        named = [j for j in range(lo, hi) if terms & set(sents[j].tokens)]
        if named:
            out[r] = (named[0], item)
    return out


# ---------------------------------------------------------------------------------------------
# Putting chapters together
# ---------------------------------------------------------------------------------------------
def _chapters_from_starts(
    sents: Sequence[Sentence],
    starts: Sequence[int],
    titles: Sequence[str | None],
    whole: Sequence[Sentence],
    end: float,
    seed_terms: Sequence[Sequence[str]] | None = None,
    begin: float | None = None,
) -> list[Chapter]:
    forms = _surface_forms(whole)
    out = []
    for c, first in enumerate(starts):
        last = starts[c + 1] if c + 1 < len(starts) else len(sents)
        part = sents[first:last]
        kws = keywords_of(part, whole, forms=forms)
        if seed_terms is not None:
            said = [forms[t] for t in seed_terms[c] if t in forms]
            kws = (said + [k for k in kws if k not in said])[:MAX_KEYWORDS]
        title = titles[c] or _title(kws)
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
    """Chapters over ``sents`` (agenda mode when ``items``), keywords weighed against ``whole``."""
    whole = whole if whole is not None else sents
    if not sents:
        return []
    if items:
        ban = next((i for i, it in enumerate(items) if it.title == start_ban), None)
        found = _agenda_path(sents, items, ban)
        if found is not None:
            runs = _snap_to_mentions(_merge_short(*found, sents, min_seconds), sents, items)
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
    starts = [0, *_auto_boundaries(sents, min_seconds)]
    return _chapters_from_starts(sents, starts, [None] * len(starts), whole, end, None, begin)


def find_chapters(
    segments: Iterable[Segment],
    language: str | None = None,
    keywords: str | Sequence[str] | Sequence[Sequence[str]] | None = None,
    duration: float | None = None,
    min_seconds: float = MIN_CHAPTER_SECONDS,
) -> list[Chapter]:
    """Chapters of a whole transcript; the first starts at 0, the last ends at ``duration``.

    ``language`` is informational (tokens are chosen by script, so mixed text works);
    a transcript with less speech than one chapter gets none.
    """
    tracker = ChapterTracker(language, keywords, min_seconds=min_seconds)
    tracker.add(list(segments))
    return tracker.finish(duration)


class ChapterTracker:
    """Chapters of a meeting that is still going on; see the module docstring for the contract."""

    def __init__(
        self,
        language: str | None = None,
        keywords: str | Sequence[str] | Sequence[Sequence[str]] | None = None,
        min_seconds: float = MIN_CHAPTER_SECONDS,
        settle_seconds: float = SETTLE_SECONDS,
    ):
        self.language = language
        self.items = parse_agenda(keywords)
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
        return self._final + self._open

    def add(self, segments: Iterable[Segment]) -> list[Chapter]:
        """Take newly confirmed segments (in time order); return all chapters so far."""
        new = sentences(segments)
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
