"""Where results go, so that no result and no edited transcript is lost without a word.

Two rules, shared by ``minutes transcribe``, ``minutes export`` and the window's auto-export:

* Inputs of one run whose names differ only by extension (``talk.mp4``, ``talk.m4a``) would all
  write ``talk.json``. Such inputs are named by their full file name instead (``talk.mp4.json``,
  ``talk.m4a.json``), every one of them, so the names do not depend on their order
  (:func:`output_names`).
* An existing file is replaced only if Minutes wrote it and it is unchanged since: Minutes keeps
  a fingerprint (SHA-256) of each file it writes, in ``written.json`` in the user data folder
  (:func:`remember`). A file edited since, written by another program, or that Minutes has no
  record of, is kept; the result goes to the first free ``<name>.1.<format>``,
  ``<name>.2.<format>``, ... with one number for all formats of a result, so they stay together
  (:func:`choose_targets`). ``overwrite=True`` (``--overwrite``) replaces existing files anyway.

Why a fingerprint and not "never replace": re-running a file after changing an option should
update its own transcript, not pile up ``talk.7.json``; only what a person may have changed is
worth keeping. Why not "replace if it looks like Minutes' JSON": an edited transcript still does.
A lost or unreadable record only ever makes Minutes keep more files, never replace one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import MinutesError

if TYPE_CHECKING:
    from engine.transcript import Transcript

RECORD_NAME = "written.json"
RECORD_LIMIT = 5000  # fingerprints kept (newest); a forgotten file is kept, not replaced
MAX_NUMBER = 9999

log = logging.getLogger(__name__)


def record_path() -> Path:
    """The fingerprints of the files Minutes wrote (in the user data folder)."""
    from engine.paths import data_dir

    return data_dir() / RECORD_NAME


def _key(path: Path) -> str:
    return os.path.normcase(str(Path(path).resolve()))


def _same(path: Path) -> str:
    """A comparison key that treats names differing only in case as one file (as macOS and
    Windows do), so no platform lets two results of a run land in one file."""
    return _key(path).casefold()


def _fingerprint(path: Path) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _load() -> dict[str, str]:
    try:
        data = json.loads(record_path().read_text(encoding="utf-8"))
        files = data.get("files", {})
        return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}
    except (OSError, ValueError, AttributeError):
        return {}  # no record: every existing file is kept


@contextmanager
def _exclusive() -> Iterator[None]:
    """Serialise updates of the record between processes (two runs at once must not lose entries)."""
    path = record_path().with_name(".written.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as f:
        f.seek(0)
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(f.fileno(), msvcrt.LK_LOCK, 1)  # retries for 10 s, then OSError
        else:
            import fcntl

            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if sys.platform == "win32":
                f.seek(0)
                msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)
            else:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def remember(paths: Sequence[Path]) -> None:
    """Record the fingerprints of files just written, so a later run may replace them while
    nobody has changed them. Failing to record only means they will be kept next time."""
    from engine.atomic import write_text_atomic

    if not paths:
        return
    try:
        with _exclusive():
            files = _load()
            for path in paths:
                digest = _fingerprint(path)
                if digest is not None:
                    files.pop(_key(path), None)  # newest last: the oldest are forgotten first
                    files[_key(path)] = digest
            kept = dict(list(files.items())[-RECORD_LIMIT:])
            write_text_atomic(record_path(), json.dumps({"version": 1, "files": kept}, ensure_ascii=False))
    except (OSError, MinutesError) as e:
        log.warning("cannot update '%s' (%s): next time these files are kept, not replaced.", record_path(), e)


def replaceable(path: Path, record: dict[str, str] | None = None) -> bool:
    """True if writing ``path`` loses nothing: it does not exist, or it is exactly what Minutes
    last wrote there."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return True
    if not path.is_file():
        return False  # a folder or a dangling link: never ours
    known = (record if record is not None else _load()).get(_key(path))
    return known is not None and known == _fingerprint(path)


