"""Local speakers -> people, and windows' votes -> turns (pure numpy: made-up embeddings and windows)."""

from __future__ import annotations

import numpy as np

from engine.speakers.local_clustering import LocalClusteringOptions, assign_windows, cluster_embeddings
from engine.speakers.reconstruct import FrameGrid, absorb_short, aggregate, fill_speech, frame_speakers, to_turns


def voices(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, dim))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def noisy(centre: np.ndarray, n: int, spread: float, rng) -> np.ndarray:
    x = centre + spread * rng.normal(size=(n, len(centre))) / np.sqrt(len(centre))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_clusters_found_and_more_voices_than_the_maximum_stop_at_it() -> None:
    rng = np.random.default_rng(1)
    people = voices(12)
    emb = np.concatenate([noisy(p, 20, 0.3, rng) for p in people])
    truth = np.repeat(np.arange(12), 20)
    labels = cluster_embeddings(emb, max_speakers=20)
    assert labels.max() + 1 == 12
    # every found cluster is one person
    for k in range(12):
        assert len(set(truth[labels == k])) == 1
    capped = cluster_embeddings(emb, max_speakers=8)
    assert capped.max() + 1 == 8  # stops at the maximum, does not collapse
    assert cluster_embeddings(emb, num_speakers=3).max() + 1 == 3
    assert cluster_embeddings(emb[:20]).max() + 1 == 1  # one voice stays one


def test_a_few_stray_embeddings_join_a_person_instead_of_becoming_one() -> None:
    rng = np.random.default_rng(2)
    a, b, stray = voices(3, seed=3)
    emb = np.concatenate([noisy(a, 30, 0.3, rng), noisy(b, 30, 0.3, rng), noisy(stray, 2, 0.1, rng)])
    labels = cluster_embeddings(emb, options=LocalClusteringOptions(min_cluster_windows=3))
    assert labels.max() + 1 == 2


def test_a_long_meeting_keeps_its_people_not_its_blended_windows() -> None:
    """Six voices over many windows plus a few blends of two neighbours (as at turn changes):
    six people, not eight; a short excerpt keeps a voice heard in one window only."""
    rng = np.random.default_rng(6)
    people = voices(6, seed=7)
    emb = [noisy(p, 200, 0.3, rng) for p in people]
    for a, b, n in ((0, 1, 4), (2, 3, 10)):  # stray blends, far from both (cosine distance > 0.5)
        mid = people[a] + people[b] + 3.0 * voices(1, seed=10 + a)[0]
        emb.append(noisy(mid / np.linalg.norm(mid), n, 0.05, rng))
    labels = cluster_embeddings(np.concatenate(emb))
    assert labels.max() + 1 == 6
    plain = cluster_embeddings(np.concatenate(emb), options=LocalClusteringOptions(min_cluster_share=0.0))
    assert plain.max() + 1 == 8  # what the blends did before
    short = np.concatenate([noisy(people[0], 8, 0.3, rng), noisy(people[1], 3, 0.3, rng), people[2:3]])
    assert cluster_embeddings(short).max() + 1 == 3


def test_blends_scattered_over_a_long_meeting_join_a_person_but_a_quiet_voice_stays() -> None:
    """On a 2-hour meeting blends at turn changes reach 40-50 windows, too many for the share rule;
    they are caught one window here and one there, while a real voice, however short, fills runs
    of consecutive (overlapping) windows."""
    rng = np.random.default_rng(8)
    people = voices(4, seed=9)
    emb, win, w = [], [], 0
    for turn in range(600):  # four voices in turns, each turn seen by 5 consecutive windows
        emb.append(noisy(people[turn % 4], 5, 0.3, rng))
        win += list(range(w, w + 5))
        w += 5
    mid = people[0] + people[1] + 3.0 * voices(1, seed=11)[0]  # a blend far from both
    blend = noisy(mid / np.linalg.norm(mid), 40, 0.05, rng)
    blend_windows = rng.choice(w, 40, replace=False)
    quiet = noisy(voices(1, seed=12)[0], 12, 0.3, rng)  # someone heard in three short turns
    quiet_windows = np.r_[100:104, 900:904, 2000:2004]
    x = np.concatenate(emb + [blend, quiet])
    windows = np.r_[np.array(win), blend_windows, quiet_windows]
    labels = cluster_embeddings(x, windows=windows)
    assert labels.max() + 1 == 5  # four voices and the quiet one; the blend joined a person
    assert len(set(labels[-12:])) == 1 and not set(labels[-12:]) & set(labels[:-52])
    assert cluster_embeddings(x).max() + 1 == 6  # without the windows the blend stays a person


