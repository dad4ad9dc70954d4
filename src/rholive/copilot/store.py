"""The transcript of every copilot session in one SQLite file: turns, their transcriptions, answers, usage.

Times (``at``) are wall-clock seconds since the epoch (``time.time()``), not the gates' monotonic clock.

Threads and blocking: one connection per store, guarded by a lock, so any thread may call any method and
calls never interleave; the copilot runtime calls from its event-loop thread. Every method is synchronous
and each write is one short transaction without an fsync (WAL with ``synchronous=NORMAL``: a crash keeps
the file consistent, a power cut may lose the newest rows): median ~0.05 ms per write on the 2-core build
machine, with rare calls of tens of ms when the machine is loaded or WAL auto-checkpoints (every ~4 MB).
A write blocks longer only while another process is in a write transaction on the same file, at most
``busy_timeout_s``; then it raises `TranscriptStoreError`, as it does for a full disk: a caller that must
not stop (the runtime) catches that, counts the lost write and goes on. Readers never wait for writers
(WAL), so ``rholive history`` reads while a session writes, from another process.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal

SCHEMA_VERSION = 2  # 2: usage.cost_usd
APPLICATION_ID = 0x72686F6C  # "rhol": marks the file as ours (PRAGMA application_id)
FILE_NAME = "transcripts.sqlite3"

WHO = frozenset({"me", "them", "screen"})
TURN_KINDS = frozenset({"audio", "screen", "typed"})

_SCHEMA = """
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    model TEXT NOT NULL,
    persona TEXT NOT NULL,
    started REAL NOT NULL,
    ended REAL
);
CREATE TABLE entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    role TEXT NOT NULL,            -- 'turn' or 'answer'
    who TEXT NOT NULL,             -- turns: me / them / screen; answers: 'copilot'
    kind TEXT NOT NULL,            -- turns: audio / screen / typed; answers: 'answer'
    at REAL NOT NULL,
    text TEXT NOT NULL,
    turn_id INTEGER REFERENCES entries(id)   -- answers: the turn answered, if known
);
CREATE INDEX entries_by_session ON entries(session_id, at, id);
CREATE TABLE usage (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    at REAL NOT NULL,
    total_tokens INTEGER NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    response_tokens INTEGER NOT NULL,
    by_modality TEXT NOT NULL,     -- JSON object {"AUDIO": n, ...}
    cost_usd REAL                  -- the report's estimated cost; NULL: no price known for the model
);
CREATE INDEX usage_by_session ON usage(session_id);
"""

_SUMMARY = """
SELECT s.id, s.kind, s.model, s.persona, s.started, s.ended,
    (SELECT count(*) FROM entries e WHERE e.session_id = s.id AND e.role = 'turn'),
    (SELECT count(*) FROM entries e WHERE e.session_id = s.id AND e.role = 'answer'),
    (SELECT coalesce(sum(u.total_tokens), 0) FROM usage u WHERE u.session_id = s.id),
    (SELECT sum(u.cost_usd) FROM usage u WHERE u.session_id = s.id)
FROM sessions s"""
# each step takes the schema from version N to N + 1 (a file written by an older rholive keeps its rows)
_MIGRATIONS = {1: ("ALTER TABLE usage ADD COLUMN cost_usd REAL",)}


class TranscriptStoreError(Exception):
    """The store's file cannot be used (not SQLite, not ours, newer schema, locked); names the file."""


class UnknownSessionError(TranscriptStoreError, LookupError):
    """No session with that id (or the prefix matches none or several)."""


class UnknownTurnError(LookupError):
    """No turn with that id (in that session)."""


def default_path(data_dir: Path) -> Path:
    """Where the transcripts live under the data directory (``settings.data_dir``)."""
    return data_dir / FILE_NAME


