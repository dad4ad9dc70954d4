"""In-process fronts and workers (`scale.run.serve`) for the focused tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path

from rholive.config import Settings
from rholive.telegram import ChatOptions
from rholive.telegram.scale.run import ScaleOptions, serve
from rholive.telegram.scale.worker import Worker

from ..conftest import FAST, TOKEN


class Running:
    def __init__(self, task: asyncio.Task[Worker | None], stop: asyncio.Event) -> None:
        self.task, self.stop = task, stop

    async def finish(self) -> Worker | None:
        self.stop.set()
        return await self.task


@contextlib.asynccontextmanager
async def running(
    redis_url: str,
    api_url: str,
    tmp_path: Path,
    *,
    front: bool,
    work: bool,
    emulator_url: str | None = None,
    allow: Iterable[int] = (),
    lease_s: float = 30.0,
    webhook: str | None = None,
    listen: str | None = None,
) -> AsyncIterator[Running]:
    settings = Settings(api_key=None, base_url=emulator_url, data_dir=tmp_path / "data")
    scale = ScaleOptions(
        redis_url, work=work, lease_s=lease_s, webhook=webhook, listen=listen, polling_timeout=1
    )
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve(
            settings,
            TOKEN,
            api_url,
            scale,
            front=front,
            allow=allow,
            options=ChatOptions(turn_timeout_s=30.0),
            pacing=FAST,
            stop=stop,
        )
    )
    run = Running(task, stop)
    try:
        yield run
    finally:
        if not task.done():
            stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def until(predicate: Callable[[], Awaitable[bool]], limit_s: float = 30.0) -> None:
    """For what only Redis, a log or a process shows (the fake's own `wait_for` wakes on its requests):
    re-checked every 20 ms, failing after ``limit_s``."""
    async with asyncio.timeout(limit_s):
        while True:
            if await predicate():
                return
            await asyncio.sleep(0.02)
