"""Per-chat state in SQLite: the Live resumption handle, voice replies on/off, the persona.

One small table, one row per chat. Writes are tiny and rare (a handle per answered turn), so they run
synchronously on the event loop thread; WAL mode keeps a reader (e.g. a second process) from blocking them.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rholive.live import HistoryTurn

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chats (
    chat_id INTEGER PRIMARY KEY,
    handle TEXT,
    voice INTEGER NOT NULL DEFAULT 1,
    persona TEXT,
    updated REAL NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class ChatState:
    chat_id: int
    handle: str | None = None  # resumption handle of the chat's Live conversation; None: start a new one
    voice: bool = True  # answer voice notes with a voice note (else text only)
    persona: str | None = None  # None: the default persona
    history: tuple[HistoryTurn, ...] = ()  # the conversation as text, to seed a session (Redis mode only)


class ChatStates(Protocol):
    """Where a `ChatHub` keeps per-chat state: this SQLite store, or Redis (`scale.state`) for workers."""

    def get(self, chat_id: int) -> ChatState: ...
    def set_handle(self, chat_id: int, handle: str | None) -> None: ...
    def set_voice(self, chat_id: int, on: bool) -> None: ...
    def set_persona(self, chat_id: int, persona: str | None) -> None: ...
    def set_history(self, chat_id: int, turns: Sequence[HistoryTurn]) -> None: ...


class ChatStore:
    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # a handle is written after every answer: no fsync per write (WAL stays consistent on a crash; a power
        # cut may lose the newest handle, and the chat then resumes from the one before)
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def get(self, chat_id: int) -> ChatState:
        row = self._db.execute(
            "SELECT handle, voice, persona FROM chats WHERE chat_id = ?", (chat_id,)
        ).fetchone()
        if row is None:
            return ChatState(chat_id)
        return ChatState(chat_id, handle=row[0], voice=bool(row[1]), persona=row[2])

    def _upsert(self, chat_id: int, column: str, value: object) -> None:
        # column names come from this module only, never from input
        self._db.execute(
            f"INSERT INTO chats (chat_id, {column}, updated) VALUES (?, ?, ?) "
            f"ON CONFLICT(chat_id) DO UPDATE SET {column} = excluded.{column}, updated = excluded.updated",
            (chat_id, value, time.time()),
        )

    def set_handle(self, chat_id: int, handle: str | None) -> None:
        self._upsert(chat_id, "handle", handle)

    def set_voice(self, chat_id: int, on: bool) -> None:
        self._upsert(chat_id, "voice", int(on))

    def set_persona(self, chat_id: int, persona: str | None) -> None:
        self._upsert(chat_id, "persona", persona)

    def set_history(self, chat_id: int, turns: Sequence[HistoryTurn]) -> None:
        """Not kept: one process keeps its sessions, and the handle resumes them."""

    def close(self) -> None:
        self._db.close()
