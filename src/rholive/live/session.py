"""LiveSession: owns the socket, survives goAway and drops, and yields typed events.

One writer task drains the ordered Outbox; one reader task parses frames into events. A supervisor task runs
connection after connection: on goAway it closes the old socket first and resumes with the latest handle; on
an abnormal close it reconnects with backoff and resumes; on 1007/1008 it stops and reports the reason.
Messages the server had not consumed are sent again after a resume (see outbox.ReplayLog).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass, replace
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from rholive.live import events as ev
from rholive.live import wire
from rholive.live.endpoint import Endpoint
from rholive.live.errors import LiveError, SetupRejected
from rholive.live.outbox import Message, Outbox, ReplayLog
from rholive.live.tools import ToolRegistry, ToolRunner
from rholive.live.usage import UsageTotals
from rholive.live.wire import FunctionResponse, SetupConfig

log = logging.getLogger(__name__)

FATAL_CODES = frozenset({1007, 1008})  # invalid argument / policy: retrying would fail the same way


@dataclass
class SessionOptions:
    setup_timeout_s: float = 15.0
    open_timeout_s: float = 15.0
    ping_interval_s: float | None = 20.0
    ping_timeout_s: float | None = 60.0  # the service can take 8-30 s to answer a ping
    max_message_bytes: int = 16 * 1024 * 1024
    reconnect_attempts: int = 8
    backoff_initial_s: float = 0.25
    backoff_max_s: float = 8.0
    close_timeout_s: float = 5.0


class _Restart(Exception):
    """Internal: this connection is over; open another one."""

    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.code = reason, code


class _Stop(Exception):
    """Internal: the session ends for good with this Closed event."""

    def __init__(self, closed: ev.Closed) -> None:
        super().__init__(closed.reason)
        self.closed = closed


class LiveSession:
    def __init__(
        self,
        endpoint: Endpoint,
        config: SetupConfig,
        *,
        tools: ToolRegistry | None = None,
        options: SessionOptions | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.options = options or SessionOptions()
        if tools is not None and len(tools) and not config.tools:
            config = replace(config, tools=tools.setup_tools())
        if endpoint.is_google:
            config = replace(config, transparent_resumption=False)  # not accepted outside Vertex
        self.config = config
        self.usage = UsageTotals()
        self.handle: str | None = config.resumption_handle
        self.connections = 0
        self._outbox = Outbox()
        self._replay = ReplayLog()
        self._events: asyncio.Queue[ev.Event | None] = asyncio.Queue()
        self._runner = ToolRunner(tools or ToolRegistry(), self._send_tool_responses, self._on_tool_result)
        self._ws: ClientConnection | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._go_away = asyncio.Event()
        self._go_away_left_s = 0.0
        self._idle = asyncio.Event()  # no model reply streaming right now
        self._idle.set()
        self._closing = False
        self._finished = False

    # ------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> LiveSession:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def connect(self) -> None:
        """Open the first connection; raises SetupRejected or LiveError when that fails."""
        self._ws = await self._open(self.handle)
        self._put(ev.Connected(attempt=1, resumed=self.handle is not None))
        self._supervisor = asyncio.create_task(self._supervise(), name="rholive-live-session")

    async def close(self) -> None:
        """Send what is queued, close the socket with 1000 and end the event stream."""
        if self._closing:
            return
        self._closing = True
        if not self._finished and self._supervisor is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outbox.wait_empty(), self.options.close_timeout_s)
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        await self._runner.close()
        if self._ws is not None:
            await self._ws.close(1000, "client closed the session")
        self._finish(ev.Closed(code=1000, reason="closed by client"))

    # ------------------------------------------------------------ sending (all ordered)

    async def send_turn(self, turns: str | list[dict[str, Any]], turn_complete: bool = True) -> None:
        self._queue(wire.client_content(turns, turn_complete))

    async def send_text(self, text: str) -> None:
        self._queue(wire.realtime_text(text))

    async def send_audio(self, pcm: bytes, rate: int = wire.INPUT_AUDIO_RATE) -> None:
        self._queue(wire.realtime_audio(pcm, rate))

    async def send_video(self, jpeg: bytes, mime_type: str = "image/jpeg") -> None:
        if self._queue(wire.realtime_video(jpeg, mime_type)):
            self._put(ev.FrameDropped(total=self._outbox.frames_dropped))

    async def activity_start(self) -> None:
        self._queue(wire.activity_start())

    async def activity_end(self) -> None:
        self._queue(wire.activity_end())

    async def audio_stream_end(self) -> None:
        self._queue(wire.audio_stream_end())

    async def send_tool_response(self, responses: list[FunctionResponse]) -> None:
        self._queue(wire.tool_response(responses))

    @property
    def frames_dropped(self) -> int:
        return self._outbox.frames_dropped

    @property
    def closed(self) -> bool:
        return self._finished

    def _queue(self, message: Message) -> bool:
        if self._finished:
            raise LiveError("the Live session is closed")
        return self._outbox.put(message)

    # ------------------------------------------------------------ events

    def __aiter__(self) -> LiveSession:
        return self

    async def __anext__(self) -> ev.Event:
        event = await self._events.get()
        if event is None:
            self._events.put_nowait(None)  # later iterations end too
            raise StopAsyncIteration
        return event

    def _put(self, event: ev.Event) -> None:
        self._events.put_nowait(event)

    def _finish(self, closed: ev.Closed) -> None:
        if not self._finished:
            self._finished = True
            self._put(closed)
            self._events.put_nowait(None)

    # ------------------------------------------------------------ connections

    async def _open(self, handle: str | None) -> ClientConnection:
        """Connect, send setup (message 0), wait for setupComplete."""
        options = self.options
        try:
            ws = await connect(
                self.endpoint.url(),
                additional_headers=self.endpoint.headers(),
                ssl=self.endpoint.ssl if self.endpoint.secure else None,
                max_size=options.max_message_bytes,
                ping_interval=options.ping_interval_s,
                ping_timeout=options.ping_timeout_s,
                open_timeout=options.open_timeout_s,
                close_timeout=options.close_timeout_s,
                compression=None,  # base64 audio barely compresses; deflate only costs CPU
            )
        except InvalidStatus as exc:
            raise SetupRejected(exc.response.status_code, _http_reason(exc)) from None
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            raise LiveError(f"cannot connect to {self.endpoint.url()}: {type(exc).__name__}: {exc}") from None
        config = replace(self.config, resumption_handle=handle)
        try:
            await ws.send(wire.encode(wire.setup(config)))
            async with asyncio.timeout(options.setup_timeout_s):
                while True:
                    first = wire.parse_server_message(await ws.recv())
                    if any(isinstance(event, ev.SetupComplete) for event in first):
                        break
        except ConnectionClosed as exc:
            code, reason = _close_info(exc)
            raise SetupRejected(code, reason) from None
        except TimeoutError:
            await ws.close(1000, "setup timed out")
            raise LiveError(f"no setupComplete within {options.setup_timeout_s:g} s") from None
        self.connections += 1
        return ws

    async def _supervise(self) -> None:
        try:
            while True:
                assert self._ws is not None
                restart = await self._run_connection(self._ws)
                self._ws = await self._reconnect(restart)
        except _Stop as stop:
            await self._runner.close()
            self._finish(stop.closed)

    async def _run_connection(self, ws: ClientConnection) -> _Restart:
        """Run reader and writer on one connection until it ends; say why."""
        self._go_away.clear()
        reader = asyncio.create_task(self._read(ws), name="rholive-live-reader")
        writer = asyncio.create_task(self._write(ws), name="rholive-live-writer")
        go_away = asyncio.create_task(self._go_away.wait())
        try:
            await asyncio.wait({reader, writer, go_away}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            reader.cancel()
            raise
        finally:
            for task in (writer, go_away):
                task.cancel()
        if self._go_away.is_set() and not reader.done():
            await self._let_reply_finish(reader)
            reader.cancel()
            # Close the old socket first: a resume while it is still open was seen to fail with 1011.
            with contextlib.suppress(Exception):
                await ws.close(1000, "going away")
            return _Restart("go_away")
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        code, reason = ws.close_code, ws.close_reason or ""
        if code in FATAL_CODES:
            raise _Stop(ev.Closed(code=code, reason=reason, error=True))
        shown = code if code is not None else 1006
        return _Restart(f"connection closed ({shown}{': ' + reason if reason else ''})", code)

    async def _let_reply_finish(self, reader: asyncio.Task[None]) -> None:
        """After goAway, let a streaming reply end on this connection if the deadline allows: switching
        mid-reply would make the resumed server answer that turn again from the start."""
        budget = max(0.0, self._go_away_left_s - min(5.0, self._go_away_left_s / 2))
        idle = asyncio.create_task(self._idle.wait())
        try:
            await asyncio.wait({idle, reader}, timeout=budget, return_when=asyncio.FIRST_COMPLETED)
        finally:
            idle.cancel()

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                for event in wire.parse_server_message(raw):
                    self._handle_event(event)

    def _handle_event(self, event: ev.Event) -> None:
        match event:
            case ev.ResumptionUpdate(new_handle=handle, resumable=resumable, last_consumed_index=index):
                if resumable and handle:
                    self.handle = handle
                    self._replay.consumed(index)
            case ev.TurnComplete() | ev.Interrupted():
                self._replay.turn_completed()
                self._idle.set()
            case ev.TextPart() | ev.AudioChunk() | ev.OutputTranscription():
                self._idle.clear()
            case ev.GoAway(time_left_s=left):
                self._go_away_left_s = left
                self._go_away.set()
            case ev.Usage():
                self.usage.add(event)
            case ev.ToolCall(calls=calls):
                self._runner.start(calls)
            case ev.ToolCallCancellation(ids=ids):
                self._runner.cancel(ids)
        self._put(event)

    async def _write(self, ws: ClientConnection) -> None:
        while True:
            message = await self._outbox.get()
            self._replay.record(message)  # recorded first: if the send fails, the resume sends it again
            try:
                await ws.send(wire.encode(message))
            except ConnectionClosed:
                return

    async def _reconnect(self, restart: _Restart) -> ClientConnection:
        """Open the next connection (resuming when a handle exists) and queue the replay."""
        unanswered = self._replay.unanswered()
        pending = self._replay.new_connection()
        attempt = 0
        while True:
            attempt += 1
            if attempt > self.options.reconnect_attempts:
                reason = f"gave up reconnecting: {restart.reason}"
                raise _Stop(ev.Closed(code=restart.code, reason=reason, error=True))
            delay = 0.0 if restart.reason == "go_away" and attempt == 1 else self._backoff(attempt)
            self._put(ev.Reconnecting(reason=restart.reason, attempt=attempt, delay_s=delay))
            await asyncio.sleep(delay)
            handle = self.handle
            try:
                ws = await self._open(handle)
            except SetupRejected as exc:
                if handle is not None and exc.code == 1008 and "handle" in exc.reason.lower():
                    self.handle = None  # handle refused or expired: go on without the old context
                    self._put(ev.ContextLost(reason=f"resumption refused: {exc.reason}"))
                    continue
                raise _Stop(ev.Closed(code=exc.code, reason=exc.reason, error=True)) from None
            except LiveError as exc:
                log.info("reconnect attempt %d failed: %s", attempt, exc)
                continue
            break
        self._put(ev.Connected(attempt=attempt, resumed=handle is not None))
        if handle is None:
            self._put(ev.ContextLost(reason="no resumption handle yet: the model starts a new conversation"))
            pending = unanswered  # a new conversation: answered turns must not be asked again
        for message in reversed(pending):
            self._outbox.push_front(message)
        if handle is not None:
            self._put(ev.Resumed(replayed=len(pending)))
        return ws

    def _backoff(self, attempt: int) -> float:
        base = min(self.options.backoff_max_s, self.options.backoff_initial_s * 2 ** (attempt - 1))
        return base * random.uniform(0.5, 1.0)

    # ------------------------------------------------------------ tools

    async def _send_tool_responses(self, responses: list[FunctionResponse]) -> None:
        if not self._finished:
            self._outbox.put(wire.tool_response(responses))

    def _on_tool_result(self, result: ev.ToolResult) -> None:
        self._put(result)


def _close_info(exc: ConnectionClosed) -> tuple[int | None, str]:
    frame = exc.rcvd
    return (frame.code, frame.reason) if frame is not None else (1006, "connection lost without a close frame")


def _http_reason(exc: InvalidStatus) -> str:
    body = exc.response.body or b""
    text = body.decode("utf-8", "replace").strip()[:200]
    return f"HTTP {exc.response.status_code}" + (f": {text}" if text else "")
