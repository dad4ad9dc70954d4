"""A worker: answers chats' notes from the Redis work stream, one chat at a time per lease, oldest note first.

The work stream says "chat C has something to answer". For it, a worker takes C's lease (waiting while
another worker holds it), then answers C's notes stream from its oldest entry until it is empty: for each
note, unless the update is already recorded as answered, the note is answered, then — right after the send —
recorded as answered and taken off C's stream. Only then are the work entries acknowledged. A worker killed
mid-note leaves its work entries pending: once idle longer than the lease, another worker claims them
(XAUTOCLAIM), takes C's expired lease and answers from the same oldest note.

The update itself goes through the same aiogram router as the one-process bot (`bot.build_router`), so the
worker answers exactly what the one-process bot answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, cast

from aiogram import Bot
from aiogram.types import Update
from redis.exceptions import ResponseError

from rholive.telegram import texts
from rholive.telegram.bot import build_dispatcher
from rholive.telegram.chats import ChatHub, Job
from rholive.telegram.replies import send_text
from rholive.telegram.scale.calls import CallCoordinator
from rholive.telegram.scale.conn import RedisLink
from rholive.telegram.scale.front import ensure_group
from rholive.telegram.scale.keys import GROUP, Keys
from rholive.telegram.scale.lease import Lease
from rholive.telegram.scale.pacer import SharedPacer
from rholive.telegram.scale.state import RedisChatStates

log = logging.getLogger("rholive.telegram")
ANSWERED_TTL_S = 7 * 24 * 3600
REFUSAL_REPEAT_S = 600


@dataclass
class _Routed:
    """What the router made of one update (the stand-in hub, refusals and voice chats all at once)."""

    job: Job | None = None
    refused: bool = False
    call_command: str | None = None

    def submit(self, chat_id: int, job_or_command: Any) -> None:
        if isinstance(job_or_command, str):
            self.call_command = job_or_command
        else:
            self.job = job_or_command

    def refuse(self, chat_id: int) -> None:
        self.refused = True


@dataclass
class _Chat:
    entries: list[bytes] = field(default_factory=list)  # work entries this worker owes an acknowledgement
    task: asyncio.Task[None] | None = None


@dataclass
class WorkerStats:
    answered: int = 0
    skipped: int = 0  # notes already recorded as answered (a dead worker had sent the reply)
    claimed: int = 0  # work entries taken over from another consumer
    unreadable: int = 0  # entries that were not a Bot API update (nothing to answer)
    record_s: list[float] = field(default_factory=list)  # send returned → answered record written

    def summary(self) -> str:
        window = sorted(self.record_s) or [0.0]
        p99 = window[min(len(window) - 1, round(0.99 * (len(window) - 1)))]
        return (
            f"answered {self.answered}, skipped as already answered {self.skipped}, claimed {self.claimed}; "
            f"send→record window median {statistics.median(window) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms"
        )


class Worker:
    def __init__(
        self,
        redis: RedisLink,
        keys: Keys,
        bot: Bot,
        hub: ChatHub,
        states: RedisChatStates,
        pacer: SharedPacer,
        calls: CallCoordinator,
        *,
        lease_s: float = 30.0,
        capacity: int = 8,
        name: str | None = None,
    ) -> None:
        self.redis, self.keys, self.bot, self.hub = redis, keys, bot, hub
        self.states, self.pacer, self.calls = states, pacer, calls
        self.lease_s = lease_s
        self.capacity = max(1, capacity)  # chats taken at once: the rest stays on the stream for others
        self.name = name or f"{socket.gethostname()}-{os.getpid()}-{random.getrandbits(24):06x}"
        self.stats = WorkerStats()
        self._chats: dict[int, _Chat] = {}
        self._room = asyncio.Event()
        self._stopping = False

    def stop_taking(self) -> None:
        """Take no more work; `run` returns once the notes being answered now are answered and recorded
        (a chat's later notes stay on Redis for another worker)."""
        self._stopping = True
        self._room.set()

    async def run(self) -> None:
        """Until `stop_taking` (then finishing what is in hand) or cancelled."""
        await ensure_group(self.redis, self.keys)
        claimer = asyncio.create_task(self._claim_loop(), name="rholive-worker-claim")
        reader = asyncio.create_task(self._read_loop(), name="rholive-worker-read")
        try:
            # either loop failing (a Redis error that is not an outage) ends the worker, loudly
            done, _ = await asyncio.wait([claimer, reader], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
            claimer.cancel()
            await asyncio.gather(*[c.task for c in self._chats.values() if c.task is not None])
        finally:
            reader.cancel()
            claimer.cancel()
            tasks = [c.task for c in self._chats.values() if c.task is not None]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, claimer, reader, return_exceptions=True)

    # -- taking work

    async def _read_loop(self) -> None:
        while not self._stopping:
            while len(self._chats) >= self.capacity and not self._stopping:
                self._room.clear()
                await self._room.wait()
            if self._stopping:
                return
            want = self.capacity - len(self._chats)
            reply = await self._group_call(
                lambda r, n=want: r.xreadgroup(GROUP, self.name, {self.keys.work: ">"}, count=n, block=1000)
            )
            for _stream, entries in reply or []:
                for entry_id, fields in entries:
                    if not self._stopping:  # else left pending: claimed by another worker
                        self._notice(int(fields[b"chat"]), entry_id)

    async def _claim_loop(self) -> None:
        """Work entries another consumer has held longer than a lease: that consumer is gone (or stalled)."""
        idle_ms = int(self.lease_s * 1000)
        while True:
            await asyncio.sleep(max(0.2, self.lease_s / 2))
            start = "0-0"
            while len(self._chats) < self.capacity:  # no more than this worker can take on; others claim too
                room = self.capacity - len(self._chats)
                reply = await self._group_call(
                    lambda r, s=start, n=room: r.xautoclaim(
                        self.keys.work, GROUP, self.name, idle_ms, start_id=s, count=n
                    )
                )
                start_next, entries = reply[0], reply[1]
                for entry_id, fields in entries:
                    if fields:
                        self.stats.claimed += 1
                        self._notice(int(fields[b"chat"]), entry_id)
                if start_next in (b"0-0", "0-0"):
                    break
                start = start_next

    async def _group_call(self, step: Any) -> Any:
        """A consumer-group step; a Redis that came back empty (restarted without persistence) gets the
        group made again."""
        while True:
            try:
                return await self.redis.call(step)
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                log.warning(
                    "Redis at %s lost the work stream's group (restarted empty?); making it again",
                    self.redis.where,
                )
                await ensure_group(self.redis, self.keys)

    def _notice(self, chat_id: int, entry_id: bytes) -> None:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Chat()
            chat.task = asyncio.create_task(self._serve(chat_id, chat), name=f"rholive-worker-chat-{chat_id}")
        chat.entries.append(entry_id)

    # -- one chat

    async def _serve(self, chat_id: int, chat: _Chat) -> None:
        lease = Lease(self.redis, self.keys.lease(chat_id), self.lease_s, owner=self.name)
        held = False
        try:
            while True:
                if self._stopping:
                    return
                if await lease.take():
                    break
                # another worker answers this chat now: its notes wait, in order, for the lease
                await asyncio.sleep(random.uniform(0.05, 0.15))
            held = True
            me = asyncio.current_task()
            assert me is not None
            lease.keep(on_lost=me.cancel)
            self.pacer.hold(chat_id, lease.token)  # every send checks the lease first (a stalled worker)
            await self.states.hold(chat_id)
            while True:
                owed, chat.entries = chat.entries, []
                if not await self._drain(chat_id):
                    break  # stopping: the chat's later notes keep their work entries for another worker
                await self.redis.call(lambda r, ids=owed: _ack(r, self.keys.work, ids))
                if not chat.entries:
                    break
        except asyncio.CancelledError:
            # shutting down, or the lease was lost: the work entries stay pending for another worker;
            # the lease is still given back below (so the next holder need not wait for it to expire)
            me = asyncio.current_task()
            if me is not None:
                me.uncancel()
        except Exception:
            log.exception("chat %s: worker step failed; its notes wait for another try", chat_id)
        finally:
            if self._chats.get(chat_id) is chat:
                del self._chats[chat_id]
                self._room.set()
            self.pacer.let_go(chat_id)
            if held:
                with contextlib.suppress(Exception):
                    # the session closes with the lease: an open one would reconnect (resume) and take the
                    # conversation back from the next worker's session
                    await self.hub.drop_session(chat_id)
                    await self.states.release(chat_id)
                    await lease.release()
            lease.stop_renewing()

    async def _drain(self, chat_id: int) -> bool:
        """Answer the chat's notes oldest first until none is left (True) or the worker stops (False)."""
        notes = self.keys.notes(chat_id)
        while True:
            entries = await self.redis.call(lambda r: r.xrange(notes, "-", "+", count=1))
            if not entries:
                return True
            if self._stopping:
                return False
            entry_id, fields = entries[0]
            await self._answer_once(chat_id, notes, entry_id, int(fields[b"update_id"]), fields[b"update"])

    async def _answer_once(
        self, chat_id: int, notes: str, entry_id: bytes, update_id: int, raw: bytes
    ) -> None:
        answered = self.keys.answered(update_id)

        def record(r: Any) -> Any:
            return _record(r, answered, notes, entry_id)

        if await self.redis.call(lambda r: r.exists(answered)):
            self.stats.skipped += 1  # a worker sent the reply, then died before taking the note off
            await self.redis.call(record)
            return
        await self._answer(chat_id, raw)
        # the only window for a second answer: a worker dying between the send above and this record
        sent = time.perf_counter()
        await self.redis.call(record)
        self.stats.record_s.append(time.perf_counter() - sent)
        self.stats.answered += 1

    async def _answer(self, chat_id: int, raw: bytes) -> None:
        try:
            update = Update.model_validate_json(raw, context={"bot": self.bot})
        except ValueError as exc:  # cannot become readable by trying again: counted and taken off
            self.stats.unreadable += 1
            log.warning("chat %s: unreadable update on the stream (%s); skipped", chat_id, type(exc).__name__)
            return
        allowed = bool(await self.redis.call(lambda r: r.sismember(self.keys.allow, str(chat_id))))
        routed = _Routed()
        stand_in = cast(Any, routed)
        await build_dispatcher(stand_in, [chat_id] if allowed else [], stand_in, stand_in).feed_update(
            self.bot, update
        )
        if routed.refused:
            await self._refuse(chat_id)
        elif routed.call_command is not None:
            await self.calls.command(chat_id, routed.call_command)
        elif routed.job is not None:
            await self.hub.run(chat_id, routed.job)

    async def _refuse(self, chat_id: int) -> None:
        """Tell a refused chat its id, at most once per ``REFUSAL_REPEAT_S`` across all workers."""
        key = self.keys.refused(chat_id)
        if await self.redis.call(lambda r: r.set(key, "1", nx=True, ex=REFUSAL_REPEAT_S)):
            log.info("refused chat %s (not on the allow-list)", chat_id)
            await send_text(self.bot, self.pacer, chat_id, texts.refused(chat_id))


async def _record(client: Any, answered: str, notes: str, entry_id: bytes) -> None:
    async with client.pipeline(transaction=True) as pipe:
        pipe.set(answered, "1", ex=ANSWERED_TTL_S)
        pipe.xdel(notes, entry_id)
        await pipe.execute()


async def _ack(client: Any, work: str, ids: list[bytes]) -> None:
    if not ids:
        return
    async with client.pipeline(transaction=True) as pipe:
        pipe.xack(work, GROUP, *ids)
        pipe.xdel(work, *ids)
        await pipe.execute()
