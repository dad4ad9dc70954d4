"""Turns onto the wire: one audio source → its segmenter → the shared TurnStream → the session (`TurnPump`), or
continuous audio for the server's VAD (`stream_server_turns`); and waiting on the conversation's progress."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rholive.audio import Segmenter, SegmenterConfig, StreamEnd, StreamGate
from rholive.conversation.printers import VoicePrinter
from rholive.conversation.turn_stream import End, Start, TurnStream, WireAction, apply
from rholive.live import LiveSession

ANSWER_TIMEOUT_S = 60.0  # after the last turn, how long we wait for the model's answers at most
SERVER_QUIET_S = 3.0  # --turns server: no event for this long after the end means the model is done


async def wait_until(changed: asyncio.Condition, ready: Callable[[], bool], limit_s: float | None) -> bool:
    """Wait on `changed` until `ready()` holds (True) or `limit_s` passed (False; None: no limit)."""

    async def reached() -> None:
        async with changed:
            await changed.wait_for(ready)

    try:
        await asyncio.wait_for(reached(), limit_s)
    except TimeoutError:
        return False
    return True


class TurnPump:
    """One audio source → its segmenter (in a worker thread) → the shared TurnStream → the session."""

    def __init__(
        self,
        speaker: str,
        session: LiveSession,
        stream: TurnStream,
        printer: VoicePrinter,
        *,
        config: SegmenterConfig | None = None,
        segmenter: Segmenter | None = None,
    ) -> None:
        self.speaker = speaker
        self.session = session
        self.stream = stream
        self.printer = printer
        self.segmenter = segmenter or Segmenter(config, speaker=speaker)
        self.turns = 0
        self.end_ms: float | None = None
        self.on_action: Callable[[WireAction], None] | None = None  # e.g. barge-in: flush playback on open
        # one thread per segmenter: its calls stay in order and never block the event loop
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=f"segmenter {speaker}")

    async def push(self, t_ms: float, pcm: bytes) -> None:
        loop = asyncio.get_running_loop()
        decisions = await loop.run_in_executor(self._thread, self.segmenter.push, pcm, t_ms)
        self.end_ms = t_ms + len(pcm) / 32
        await self._send(self.stream.feed(self.speaker, decisions))

    async def finish(self) -> None:
        """The source ended (file over, device gone): an open turn closes with `stream_end`."""
        loop = asyncio.get_running_loop()
        decisions = await loop.run_in_executor(self._thread, self.segmenter.finish, self.end_ms)
        await self._send(self.stream.feed(self.speaker, decisions))
        self._thread.shutdown(wait=False)

    async def run(self, source: AsyncIterator[tuple[int, bytes]]) -> None:
        try:
            async for t_ms, pcm in source:
                await self.push(t_ms, pcm)
        finally:
            await self.finish()

    async def _send(self, actions: list[WireAction]) -> None:
        for action in actions:
            if self.on_action is not None:
                self.on_action(action)
            if isinstance(action, Start | End):
                self.printer.turn(action)
                if isinstance(action, End):
                    self.turns += 1
            await apply(self.session, [action])


async def until_over_budget(work: Any, over_budget: asyncio.Event) -> None:
    """Run ``work`` (a coroutine) to its end, or cancel it once the budget is reached: no more is sent."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.create_task(over_budget.wait())
    await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    watcher.cancel()
    if not task.done():
        task.cancel()
        await asyncio.wait({task})
    if not task.cancelled():
        task.result()  # the work's own error, if any


async def stream_server_turns(
    source: AsyncIterator[tuple[int, bytes]], session: LiveSession, printer: VoicePrinter
) -> None:
    """`--turns server`: continuous audio; `audioStreamEnd` on pauses and at the end."""
    gate = StreamGate()
    end: float | None = None

    async def send(decisions: list[Any]) -> None:
        for decision in decisions:
            if isinstance(decision, StreamEnd):
                printer.stream_end(decision.t_ms)
                await session.audio_stream_end()
            else:
                await session.send_audio(decision.pcm)

    async for t_ms, pcm in source:
        end = t_ms + len(pcm) / 32
        await send(gate.push(pcm, t_ms))
    await send(gate.finish(end))
