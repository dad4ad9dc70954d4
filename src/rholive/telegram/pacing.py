"""Telegram's send limits: per-chat pacing, a global rate, and ``retry_after`` honoured on 429.

Every send to a chat goes through `Pacer.send`, which serialises the chat's sends (so replies keep their
order), spaces them ``per_chat_interval_s`` apart, keeps the whole bot under ``global_rate`` sends per second
(a token bucket, so short bursts pass), and on ``TelegramRetryAfter`` waits what Telegram asked before
trying again — holding back every other send to that chat meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiogram.exceptions import TelegramRetryAfter

log = logging.getLogger("rholive.telegram")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PacingOptions:
    per_chat_interval_s: float = 1.0  # Telegram: about one message per second in a private chat
    global_rate: float = 30.0  # Telegram: about 30 messages per second across all chats
    max_retries: int = 5  # 429s in a row before the send is given up (and the error raised)


@dataclass(frozen=True, slots=True)
class RetryRecord:
    chat_id: int
    retry_after: float


class _ChatLane:
    __slots__ = ("lock", "next_at")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.next_at = 0.0


class Pacer:
    def __init__(self, options: PacingOptions | None = None) -> None:
        self.options = options or PacingOptions()
        self._lanes: dict[int, _ChatLane] = {}
        self._tokens = self.options.global_rate
        self._refilled_at: float | None = None
        self._global = asyncio.Lock()
        self.retries: list[RetryRecord] = []  # every 429 honoured, in order (for logs, tests, benchmarks)

    async def send(self, chat_id: int, call: Callable[[], Awaitable[T]]) -> T:
        """Run ``call`` (one Bot API request to ``chat_id``) when the limits allow; retry after a 429."""
        lane = self._lanes.get(chat_id)
        if lane is None:
            lane = self._lanes[chat_id] = _ChatLane()
        async with lane.lock:
            attempt = 0
            while True:
                await self._admit(chat_id, lane)
                try:
                    result = await call()
                except TelegramRetryAfter as exc:
                    attempt += 1
                    self.retries.append(RetryRecord(chat_id, float(exc.retry_after)))
                    if attempt > self.options.max_retries:
                        raise
                    log.warning(
                        "Telegram asked to wait %s s before sending to chat %s", exc.retry_after, chat_id
                    )
                    await self._hold(chat_id, lane, float(exc.retry_after))
                    continue
                lane.next_at = _now() + self.options.per_chat_interval_s
                return result

    # The limits themselves: local to this process here; `scale.pacer.SharedPacer` keeps them in Redis so
    # that they hold across workers.

    async def _admit(self, chat_id: int, lane: _ChatLane) -> None:
        """Wait until one send to ``chat_id`` is allowed, and count it."""
        await _wait_until(lane.next_at)
        await self._take_global_token()

    async def _hold(self, chat_id: int, lane: _ChatLane, seconds: float) -> None:
        """Telegram answered 429: nothing more to this chat for ``seconds``."""
        lane.next_at = _now() + seconds

    def forget_idle(self) -> None:
        """Drop lanes of chats with nothing pending (keeps memory flat with many chats)."""
        now = _now()
        for chat_id in [
            c for c, lane in self._lanes.items() if not lane.lock.locked() and lane.next_at <= now
        ]:
            del self._lanes[chat_id]

    async def _take_global_token(self) -> None:
        rate = self.options.global_rate
        if rate <= 0:
            return
        async with self._global:
            while True:
                now = _now()
                if self._refilled_at is not None:
                    self._tokens = min(rate, self._tokens + (now - self._refilled_at) * rate)
                self._refilled_at = now
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return
                await asyncio.sleep((1.0 - self._tokens) / rate)


def _now() -> float:
    return asyncio.get_running_loop().time()


async def _wait_until(deadline: float) -> None:
    delay = deadline - _now()
    if delay > 0:
        await asyncio.sleep(delay)
