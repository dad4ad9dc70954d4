"""Bridge between a call (ntgcalls, extra ``voicechat``) and a Live session with server-side VAD.

Uplink: frames heard in the call (one s16le block per speaker SSRC every 10 ms) → :class:`Mixer` → 16 kHz
mono → ``session.send_audio``. Downlink: the model's 24 kHz reply → resampled to the call's rate →
:class:`FramePacer` → ``send_external_frame``. ``Interrupted`` (barge-in) flushes the playback queue.

Joining a real group call with a user account is `join.PyTgCallsClient` (py-tgcalls over Telethon),
run in the call worker child process (`worker`) behind the `client.CallClient` boundary.
`join_group_call` below is the same flow on a bare ntgcalls instance: ``payload = await ntg.create_call(chat)``
→ the account sends ``phone.joinGroupCall`` with it and gets the transport params back → ``ntg.connect``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from rholive.audio import Resampler
from rholive.live import LiveSession
from rholive.live import events as ev
from rholive.telegram.voicechat.media import Clock, FramePacer
from rholive.telegram.voicechat.speaker import MIX, make_mixer

log = logging.getLogger("rholive.telegram.voicechat_bridge")  # its name before the move, as logs show it

MODEL_IN_RATE = 16000


class CallIO(Protocol):
    """What the bridge needs from a call: its PCM format, a way to send one frame, incoming frames."""

    rate: int
    channels: int

    async def send_frame(self, pcm: bytes) -> None: ...

    def on_frames(self, callback: Callable[[list[tuple[int, bytes]]], None]) -> None: ...


class NTgCallsIO:
    """One chat of one ``ntgcalls.NTgCalls`` instance, audio in and out as raw PCM (EXTERNAL sources).

    ntgcalls calls ``on_frames`` from its own threads; frames are handed to the event loop. The instance
    has one frames callback, so use one instance per call (or one IO per instance).
    """

    def __init__(self, ntg: Any, chat_id: int, *, rate: int = 48000, channels: int = 1) -> None:
        import ntgcalls  # the optional extra; imported here so the rest of rholive works without it

        self._n = ntgcalls
        self.ntg = ntg
        self.chat_id = chat_id
        self.rate = rate
        self.channels = channels
        self._loop: asyncio.AbstractEventLoop | None = None

    def media(self) -> Any:
        n = self._n
        audio = n.AudioDescription(n.MediaSource.EXTERNAL, self.rate, self.channels, "", True)
        return n.MediaDescription(audio, None, None, None)

    async def set_sources(self) -> None:
        """Send our PCM as the microphone (CAPTURE) and receive the others' as raw frames (PLAYBACK)."""
        self._loop = asyncio.get_running_loop()
        await self.ntg.set_stream_sources(self.chat_id, self._n.StreamMode.CAPTURE, self.media())
        await self.ntg.set_stream_sources(self.chat_id, self._n.StreamMode.PLAYBACK, self.media())

    async def send_frame(self, pcm: bytes) -> None:
        await self.ntg.send_external_frame(
            self.chat_id, self._n.StreamDevice.MICROPHONE, pcm, self._n.FrameData()
        )

    def on_frames(self, callback: Callable[[list[tuple[int, bytes]]], None]) -> None:
        loop = self._loop or asyncio.get_running_loop()
        playback, mic = self._n.StreamMode.PLAYBACK, self._n.StreamDevice.MICROPHONE

        def handler(chat_id: int, mode: Any, device: Any, frames: Sequence[Any]) -> None:
            if chat_id != self.chat_id or mode != playback or device != mic:
                return
            batch = [(int(f.ssrc), bytes(f.data)) for f in frames]
            loop.call_soon_threadsafe(callback, batch)

        self.ntg.on_frames(handler)


async def join_group_call(ntg: Any, chat_id: int, join: Callable[[int, str], Awaitable[str]]) -> NTgCallsIO:
    """The seam for the MTProto step: ``join(chat_id, payload) -> params JSON`` (phone.joinGroupCall)."""
    io = NTgCallsIO(ntg, chat_id)
    payload = await ntg.create_call(chat_id)
    await io.set_sources()
    params = await join(chat_id, payload)
    await ntg.connect(chat_id, params, False)
    return io