def output_names(sources: Sequence[Path], folders: Sequence[Path]) -> list[str]:
    """The base name of each input's results (``sources[i]``'s go to ``folders[i]``): its stem, or
    its full file name when another input of the run has the same stem and the same folder."""
    groups: dict[tuple[str, str], set[str]] = {}
    for src, folder in zip(sources, folders):
        groups.setdefault((_same(folder), Path(src).stem.casefold()), set()).add(_same(src))
    return [
        Path(src).name if len(groups[(_same(folder), Path(src).stem.casefold())]) > 1 else Path(src).stem
        for src, folder in zip(sources, folders)
    ]


@dataclass
class Targets:
    """Where one result's files go (``paths``, one per format), and why not the plain names."""

    paths: list[Path]
    kept: list[Path] = field(default_factory=list)  # existing files left alone (edited, or not ours)
    clash: bool = False  # the plain names belong to another result of this run

    @property
    def moved(self) -> bool:
        return bool(self.kept) or self.clash

    def message(self, hint: str = "") -> str:
        """One line for the user when the result did not go to the plain names, else ''.
        ``hint`` follows the reason why existing files were kept (e.g. how to replace them)."""
        new = ", ".join(f"'{p}'" for p in self.paths)
        if self.kept:
            one = len(self.kept) == 1
            old = ", ".join(f"'{p}'" for p in self.kept)
            return (
                f"kept {old}: {'it was' if one else 'they were'} changed since Minutes wrote "
                f"{'it' if one else 'them'}, or not written by Minutes{hint}; this result is in {new}."
            )
        if self.clash:
            return f"another input of this run has the same name: this result is in {new}."
        return ""


def choose_targets(
    folder: Path,
    name: str,
    formats: Sequence[str],
    taken: Collection[Path] = (),
    overwrite: bool = False,
) -> Targets:
    """The files to write ``name`` in ``formats`` to in ``folder``: ``<name>.<format>`` if writing
    them loses nothing, else the first ``<name>.<n>.<format>`` free for all formats.

    ``taken`` holds the files this run wrote already (never replaced, even though they are ours);
    ``overwrite`` replaces existing files that were not ours or were edited."""
    folder = Path(folder)
    record = _load()
    busy = {_same(p) for p in taken}
    plain = [folder / f"{name}.{fmt}" for fmt in formats]
    kept = [] if overwrite else [p for p in plain if not replaceable(p, record)]
    clash = any(_same(p) in busy for p in plain)
    for n in range(MAX_NUMBER + 1):
        paths = plain if n == 0 else [folder / f"{name}.{n}.{fmt}" for fmt in formats]
        if any(_same(p) in busy for p in paths):
            continue
        if overwrite or all(replaceable(p, record) for p in paths):
            return Targets(paths, kept if n else [], clash if n else False)
    raise MinutesError(f"No free file name for '{folder / name}' (up to .{MAX_NUMBER}): clear some out.")


def write_outputs(
    transcript: Transcript,
    folder: Path,
    name: str,
    formats: Sequence[str],
    taken: Collection[Path] = (),
    overwrite: bool = False,
    format_options: dict[str, dict[str, Any]] | None = None,
    say: Callable[[str], None] | None = None,
    hint: str = "",
    written: list[Path] | None = None,
) -> list[Path]:
    """Write one result in ``formats`` without losing another; returns the files written.

    Names come from :func:`choose_targets` (a result of this run, an edited or a foreign file
    are never replaced unasked); every file is fingerprinted, so a later run may replace it
    while nobody has changed it. ``format_options`` per format go to the writer
    (``{"docx": {"title": ...}}``). When the result does not go to the plain names, ``say``
    hears one line why, before anything is written (``hint`` follows the reason: how to
    replace such files). ``written``, if given, receives each path as soon as it is written
    (what a failure half-way left on disk). MinutesError says why a file could not be written."""
    from engine.export import write

    targets = choose_targets(folder, name, formats, taken, overwrite)
    if targets.moved and say is not None:
        say(targets.message(hint))
    done: list[Path] = [] if written is None else written
    start = len(done)
    try:
        for fmt, path in zip(formats, targets.paths):
            done.append(write(transcript, fmt, path, **(format_options or {}).get(fmt, {})))
    finally:
        remember(done[start:])
    return done[start:]


__all__ = ["Targets", "choose_targets", "output_names", "remember", "replaceable", "write_outputs"]
