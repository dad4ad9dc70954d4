"""The issue's test: three `rholive telegram worker` processes, 60 voice notes from 20 chats in bursts, one
worker killed with SIGKILL halfway — every note answered exactly once, in order per chat, each reply quoting
its note. Real redis-server, real emulator over sockets, the fake Bot API; the front is a process too."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import Callable

import redis.asyncio as aioredis

from rholive.emulator import Emulator

from ..conftest import TOKEN, Note
from ..fake_bot_api import FakeBotAPI
from .conftest import KEYS, RedisServer
from .helpers import until

CHATS = list(range(3001, 3021))
LEASE_S = 2.0  # short, so the dead worker's chat is taken over within seconds


class BotProcess:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self.ready = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, redis_url: str, api_url: str, emulator_url: str) -> BotProcess:
        return await cls.cli(
            "worker", "--bot-token", TOKEN, "--api-url", api_url, "--redis", redis_url,
            "--base-url", emulator_url, "--lease-s", str(LEASE_S), "--max-chats", "8",
        )  # fmt: skip

    @classmethod
    async def front(cls, redis_url: str, api_url: str) -> BotProcess:
        allow = [arg for chat in CHATS for arg in ("--allow", str(chat))]
        return await cls.cli(
            "--bot-token", TOKEN, "--api-url", api_url, *allow, "--redis", redis_url, "--no-work"
        )

    @classmethod
    async def cli(cls, *args: str) -> BotProcess:
        env = {k: v for k, v in os.environ.items() if k not in ("GEMINI_API_KEY", "RHOLIVE_API_KEY")}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "rholive.cli", "telegram", *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )  # fmt: skip
        return cls(proc)

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        async for raw in self.proc.stderr:
            line = raw.decode(errors="replace").rstrip()
            self.lines.append(line)
            if " on Redis " in line:  # "worker NAME for @bot on Redis ..." / "front for @bot on Redis ..."
                self.ready.set()

    async def finish(self) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        code = await self.proc.wait()
        await self._reader
        return code

    def kill(self) -> None:
        self.proc.kill()


async def _lease_holders(client: aioredis.Redis) -> list[int]:
    """Pids of the workers holding a chat's lease now (a lease's token names its holder: host-pid-...)."""
    pids = []
    async for key in client.scan_iter(match=f"{KEYS.prefix}chat:*:lease"):
        token = await client.get(key)
        if token:
            pids.append(int(token.decode().split("/")[0].rsplit("-", 2)[1]))
    return pids


async def _settled(client: aioredis.Redis) -> bool:
    """Nothing left to answer: no work entry pending or unread, no note on any chat's stream."""
    if (await client.xpending(KEYS.work, "workers"))["pending"]:
        return False
    if await client.xlen(KEYS.work):
        return False
    for chat in CHATS:
        if await client.xlen(KEYS.notes(chat)):
            return False
    return True


async def test_three_workers_answer_every_note_once_in_order_when_one_is_killed(
    redis_server: RedisServer,
    rclient: aioredis.Redis,
    fake: FakeBotAPI,
    emulator: Emulator,
    make_note: Callable[[str], Note],
) -> None:
    note = make_note("Hi there.")
    workers = [await BotProcess.start(redis_server.url, fake.url, emulator.url) for _ in range(3)]
    front = await BotProcess.front(redis_server.url, fake.url)
    notes: dict[int, list[int]] = {chat: [] for chat in CHATS}

    def burst() -> None:
        for chat in CHATS:
            notes[chat].append(fake.push_voice(chat, note.ogg, duration=1))

    def answered() -> int:
        return sum(len(fake.replies(chat)) for chat in CHATS)

    try:
        async with asyncio.timeout(60):
            await asyncio.gather(*(w.ready.wait() for w in [*workers, front]))
        # the front (`rholive telegram --redis ... --no-work`) long-polls the fake; the workers answer
        burst()
        burst()
        await fake.wait_for(lambda: answered() >= 20, 120)
        burst()
        await fake.wait_for(lambda: answered() >= 30, 120)
        victim: list[int] = []

        async def someone_holds_a_chat() -> bool:
            victim[:] = await _lease_holders(rclient)
            return bool(victim)

        await until(someone_holds_a_chat)
        [dead] = [w for w in workers if w.proc.pid == victim[0]]
        dead.kill()  # SIGKILL: mid-note, its lease and work entries are left behind
        await fake.wait_for(lambda: answered() >= 60, 120)
        await until(lambda: _settled(rclient), 60)  # the dead worker's entries were claimed and done
        survivors = [w for w in workers if w is not dead]
        codes = [await w.finish() for w in [*survivors, front]]
        await dead.finish()
    finally:
        for w in [*workers, front]:
            with contextlib.suppress(ProcessLookupError):
                w.kill()

    assert dead.proc.returncode == -signal.SIGKILL
    assert codes == [0, 0, 0]
    for chat in CHATS:
        replies = fake.replies(chat)
        assert [r.reply_to for r in replies] == notes[chat]  # once each, in order, quoting its note
        assert all(r.method == "sendVoice" and (r.caption or "").startswith("Turn ") for r in replies)
    claimed = [
        int(m.group(1)) for w in survivors for line in w.lines if (m := re.search(r"claimed (\d+)", line))
    ]
    assert sum(claimed) >= 1  # the survivors took over the dead worker's work entries
    for w in [*workers, front]:
        assert all(TOKEN not in line and TOKEN.split(":")[1] not in line for line in w.lines)
