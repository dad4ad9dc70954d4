"""Per-chat state in Redis: one hash per chat (handle, voice, persona, history), expiring when unused.

`ChatHub` reads and writes state synchronously, so a worker keeps the state of the chats it holds in memory:
`hold` loads it from Redis when the chat's lease is taken, every change goes to Redis in order through one
writer task, and `release` waits for those writes before the lease is given up — so the next worker, on any
machine, reads what this one wrote. The chat's session is closed before release, so no change comes after it
(one that did would not be written: another worker may own the chat by then).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Sequence

from rholive.live import HistoryTurn
from rholive.telegram.scale.conn import RedisLink
from rholive.telegram.scale.keys import Keys
from rholive.telegram.store import ChatState

log = logging.getLogger("rholive.telegram")
STATE_TTL_S = 30 * 24 * 3600  # a chat silent this long starts afresh
MAX_HISTORY_TURNS = 40  # the seed of a fresh session stays small


def decode_state(chat_id: int, fields: dict[bytes, bytes]) -> ChatState:
    def text(name: str) -> str | None:
        value = fields.get(name.encode())
        return value.decode() if value else None

    turns = json.loads(text("history") or "[]")
    return ChatState(
        chat_id,
        handle=text("handle"),
        voice=text("voice") != "0",
        persona=text("persona"),
        history=tuple(HistoryTurn(role, words) for role, words in turns),
    )


def encode_history(turns: Sequence[HistoryTurn]) -> str:
    return json.dumps([[t.role, t.text] for t in list(turns)[-MAX_HISTORY_TURNS:]])


class RedisChatStates:
    def __init__(self, redis: RedisLink, keys: Keys, ttl_s: int = STATE_TTL_S) -> None:
        self.redis, self.keys, self.ttl_s = redis, keys, ttl_s
        self._held: dict[int, ChatState] = {}
        self._writes: asyncio.Queue[tuple[int, str, str]] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self.late_writes = 0  # changes that came after the chat was released (not written)

    async def hold(self, chat_id: int) -> None:
        """Load the chat's state (its lease was just taken)."""
        fields = await self.redis.call(lambda r: r.hgetall(self.keys.state(chat_id)))
        self._held[chat_id] = decode_state(chat_id, fields)  # type: ignore[arg-type]

    async def release(self, chat_id: int) -> None:
        """Before the lease is given up: every change written."""
        await self._writes.join()
        self._held.pop(chat_id, None)

    # -- what ChatHub calls (ChatStates)

    def get(self, chat_id: int) -> ChatState:
        return self._held.get(chat_id) or ChatState(chat_id)

    def set_handle(self, chat_id: int, handle: str | None) -> None:
        self._change(chat_id, "handle", handle or "", handle=handle)

    def set_voice(self, chat_id: int, on: bool) -> None:
        self._change(chat_id, "voice", "1" if on else "0", voice=on)

    def set_persona(self, chat_id: int, persona: str | None) -> None:
        self._change(chat_id, "persona", persona or "", persona=persona)

    def set_history(self, chat_id: int, turns: Sequence[HistoryTurn]) -> None:
        kept = tuple(list(turns)[-MAX_HISTORY_TURNS:])
        self._change(chat_id, "history", encode_history(kept), history=kept)

    def _change(self, chat_id: int, name: str, value: str, **state: object) -> None:
        held = self._held.get(chat_id)
        if held is None:
            self.late_writes += 1
            return
        self._held[chat_id] = dataclasses.replace(held, **state)  # type: ignore[arg-type]
        self._writes.put_nowait((chat_id, name, value))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="rholive-state-writer")

    async def _write(self) -> None:
        while True:
            chat_id, name, value = await self._writes.get()
            key = self.keys.state(chat_id)
            try:
                await self.redis.call(lambda r, k=key, n=name, v=value: _hset_expire(r, k, n, v, self.ttl_s))
            finally:
                self._writes.task_done()

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.cancel()


async def _hset_expire(client: object, key: str, name: str, value: str, ttl_s: int) -> None:
    async with client.pipeline(transaction=True) as pipe:  # type: ignore[attr-defined]
        pipe.hset(key, name, value)
        pipe.expire(key, ttl_s)
        await pipe.execute()
