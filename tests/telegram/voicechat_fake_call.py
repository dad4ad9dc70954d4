"""A `CallClient` for the tests, loaded by the call worker in its child process (``client_factory``).

Telegram's servers cannot run offline, so this fakes only the MTProto side (joining a group call, the
account's membership, Telegram ending a call). The media path stays real: joining chat X opens a P2P
ntgcalls call over loopback to a "participant" — a second ``NTgCalls``, in a process of its own
(`loopback_peer.py`), that speaks a tone into the call and listens to what the bridge plays back.

Behaviour per group, from ``client_options["groups"][str(chat_id)]``:

- ``"ok"``: join; the participant asks one question.
- ``"no_voice_chat"`` / ``"not_member"``: the join fails like py-tgcalls/Telethon would make ours fail.
- ``"drop_after_reply"``: once the participant has heard the reply, Telegram "ends" the call (once per
  ``marker`` file), with the number of loud frames the participant heard as the reason.
- ``"crash_on_reply"``: the first reply frame sent into the call crashes the whole process, by
  ``os.abort()`` or a segfault (``client_options["crash"]``), once per ``marker`` file — like a native bug
  in the call library.
"""

from __future__ import annotations

import asyncio
import base64
import ctypes
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import ntgcalls

from rholive.audio.pcm import rms_dbfs
from rholive.telegram.voicechat import (
    NO_VOICE_CHAT,
    NOT_MEMBER,
    DropCallback,
    FramesCallback,
    JoinError,
    texts,
)

RATE = 48000
OURS, THEIRS = 1, 2  # each NTgCalls names the P2P call by the other side's id
PEER_SCRIPT = Path(__file__).with_name("loopback_peer.py")


def make_client(config: dict[str, Any]) -> LoopbackCallClient:
    return LoopbackCallClient(config.get("client_options", {}))


class _Call:
    def __init__(self, ours: Any, participant: PeerProcess) -> None:
        self.ours, self.participant = ours, participant


class LoopbackCallClient:
    rate = RATE
    channels = 1

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        self._frames: FramesCallback | None = None
        self._dropped: DropCallback | None = None
        self._calls: dict[int, _Call] = {}

    def _behaviour(self, chat_id: int) -> str:
        return self.options.get("groups", {}).get(str(chat_id), "ok")

    def _first_time(self) -> bool:
        """True once per marker file: a crash or drop happens once, the rejoin then works."""
        marker = Path(self.options["marker"])
        if marker.exists():
            return False
        marker.write_text("done")
        return True

    async def start(self) -> None:
        return None

    async def join(self, chat_id: int) -> None:
        behaviour = self._behaviour(chat_id)
        if behaviour == "no_voice_chat":
            raise JoinError(NO_VOICE_CHAT, texts.NO_VOICE_CHAT)
        if behaviour == "not_member":
            raise JoinError(NOT_MEMBER, texts.NOT_MEMBER)
        ours = ntgcalls.NTgCalls()
        loop = asyncio.get_running_loop()
        playback, mic = ntgcalls.StreamMode.PLAYBACK, ntgcalls.StreamDevice.MICROPHONE

        def ours_heard(_chat: int, mode: Any, device: Any, frames: Any) -> None:
            if mode == playback and device == mic and self._frames is not None:
                batch = [(int(f.ssrc), bytes(f.data)) for f in frames]
                loop.call_soon_threadsafe(self._deliver, chat_id, batch)

        ours.on_frames(ours_heard)
        participant = await PeerProcess.call(ours)
        if behaviour == "drop_after_reply":
            participant.on_loud.append(lambda n: self._drop_once(chat_id, n))
        participant.say(0.6)
        self._calls[chat_id] = _Call(ours, participant)

    def _deliver(self, chat_id: int, batch: list[tuple[int, bytes]]) -> None:
        if chat_id in self._calls and self._frames is not None:
            self._frames(chat_id, batch)

    def _drop_once(self, chat_id: int, loud: int) -> None:
        if loud == 20 and self._first_time() and self._dropped is not None:
            self._dropped(chat_id, f"the test participant heard {loud} loud frames")

    async def leave(self, chat_id: int) -> None:
        call = self._calls.pop(chat_id, None)
        if call is None:
            return
        await call.participant.stop()
        try:
            await call.ours.stop(THEIRS)
        except ntgcalls.ConnectionNotFound:
            pass

    async def send_frame(self, chat_id: int, pcm: bytes) -> None:
        call = self._calls.get(chat_id)
        if call is None:
            return
        if self._behaviour(chat_id) == "crash_on_reply" and rms_dbfs(pcm) > -40.0 and self._first_time():
            if self.options.get("crash") == "segfault":
                ctypes.string_at(0)  # reads address 0: SIGSEGV, as a bug in native code would
            os.abort()
        await call.ours.send_external_frame(
            THEIRS, ntgcalls.StreamDevice.MICROPHONE, pcm, ntgcalls.FrameData()
        )

    def on_frames(self, callback: FramesCallback) -> None:
        self._frames = callback

    def on_dropped(self, callback: DropCallback) -> None:
        self._dropped = callback

    async def stop(self) -> None:
        for chat_id in list(self._calls):
            await self.leave(chat_id)


