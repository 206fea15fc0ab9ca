"""The Library: every meeting on disk, with a full-text index over their transcripts.

Layout, under the user data folder (or the ``root`` given)::

    meetings/<meeting id>/meeting.json      id, title, created, source, audio_path, duration,
                                            speakers, language (and session, for live meetings)
    meetings/<meeting id>/transcript.json   the editable transcript (DESIGN.md, the transcript JSON)
    sessions/<session id>/                  live sessions (engine/audio/recorder.py); a finished
                                            one becomes a meeting with ``import_session``
    library.sqlite                          the index: a cache of the files above, never the truth

The meeting files are the truth. The index is rebuilt from them whenever it is missing, damaged,
of another schema, or out of date (each meeting's two files are compared by size and modification
time on :meth:`Library.sync`, so a transcript written by another program is picked up too).

Search: SQLite FTS5 with the ``trigram`` tokenizer (SQLite 3.34+). FTS5's default ``unicode61``
tokenizer treats a run of Chinese characters as one token, so a Chinese word could not be found
inside a sentence; trigrams find any substring in any script, and need no word segmenter in the
window's process (jieba loads its dictionary in 1-2 s). A trigram index cannot answer a term of
one or two characters (common in Chinese: 预算, 会议), so such terms are matched with LIKE over
the segments, newest meeting first, which stops as soon as it has enough hits. Without FTS5 or
trigram (an old SQLite) every term is matched with LIKE: slower, same results.

Threads: the window calls this from the GUI thread while a worker may index after an autosave.
Each thread gets its own connection (WAL mode: readers never wait for a writer), and writes take
one lock. No Qt here: the command line can use it as well.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import shutil
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.atomic import replace_atomically
from engine.errors import MinutesError
from engine.text import no_space
from engine.transcript import Transcript

log = logging.getLogger("minutes.library")

INDEX_NAME = "library.sqlite"
MEETINGS_DIR = "meetings"
SESSIONS_DIR = "sessions"
META_NAME = "meeting.json"
TRANSCRIPT_NAME = "transcript.json"
SESSION_AUDIO = "audio.wav"
SESSION_META = "session.json"
SESSION_TRANSCRIPT = "transcript.json"

SCHEMA_VERSION = 2  # PRAGMA user_version of the index; another value: rebuilt
PREVIEW_CHARS = 240  # first lines kept for the list view
SNIPPET_CHARS = 160  # a hit's snippet at most this long (plus ellipses)
MAX_TERMS = 32  # a pasted paragraph is searched by its first 32 words
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_TERM_RE = re.compile(r'"([^"]*)"?|(\S+)')


class LibraryError(MinutesError):
    """A library operation a user asked for cannot be done (the message says why)."""


class MeetingNotFound(LibraryError, KeyError):
    """No meeting with that id."""

    def __str__(self) -> str:  # KeyError would print the repr
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Meeting:
    """One meeting as the list shows it (from the index; its files hold the full truth)."""

    id: str
    title: str  # "" when none was given (a live meeting): the window shows its own default
    created: str  # ISO 8601 local time with UTC offset, e.g. "2026-05-09T14:03:00+02:00"
    source: str  # "file" | "live"
    audio_path: str | None  # absolute; may be missing on disk (moved, deleted, unplugged drive)
    duration: float  # seconds
    speakers: tuple[str, ...]  # speaker names in order of first appearance
    language: str | None
    preview: str  # the first lines of the transcript, up to PREVIEW_CHARS
    folder: Path  # meetings/<id>/
    session: str | None = None  # the live session folder it came from

    @property
    def created_at(self) -> datetime:
        return _parse_time(self.created) or datetime.fromtimestamp(0).astimezone()

    @property
    def transcript_path(self) -> Path:
        return self.folder / TRANSCRIPT_NAME

    @property
    def audio_exists(self) -> bool:
        return bool(self.audio_path) and Path(self.audio_path).is_file()


@dataclass(frozen=True)
class Hit:
    """One search result: a segment (or the title) of a meeting that contains every term."""

    meeting_id: str
    title: str
    start: float  # seconds: where the matching segment starts (0.0 for a title match)
    end: float
    snippet: str  # the segment's text around the first match, "…" where cut
    marks: tuple[tuple[int, int], ...]  # [start, end) character spans of the matches in snippet
    speaker: str | None  # the speaker's name, if known
    segment: int  # index of the segment in the transcript; -1: the match is in the title
    created: str  # the meeting's ISO time (hits are ordered newest meeting first)

    @property
    def in_title(self) -> bool:
        return self.segment < 0

    def marked(self, open_mark: str = "[", close_mark: str = "]") -> str:
        """The snippet with every match wrapped, e.g. for a terminal: ``…the [budget] for…``."""
        out, at = [], 0
        for a, b in self.marks:
            out += [self.snippet[at:a], open_mark, self.snippet[a:b], close_mark]
            at = b
        out.append(self.snippet[at:])
        return "".join(out)


# --- small helpers ---------------------------------------------------------------------------


def _parse_time(s: str | None) -> datetime | None:
    if not s:
        return None
    try:
        t = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.astimezone()


def _now() -> datetime:
    return datetime.now().astimezone().replace(microsecond=0)


def _atomic_write(path: Path, text: str) -> None:
    """Write ``text`` so that ``path`` holds either the old or the new content, never a part (OSError)."""
    replace_atomically(path, text.encode("utf-8"))


def _signature(folder: Path) -> str | None:
    """Sizes and modification times of a meeting's two files; None if it has no meeting.json."""
    parts = []
    for name in (META_NAME, TRANSCRIPT_NAME):
        try:
            st = (folder / name).stat()
        except OSError:
            if name == META_NAME:
                return None
            parts.append("-")
            continue
        parts.append(f"{st.st_size}:{st.st_mtime_ns}")
    return "/".join(parts)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except (ValueError, OSError):
        return False
    return True


