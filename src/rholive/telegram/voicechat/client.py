"""The boundary between rholive and the MTProto side of a group call: the `CallClient` protocol.

The call worker only talks to a `CallClient`: join a group's voice chat, leave it, send our 10 ms PCM frames,
receive everyone's frames, hear about drops. The real one (`join.PyTgCallsClient`) is py-tgcalls
over a Telethon user account; tests plug in a fake at this boundary, since Telegram's servers cannot run
offline, and keep the real ntgcalls media path behind it.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import Any, Protocol

FramesCallback = Callable[[int, list[tuple[int, bytes]]], None]  # (chat_id, [(ssrc, s16le pcm), ...])
DropCallback = Callable[[int, str], None]  # (chat_id, reason)

# JoinError kinds: why a join failed, so the chat can be told something useful.
NO_VOICE_CHAT = "no_voice_chat"
NOT_MEMBER = "not_member"
BAD_SESSION = "session"
UNAVAILABLE = "unavailable"  # the extra is not installed, the client cannot start
TRANSIENT = "transient"  # a network or server hiccup: worth retrying


class JoinError(Exception):
    """A join (or the client's start) failed. ``message`` is for the chat: it never carries a secret."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message

    @property
    def permanent(self) -> bool:
        return self.kind != TRANSIENT


class CallClient(Protocol):
    """One user account in any number of group calls, audio as raw s16le PCM at ``rate`` × ``channels``.

    Callbacks are called on the event loop's thread."""

    rate: int
    channels: int

    async def start(self) -> None: ...

    async def join(self, chat_id: int) -> None: ...

    async def leave(self, chat_id: int) -> None: ...

    async def send_frame(self, chat_id: int, pcm: bytes) -> None: ...

    def on_frames(self, callback: FramesCallback) -> None: ...

    def on_dropped(self, callback: DropCallback) -> None: ...

    async def stop(self) -> None: ...


class FrameRouter:
    """The client has one frames callback; each call's bridge wants only its own chat's frames."""

    def __init__(self) -> None:
        self._routes: dict[int, Callable[[list[tuple[int, bytes]]], None]] = {}
        self.unrouted = 0  # frames of chats we are not bridging (counted, not silently dropped)

    def route(self, chat_id: int, callback: Callable[[list[tuple[int, bytes]]], None]) -> None:
        self._routes[chat_id] = callback

    def unroute(self, chat_id: int) -> None:
        self._routes.pop(chat_id, None)

    def __call__(self, chat_id: int, batch: list[tuple[int, bytes]]) -> None:
        callback = self._routes.get(chat_id)
        if callback is None:
            self.unrouted += len(batch)
            return
        callback(batch)


class ClientCallIO:
    """One chat of a `CallClient` as the bridge's `CallIO`."""

    def __init__(self, client: CallClient, router: FrameRouter, chat_id: int) -> None:
        self.client, self.router, self.chat_id = client, router, chat_id
        self.rate, self.channels = client.rate, client.channels

    async def send_frame(self, pcm: bytes) -> None:
        await self.client.send_frame(self.chat_id, pcm)

    def on_frames(self, callback: Callable[[list[tuple[int, bytes]]], None]) -> None:
        self.router.route(self.chat_id, callback)


def load_factory(spec: str) -> Callable[[dict[str, Any]], CallClient]:
    """``module:function`` or ``/path/to/file.py:function`` → the factory that makes a `CallClient` from
    the worker's config (how tests put their fake in the child process)."""
    where, _, name = spec.rpartition(":")
    if not where or not name:
        raise ValueError(f"client factory must look like module:function, got {spec!r}")
    if where.endswith(".py"):
        loaded = importlib.util.spec_from_file_location("rholive_call_client_factory", where)
        if loaded is None or loaded.loader is None:
            raise ValueError(f"cannot load {where}")
        module = importlib.util.module_from_spec(loaded)
        loaded.loader.exec_module(module)
    else:
        module = importlib.import_module(where)
    return getattr(module, name)