async def _media_sources(ntg: Any, peer: int) -> None:
    audio = ntgcalls.AudioDescription(ntgcalls.MediaSource.EXTERNAL, RATE, 1, "", True)
    for mode in (ntgcalls.StreamMode.CAPTURE, ntgcalls.StreamMode.PLAYBACK):
        await ntg.set_stream_sources(peer, mode, ntgcalls.MediaDescription(audio, None, None, None))


class PeerProcess:
    """The other end of a loopback P2P call, in a child process (`loopback_peer.py` says why): it speaks what
    `say` queues and counts the loud frames it hears. Signalling is relayed over its stdin and stdout."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.loud_frames = 0
        self.heard_loud = asyncio.Event()
        self.on_loud: list[Callable[[int], None]] = []
        self.errors: list[str] = []
        self._ready, self._connected = asyncio.Event(), asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    async def call(
        cls,
        ours: Any,
        ids: tuple[int, int] = (OURS, THEIRS),
        set_sources: Callable[[Any, int], Awaitable[None]] = _media_sources,
    ) -> PeerProcess:
        """Our `ours` (an NTgCalls) calls a new peer process; returns once both ends are connected. `ids` are
        (our id, theirs): each end names the call by the other's id. `set_sources(ntg, peer)` sets our
        PCM streams."""
        ours_id, theirs_id = ids
        key = os.urandom(256)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(PEER_SCRIPT),
            str(ours_id),
            key.hex(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        peer = cls(proc)
        loop = asyncio.get_running_loop()
        connected = asyncio.Event()

        def state(_call: int, info: Any) -> None:
            if info.state == ntgcalls.ConnectionState.CONNECTED:
                loop.call_soon_threadsafe(connected.set)

        def signalled(_call: int, data: bytes) -> None:
            encoded = base64.b64encode(bytes(data)).decode()
            loop.call_soon_threadsafe(peer._send, {"cmd": "signal", "data": encoded})

        ours.on_signaling_data(signalled)
        ours.on_connection_change(state)
        peer._reader = asyncio.create_task(peer._read(ours, theirs_id))
        try:
            await ours.create_p2p_call(theirs_id)
            await set_sources(ours, theirs_id)
            await ours.skip_exchange(theirs_id, key, True)
            await peer._until(peer._ready)
            peer._send({"cmd": "connect"})
            versions = ntgcalls.NTgCalls.get_protocol().library_versions
            await ours.connect_p2p(theirs_id, [], versions, True, None)
            await peer._until(connected)
            await peer._until(peer._connected)
        except BaseException:
            await peer.stop()  # no stray participant process outlives a failed setup
            raise
        return peer

    def say(self, seconds: float, then_silence: float = 0.0) -> None:
        self._send({"cmd": "say", "seconds": seconds, "silence": then_silence})

    async def stop(self) -> None:
        self._send({"cmd": "quit"})
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)

    def _send(self, cmd: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        if not self.proc.stdin.is_closing():
            self.proc.stdin.write((json.dumps(cmd) + "\n").encode())

    async def _until(self, event: asyncio.Event) -> None:
        """Wait for `event`, failing at once with the peer's own words if it reported an error or died."""
        waiter = asyncio.create_task(event.wait())
        assert self._reader is not None
        done, _ = await asyncio.wait({waiter, self._reader}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
        if waiter not in done:
            waiter.cancel()
            raise RuntimeError(f"the loopback peer did not get there: {self.errors or 'no answer in 20 s'}")

    async def _read(self, ours: Any, theirs_id: int) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            event = json.loads(line)
            kind = event["event"]
            if kind == "signal":
                await ours.send_signaling_data(theirs_id, base64.b64decode(event["data"]))
            elif kind == "frames":
                self._heard(event["loud"])
            elif kind == "ready":
                self._ready.set()
            elif kind == "connected":
                self._connected.set()
            elif kind == "error":
                self.errors.append(event["message"])
                return
        self.errors.append(f"the loopback peer exited with {await self.proc.wait()}")

    def _heard(self, loud: int) -> None:
        for _ in range(loud):
            self.loud_frames += 1
            self.heard_loud.set()
            for callback in self.on_loud:
                callback(self.loud_frames)
