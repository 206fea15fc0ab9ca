"""TF-IDF vectors of sentences, shared by TextTiling and the agenda decoder."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.chapters.text import Sentence


def tfidf(sents: Sequence[Sentence]):
    """Sentence x term TF-IDF matrix (rows L2-normalised) and the vocabulary, or None when empty."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = [s.tokens for s in sents]
    if not any(docs):
        return None, {}
    vec = TfidfVectorizer(analyzer=lambda d: d, sublinear_tf=True, norm="l2")
    x = vec.fit_transform(docs)
    return x.tocsr(), vec.vocabulary_


def normalize_rows(m: np.ndarray) -> np.ndarray:
    """Each row scaled to unit length (rows of zeros stay zero), so dot products are cosines."""
    n = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(n > 0, n, 1.0)
