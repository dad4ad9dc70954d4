"""The connection to Redis, and what happens when Redis is away: one clear line, then wait and retry.

Every Redis step the bot takes goes through `RedisLink.call`, which retries it until Redis answers. The steps
are written so that a retry is harmless (the Lua scripts take a lease that is already ours, an update is put
on the stream once per id, records are SET, acknowledgements are idempotent).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from rholive.telegram.scale.keys import where

log = logging.getLogger("rholive.telegram")
T = TypeVar("T")
_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class RedisLink:
    def __init__(self, url: str, retry_s: float = 1.0) -> None:
        self.where = where(url)
        self.retry_s = retry_s
        # a blocking read waits at most 1 s, well under the socket timeout: a silent peer is noticed
        self.client: aioredis.Redis = aioredis.from_url(
            url, socket_timeout=10.0, socket_connect_timeout=3.0, health_check_interval=15
        )
        self.outages = 0  # times Redis went away (for tests and the exit summary)
        self._down = False

    async def call(self, step: Callable[[aioredis.Redis], Awaitable[T]]) -> T:
        """Run ``step`` until Redis answers it (Redis's own errors, e.g. a wrong type, are raised)."""
        while True:
            try:
                result = await step(self.client)
            except _UNREACHABLE as exc:
                _still_cancelled()
                if not self._down:
                    self._down = True
                    self.outages += 1
                    log.warning(
                        "Redis at %s is unreachable (%s); waiting and retrying every %g s",
                        self.where,
                        type(exc).__name__,
                        self.retry_s,
                    )
                await asyncio.sleep(self.retry_s)
                continue
            _still_cancelled()
            if self._down:
                self._down = False
                log.warning("Redis at %s is reachable again", self.where)
            return result

    async def script(self, source: str, keys: list[str], args: list[object]) -> object:
        return await self.call(lambda r: r.eval(source, len(keys), *keys, *args))  # type: ignore[misc]

    async def close(self) -> None:
        await self.client.aclose()


def _still_cancelled() -> None:
    """redis-py sometimes swallows a cancellation that lands while it reads a reply (seen with blocking
    XREADGROUP, redis 5 to 8 on Python 3.11): the task still counts it, so raise it here."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
