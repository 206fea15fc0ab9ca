"""What a chapter is about: its keywords and, without an agenda, its title."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from engine.chapters.text import CJK, Sentence
from engine.chapters.tuning import MAX_KEYWORDS


def surface_forms(sents: Sequence[Sentence]) -> dict[str, str]:
    """Each term's most spoken form, so a keyword reads "hiring", not the stem "hir"."""
    forms: dict[str, Counter[str]] = {}
    for s in sents:
        for term, form in s.surface.items():
            forms.setdefault(term, Counter())[form] += 1
    return {t: c.most_common(1)[0][0] for t, c in forms.items()}


def keywords_of(
    part: Sequence[Sentence], whole: Sequence[Sentence], limit: int = MAX_KEYWORDS, forms: dict[str, str] | None = None
) -> list[str]:
    """Words and two-word phrases frequent in ``part`` and rare elsewhere in ``whole``."""
    forms = forms or surface_forms(whole)
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
        sep = "" if all(CJK.match(t) for t in key.split()) else " "
        shown: list[str] = []
        for t in key.split():
            form = forms.get(t, t)
            if not shown or shown[-1] != form:  # both halves of "sign-on" show as one
                shown.append(form)
        out.append(sep.join(shown))
        if len(out) >= limit:
            break
    return out


def title_of(keywords: Sequence[str]) -> str:
    """A heading from the top two keywords, for a chapter no agenda item names."""
    if not keywords:
        return "Discussion"
    words = list(keywords[:2])
    title = "、".join(words) if all(CJK.match(w) for w in words) else ", ".join(words)
    return title[:1].upper() + title[1:]