def _speaker_names(d: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """(id -> name, names in order of first appearance) from a transcript dict."""
    names: dict[str, str] = {}
    for s in d.get("speakers") or []:
        if isinstance(s, dict) and isinstance(s.get("id"), str):
            names[s["id"]] = str(s.get("name") or s["id"])
    order: list[str] = []
    for seg in d.get("segments") or []:
        sid = seg.get("speaker") if isinstance(seg, dict) else None
        if isinstance(sid, str):
            name = names.get(sid, sid)
            if name not in order:
                order.append(name)
    for name in names.values():  # speakers without a segment (only in turns) still count
        if name not in order:
            order.append(name)
    return names, order


def _preview(texts: list[str], language: str | None) -> str:
    sep = "" if no_space(language) else " "
    out = ""
    for t in texts:
        t = " ".join(t.split())
        if not t:
            continue
        out = f"{out}{sep}{t}" if out else t
        if len(out) >= PREVIEW_CHARS:
            return out[:PREVIEW_CHARS].rstrip() + "…"
    return out


def query_terms(query: str) -> list[str]:
    """The terms of a search: words split at white space; "double quotes" keep a phrase whole.

    Every other character (apostrophes, hyphens, FTS operators such as * : ^ ( ) AND OR NEAR) is
    literal text to find, never syntax."""
    terms = []
    for m in _TERM_RE.finditer(query or ""):
        t = " ".join((m.group(1) if m.group(1) is not None else m.group(2)).split())
        if t and t.lower() not in (x.lower() for x in terms):
            terms.append(t)
    return terms


def _fts_string(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _like_pattern(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def make_snippet(text: str, terms: list[str], size: int = SNIPPET_CHARS) -> tuple[str, tuple[tuple[int, int], ...]]:
    """``text`` cut to about ``size`` characters around its first match, and the matches' spans."""
    text = " ".join(text.split())
    spans: list[tuple[int, int]] = []
    if terms:
        pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE)
        for m in pattern.finditer(text):
            if m.end() > m.start():
                spans.append((m.start(), m.end()))
    if len(text) <= size:
        return text, tuple(spans)
    first = spans[0][0] if spans else 0
    a = max(0, first - size // 4)
    if a > 0:  # start at a word when there are words
        space = text.find(" ", a, first)
        if space != -1:
            a = space + 1
    b = min(len(text), a + size)
    if b < len(text):
        space = text.rfind(" ", a + size // 2, b)
        if space != -1:
            b = space
    head = "…" if a > 0 else ""
    tail = "…" if b < len(text) else ""
    shift = len(head) - a
    marks = tuple((s + shift, min(e, b) + shift) for s, e in spans if s >= a and s < b)
    return head + text[a:b] + tail, marks


# --- the library -----------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE meetings(
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    created TEXT NOT NULL,
    created_ts REAL NOT NULL,
    source TEXT NOT NULL,
    audio_path TEXT,
    duration REAL NOT NULL,
    speakers TEXT NOT NULL,
    language TEXT,
    preview TEXT NOT NULL,
    session TEXT,
    sig TEXT NOT NULL
);
CREATE INDEX meetings_created ON meetings(created_ts, id);
CREATE TABLE segments(
    id INTEGER PRIMARY KEY,
    meeting_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    start REAL NOT NULL,
    end REAL NOT NULL,
    speaker TEXT,
    text TEXT NOT NULL
);
CREATE INDEX segments_meeting ON segments(meeting_id, idx);
CREATE TABLE info(key TEXT PRIMARY KEY, value TEXT);
"""

# An external-content FTS table kept in step by hand, a meeting at a time (INSERT ... SELECT):
# per-row triggers made a full rebuild of 60,000 segments 4x slower (2.1 s against 0.55 s).
_FTS_SCHEMA = """
CREATE VIRTUAL TABLE segments_fts USING fts5(text, content='segments', content_rowid='id', tokenize='trigram');
"""


def _trigram_available() -> bool:
    try:
        con = sqlite3.connect(":memory:")
        try:
            con.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='trigram')")
        finally:
            con.close()
    except sqlite3.Error:
        return False
    return True


TRIGRAM = _trigram_available()


class Library:
    """Meetings under ``root`` (default: the user data folder) and their search index.

    Opening brings the index up to date with the meeting files (``sync=True``): quick when little
    changed (one ``stat`` per file); a window with many meetings and no index yet may pass
    ``sync=False`` and call :meth:`sync` from a worker thread instead.
    """

    def __init__(self, root: str | Path | None = None, *, sync: bool = True):
        if root is None:
            from engine.paths import data_dir

            root = data_dir()
        self.root = Path(root)
        self.meetings_dir = self.root / MEETINGS_DIR
        self.sessions_dir = self.root / SESSIONS_DIR
        self.index_path = self.root / INDEX_NAME
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._write = threading.RLock()
        self._generation = 0  # bumped when the index file is replaced: threads reconnect
        self.fts = TRIGRAM
        try:
            self.meetings_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise LibraryError(f"Cannot create the library folder '{self.meetings_dir}': {e.strerror or e}.") from e
        with self._write:
            self._open_index()
        if sync:
            self.sync()

    # -- connections and the index file ------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.index_path, timeout=10, check_same_thread=False)
        con.execute("PRAGMA busy_timeout=10000")
        with contextlib.suppress(sqlite3.DatabaseError):  # a damaged file fails the probe below instead
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
        with self._conns_lock:
            self._conns.append(con)
        return con

    def _con(self) -> sqlite3.Connection:
        loc = self._local
        con = getattr(loc, "con", None)
        if con is None or getattr(loc, "generation", -1) != self._generation:
            if con is not None:
                self._forget(con)
            con = loc.con = self._connect()
            loc.generation = self._generation
        return con

    def _forget(self, con: sqlite3.Connection) -> None:
        with self._conns_lock:
            if con in self._conns:
                self._conns.remove(con)
        with contextlib.suppress(sqlite3.Error):
            con.close()

    def close(self) -> None:
        """Close every connection (of all threads). The library may still be used afterwards."""
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for con in conns:
            with contextlib.suppress(sqlite3.Error):
                con.close()
        self._generation += 1

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _index_ok(self, con: sqlite3.Connection) -> bool:
        (version,) = con.execute("PRAGMA user_version").fetchone()
        if version != SCHEMA_VERSION:
            return False
        rows = dict(con.execute("SELECT key, value FROM info").fetchall())
        if rows.get("fts") != ("trigram" if self.fts else "none"):
            return False  # made by a Python whose SQLite had (or lacked) trigram
        con.execute("SELECT id, sig FROM meetings LIMIT 1").fetchall()
        con.execute("SELECT id, meeting_id, text FROM segments LIMIT 1").fetchall()
        if self.fts:
            con.execute("SELECT rowid FROM segments_fts WHERE segments_fts MATCH '\"abc\"' LIMIT 1").fetchall()
        return True

    def _open_index(self) -> None:
        """Use the index file if it is sound and of this schema; else start a new, empty one."""
        con = self._con()
        try:
            if self._index_ok(con):
                return
            tables = con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if tables == 0:  # a new file: no need to replace it
                self._create_schema(con)
                return
            log.info("Library index %s is of another version: rebuilding it.", self.index_path)
        except sqlite3.DatabaseError as e:
            log.warning(
                "Library index %s is unreadable (%s): rebuilding it from the meeting files.", self.index_path, e
            )
        self._replace_index()

    def _replace_index(self) -> None:
        """Delete the index file (and its WAL) and create an empty one; callers then sync."""
        self.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            p = Path(f"{self.index_path}{suffix}")
            with _or_library_error(f"Cannot replace the damaged library index '{p}'"):
                _remove(p)
        self._create_schema(self._con())

    def _create_schema(self, con: sqlite3.Connection) -> None:
        with con:
            con.executescript(_SCHEMA + (_FTS_SCHEMA if self.fts else ""))
            con.execute("INSERT INTO info(key, value) VALUES ('fts', ?)", ("trigram" if self.fts else "none",))
            con.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def _recover(self, e: sqlite3.DatabaseError) -> int:
        """The index failed while in use: unless it is merely busy, rebuild it from the files."""
        if isinstance(e, sqlite3.OperationalError) and ("locked" in str(e) or "busy" in str(e)):
            raise LibraryError(f"The library index is busy: {e}.") from e
        log.warning("Library index failed (%s): rebuilding it from the meeting files.", e)
        with self._write:
            self._replace_index()
            return self._sync_locked()

    def _read(self, fn):
        """Run a read ``fn(connection)``; a damaged index is rebuilt once and ``fn`` run again."""
        generation = self._generation
        try:
            return fn(self._con())
        except sqlite3.DatabaseError as e:
            if self._generation == generation:  # else another thread replaced the index meanwhile
                self._recover(e)
        return fn(self._con())

    # -- keeping the index in step with the files --------------------------------------------

    def _folder(self, meeting_id: str) -> Path:
        if not isinstance(meeting_id, str) or not _ID_RE.fullmatch(meeting_id):
            raise MeetingNotFound(f"No meeting '{meeting_id}' in the library.")
        return self.meetings_dir / meeting_id

    def _disk(self) -> dict[str, str]:
        """Meeting id -> signature for every meeting folder with a meeting.json."""
        found = {}
        try:
            entries = list(os.scandir(self.meetings_dir))
        except OSError:
            return found
        for e in entries:
            if not _ID_RE.fullmatch(e.name) or not e.is_dir():
                continue
            sig = _signature(Path(e.path))
            if sig is not None:
                found[e.name] = sig
        return found

    def sync(self) -> int:
        """Bring the index up to date with the meeting folders; returns how many were (re)indexed
        or dropped. Safe from any thread."""
        with self._write:
            try:
                return self._sync_locked()
            except sqlite3.DatabaseError as e:
                return self._recover(e)  # rebuilt: every meeting was indexed

    def _sync_locked(self) -> int:
        con = self._con()
        disk = self._disk()
        known = dict(con.execute("SELECT id, sig FROM meetings").fetchall())
        stale = [m for m, sig in disk.items() if known.get(m) != sig]
        gone = [m for m in known if m not in disk]
        if not stale and not gone:
            return 0
        with con:
            for m in gone:
                self._drop(con, m)
            for m in stale:
                self._index_one(con, m, disk[m])
        return len(stale) + len(gone)

    def rebuild_index(self) -> int:
        """Throw the index away and build it anew from the meeting files; returns the meetings indexed."""
        with self._write:
            self._replace_index()
            return self._sync_locked()

    def index(self, meeting_id: str) -> None:
        """Re-read one meeting's files into the index (after its transcript.json was written).
        A meeting whose folder is gone leaves the index. Safe from any thread."""
        folder = self._folder(meeting_id)

        def run() -> None:
            con = self._con()
            with con:
                sig = _signature(folder)
                if sig is None:
                    self._drop(con, meeting_id)
                else:
                    self._index_one(con, meeting_id, sig)

        with self._write:
            try:
                run()
            except sqlite3.DatabaseError as e:
                self._recover(e)  # a rebuild reads every meeting, this one included

    def _drop(self, con: sqlite3.Connection, meeting_id: str, title_only: bool = False) -> None:
        """Remove a meeting's rows from the index (``title_only``: only the row of its title)."""
        where = "meeting_id = ? AND idx = -1" if title_only else "meeting_id = ?"
        if self.fts:
            con.execute(
                "INSERT INTO segments_fts(segments_fts, rowid, text) "
                f"SELECT 'delete', id, text FROM segments WHERE {where}",
                (meeting_id,),
            )
        con.execute(f"DELETE FROM segments WHERE {where}", (meeting_id,))
        if not title_only:
            con.execute("DELETE FROM meetings WHERE id = ?", (meeting_id,))

    def _insert_title(self, con: sqlite3.Connection, meeting_id: str, title: str) -> None:
        """The title as a searchable row (idx -1, time 0)."""
        title = " ".join(title.split())
        if not title:
            return
        cur = con.execute(
            "INSERT INTO segments(meeting_id, idx, start, end, speaker, text) VALUES (?, -1, 0, 0, NULL, ?)",
            (meeting_id, title),
        )
        if self.fts:
            con.execute("INSERT INTO segments_fts(rowid, text) VALUES (?, ?)", (cur.lastrowid, title))

    def _index_one(self, con: sqlite3.Connection, meeting_id: str, sig: str) -> None:
        """(Re)index one meeting from its files, inside the caller's transaction. Unreadable files
        are logged and the meeting is listed with what could be read: never an exception."""
        folder = self.meetings_dir / meeting_id
        meta, problem = _json_object(folder / META_NAME)
        if meta is None:
            log.warning("Skipping meeting %s: cannot read its %s (%s).", meeting_id, META_NAME, problem)
            self._drop(con, meeting_id)
            return
        data, problem = _json_object(folder / TRANSCRIPT_NAME)
        if data is None:
            log.warning(
                "Meeting %s: cannot read its %s (%s); listed without text.", meeting_id, TRANSCRIPT_NAME, problem
            )
            data = {}
        names, order = _speaker_names(data)
        language = data["language"] if "language" in data else meta.get("language")
        rows, texts = [], []
        for i, seg in enumerate(data.get("segments") or []):
            if not isinstance(seg, dict):
                continue
            text = seg.get("text")
            if not isinstance(text, str):
                continue
            texts.append(text)
            text = " ".join(text.split())
            if not text:
                continue
            sid = seg.get("speaker")
            start = seg.get("start") if isinstance(seg.get("start"), (int, float)) else 0.0
            end = seg.get("end") if isinstance(seg.get("end"), (int, float)) else start
            rows.append((meeting_id, i, float(start), float(end), names.get(sid, sid) if sid else None, text))
        title = meta.get("title") if isinstance(meta.get("title"), str) else ""
        created = meta.get("created") if isinstance(meta.get("created"), str) else ""
        t = _parse_time(created)
        if t is None:  # a hand-made meeting.json without a time: the folder's
            with contextlib.suppress(OSError):
                t = datetime.fromtimestamp((folder / META_NAME).stat().st_mtime).astimezone()
                created = t.isoformat(timespec="seconds")
        # The transcript is the truth for what an editor changes; meeting.json stands in when it is unreadable.
        audio = data.get("audio") if isinstance(data.get("audio"), dict) else {}
        duration = audio.get("duration")
        if not isinstance(duration, (int, float)):
            duration = meta.get("duration") if isinstance(meta.get("duration"), (int, float)) else 0.0
        speakers = order if data or not isinstance(meta.get("speakers"), list) else meta["speakers"]
        self._drop(con, meeting_id)
        con.execute(
            "INSERT INTO meetings(id, title, created, created_ts, source, audio_path, duration, speakers, language,"
            " preview, session, sig) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                meeting_id,
                title,
                created,
                t.timestamp() if t else 0.0,
                str(meta.get("source") or "file"),
                meta.get("audio_path") if isinstance(meta.get("audio_path"), str) else None,
                float(duration),
                json.dumps([str(s) for s in speakers], ensure_ascii=False),
                language if isinstance(language, str) else None,
                _preview(texts, language),
                meta.get("session") if isinstance(meta.get("session"), str) else None,
                sig,
            ),
        )
        con.executemany(
            "INSERT INTO segments(meeting_id, idx, start, end, speaker, text) VALUES (?, ?, ?, ?, ?, ?)", rows
        )
        if self.fts:
            con.execute(
                "INSERT INTO segments_fts(rowid, text) SELECT id, text FROM segments WHERE meeting_id = ?",
                (meeting_id,),
            )
        self._insert_title(con, meeting_id, title)

    # -- reading -----------------------------------------------------------------------------

    _MEETING_COLUMNS = "id, title, created, source, audio_path, duration, speakers, language, preview, session"

    def _meeting(self, row: tuple) -> Meeting:
        mid, title, created, source, audio, duration, speakers, language, preview, session = row
        try:
            names = tuple(json.loads(speakers))
        except ValueError:
            names = ()
        return Meeting(
            mid, title, created, source, audio, duration, names, language, preview, self.meetings_dir / mid, session
        )

    def list(self) -> list[Meeting]:
        """Every meeting, newest first."""
        rows = self._read(
            lambda con: con.execute(
                f"SELECT {self._MEETING_COLUMNS} FROM meetings ORDER BY created_ts DESC, id DESC"
            ).fetchall()
        )
        return [self._meeting(r) for r in rows]

    def count(self) -> int:
        return self._read(lambda con: con.execute("SELECT count(*) FROM meetings").fetchone()[0])

    def get(self, meeting_id: str) -> Meeting:
        """The meeting with that id (indexed first if its folder is new); MeetingNotFound if none."""
        folder = self._folder(meeting_id)
        query = f"SELECT {self._MEETING_COLUMNS} FROM meetings WHERE id = ?"
        row = self._read(lambda con: con.execute(query, (meeting_id,)).fetchone())
        if row is None and (folder / META_NAME).is_file():
            self.index(meeting_id)
            row = self._read(lambda con: con.execute(query, (meeting_id,)).fetchone())
        if row is None:
            raise MeetingNotFound(f"No meeting '{meeting_id}' in the library.")
        return self._meeting(row)

    def transcript_path(self, meeting_id: str) -> Path:
        """Where the meeting's editable transcript lives (an editor that writes it itself then calls
        :meth:`index`)."""
        return self._folder(meeting_id) / TRANSCRIPT_NAME

    def transcript(self, meeting_id: str) -> Transcript:
        path = self.transcript_path(meeting_id)
        try:
            return Transcript.load(path)
        except FileNotFoundError as e:
            raise MeetingNotFound(f"No meeting '{meeting_id}' in the library.") from e
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise LibraryError(f"The transcript of meeting '{meeting_id}' cannot be read ({path}): {e}.") from e

    def owns_audio(self, meeting: Meeting | str) -> bool:
        """Whether the meeting's audio lies in the library's own folders (its meeting folder or a
        live session), i.e. whether deleting the meeting may offer to delete the audio too."""
        m = meeting if isinstance(meeting, Meeting) else self.get(meeting)
        if not m.audio_path:
            return False
        audio = Path(m.audio_path)
        return _inside(audio, self.meetings_dir / m.id) or _inside(audio, self.sessions_dir)

    def search(self, query: str, limit: int = 50) -> list[Hit]:
        """Segments (and titles) containing every term of ``query``, newest meeting first, then in
        order of time. Any text is a valid query: nothing in it is taken as search syntax."""
        terms = query_terms(query)[:MAX_TERMS]
        if not terms or limit <= 0:
            return []
        long_terms = [t for t in terms if len(t) >= 3] if self.fts else []
        short_terms = [t for t in terms if t not in long_terms]
        cols = "s.meeting_id, m.title, s.start, s.end, s.speaker, s.idx, s.text, m.created"
        likes = " ".join("AND s.text LIKE ? ESCAPE '\\'" for _ in short_terms)
        params: list[Any] = [_like_pattern(t) for t in short_terms]
        if long_terms:
            sql = (
                f"SELECT {cols} FROM segments_fts f JOIN segments s ON s.id = f.rowid "
                f"JOIN meetings m ON m.id = s.meeting_id WHERE segments_fts MATCH ? {likes} "
                "ORDER BY m.created_ts DESC, m.id DESC, s.idx LIMIT ?"
            )
            params = [" ".join(_fts_string(t) for t in long_terms), *params, limit]
        else:  # CROSS JOIN: walk the meetings newest first, stop at enough hits (10-19 ms -> 0.1-0.9 ms)
            sql = (
                f"SELECT {cols} FROM meetings m CROSS JOIN segments s ON s.meeting_id = m.id "
                f"WHERE 1 {likes} ORDER BY m.created_ts DESC, m.id DESC, s.idx LIMIT ?"
            )
            params = [*params, limit]
        try:
            rows = self._read(lambda con: con.execute(sql, params).fetchall())
        except (sqlite3.DatabaseError, LibraryError) as e:  # failing after a rebuild, or busy: no results
            log.warning("Library search for %r failed: %s", query, e)
            return []
        hits = []
        for mid, title, start, end, speaker, idx, text, created in rows:
            snippet, marks = make_snippet(text, terms)
            hits.append(Hit(mid, title, start, end, snippet, marks, speaker, idx, created))
        return hits

    # -- writing -----------------------------------------------------------------------------

    def _write_meta(self, folder: Path, meta: dict[str, Any]) -> None:
        _atomic_write(folder / META_NAME, json.dumps(meta, ensure_ascii=False, indent=2))

    def _read_meta(self, meeting_id: str) -> dict[str, Any]:
        missing = MeetingNotFound(f"No meeting '{meeting_id}' in the library.")
        return _read_object(self._folder(meeting_id) / META_NAME, missing, "meeting")

    def add(
        self,
        transcript: Transcript,
        audio_path: str | Path | None,
        title: str | None = None,
        source: str = "file",
        created: datetime | str | None = None,
        session: str | Path | None = None,
    ) -> Meeting:
        """A new meeting from a transcript; ``audio_path`` is kept as an absolute path (the audio is
        not copied). ``title`` defaults to the audio file's name (files) or "" (live meetings);
        ``created`` to now."""
        if source not in ("file", "live"):
            raise ValueError(f"source must be 'file' or 'live', not {source!r}")
        audio = Path(audio_path if audio_path is not None else transcript.audio.path).expanduser()
        audio = audio.absolute()
        if isinstance(created, str):
            when = _parse_time(created)
            if when is None:
                raise ValueError(f"not an ISO time: {created!r}")
        else:
            when = (created.astimezone() if created else _now()).replace(microsecond=0)
        if title is None:
            title = audio.stem if source == "file" else ""
        d = transcript.to_dict()
        d["audio"]["path"] = str(audio)
        with self._write:
            for _ in range(100):
                mid = f"{when:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
                folder = self.meetings_dir / mid
                try:
                    folder.mkdir(parents=True)
                    break
                except FileExistsError:
                    continue
                except OSError as e:
                    raise LibraryError(f"Cannot create the meeting folder '{folder}': {e.strerror or e}.") from e
            else:
                raise LibraryError("Cannot find a free meeting id.")
            meta = {
                "version": 1,
                "id": mid,
                "title": title,
                "created": when.isoformat(timespec="seconds"),
                "source": source,
                "audio_path": str(audio),
                "duration": d["audio"]["duration"],
                "speakers": _speaker_names(d)[1],
                "language": d["language"],
            }
            if session is not None:
                meta["session"] = str(Path(session).absolute())
            try:
                _atomic_write(folder / TRANSCRIPT_NAME, json.dumps(d, ensure_ascii=False, indent=2))
                self._write_meta(folder, meta)  # last: a folder without it is not a meeting yet
            except OSError as e:
                shutil.rmtree(folder, ignore_errors=True)
                raise LibraryError(f"Cannot save the meeting in '{folder}': {e.strerror or e}.") from e
            self.index(mid)
        return self.get(mid)

    def save(self, meeting_id: str, transcript: Transcript) -> None:
        """Write an edited transcript (atomically) and reindex the meeting. Safe from a worker thread."""
        folder = self._folder(meeting_id)
        meta = self._read_meta(meeting_id)
        d = transcript.to_dict()
        speakers = _speaker_names(d)[1]
        try:
            _atomic_write(folder / TRANSCRIPT_NAME, json.dumps(d, ensure_ascii=False, indent=2))
            changed = {"duration": d["audio"]["duration"], "speakers": speakers, "language": d["language"]}
            if Path(d["audio"]["path"]).is_absolute():  # relinked by the editor
                changed["audio_path"] = d["audio"]["path"]
            if any(meta.get(k) != v for k, v in changed.items()):
                self._write_meta(folder, {**meta, **changed})
        except OSError as e:
            raise LibraryError(f"Cannot save the transcript in '{folder}': {e.strerror or e}.") from e
        self.index(meeting_id)

    def rename(self, meeting_id: str, title: str) -> Meeting:
        title = " ".join(str(title).split())
        meta = self._read_meta(meeting_id)
        if meta.get("title") != title:
            try:
                self._write_meta(self._folder(meeting_id), {**meta, "title": title})
            except OSError as e:
                raise LibraryError(f"Cannot rename the meeting: {e.strerror or e}.") from e
            self._retitle(meeting_id, title)
        return self.get(meeting_id)

    def _retitle(self, meeting_id: str, title: str) -> None:
        """Index a new title without reading the transcript again (a rename runs in the GUI thread)."""
        folder = self._folder(meeting_id)
        with self._write:
            try:
                con = self._con()
                with con:
                    row = con.execute("SELECT sig FROM meetings WHERE id = ?", (meeting_id,)).fetchone()
                    sig = _signature(folder)
                    if row is None or sig is None or row[0].split("/")[1:] != sig.split("/")[1:]:
                        # not indexed yet, or its transcript changed too: the whole meeting
                        if sig is None:
                            self._drop(con, meeting_id)
                        else:
                            self._index_one(con, meeting_id, sig)
                        return
                    con.execute("UPDATE meetings SET title = ?, sig = ? WHERE id = ?", (title, sig, meeting_id))
                    self._drop(con, meeting_id, title_only=True)
                    self._insert_title(con, meeting_id, title)
            except sqlite3.DatabaseError as e:
                self._recover(e)

    def delete(self, meeting_id: str, delete_audio: bool = False) -> bool:
        """Remove a meeting (its folder and index entry). The audio is kept unless ``delete_audio``;
        even then it is kept while another meeting still uses it. A live session's folder goes with
        its audio. Returns whether the audio was deleted."""
        m = self.get(meeting_id)
        folder = self._folder(meeting_id)
        audio = Path(m.audio_path) if m.audio_path else None
        if audio is not None and delete_audio:
            others = [x.id for x in self.list() if x.id != m.id and x.audio_path and Path(x.audio_path) == audio]
            if others:
                log.info("Keeping %s: meeting %s uses it too.", audio, others[0])
                delete_audio = False
        keep = audio if audio is not None and not delete_audio and _inside(audio, folder) else None
        with _or_library_error(f"Cannot delete the meeting folder '{folder}'"):
            if keep is None:
                _remove(folder)
            else:  # the audio lives in the meeting folder and stays: everything else goes
                for p in folder.iterdir():
                    if p.resolve() != keep.resolve():
                        _remove(p)
        self.index(meeting_id)  # its meeting.json is gone: it leaves the index
        deleted = False
        if audio is not None and delete_audio:
            session = audio.parent
            try:
                if (
                    audio.name == SESSION_AUDIO
                    and _inside(session, self.sessions_dir)
                    and session.resolve() != self.sessions_dir.resolve()
                    and (session / SESSION_META).exists()
                ):
                    shutil.rmtree(session)
                elif audio.exists():
                    audio.unlink()
                deleted = True
            except OSError as e:
                raise LibraryError(
                    f"The meeting was deleted but its audio '{audio}' was not: {e.strerror or e}."
                ) from e
        return deleted

    def import_session(self, folder: str | Path, title: str | None = None) -> Meeting:
        """Add a finished (or recovered) live session as a meeting; the audio stays in the session
        folder. Importing the same session again returns the meeting made the first time."""
        folder = Path(folder).absolute()
        missing = LibraryError(f"'{folder}' is not a live session folder (no {SESSION_META}).")
        info = _read_object(folder / SESSION_META, missing, "session")
        if info.get("state") == "recording":
            raise LibraryError(f"Session '{folder.name}' has not finished: stop or recover it first.")
        for m in self.list():
            if m.session and Path(m.session) == folder:
                return m
        path = folder / SESSION_TRANSCRIPT
        try:
            transcript = Transcript.load(path)
        except FileNotFoundError as e:
            raise LibraryError(f"Session '{folder.name}' has no transcript yet ({SESSION_TRANSCRIPT}).") from e
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise LibraryError(f"The session transcript '{path}' cannot be read: {e}.") from e
        started = info.get("started")
        created = datetime.fromtimestamp(started).astimezone() if isinstance(started, (int, float)) else None
        return self.add(transcript, folder / SESSION_AUDIO, title, source="live", created=created, session=folder)


def _remove(path: Path) -> None:
    """Delete a file or a folder tree (a link, not what it points to); gone already is fine."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        pass


@contextlib.contextmanager
def _or_library_error(what: str):
    """An OSError in the block becomes the user's message: ``what`` and the system's reason."""
    try:
        yield
    except OSError as e:
        raise LibraryError(f"{what}: {e.strerror or e}.") from e


def _json_object(path: Path) -> tuple[dict | None, str]:
    """The JSON object in ``path``, or None and why not (unreadable, not JSON, not an object)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return None, str(e)
    return (data, "") if isinstance(data, dict) else (None, "not a JSON object")


def _read_object(path: Path, missing: Exception, kind: str) -> dict[str, Any]:
    """The JSON object of a meeting's or session's file; ``missing`` is raised when there is no
    file, a LibraryError that names the file when it cannot be read or holds something else."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise missing from e
    except (OSError, ValueError) as e:
        raise LibraryError(f"The {kind} file '{path}' cannot be read: {e}.") from e
    if not isinstance(data, dict):
        raise LibraryError(f"The {kind} file '{path}' is not a {kind}.")
    return data
