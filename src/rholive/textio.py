"""Line input for interactive commands, readable from asyncio without blocking shutdown."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import TextIO


async def read_lines(stream: TextIO) -> AsyncIterator[str]:
    """Yield lines (without the newline) until EOF.

    A daemon thread does the blocking reads, so an early exit never waits for the user to press Enter
    (an executor thread would keep ``asyncio.run`` from returning).
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def pump() -> None:
        for line in stream:
            loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\r\n"))
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=pump, name="stdin-reader", daemon=True).start()
    while (line := await queue.get()) is not None:
        yield line
