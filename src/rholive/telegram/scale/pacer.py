"""Telegram's send limits across all workers: the global token bucket and each chat's spacing live in Redis
(one Lua script, Redis's clock), so N workers together still send at most ``global_rate`` per second."""

from __future__ import annotations

import asyncio

from rholive.telegram.pacing import Pacer, PacingOptions, _ChatLane
from rholive.telegram.scale import scripts
from rholive.telegram.scale.conn import RedisLink
from rholive.telegram.scale.keys import Keys


class SharedPacer(Pacer):
    def __init__(self, redis: RedisLink, keys: Keys, options: PacingOptions | None = None) -> None:
        super().__init__(options)
        self.redis, self.keys = redis, keys
        self.waits = 0  # sends that had to wait for a shared limit
        self.fenced = 0  # sends not made: the chat's lease had passed to another worker
        self._leases: dict[int, str] = {}  # chat -> this worker's lease token, while it holds the chat

    def hold(self, chat_id: int, token: str) -> None:
        """Sends to ``chat_id`` go out only while its lease carries ``token`` (checked in the same script)."""
        self._leases[chat_id] = token

    def let_go(self, chat_id: int) -> None:
        self._leases.pop(chat_id, None)

    async def _admit(self, chat_id: int, lane: _ChatLane) -> None:
        rate = max(0.0, self.options.global_rate)
        interval_ms = int(max(0.0, self.options.per_chat_interval_s) * 1000)
        token = self._leases.get(chat_id)
        if rate <= 0 and interval_ms <= 0 and token is None:
            return
        keys = [self.keys.pace_global, self.keys.pace_chat(chat_id)]
        args: list[object] = [rate, interval_ms]
        if token is not None:
            keys.append(self.keys.lease(chat_id))
            args.append(token)
        while True:
            wait_ms = int(await self.redis.script(scripts.PACE, keys, args))  # type: ignore[call-overload]
            if wait_ms < 0:
                # this worker stalled past the chat's lease: the next holder answers the note; sending now
                # would answer it twice. Ends the note here like a lost lease does (nothing is recorded).
                self.fenced += 1
                raise asyncio.CancelledError
            if wait_ms == 0:
                return
            self.waits += 1
            await asyncio.sleep(wait_ms / 1000)

    async def _hold(self, chat_id: int, lane: _ChatLane, seconds: float) -> None:
        await self.redis.script(scripts.HOLD, [self.keys.pace_chat(chat_id)], [max(1, int(seconds * 1000))])
