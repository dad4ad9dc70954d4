"""The ordered queue of client messages waiting for the socket.

Order is kept exactly (markers and blobs are never reordered), with one exception that only ever removes:
a video frame still waiting when a newer one arrives is stale, so it is dropped and counted, and the new
frame goes to the END of the queue (after everything queued in between). Audio is never dropped.
Taking an item is synchronous (``wait`` then ``pop``), so cancelling the writer never loses one. When the queue
is empty and nothing is being written, a sender may write its message itself (``take_direct``): same order, one
task switch less per message.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass


@dataclass(eq=False, slots=True)
class Outgoing:
    text: str  # encoded JSON: bad input fails in the caller's send, not in the writer
    video: bool = False
    tool: bool = False
    generation: int | None = None  # tool responses belong to the connection whose call they answer


class Outbox:
    def __init__(self) -> None:
        self._items: deque[Outgoing] = deque()
        self._pending_video: Outgoing | None = None
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._in_flight = 0
        self.dropped_frames = 0

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: Outgoing) -> bool:
        """Queue ``item``; True when it replaced (dropped) a stale video frame."""
        dropped = False
        if item.video:
            if self._pending_video is not None:
                self._items.remove(self._pending_video)
                self.dropped_frames += 1
                dropped = True
            self._pending_video = item
        self._items.append(item)
        self._ready.set()
        self._idle.clear()
        return dropped

    async def wait(self) -> None:
        """Until an item is there (takes nothing: safe to cancel)."""
        await self._ready.wait()

    def pop(self) -> Outgoing:
        item = self._items.popleft()
        if item is self._pending_video:
            self._pending_video = None
        if not self._items:
            self._ready.clear()
        self._in_flight += 1
        return item

    def take_direct(self) -> bool:
        """True (and counted in flight, like a popped item) when nothing is queued or being written: the caller
        may then write its message itself, in order, without the writer's hop. ``sent()`` when done."""
        if self._items or self._in_flight:
            return False
        self._in_flight += 1
        self._idle.clear()
        return True

    def sent(self) -> None:
        """The popped item was written (or left to the replay buffer)."""
        self._in_flight -= 1
        if not self._items and self._in_flight == 0:
            self._idle.set()

    async def drained(self) -> None:
        """Until everything queued so far has been handed to the socket."""
        await self._idle.wait()
