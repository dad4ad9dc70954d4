"""A real redis-server per test (free port, its own folder), and helpers to read what the bot left in it."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from rholive.telegram.scale.keys import Keys

from ..conftest import TOKEN

KEYS = Keys.for_token(TOKEN)


def _redis_server() -> str:
    exe = shutil.which("redis-server")
    if exe is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("redis-server is not installed (CI must install it: apt-get install redis-server)")
        pytest.skip("redis-server is not installed")
    return exe


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """``redis-server`` on loopback; `stop` and `start` again on the same port (with its append-only file,
    so what was written survives, as on a production Redis)."""

    def __init__(self, folder: Path) -> None:
        self.exe = _redis_server()
        self.folder = folder
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self._proc = await asyncio.create_subprocess_exec(
            self.exe,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.folder),
            "--save", "",
            "--appendonly", "yes",
            "--appendfsync", "no",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        assert self._proc.stdout is not None
        seen = b""
        async with asyncio.timeout(30):
            while b"Ready to accept connections" not in seen:
                line = await self._proc.stdout.readline()
                if not line:
                    raise RuntimeError(f"redis-server did not start: {seen.decode(errors='replace')}")
                seen += line
        self._drain = asyncio.create_task(self._proc.stdout.read())  # keep its pipe from filling up

    async def stop(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.terminate()
            await self._proc.wait()
            self._drain.cancel()


@pytest.fixture
async def redis_server(tmp_path: Path) -> AsyncIterator[RedisServer]:
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(folder)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def rclient(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_server.url)
    try:
        yield client
    finally:
        await client.aclose()
