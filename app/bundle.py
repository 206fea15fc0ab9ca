"""What kind of install this is: a source checkout, or a frozen bundle (runtime or full).

The runtime bundle ships without torch (it transcribes from models exported at build time), so
the Training tab asks here whether it can train and, if not, shows ``training_unavailable_reason``.
A frozen bundle also has no Python to run ``python -c``/``-m``: ``dispatch_interpreter_args``
lets the bundle's own executable stand in for ``sys.executable`` in those child processes.
"""

from __future__ import annotations

import importlib.util
import runpy
import sys

__version__ = "0.1.0"

RUNTIME_REASON = (
    "Training needs PyTorch, which this runtime installer of Minutes leaves out to stay small. "
    "Install the full variant (minutes-full) to fine-tune models; transcription, live capture, "
    "speakers, chapters and export work the same in both."
)


def is_frozen() -> bool:
    """True inside a PyInstaller bundle."""
    return bool(getattr(sys, "frozen", False))


def variant() -> str:
    """``source``, or the bundle's variant written at build time (``runtime``, ``full``, ``runtime-cuda``)."""
    if not is_frozen():
        return "source"
    import os

    return os.environ.get("MINUTES_BUNDLE_VARIANT", "runtime")  # set by the bundle's runtime hook


def training_available() -> bool:
    """Whether fine-tuning can run here: torch must be importable (found, not imported)."""
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


def training_unavailable_reason() -> str | None:
    """A plain sentence for the Training tab when training cannot run, else None."""
    if training_available():
        return None
    if is_frozen():
        return RUNTIME_REASON
    return "Training needs PyTorch: install it (pip install torch) and restart Minutes."


def dispatch_interpreter_args(argv: list[str]) -> bool:
    """Run ``EXE -c CODE ...`` / ``EXE -m MODULE ...`` as Python would; True when it did.

    The app starts helpers with ``sys.executable -c``/``-m`` (device listing, voice enrolment);
    in a bundle ``sys.executable`` is the bundle's executable, so its entry point calls this first.
    """
    if len(argv) < 3 or argv[1] not in ("-c", "-m"):
        return False
    flag, target, rest = argv[1], argv[2], argv[3:]
    if flag == "-c":
        sys.argv = ["-c", *rest]
        exec(compile(target, "<string>", "exec"), {"__name__": "__main__"})
    else:
        sys.argv = [target, *rest]
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    return True