@dataclass(frozen=True, slots=True)
class SessionSummary:
    id: str
    kind: str
    model: str
    persona: str
    started: float  # wall-clock seconds since the epoch
    ended: float | None  # None: still running, or the process died before ending it
    turns: int
    answers: int
    tokens: int  # sum of the session's usage reports
    cost_usd: float | None = None  # the estimated cost of those reports; None: no estimate


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of a conversation: a turn (me / them / screen) or an answer (who ``copilot``)."""

    id: int
    role: Literal["turn", "answer"]
    who: str
    kind: str
    at: float
    text: str
    turn_id: int | None = None  # answers: the turn they answer

    @property
    def is_answer(self) -> bool:
        return self.role == "answer"


@dataclass(frozen=True, slots=True)
class SessionUsage:
    total_tokens: int = 0
    prompt_tokens: int = 0
    response_tokens: int = 0
    by_modality: dict[str, int] = field(default_factory=dict)
    reports: int = 0
    cost_usd: float | None = None  # None: no report had an estimate


class TranscriptStore:
    def __init__(self, path: Path | str, *, busy_timeout_s: float = 5.0) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                str(self.path), isolation_level=None, check_same_thread=False, timeout=busy_timeout_s
            )
        except (OSError, sqlite3.Error) as exc:
            raise TranscriptStoreError(f"{self.path}: cannot open the transcript store: {exc}") from exc
        try:
            with self._errors():
                self._prepare()
        except BaseException:
            self._db.close()
            raise

    def _prepare(self) -> None:
        db = self._db
        # look before writing anything: a file that is not SQLite (fails on this first read), another
        # program's database or a newer schema is left exactly as it was
        ours = self._is_ours()
        if ours:
            self._check_version()
        db.execute("PRAGMA foreign_keys=ON")
        if db.execute("PRAGMA journal_mode=WAL").fetchone()[0].lower() != "wal":
            raise TranscriptStoreError(f"{self.path}: cannot switch the transcript store to WAL mode")
        db.execute("PRAGMA synchronous=NORMAL")
        if ours:
            self._migrate()
            return
        # a new file, or two processes creating it at once: decide again under the write lock
        db.execute("BEGIN IMMEDIATE")
        try:
            if not self._is_ours():
                # one statement at a time: executescript would commit first and give up the lock
                for statement in _SCHEMA.split(";\n"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA application_id={APPLICATION_ID}")
                db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        self._check_version()

    def _is_ours(self) -> bool:
        """True for a rholive store, False for an empty file; an error for any other SQLite file."""
        if self._db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID:
            return True
        if self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise TranscriptStoreError(f"{self.path}: not a rholive transcript store (another SQLite file)")
        return False

    def _version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _check_version(self) -> None:
        version = self._version()
        if version > SCHEMA_VERSION:
            raise TranscriptStoreError(
                f"{self.path}: transcript store schema {version} is newer than this rholive reads "
                f"({SCHEMA_VERSION}); upgrade rholive"
            )
        if version < SCHEMA_VERSION and version not in _MIGRATIONS:
            raise TranscriptStoreError(f"{self.path}: unknown transcript store schema {version}")

    def _migrate(self) -> None:
        """Bring an older schema up to date, in one transaction under the write lock (two processes opening
        an old file at once: the second finds it done)."""
        if self._version() == SCHEMA_VERSION:
            return
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            while (version := self._version()) < SCHEMA_VERSION:
                for statement in _MIGRATIONS[version]:
                    db.execute(statement)
                db.execute(f"PRAGMA user_version={version + 1}")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """SQLite errors become one line naming the file (no traceback for a user's bad file)."""
        try:
            yield
        except sqlite3.Error as exc:
            raise TranscriptStoreError(f"{self.path}: {_explain(exc)}") from exc

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._errors():
            yield self._db

    # -- writing -------------------------------------------------------------------------------------------

    def start_session(self, *, model: str, kind: str = "copilot", at: float, persona: str = "") -> str:
        """Begin a session; returns its short id (8 hex digits)."""
        with self._locked() as db:
            while True:
                session_id = secrets.token_hex(4)
                try:
                    db.execute(
                        "INSERT INTO sessions (id, kind, model, persona, started) VALUES (?, ?, ?, ?, ?)",
                        (session_id, kind, model, persona, at),
                    )
                    return session_id
                except sqlite3.IntegrityError:  # that id is taken (1 in 4 billion per session): draw again
                    continue

    def end_session(self, session_id: str, *, at: float) -> None:
        with self._locked() as db:
            if db.execute("UPDATE sessions SET ended = ? WHERE id = ?", (at, session_id)).rowcount == 0:
                raise self._unknown(session_id)

    def add_turn(self, session_id: str, *, who: str, kind: str, at: float, text: str = "") -> int:
        """Record a turn when it is sent; its transcription may follow with `set_turn_text`."""
        if who not in WHO:
            raise ValueError(f"who must be one of {sorted(WHO)}, not {who!r}")
        if kind not in TURN_KINDS:
            raise ValueError(f"turn kind must be one of {sorted(TURN_KINDS)}, not {kind!r}")
        return self._insert_entry(session_id, "turn", who, kind, at, text, None)

    def set_turn_text(self, turn_id: int, text: str, *, append: bool = True) -> None:
        """Add a transcription delta to a turn (``append=False`` replaces its text)."""
        sql = "UPDATE entries SET text = text || ? WHERE id = ? AND role = 'turn'"
        if not append:
            sql = "UPDATE entries SET text = ? WHERE id = ? AND role = 'turn'"
        with self._locked() as db:
            if db.execute(sql, (text, turn_id)).rowcount == 0:
                raise UnknownTurnError(f"no turn {turn_id} in {self.path}")

    def add_answer(self, session_id: str, *, turn_id: int | None, text: str, at: float) -> int:
        """Record a complete answer. Empty answers are refused: an answer that meant nothing is not stored."""
        if not text.strip():
            raise ValueError("an empty answer is not stored")
        return self._insert_entry(session_id, "answer", "copilot", "answer", at, text, turn_id)

    def _check_turn(self, db: sqlite3.Connection, session_id: str, turn_id: int) -> None:
        row = db.execute(
            "SELECT 1 FROM entries WHERE id = ? AND role = 'turn' AND session_id = ?", (turn_id, session_id)
        ).fetchone()
        if row is None:
            if not db.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone():
                raise self._unknown(session_id)
            raise UnknownTurnError(f"no turn {turn_id} in session {session_id!r} of {self.path}")

    def _insert_entry(
        self, session_id: str, role: str, who: str, kind: str, at: float, text: str, turn_id: int | None
    ) -> int:
        with self._locked() as db:
            if turn_id is not None:
                self._check_turn(db, session_id, turn_id)
            try:
                cursor = db.execute(
                    "INSERT INTO entries (session_id, role, who, kind, at, text, turn_id) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (session_id, role, who, kind, at, text, turn_id),
                )
            except sqlite3.IntegrityError:
                raise self._unknown(session_id) from None
            assert cursor.lastrowid is not None
            return cursor.lastrowid

    def add_usage(
        self,
        session_id: str,
        *,
        at: float,
        total_tokens: int,
        prompt_tokens: int = 0,
        response_tokens: int = 0,
        by_modality: dict[str, int] | None = None,
        cost_usd: float | None = None,
    ) -> None:
        """Record one usage report (the tokens of that report, not a running total: reports are summed) and
        its estimated cost (None: no price known)."""
        with self._locked() as db:
            try:
                db.execute(
                    "INSERT INTO usage (session_id, at, total_tokens, prompt_tokens, response_tokens, "
                    "by_modality, cost_usd) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        session_id,
                        at,
                        total_tokens,
                        prompt_tokens,
                        response_tokens,
                        json.dumps(by_modality or {}),
                        cost_usd,
                    ),
                )
            except sqlite3.IntegrityError:
                raise self._unknown(session_id) from None

    # -- reading -------------------------------------------------------------------------------------------

    def sessions(self, limit: int | None = None) -> list[SessionSummary]:
        """Sessions, newest first (the ``limit`` newest when given)."""
        sql = f"{_SUMMARY} ORDER BY s.started DESC, s.rowid DESC LIMIT ?"
        with self._locked() as db:
            rows = db.execute(sql, (-1 if limit is None else limit,)).fetchall()
        return [SessionSummary(*row) for row in rows]

    def session(self, session_id: str) -> SessionSummary:
        with self._locked() as db:
            row = db.execute(f"{_SUMMARY} WHERE s.id = ?", (session_id,)).fetchone()
        if row is None:
            raise self._unknown(session_id)
        return SessionSummary(*row)

    def resolve(self, ref: str) -> str:
        """A session id from what a user typed: a full id, a unique prefix, or ``last`` (the newest)."""
        with self._locked() as db:
            if ref == "last":
                row = db.execute(
                    "SELECT id FROM sessions ORDER BY started DESC, rowid DESC LIMIT 1"
                ).fetchone()
                if row is None:
                    raise UnknownSessionError(f"no sessions yet in {self.path}")
                return str(row[0])
            if db.execute("SELECT 1 FROM sessions WHERE id = ?", (ref,)).fetchone():
                return ref
            pattern = ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            matches = [
                str(r[0])
                for r in db.execute(
                    "SELECT id FROM sessions WHERE id LIKE ? ESCAPE '\\'", (pattern,)
                ).fetchall()
            ]
        if len(matches) == 1 and ref:
            return matches[0]
        if len(matches) > 1 and ref:
            raise UnknownSessionError(f"session {ref!r} is ambiguous: it starts {len(matches)} session ids")
        raise self._unknown(ref)

    def entries(self, session_id: str) -> list[Entry]:
        """The session's turns and answers in time order (ties in the order they were recorded)."""
        with self._locked() as db:
            if not db.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone():
                raise self._unknown(session_id)
            rows = db.execute(
                "SELECT id, role, who, kind, at, text, turn_id FROM entries WHERE session_id = ? ORDER BY at, id",
                (session_id,),
            ).fetchall()
        return [Entry(*row) for row in rows]

    def usage(self, session_id: str) -> SessionUsage:
        """The session's usage reports added up, with the tokens by modality."""
        with self._locked() as db:
            rows = db.execute(
                "SELECT total_tokens, prompt_tokens, response_tokens, by_modality, cost_usd FROM usage "
                "WHERE session_id = ?",
                (session_id,),
            ).fetchall()
        totals = [0, 0, 0]
        modalities: dict[str, int] = {}
        cost: float | None = None
        for total, prompt, response, by_modality, cost_usd in rows:
            totals = [totals[0] + total, totals[1] + prompt, totals[2] + response]
            for modality, tokens in json.loads(by_modality).items():
                modalities[modality] = modalities.get(modality, 0) + int(tokens)
            if cost_usd is not None:
                cost = (cost or 0.0) + cost_usd
        return SessionUsage(*totals, by_modality=modalities, reports=len(rows), cost_usd=cost)

    # -- helpers -------------------------------------------------------------------------------------------

    def _unknown(self, session_id: str) -> UnknownSessionError:
        return UnknownSessionError(f"no session {session_id!r} in {self.path}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> TranscriptStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _explain(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "file is not a database" in text:
        return f"not a rholive transcript store (not an SQLite file: {text})"
    if "malformed" in text:
        return f"the transcript store is damaged ({text})"
    if "locked" in text or "busy" in text:
        return f"{text} (another process holds the write lock)"
    return text
