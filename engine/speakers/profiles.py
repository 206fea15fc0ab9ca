"""Voice profiles: remember a named voice and recognise it in later meetings.

A profile is the mean voice vector of a person's speech (unit vectors; no audio is kept), one
per speaker model that was available at enrolment (GE2E 256-d, CAM++ 192-d: a meeting's
centroids come from whichever model diarized it), stored in the user data folder as JSON. A
speaker whose centroid is close enough to one profile, and clearly closer to it than to any
other, gets that person's name; otherwise they stay "Speaker N" (the "unknown" outcome).
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
# CAM++ spreads them further: same person 0.7-0.95, different people -0.2-0.5 (tests).
MATCH_THRESHOLD = 0.78
THRESHOLDS = {"ge2e": MATCH_THRESHOLD, "campplus": 0.6}
MARGIN = 0.03  # the best profile must beat the runner-up by this much
KIND_OF_DIM = {256: "ge2e", 192: "campplus"}


@dataclass
class Profile:
    name: str
    vectors: dict[str, np.ndarray]  # speaker model -> unit vector
    seconds: float  # how much speech it was built from
    created: str

    @property
    def vector(self) -> np.ndarray | None:
        """The GE2E vector (what version 1 files hold)."""
        return self.vectors.get("ge2e")


def _as_vectors(vector: np.ndarray | dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    items = vector.items() if isinstance(vector, dict) else [(None, vector)]
    out = {}
    for kind, v in items:
        v = np.asarray(v, dtype=np.float32).reshape(-1)
        kind = kind or KIND_OF_DIM.get(len(v))
        if kind is None:
            raise MinutesError(f"A voice vector of {len(v)} numbers is from no speaker model this app knows.")
        out[kind] = v / max(float(np.linalg.norm(v)), 1e-12)
    return out


class ProfileStore:
    """The enrolled voices, in ``<data dir>/voices.json`` (or ``path``)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path else data_dir() / "voices.json"

    def load(self) -> list[Profile]:
        if not self.path.exists():
            return []
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            out = []
            for p in raw["profiles"]:
                vectors = {k: np.asarray(v, dtype=np.float32) for k, v in p.get("vectors", {}).items()}
                if p.get("vector") is not None:
                    vectors["ge2e"] = np.asarray(p["vector"], dtype=np.float32)
                out.append(Profile(p["name"], vectors, float(p["seconds"]), p["created"]))
            return out
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise MinutesError(
                f"The voice profiles file '{self.path}' is damaged ({e}): delete it and enrol the voices again."
            ) from e

    def _save(self, profiles: list[Profile]) -> None:
        from engine.atomic import write_text_atomic

        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "version": 2,
            "profiles": [
                {
                    "name": p.name,
                    # GE2E stays under "vector", where version 1 kept it
                    "vector": None if p.vector is None else [round(float(x), 6) for x in p.vector],
                    "vectors": {k: [round(float(x), 6) for x in v] for k, v in p.vectors.items() if k != "ge2e"},
                    "seconds": p.seconds,
                    "created": p.created,
                }
                for p in profiles
            ],
        }
        write_text_atomic(self.path, json.dumps(data, indent=1))

    def names(self) -> list[str]:
        return [p.name for p in self.load()]

    def enroll(self, name: str, vector: np.ndarray | dict[str, np.ndarray], seconds: float) -> Profile:
        """Add or replace the profile called ``name`` (one vector, or one per speaker model)."""
        name = " ".join(str(name).split())
        if not name:
            raise MinutesError("A voice profile needs a name.")
        if seconds < 3.0:
            raise MinutesError(f"Only {seconds:.1f} s of speech: a voice profile needs at least 3 s.")
        vectors = _as_vectors(vector)
        if not vectors:
            raise MinutesError("No speaker model is installed to make a voice profile with.")
        profiles = [p for p in self.load() if p.name.lower() != name.lower()]
        prof = Profile(name, vectors, round(float(seconds), 1), time.strftime("%Y-%m-%dT%H:%M:%S"))
        self._save([*profiles, prof])
        return prof

    def delete(self, name: str) -> None:
        profiles = self.load()
        keep = [p for p in profiles if p.name.lower() != name.lower()]
        if len(keep) == len(profiles):
            known = ", ".join(p.name for p in profiles) or "none"
            raise MinutesError(f"No voice profile called '{name}' (enrolled: {known}).")
        self._save(keep)

    def identify(self, centroids: np.ndarray, threshold: float | None = None) -> dict[int, str]:
        """Speaker index -> profile name for the speakers recognised; each name used at most once.

        The centroids' length says which speaker model made them; profiles enrolled before that
        model was installed have no vector for it and are not matched (enrol them again)."""
        if len(centroids) == 0:
            return {}
        kind = KIND_OF_DIM.get(np.asarray(centroids).shape[1])
        profiles = [p for p in self.load() if kind in p.vectors]
        if not profiles:
            return {}
        threshold = THRESHOLDS[kind] if threshold is None else threshold
        P = np.stack([p.vectors[kind] for p in profiles])
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


def voice_from_turns(encoders, audio: np.ndarray, turns: list[tuple[float, float]]) -> tuple[dict, float]:
    """Voice vectors (speaker model -> vector) from the given (start, end) stretches of 16 kHz
    ``audio``, and their length. ``encoders``: objects with ``embed(audio)`` (a diarizer, a
    speaker encoder), or one of them."""
    if hasattr(encoders, "embed"):
        encoders = [encoders]
    pieces = [audio[int(a * 16000) : int(b * 16000)] for a, b in turns if b - a >= 0.5]
    seconds = sum(len(p) for p in pieces) / 16000
    if not pieces:
        return {}, 0.0
    speech = np.concatenate(pieces)
    vectors: dict[str, np.ndarray] = {}
    for e in encoders:
        vectors.update(_as_vectors(e.embed(speech)))
    return vectors, seconds