def test_two_local_speakers_of_one_window_go_to_different_people() -> None:
    rng = np.random.default_rng(4)
    a, b = voices(2, seed=5)
    cents = np.stack([a, b])
    # window 0: both local speakers sound most like a (a noisy embedding of b), window 1: only b
    emb = np.stack([np.stack([noisy(a, 1, 0.1, rng)[0], 0.8 * a + 0.6 * b]), np.stack([b, np.zeros_like(b)])])
    emb /= np.maximum(np.linalg.norm(emb, axis=-1, keepdims=True), 1e-12)
    valid = np.array([[True, True], [True, False]])
    active = np.array([[True, True], [True, False]])
    out = assign_windows(emb, valid, active, cents)
    assert sorted(out[0]) == [0, 1]
    assert out[1, 0] == 1 and out[1, 1] == -1


def test_votes_become_one_speaker_per_frame_plus_the_overlapping_voice() -> None:
    grid = FrameGrid(step=0.1, offset=0.05)
    F = 100  # 10 s windows of 0.1 s frames, two windows 5 s apart
    act = np.zeros((2, F, 2), dtype=np.uint8)
    act[0, :60, 0] = 1  # A from 0 to 6 s
    act[0, 50:, 1] = 1  # B from 5 s, overlapping A 5-6 s
    act[1, :10, 0] = 1  # the second window (5-15 s) sees A until 6 s as its local 0 ...
    act[1, :, 1] = 1  # ... and B throughout as its local 1
    assignment = np.array([[0, 1], [0, 1]])
    score, count = aggregate(act, np.array([0.0, 5.0]), assignment, 2, grid)
    assert len(score) == 150
    who = frame_speakers(score, count)
    assert (who[:50, 0] == 0).all() and (who[60:, 0] == 1).all()
    assert set(who[50:60, 1]) <= {0, 1} and (who[50:60, 1] >= 0).all()  # overlap: two voices
    assert (who[:50, 1] == -1).all()
    turns = to_turns(who[:, 0], grid, 15.0)
    assert turns[0][2] == 0 and abs(turns[0][0]) < 1e-9 and turns[-1][2] == 1 and abs(turns[-1][1] - 15.0) < 1e-9


def test_speech_without_a_segmented_speaker_goes_to_the_nearest_and_flickers_are_absorbed() -> None:
    labels = np.array([0, 0, 0, -1, -1, 1, 1, 1, 1, -1, -1, -1])
    mask = np.array([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0], dtype=bool)
    filled = fill_speech(labels, mask)
    assert filled.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, -1, -1]
    flicker = np.array([0, 0, 0, 0, 1, 0, 0, 0, -1, 1])
    assert absorb_short(flicker, 2).tolist() == [0, 0, 0, 0, 0, 0, 0, 0, -1, 1]


def test_one_speakers_short_pause_joins_the_turn_but_a_change_of_speaker_does_not() -> None:
    from engine.speakers.reconstruct import join_pauses

    labels = np.array([0, 0, -1, -1, 0, 0, -1, -1, 1, 1, -1, -1, -1, -1, -1, 1])
    assert join_pauses(labels, 2).tolist() == [0, 0, 0, 0, 0, 0, -1, -1, 1, 1, -1, -1, -1, -1, -1, 1]
    assert join_pauses(labels, 5).tolist()[10:15] == [1] * 5
