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
    # a moment of speech lies in 4 overlapping windows, so a voice heard in one window only is a
    # fraction of a second: with this many embeddings or more (about 4 minutes), such a lone
    # window joins its nearest cluster (it was a fourth person in two of six 5-minute dev
    # close-voice meetings). A share of 2% did the same there but also merged 2-window clusters of
    # the 27-person AMI concatenation before the count cap (DER 43.1 -> 44.2%).
    lone_after: int = 100
    # every moment of a real voice lies in several overlapping windows, so its windows come in runs
    # of consecutive ones (4-6 on six voices); a blend of two voices at turn changes is caught by one
    # window here and one there. A cluster of min_scattered windows or more with at most this many
    # windows per run joins its nearest large cluster (six voices over 2 hours: two such clusters of
    # ~30 s in 44-54 fragments made 8 speakers of 6). 0 turns it off. Counted on every embedding,
    # not the tree's subsample, a 2-hour blend cluster reached 1.28 windows a run (78 in 61 runs;
    # real voices 3.7-5.2): 1.25 -> 1.5, and 3 -> 6 windows so that an AMI excerpt's speaker
    # heard in four lone windows of 30 s still counts (trn06).
    max_scattered_run: float = 1.5
    min_scattered: int = 6
    # a cluster can hold voices closer than ``threshold`` (one family of synthesizer voices;
    # relatives) yet each tight on its own. In a graph of its members with self-tuned affinities
    # (each member's scale its distance to its split_neighbours-th nearest) such voices are nearly
    # cut apart: the normalized Laplacian has k eigenvalues near 0, then a jump of at least
    # split_gap and to at least split_ratio times the k-th. One voice, however varied, rises
    # smoothly (six LibriSpeech voices: jumps under 0.11, ratios under 1.8; close espeak voices:
    # jumps 0.2-0.4, ratios 2.2-11). Such a cluster is split by spectral clustering into k and
    # each part tested again, unless
    # - the parts do not take turns: in window order they must form k + 1 runs of split_run
    #   members or more. One voice that drifts (a microphone moved) stretches into a chain whose
    #   spectrum jumps too, but it changes once;
    # - the tight groups are copies of recurring audio: a member's nearest neighbour among windows
    #   split_disjoint or more apart (no audio in common) is as alike as among the overlapping
    #   ones (which share most of it). A voice saying new things never is; a looped clip is, and so
    #   is a test meeting cut from one utterance per voice (six voices' first 8-12 minutes: 3
    #   such blobs in one voice). overlap_diarize sets it from the step.
    # Clusters of split_min members (2.5 minutes of windows) or more are tested, on an even
    # subsample of at most split_sample. Chosen on six dev meetings of other espeak-ng variants
    # (not the held-out close_voices set), six voices and the shared sets. 0 turns it off.
    split_min: int = 60
    split_neighbours: int = 7
    split_ratio: float = 2.0
    split_gap: float = 0.15
    split_max: int = 4
    split_sample: int = 600
    split_run: int = 3
    split_disjoint: int = 4
    # beyond this, the tree is built on an even subsample (its distance matrix is O(n^2): 2,000 is
    # 16 MB, about 55 minutes of meeting; six voices at 2 hours and the crowds the same at 2,000 and 4,000)
    max_embeddings: int = 2000


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
    x = emb.astype(np.float64)
    tree = linkage(x[pick], method="average", metric="cosine")
    labels = _to_all(x, pick, fcluster(tree, t=options.threshold, criterion="distance") - 1)
    stray = min(int(options.min_cluster_share * len(pick)), options.min_cluster_share_cap)
    if len(pick) >= options.lone_after > 0:
        stray = max(stray, 2)
    if options.split_min > 0:  # before the small and scattered clusters join others: those may be split off
        labels = _split_close(x, labels, windows, options)
    labels = _merge_small(x, labels, max(options.min_cluster_windows, stray))
    if windows is not None and options.max_scattered_run > 0:
        labels = _merge_scattered(x, labels, np.asarray(windows), options)
    k = int(labels.max()) + 1
    if k > max_k:  # the largest clusters are the people; the rest (often single stray windows) join them
        labels = _keep_largest(x, labels, max_k)
    elif k < min_k:
        labels = _to_all(x, pick, fcluster(tree, t=min_k, criterion="maxclust") - 1)
    return _relabel(labels)


