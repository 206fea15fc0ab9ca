"""Local speakers of many windows -> global speakers, never merging two voices of one window.

The segmentation model names up to three speakers per 10 s window, but its "speaker 1" in one
window has nothing to do with "speaker 1" in the next. Each (window, local speaker) with enough
clean speech has a CAM++ embedding. Those are grouped by average-linkage on cosine distance,
cut at a threshold, with the count kept within [min, max] by cutting the same tree at that many
clusters: more voices than the maximum stop at the maximum instead of collapsing (a threshold
alone cannot promise that, an eigengap can collapse). Clusters too small to be a person (a few
windows of a cough, a mixed voice) join their nearest large cluster. Then every window's local
speakers go to the global speakers one-to-one (Hungarian assignment on cosine similarity), so
two people talking at once in one window are never made one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.speakers.clustering import centroids


@dataclass(frozen=True)
class LocalClusteringOptions:
    threshold: float = 0.5  # cosine distance at which average linkage stops merging (0.4-0.6 measured)
    # smaller clusters join their nearest large one; 3 cost AMI 30.0% -> 33.8% and falcon a voice
    min_cluster_windows: int = 1
    # in a long meeting, a cluster with under this share of the embeddings is a few stray windows
    # (a blend of two voices at a turn change), not a person: it joins its nearest large cluster.
    # Relative, so a 30 s excerpt (10-20 embeddings) keeps every cluster; capped, so on a 2-hour
    # meeting someone who talks for half a minute still counts. Six voices over 30 minutes: 8
    # clusters (two of 4 and 10 windows among 1321, 3.5 s of speech) -> 6; the shared sets unchanged.
    min_cluster_share: float = 0.01
    min_cluster_share_cap: int = 12
    # every moment of a real voice lies in several overlapping windows, so its windows come in runs
    # of consecutive ones (4-6 on six voices); a blend of two voices at turn changes is caught by one
    # window here and one there. A cluster of min_scattered windows or more with at most this many
    # windows per run joins its nearest large cluster (six voices over 2 hours: two such clusters of
    # ~30 s in 44-54 fragments made 8 speakers of 6). 0 turns it off.
    max_scattered_run: float = 1.25
    min_scattered: int = 3
    max_embeddings: int = 4000  # beyond this, the tree is built on an even subsample (O(n^2) memory)


def _relabel(labels: np.ndarray) -> np.ndarray:
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    return order[inverse].astype(np.int64)


def cluster_embeddings(
    emb: np.ndarray,
    min_speakers: int = 1,
    max_speakers: int = 8,
    num_speakers: int | None = None,
    options: LocalClusteringOptions = LocalClusteringOptions(),
    windows: np.ndarray | None = None,
) -> np.ndarray:
    """Labels 0..k-1 (in order of first appearance) for unit embeddings [n, d]; ``windows`` [n]
    the index of the window each embedding comes from (enables the scattered-cluster rule)."""
    from scipy.cluster.hierarchy import fcluster, linkage

    n = len(emb)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if num_speakers is not None:
        min_speakers = max_speakers = num_speakers
    max_k = max(1, min(max_speakers, n))
    min_k = max(1, min(min_speakers, max_k))
    if n == 1:
        return np.zeros(1, dtype=np.int64)
    pick = np.arange(n)
    if n > options.max_embeddings:
        pick = np.linspace(0, n - 1, options.max_embeddings).round().astype(int)
    x = emb[pick].astype(np.float64)
    tree = linkage(x, method="average", metric="cosine")
    labels = fcluster(tree, t=options.threshold, criterion="distance") - 1
    stray = min(int(options.min_cluster_share * len(x)), options.min_cluster_share_cap)
    labels = _merge_small(x, labels, max(options.min_cluster_windows, stray))
    if windows is not None and options.max_scattered_run > 0:
        labels = _merge_scattered(x, labels, np.asarray(windows)[pick], options)
    k = int(labels.max()) + 1
    if k > max_k:  # the largest clusters are the people; the rest (often single stray windows) join them
        labels = _keep_largest(x, labels, max_k)
    elif k < min_k:
        labels = fcluster(tree, t=min_k, criterion="maxclust") - 1
    labels = _relabel(labels)
    if len(pick) < n:  # the rest by their nearest centroid
        cents = centroids(x.astype(np.float32), labels)
        labels = np.argmax(emb @ cents.T, axis=1)
        labels = _relabel(labels)
    return labels


def _keep_largest(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Labels with only the ``k`` largest clusters kept, every other member sent to the nearest of
    them. Cutting the tree at ``k`` instead merges two real voices while keeping stray singletons
    (six clean voices over 30 minutes came out as five)."""
    unit = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    keep = np.argsort(-np.bincount(labels), kind="stable")[:k]
    cents = centroids(unit.astype(np.float32), labels)[keep]
    out = labels.copy()
    rest = np.isin(labels, keep, invert=True)
    out[rest] = keep[np.argmax(unit[rest] @ cents.T, axis=1)]
    return np.unique(out, return_inverse=True)[1]


