"""A `CallClient` for the tests, loaded by the call worker in its child process (``client_factory``).

Telegram's servers cannot run offline, so this fakes only the MTProto side (joining a group call, the
account's membership, Telegram ending a call). The media path stays real: joining chat X opens a P2P
ntgcalls call over loopback to an in-process "participant" — a second ``NTgCalls`` that speaks a tone
into the call and listens to what the bridge plays back.

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
import ctypes
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import ntgcalls
import numpy as np

from rholive.audio.pcm import rms_dbfs
from rholive.telegram import voicechat_texts as texts
from rholive.telegram.voicechat_client import (
    NO_VOICE_CHAT,
    NOT_MEMBER,
    DropCallback,
    FramesCallback,
    JoinError,
)

RATE = 48000
FRAME = RATE // 100 * 2
OURS, THEIRS = 1, 2  # each NTgCalls names the P2P call by the other side's id


def make_client(config: dict[str, Any]) -> LoopbackCallClient:
    return LoopbackCallClient(config.get("client_options", {}))


class Participant:
    """The other person in the call: a continuous 10 ms microphone, and an ear counting loud frames."""

    def __init__(self, ntg: Any) -> None:
        self.ntg = ntg
        self.speech = bytearray()
        self.loud_frames = 0
        self.on_loud: list[Any] = []

    def say(self, seconds: float) -> None:
        t = np.arange(int(RATE * seconds)) / RATE
        self.speech += (8000 * np.sin(2 * np.pi * 300 * t)).astype("<i2").tobytes()

    def hear(self, _chat: int, mode: Any, _device: Any, frames: Any) -> None:
        for frame in frames:
            if rms_dbfs(bytes(frame.data)) > -40.0:
                self.loud_frames += 1
                for callback in self.on_loud:
                    callback(self.loud_frames)

    async def talk(self) -> None:
        await talk_paced(self.ntg, OURS, self.speech)


class _Call:
    def __init__(self, ours: Any, theirs: Any, participant: Participant, talker: asyncio.Task[None]) -> None:
        self.ours, self.theirs, self.participant, self.talker = ours, theirs, participant, talker


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
        ours, theirs = ntgcalls.NTgCalls(), ntgcalls.NTgCalls()
        await connect_loopback(ours, theirs)
        loop = asyncio.get_running_loop()
        playback, mic = ntgcalls.StreamMode.PLAYBACK, ntgcalls.StreamDevice.MICROPHONE

        def ours_heard(_chat: int, mode: Any, device: Any, frames: Any) -> None:
            if mode == playback and device == mic and self._frames is not None:
                batch = [(int(f.ssrc), bytes(f.data)) for f in frames]
                loop.call_soon_threadsafe(self._deliver, chat_id, batch)

        ours.on_frames(ours_heard)
        participant = Participant(theirs)
        theirs.on_frames(lambda *a: loop.call_soon_threadsafe(participant.hear, *a))
        if behaviour == "drop_after_reply":
            participant.on_loud.append(lambda n: self._drop_once(chat_id, n))
        participant.say(0.6)
        self._calls[chat_id] = _Call(ours, theirs, participant, asyncio.create_task(participant.talk()))

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
        call.talker.cancel()
        await asyncio.gather(call.talker, return_exceptions=True)
        for ntg, peer in ((call.ours, THEIRS), (call.theirs, OURS)):
            try:
                await ntg.stop(peer)
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


def _media() -> Any:
    audio = ntgcalls.AudioDescription(ntgcalls.MediaSource.EXTERNAL, RATE, 1, "", True)
    return ntgcalls.MediaDescription(audio, None, None, None)


async def talk_paced(ntg: Any, peer: int, speech: bytearray) -> None:
    """A fake microphone: `speech` as 10 ms frames into the call (silence once it is used up), forever."""
    t0, n = time.monotonic(), 0
    while True:
        frame = bytes(speech[:FRAME]) if speech else bytes(FRAME)
        del speech[:FRAME]
        await ntg.send_external_frame(peer, ntgcalls.StreamDevice.MICROPHONE, frame, ntgcalls.FrameData())
        n += 1
        delay = t0 + n * 0.01 - time.monotonic()  # pacing a fake microphone, not synchronisation
        if delay > 0:
            await asyncio.sleep(delay)


async def _media_sources(ntg: Any, peer: int) -> None:
    for mode in (ntgcalls.StreamMode.CAPTURE, ntgcalls.StreamMode.PLAYBACK):
        await ntg.set_stream_sources(peer, mode, _media())


async def connect_loopback(
    ours: Any,
    theirs: Any,
    ids: tuple[int, int] = (OURS, THEIRS),
    set_sources: Callable[[Any, int], Awaitable[None]] = _media_sources,
) -> None:
    """Two NTgCalls instances in one process call each other, signalling relayed in memory. `ids` are the
    names each side gives the call (the other's id); `set_sources(ntg, peer)` sets one side's PCM streams."""
    ours_id, theirs_id = ids
    loop = asyncio.get_running_loop()
    connected = {ours_id: asyncio.Event(), theirs_id: asyncio.Event()}

    def relay(dst: Any, dst_call: int) -> Any:
        def cb(_call: int, data: bytes) -> None:
            loop.call_soon_threadsafe(lambda: asyncio.ensure_future(dst.send_signaling_data(dst_call, data)))

        return cb

    def watch(me: int) -> Any:
        def cb(_call: int, info: Any) -> None:
            if info.state == ntgcalls.ConnectionState.CONNECTED:
                loop.call_soon_threadsafe(connected[me].set)

        return cb

    ours.on_signaling_data(relay(theirs, ours_id))
    theirs.on_signaling_data(relay(ours, theirs_id))
    ours.on_connection_change(watch(ours_id))
    theirs.on_connection_change(watch(theirs_id))
    key = os.urandom(256)
    versions = ntgcalls.NTgCalls.get_protocol().library_versions
    await ours.create_p2p_call(theirs_id)
    await theirs.create_p2p_call(ours_id)
    for ntg, peer in ((ours, theirs_id), (theirs, ours_id)):
        await set_sources(ntg, peer)
    for ntg, peer, outgoing in ((ours, theirs_id, True), (theirs, ours_id, False)):
        await ntg.skip_exchange(peer, key, outgoing)
    await asyncio.gather(
        ours.connect_p2p(theirs_id, [], versions, True, None),
        theirs.connect_p2p(ours_id, [], versions, True, None),
    )
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in connected.values())), 20)