def _to_all(x: np.ndarray, pick: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Labels of every row of ``x`` from those of the subsample ``pick`` (the rest by nearest centroid)."""
    if len(pick) == len(x):
        return labels
    unit = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    cents = centroids(unit[pick].astype(np.float32), np.unique(labels, return_inverse=True)[1])
    return np.unique(np.argmax(unit @ cents.T.astype(np.float64), axis=1), return_inverse=True)[1]


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


def _take_turns(parts: np.ndarray, windows: np.ndarray, min_run: int) -> bool:
    """Whether ``parts`` (labels of members in window order) alternate: k + 1 runs or more once runs
    shorter than ``min_run`` are dropped."""
    seq = parts[np.argsort(windows, kind="stable")]
    change = np.flatnonzero(np.diff(seq)) + 1
    starts, ends = np.r_[0, change], np.r_[change, len(seq)]
    kept = seq[starts[ends - starts >= min_run]]
    runs = 1 + int((np.diff(kept) != 0).sum()) if len(kept) else 0
    return runs >= int(parts.max()) + 2


def _spectral_gap(unit: np.ndarray, options) -> tuple[int, np.ndarray]:
    """(k, eigenvectors): k >= 2 where the self-tuned affinity graph of ``unit`` falls into k parts, else 0."""
    n = len(unit)
    dist = np.maximum(1 - unit @ unit.T, 0.0)
    np.fill_diagonal(dist, 0.0)
    scale = np.sort(dist, axis=1)[:, min(options.split_neighbours, n - 1)]
    affinity = np.exp(-(dist**2) / np.maximum(scale[:, None] * scale[None, :], 1e-12))
    np.fill_diagonal(affinity, 0.0)
    norm = 1 / np.sqrt(np.maximum(affinity.sum(axis=1), 1e-12))
    values, vectors = np.linalg.eigh(np.eye(n) - norm[:, None] * affinity * norm[None, :])
    best, k = 0.0, 0
    for c in range(2, min(options.split_max + 1, n)):
        jump = values[c] - values[c - 1]
        if values[c] >= options.split_ratio * values[c - 1] and jump >= options.split_gap and jump > best:
            best, k = jump, c
    return k, vectors[:, :k]


def _copies(unit: np.ndarray, windows: np.ndarray, disjoint: int) -> bool:
    """Whether the rows' tight groups are copies of recurring audio rather than voices: a member's
    nearest neighbour among windows sharing none of its audio (``disjoint`` or more apart) is as
    alike as its nearest among the overlapping windows, which share most of theirs."""
    apart = np.abs(windows[:, None] - windows[None, :])
    sim = unit @ unit.T
    far = np.where(apart >= disjoint, sim, -np.inf).max(axis=1)
    near = np.where((apart >= 1) & (apart < disjoint), sim, -np.inf).max(axis=1)
    both = np.isfinite(far) & np.isfinite(near)
    return bool(both.any()) and float(np.median(far[both])) >= float(np.median(near[both]))


def _k_means(rows: np.ndarray, k: int, tries: int = 4) -> np.ndarray:
    """Labels 0..k-1 of the best of a few seeded k-means++ runs (scipy's; scikit-learn's import
    alone costs the diarizing process about 90 MB)."""
    from scipy.cluster.vq import kmeans2

    best, labels = np.inf, np.zeros(len(rows), dtype=np.int64)
    for seed in range(tries):
        cents, lab = kmeans2(rows, k, minit="++", seed=seed)
        cost = float(((rows - cents[lab]) ** 2).sum())
        if cost < best and len(np.unique(lab)) == k:
            best, labels = cost, lab
    return np.unique(labels, return_inverse=True)[1]


def _voices_in(unit: np.ndarray, windows: np.ndarray | None, options) -> np.ndarray | None:
    """Labels 0..k-1 of the rows of ``unit`` when they hold k >= 2 voices, else None; ``windows``
    each row's window index."""
    k, vectors = _spectral_gap(unit, options)
    if not k:
        return None
    if windows is not None and _copies(unit, np.asarray(windows), options.split_disjoint):
        return None
    rows = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    parts = _k_means(rows, k)
    if windows is not None and not _take_turns(parts, windows, options.split_run):
        return None
    return parts


def _split_close(x: np.ndarray, labels: np.ndarray, windows: np.ndarray | None, options) -> np.ndarray:
    """Labels with every cluster that holds several tight voices (``_voices_in``) split into them."""
    unit = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    out = labels.copy()
    todo = list(range(int(labels.max()) + 1))
    nxt = len(todo)
    while todo:
        k = todo.pop()
        idx = np.flatnonzero(out == k)
        if len(idx) < options.split_min:
            continue
        sub = idx[np.linspace(0, len(idx) - 1, min(len(idx), options.split_sample)).round().astype(int)]
        parts = _voices_in(unit[sub], None if windows is None else windows[sub], options)
        if parts is None:
            continue
        cents = centroids(unit[sub].astype(np.float32), parts)
        side = np.argmax(unit[idx] @ cents.T, axis=1)
        todo.append(k)
        for p in range(1, int(side.max()) + 1):
            out[idx[side == p]] = nxt
            todo.append(nxt)
            nxt += 1
    return np.unique(out, return_inverse=True)[1]


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
