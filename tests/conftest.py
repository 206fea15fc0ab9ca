"""Shared fixtures: the test data folder, one loaded recognizer (engine.recognizer) for the whole run."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Converted models are cached here between runs (not in the user's real data folder).
os.environ.setdefault("MINUTES_DATA_DIR", str(REPO / ".cache" / "minutes-data"))
DATA = Path(os.environ.get("MINUTES_DATA", REPO.parent / "shared" / "data"))
# Started from a background job (`nohup make test &`), the run inherits Ctrl-C as ignored, and so
# would every CLI it starts: the tests that press Ctrl-C on one need it delivered.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA / "asr_en.tsv").exists():
        pytest.skip(f"test data not found at {DATA} (expected ../shared/data beside the repo)")
    return DATA


@pytest.fixture(scope="session")
def recognizer():
    """The packaged model on the CPU, INT8, 2 threads: what CI and a laptop run."""
    from engine.recognizer import Recognizer

    return Recognizer(device="cpu", precision="int8", threads=2)
