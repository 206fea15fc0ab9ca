"""Voice profiles: remember a named voice and recognise it in later meetings.

A profile is the mean GE2E vector of a person's speech (a unit vector; no audio is kept),
stored in the user data folder as JSON. A speaker whose centroid is close enough to one
profile, and clearly closer to it than to any other, gets that person's name; otherwise they
stay "Speaker N" (the "unknown" outcome).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import MinutesError
from engine.paths import data_dir

# GE2E cosine similarity between a meeting speaker's centroid and the same person's profile is
# typically 0.8-0.95; different people score 0.4-0.75 (measured on speaker_pool, see tests).
MATCH_THRESHOLD = 0.78
MARGIN = 0.03  # the best profile must beat the runner-up by this much


@dataclass
class Profile:
    name: str
    vector: np.ndarray  # unit length, 256
    seconds: float  # how much speech it was built from
    created: str


class ProfileStore:
    """The enrolled voices, in ``<data dir>/voices.json`` (or ``path``)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path else data_dir() / "voices.json"

    def load(self) -> list[Profile]:
        if not self.path.exists():
            return []
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return [
                Profile(p["name"], np.asarray(p["vector"], dtype=np.float32), float(p["seconds"]), p["created"])
                for p in raw["profiles"]
            ]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise MinutesError(
                f"The voice profiles file '{self.path}' is damaged ({e}): delete it and enrol the voices again."
            ) from e

    def _save(self, profiles: list[Profile]) -> None:
        from engine.atomic import write_text_atomic

        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "version": 1,
            "profiles": [
                {
                    "name": p.name,
                    "vector": [round(float(x), 6) for x in p.vector],
                    "seconds": p.seconds,
                    "created": p.created,
                }
                for p in profiles
            ],
        }
        write_text_atomic(self.path, json.dumps(data, indent=1))

    def names(self) -> list[str]:
        return [p.name for p in self.load()]

    def enroll(self, name: str, vector: np.ndarray, seconds: float) -> Profile:
        """Add or replace the profile called ``name``."""
        name = " ".join(str(name).split())
        if not name:
            raise MinutesError("A voice profile needs a name.")
        if seconds < 3.0:
            raise MinutesError(f"Only {seconds:.1f} s of speech: a voice profile needs at least 3 s.")
        v = np.asarray(vector, dtype=np.float32).reshape(-1)
        v = v / max(float(np.linalg.norm(v)), 1e-12)
        profiles = [p for p in self.load() if p.name.lower() != name.lower()]
        prof = Profile(name, v, round(float(seconds), 1), time.strftime("%Y-%m-%dT%H:%M:%S"))
        self._save([*profiles, prof])
        return prof

    def delete(self, name: str) -> None:
        profiles = self.load()
        keep = [p for p in profiles if p.name.lower() != name.lower()]
        if len(keep) == len(profiles):
            known = ", ".join(p.name for p in profiles) or "none"
            raise MinutesError(f"No voice profile called '{name}' (enrolled: {known}).")
        self._save(keep)

    def identify(self, centroids: np.ndarray, threshold: float = MATCH_THRESHOLD) -> dict[int, str]:
        """Speaker index -> profile name for the speakers recognised; each name used at most once."""
        profiles = self.load()
        if not profiles or len(centroids) == 0:
            return {}
        P = np.stack([p.vector for p in profiles])
        sims = np.asarray(centroids, dtype=np.float32) @ P.T  # [speakers, profiles]
        out: dict[int, str] = {}
        taken: set[int] = set()
        # best pairs first, so two speakers never get one name
        for flat in np.argsort(-sims, axis=None):
            i, j = divmod(int(flat), len(profiles))
            if i in out or j in taken or sims[i, j] < threshold:
                continue
            others = np.delete(sims[i], j)
            if len(others) and sims[i, j] - others.max() < MARGIN:
                continue
            out[i] = profiles[j].name
            taken.add(j)
        return out


def voice_from_turns(diarizer, audio: np.ndarray, turns: list[tuple[float, float]]) -> tuple[np.ndarray, float]:
    """One voice vector from the given (start, end) stretches of 16 kHz ``audio``, and their length."""
    pieces = [audio[int(a * 16000) : int(b * 16000)] for a, b in turns if b - a >= 0.5]
    seconds = sum(len(p) for p in pieces) / 16000
    if not pieces:
        return np.zeros(256, dtype=np.float32), 0.0
    return diarizer.embed(np.concatenate(pieces)), seconds