@dataclass
class BridgeStats:
    frames_heard: int = 0  # incoming speaker frames (all SSRCs)
    seconds_uplinked: float = 0.0
    reply_bytes: int = 0  # 24 kHz reply audio received from the model
    interruptions: int = 0
    turns: int = 0


class VoiceChatBridge:
    """Runs both directions until the session ends or :meth:`stop`.

    The session must use AUDIO replies and automatic activity detection (server-side VAD), so the call's
    audio is streamed continuously and the server decides when a turn starts, ends, or interrupts a reply.
    """

    def __init__(
        self,
        call: CallIO,
        session: LiveSession,
        *,
        prebuffer_ms: int = 60,
        clock: Clock | None = None,
        on_event: Callable[[ev.Event], None] | None = None,
        on_heard: Callable[[list[tuple[int, bytes]]], None] | None = None,
        speakers: str = MIX,
    ) -> None:
        self.call = call
        self.session = session
        self.mixer = make_mixer(speakers, call.rate, call.channels, MODEL_IN_RATE)  # mix, or follow one
        self.pacer = FramePacer(
            call.rate, call.send_frame, channels=call.channels, prebuffer_ms=prebuffer_ms, clock=clock
        )
        self.stats = BridgeStats()
        self._on_event = on_event
        self._on_heard = on_heard
        self._reply_resampler: Resampler | None = None
        self._reply_rate = 0
        self._uplink: asyncio.Queue[bytes] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    def _heard(self, batch: list[tuple[int, bytes]]) -> None:
        self.stats.frames_heard += len(batch)
        if self._on_heard is not None:
            self._on_heard(batch)
        pcm = self.mixer.mix(batch)
        if pcm:
            self._uplink.put_nowait(pcm)

    async def _send_up(self) -> None:
        while True:
            pcm = await self._uplink.get()
            await self.session.send_audio(pcm, MODEL_IN_RATE)
            self.stats.seconds_uplinked += len(pcm) / 2 / MODEL_IN_RATE

    def _reply_audio(self, chunk: ev.AudioChunk) -> None:
        if self._reply_resampler is None or chunk.sample_rate != self._reply_rate:
            self._reply_rate = chunk.sample_rate
            self._reply_resampler = Resampler(chunk.sample_rate, self.call.rate)
        self.stats.reply_bytes += len(chunk.data)
        pcm = self._reply_resampler.process(chunk.data)
        if self.call.channels > 1:  # the call wants interleaved channels: duplicate the mono reply
            pcm = _interleave(pcm, self.call.channels)
        if pcm:
            self.pacer.push(pcm)

    async def _receive(self) -> None:
        async for event in self.session:
            if isinstance(event, ev.AudioChunk):
                self._reply_audio(event)
            elif isinstance(event, ev.Interrupted):
                self.stats.interruptions += 1
                dropped = self.pacer.flush()
                if self._reply_resampler is not None:
                    self._reply_resampler.reset()  # the next reply starts clean, no tail of the old one
                log.info(
                    "barge-in: dropped %.2f s of reply", dropped / 2 / self.call.channels / self.call.rate
                )
            elif isinstance(event, ev.TurnComplete):
                self.stats.turns += 1
                if self._reply_resampler is not None:
                    tail = self._reply_resampler.flush()
                    self._reply_resampler.reset()
                    if tail:
                        self.pacer.push(
                            _interleave(tail, self.call.channels) if self.call.channels > 1 else tail
                        )
                self.pacer.end()
            if self._on_event is not None:
                self._on_event(event)

    async def run(self) -> None:
        self.call.on_frames(self._heard)
        self._tasks = [
            asyncio.create_task(self.pacer.run(), name="voicechat-pacer"),
            asyncio.create_task(self._send_up(), name="voicechat-uplink"),
        ]
        try:
            await self._receive()
        finally:
            await self.stop()

    async def stop(self) -> None:
        self.pacer.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []


def _interleave(mono: bytes, channels: int) -> bytes:
    import numpy as np

    samples = np.frombuffer(mono, dtype="<i2")
    return np.repeat(samples, channels).astype("<i2").tobytes()
