"""One chat's Live session: open (resuming when a handle is stored), ask one turn, collect the answer.

A reader task copies the session's events into a queue, so a turn can wait for its events with a timeout
without ever leaving the session's iterator half-consumed; it also persists every new resumption handle the
moment it arrives, so a crash (not only an idle close) still lets the conversation continue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from rholive.live import (
    AnswerComplete,
    AudioChunk,
    Closed,
    Endpoint,
    Event,
    LiveSession,
    OutputTranscription,
    ResumptionUpdate,
    SessionOptions,
    SetupConfig,
    TextPart,
    ToolRegistry,
)
from rholive.telegram.replies import OUTPUT_RATE, Reply

log = logging.getLogger("rholive.telegram")
INPUT_RATE = 16000


class SessionFailed(Exception):
    """The model session ended or misbehaved mid-turn; the chat gets a polite reply and a fresh session."""


@dataclass(slots=True)
class Answer:
    reply: Reply
    model_s: float  # from the end of our input to the answer's end: the model's (emulator's) own time


class ChatLink:
    def __init__(
        self,
        endpoint: Endpoint,
        config: SetupConfig,
        on_handle: Callable[[str], None],
        options: SessionOptions | None = None,
    ) -> None:
        self._endpoint = endpoint
        self._config = config
        self._on_handle = on_handle
        self._options = options
        self._session: LiveSession | None = None
        self._events: asyncio.Queue[Event | None] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None

    @property
    def is_open(self) -> bool:
        return self._session is not None

    async def open(self) -> None:
        """Connect and set up; raises what the session raises (e.g. ``SetupRejected``, ``OSError``)."""
        # an empty registry answers a tool call with an error: without it the turn waited forever
        session = LiveSession(
            self._endpoint, self._config, ToolRegistry(), options=self._options or SessionOptions()
        )
        await session.__aenter__()
        self._session = session
        self._events = asyncio.Queue()
        self._reader = asyncio.create_task(self._read(session), name="rholive-telegram-reader")

    async def _read(self, session: LiveSession) -> None:
        try:
            async for event in session:
                if isinstance(event, ResumptionUpdate) and event.resumable and event.new_handle:
                    self._on_handle(event.new_handle)
                self._events.put_nowait(event)
        except Exception as exc:  # the session's own failure: the waiting turn learns it from the sentinel
            log.warning("Live session reader stopped: %s", type(exc).__name__)
        finally:
            self._events.put_nowait(None)

    async def ask_audio(self, pcm: bytes, chunk_ms: int, timeout_s: float) -> Answer:
        """One voice note = one activity: activityStart, the audio in chunks, activityEnd; then the answer."""
        session = self._require()
        step = max(2, INPUT_RATE * 2 * chunk_ms // 1000 // 2 * 2)
        await session.activity_start()
        for start in range(0, len(pcm), step):
            await session.send_audio(pcm[start : start + step], INPUT_RATE)
        await session.activity_end()
        return await self._collect(timeout_s)

    async def change_instruction(self, instruction: str) -> None:
        """A new system instruction on the open session (contextUpdate): same conversation, no reconnect."""
        await self._require().update_context(system_instruction=instruction)

    async def ask_text(self, text: str, timeout_s: float) -> Answer:
        await self._require().send_turn(text)
        return await self._collect(timeout_s)

    def _require(self) -> LiveSession:
        if self._session is None:
            raise SessionFailed("the session is not open")
        return self._session

    async def _collect(self, timeout_s: float) -> Answer:
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + timeout_s
        audio = bytearray()
        rate = OUTPUT_RATE
        spoken: list[str] = []
        written: list[str] = []
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise SessionFailed(f"no complete answer within {timeout_s:g} s")
            try:
                event = await asyncio.wait_for(self._events.get(), left)
            except TimeoutError:
                raise SessionFailed(f"no complete answer within {timeout_s:g} s") from None
            if event is None or isinstance(event, Closed):
                reason = f": {event.code} {event.reason}" if isinstance(event, Closed) and event.code else ""
                raise SessionFailed(f"the model session closed{reason}")
            if isinstance(event, AudioChunk):
                rate = event.sample_rate
                audio += event.data
            elif isinstance(event, OutputTranscription):
                spoken.append(event.text)
            elif isinstance(event, TextPart) and not event.thought:
                written.append(event.text)
            elif isinstance(event, AnswerComplete):  # not TurnComplete: background reasoning goes on after it
                transcript = "".join(spoken).strip() or "".join(written).strip()
                return Answer(Reply(bytes(audio), transcript, rate), loop.time() - started)

    async def close(self) -> None:
        session, reader = self._session, self._reader
        self._session = self._reader = None
        if session is not None:
            with contextlib.suppress(Exception):
                await session.__aexit__(None, None, None)
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
