"""Group voice chats across workers: each call is held by one worker through a lease; when that worker dies,
its lease expires and another worker rejoins the call.

Redis keeps the calls that should be joined (a hash, set by /join, cleared by /leave or when the call ends)
and, per call, an inbox of commands for whichever worker holds it. Every worker looks at the wanted calls
once per tick: it renews the calls it holds and passes their commands on to its voice chat supervisor, and
it takes (and joins) a wanted call whose lease has expired.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

from rholive.telegram.scale.conn import RedisLink
from rholive.telegram.scale.keys import Keys
from rholive.telegram.scale.lease import Lease

log = logging.getLogger("rholive.telegram")


class CallRunner(Protocol):
    """This process's voice chat supervisor (or the stand-in that says voice chats are not set up)."""

    def submit(self, chat_id: int, command: str) -> None: ...


class CallCoordinator:
    def __init__(
        self,
        redis: RedisLink,
        keys: Keys,
        runner: CallRunner,
        *,
        enabled: bool,
        lease_s: float = 30.0,
        tick_s: float = 1.0,
    ) -> None:
        self.redis, self.keys, self.runner = redis, keys, runner
        self.enabled = enabled  # False: no user account here; /join etc. only say how to set it up
        self.lease_s, self.tick_s = lease_s, tick_s
        self.held: dict[int, Lease] = {}
        self._joined: set[int] = set()  # held calls the supervisor has been seen in (to notice it left)
        self.rejoins = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def command(self, chat_id: int, command: str) -> None:
        """/join, /leave or /call in ``chat_id`` (from any worker)."""
        if not self.enabled:
            self.runner.submit(chat_id, command)
            return
        wanted = bool(await self.redis.call(lambda r: r.hexists(self.keys.calls, str(chat_id))))
        if command != "join" and not wanted:
            self.runner.submit(chat_id, command)  # not in a call: this supervisor says so
            return
        inbox = self.keys.call_inbox(chat_id)

        async def post(r: Any) -> None:
            async with r.pipeline(transaction=True) as pipe:
                if command == "join":
                    pipe.hset(self.keys.calls, str(chat_id), "1")
                pipe.rpush(inbox, command)
                pipe.expire(inbox, 3600)
                await pipe.execute()

        await self.redis.call(post)
        await self.tick_once()  # this worker may be (or become) the holder: no need to wait for a tick

    async def run(self) -> None:
        if not self.enabled:
            return
        try:
            while True:
                await self.tick_once()
                await asyncio.sleep(self.tick_s)
        finally:
            for lease in self.held.values():
                with contextlib.suppress(Exception):
                    await lease.release()
            self.held.clear()

    async def tick_once(self) -> None:
        wanted = {int(c) for c in await self.redis.call(lambda r: r.hkeys(self.keys.calls))}
        for chat_id in wanted:
            lease = self.held.get(chat_id)
            if lease is not None and not await lease.renew():  # stalled past the lease: no longer ours
                self._lost(chat_id)
            if chat_id not in self.held:
                await self._try_take(chat_id)
            if chat_id in self.held:
                await self._pass_commands(chat_id)
                self._notice_ended(chat_id)
        for chat_id in [c for c in self.held if c not in wanted]:  # /leave went through another worker
            await self._let_go(chat_id, leave=True)

    async def _try_take(self, chat_id: int) -> None:
        lease = Lease(self.redis, self.keys.call_lease(chat_id), self.lease_s)
        if not await lease.take():
            return
        self.held[chat_id] = lease
        lease.keep(on_lost=lambda c=chat_id: self._lost(c))
        inbox = await self.redis.call(lambda r: r.lrange(self.keys.call_inbox(chat_id), 0, 0))
        if not inbox or inbox[0] != b"join":  # not the first join: a worker that held this call is gone
            self.rejoins += 1
            log.warning("voice chat %s: its worker is gone; rejoining here", chat_id)
            self.runner.submit(chat_id, "join")

    async def _pass_commands(self, chat_id: int) -> None:
        inbox = self.keys.call_inbox(chat_id)
        while True:
            raw = await self.redis.call(lambda r: r.lpop(inbox))
            if raw is None:
                return
            command = raw.decode() if isinstance(raw, bytes) else str(raw)
            self.runner.submit(chat_id, command)
            if command == "leave":
                await self.redis.call(lambda r: r.hdel(self.keys.calls, str(chat_id)))
                await self._let_go(chat_id, leave=False)
                return

    def _notice_ended(self, chat_id: int) -> None:
        state = getattr(self.runner, "state", None)
        if state is None:
            return
        now = str(state(chat_id))
        if now != "idle":
            self._joined.add(chat_id)
        elif chat_id in self._joined:  # it left on its own (idle timeout, the call ended): not wanted
            self._joined.discard(chat_id)
            task = asyncio.create_task(self._ended(chat_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _ended(self, chat_id: int) -> None:
        await self.redis.call(lambda r: r.hdel(self.keys.calls, str(chat_id)))
        await self._let_go(chat_id, leave=False)

    def _lost(self, chat_id: int) -> None:
        self.held.pop(chat_id, None)
        self._joined.discard(chat_id)
        self.runner.submit(chat_id, "leave")  # another worker holds it now: one account, one place

    async def _let_go(self, chat_id: int, *, leave: bool) -> None:
        lease = self.held.pop(chat_id, None)
        self._joined.discard(chat_id)
        if leave:
            self.runner.submit(chat_id, "leave")
        if lease is not None:
            await lease.release()
