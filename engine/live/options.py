"""A live session's settings besides recognition (which ``engine.asr.streaming`` configures).

Apart from the session so the window and the CLI can fill them in, and send them to the
worker process, without importing the session's machinery.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LiveOptions:
    """What a live session does besides recognition (which ``streaming`` configures)."""

    input_device: str | None = None  # a name, number or part of a name; None: the default input
    system_device: str | None = None  # system audio, e.g. a PulseAudio monitor source, mixed with the microphone
    from_file: str | Path | None = None  # feed this file instead of a device (tests, benchmarks)
    realtime: bool = True  # with from_file: at the pace of real time
    loops: int = 1  # with from_file: play it this many times (long-run benchmarks)
    folder: str | Path | None = None  # session folder; None: a new one under <data dir>/sessions
    speakers: bool = True  # label speakers live (engine.speakers.live) when it is available
    chapters: bool = True  # live chapters (engine.chapters) when available
    keywords: str | None = None  # agenda for the chapters
    relabel_seconds: float = 60.0  # re-cluster speakers after this much new audio
    chapter_seconds: float = 15.0  # update chapters at most this often (audio seconds)
    final_pass: bool = False  # at stop, transcribe the whole recording at file quality
    level_interval: float = 0.1  # seconds between level events
