"""The ordered outbound queue and the record of what the server may not have consumed yet."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

Message = dict[str, Any]


def is_video(message: Message) -> bool:
    realtime = message.get("realtimeInput")
    return isinstance(realtime, dict) and "video" in realtime


class Outbox:
    """FIFO of client messages. A video frame still waiting when a newer one arrives is stale: it is
    removed (and counted) and the new one goes to the end, so markers and audio keep their order."""

    def __init__(self) -> None:
        self._items: deque[Message] = deque()
        self._ready = asyncio.Event()
        self._empty = asyncio.Event()
        self._empty.set()
        self.frames_dropped = 0

    def put(self, message: Message) -> bool:
        """Queue ``message``; returns True when a stale video frame was dropped for it."""
        dropped = False
        if is_video(message):
            for item in self._items:
                if is_video(item):
                    self._items.remove(item)
                    self.frames_dropped += 1
                    dropped = True
                    break
        self._items.append(message)
        self._ready.set()
        self._empty.clear()
        return dropped

    def push_front(self, message: Message) -> None:
        """Give back a message the writer took but could not send."""
        self._items.appendleft(message)
        self._ready.set()
        self._empty.clear()

    async def get(self) -> Message:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        message = self._items.popleft()
        if not self._items:
            self._empty.set()
        return message

    async def wait_empty(self) -> None:
        await self._empty.wait()

    def __len__(self) -> int:
        return len(self._items)


class ReplayLog:
    """Messages sent on the current connection, by index (setup is 0), until the server says it consumed them.

    With ``lastConsumedClientMessageIndex`` the cut is exact. Without it (the Gemini Developer API does not
    report it) the cut falls at the last turn the server completed: everything sent before that
    ``turnComplete`` arrived counts as consumed.
    """

    def __init__(self) -> None:
        self._sent: deque[tuple[int, Message]] = deque()
        self._next_index = 1
        self._turn_boundary = 0  # highest index sent before the latest turnComplete

    def new_connection(self) -> list[Message]:
        """Start numbering again; returns what must be sent again, in order."""
        pending = [message for _, message in self._sent]
        self._sent.clear()
        self._next_index = 1
        self._turn_boundary = 0
        return pending

    def unanswered(self) -> list[Message]:
        """Messages sent after the last completed turn (what a brand-new conversation still needs)."""
        return [message for index, message in self._sent if index > self._turn_boundary]

    def record(self, message: Message) -> int:
        index = self._next_index
        self._sent.append((index, message))
        self._next_index += 1
        return index

    def turn_completed(self) -> None:
        self._turn_boundary = self._next_index - 1

    def consumed(self, index: int | None) -> None:
        """The server's state covers messages up to ``index`` (None: up to the last completed turn)."""
        upto = self._turn_boundary if index is None else index
        while self._sent and self._sent[0][0] <= upto:
            self._sent.popleft()

    def __len__(self) -> int:
        return len(self._sent)
