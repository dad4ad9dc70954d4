"""A lease on one name (a chat, a call): SET NX PX with a random token, renewed while held, released by
compare-and-delete. A holder that stops renewing (killed, stalled) loses it when it expires."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable

from rholive.telegram.scale import scripts
from rholive.telegram.scale.conn import RedisLink

log = logging.getLogger("rholive.telegram")


class Lease:
    def __init__(self, redis: RedisLink, key: str, lease_s: float, owner: str = "") -> None:
        self.redis, self.key = redis, key
        self.ms = max(1, int(lease_s * 1000))
        self.token = f"{owner}/{secrets.token_hex(8)}"  # who holds it, for people (and tests) reading Redis
        self._renewer: asyncio.Task[None] | None = None

    async def take(self) -> bool:
        return bool(await self.redis.script(scripts.LEASE_TAKE, [self.key], [self.token, self.ms]))

    async def renew(self) -> bool:
        return bool(await self.redis.script(scripts.LEASE_RENEW, [self.key], [self.token, self.ms]))

    async def release(self) -> None:
        self.stop_renewing()
        await self.redis.script(scripts.LEASE_RELEASE, [self.key], [self.token])

    def keep(self, on_lost: Callable[[], None]) -> None:
        """Renew every third of the lease until released; call ``on_lost`` if another holder has it."""
        self._renewer = asyncio.create_task(self._renew_loop(on_lost), name=f"rholive-lease-{self.key}")

    def stop_renewing(self) -> None:
        renewer, self._renewer = self._renewer, None
        if renewer is not None and renewer is not asyncio.current_task():
            renewer.cancel()

    async def _renew_loop(self, on_lost: Callable[[], None]) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            while True:
                await asyncio.sleep(self.ms / 3000)
                if not await self.renew():
                    log.warning("lost the lease %s (expired while this process was stalled)", self.key)
                    on_lost()
                    return