def _merge_small(x: np.ndarray, labels: np.ndarray, min_size: int) -> np.ndarray:
    sizes = np.bincount(labels)
    return _merge_into_rest(x, labels, np.flatnonzero(sizes >= min_size))


def _merge_scattered(x: np.ndarray, labels: np.ndarray, windows: np.ndarray, options) -> np.ndarray:
    """Labels with every cluster whose windows are scattered (no runs of consecutive windows) sent
    to the nearest other cluster."""
    keep = []
    for k in range(int(labels.max()) + 1):
        w = np.unique(windows[labels == k])
        runs = 1 + int((np.diff(w) > 1).sum())  # labels are 0..k-1: no cluster is empty
        if len(w) < options.min_scattered or len(w) / runs > options.max_scattered_run:
            keep.append(k)
    return _merge_into_rest(x, labels, np.asarray(keep, dtype=np.int64))


def _merge_into_rest(x: np.ndarray, labels: np.ndarray, large: np.ndarray) -> np.ndarray:
    """Labels with the members of every cluster not in ``large`` sent to the nearest of those."""
    sizes = np.bincount(labels)
    if len(large) == 0 or len(large) == len(sizes):
        return labels
    unit = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    cents = centroids(unit.astype(np.float32), labels)
    out = labels.copy()
    small = np.isin(labels, large, invert=True)
    out[small] = large[np.argmax(unit[small] @ cents[large].T, axis=1)]
    return np.unique(out, return_inverse=True)[1]


def assign_windows(
    emb: np.ndarray, valid: np.ndarray, active: np.ndarray, cents: np.ndarray, weak: np.ndarray | None = None
) -> np.ndarray:
    """Global speaker of every (window, local speaker): [W, L] ints, -1 where the local one is silent.

    ``emb`` [W, L, d] unit embeddings, ``valid`` [W, L] where a clean embedding exists, ``active``
    [W, L] where the local speaker talks at all, ``weak`` [W, L] embeddings from overlapped speech
    only (used when nothing better exists). One-to-one within a window, most similar first.
    """
    from scipy.optimize import linear_sum_assignment

    W, L = active.shape
    out = np.full((W, L), -1, dtype=np.int64)
    k = len(cents)
    if k == 0:
        return out
    usable = valid | (weak if weak is not None else np.zeros_like(valid))
    for w in range(W):
        idx = np.flatnonzero(active[w] & usable[w])
        if len(idx) == 0:
            continue
        sim = emb[w, idx] @ cents.T  # [n, k]
        rows, cols = linear_sum_assignment(-sim)
        out[w, idx[rows]] = cols
        if len(rows) < len(idx):  # more local speakers than global ones: the rest to their nearest
            rest = np.setdiff1d(np.arange(len(idx)), rows)
            out[w, idx[rest]] = np.argmax(sim[rest], axis=1)
    return out
