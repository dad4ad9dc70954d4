"""LiveSession: one conversation with a Live model, kept alive across connections.

A supervisor task owns the current socket and runs, per connection, one writer task (drains the ordered
``Outbox``) and one reader task (parses frames into typed events on the event queue). When a connection
ends, the supervisor decides: the application closed it (stop), the server refused what we sent (1007,
1008: stop, report), or anything else (goAway, 1006, 1011, 1001, an unexpected 1000): reconnect, resume
with the latest handle, resend what the server had not consumed (``ReplayBuffer``), then go on with the
queue. Every step is an event (Reconnecting, Connected, Resumed, ContextLost, Closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from rholive.live import models, wire
from rholive.live.answer_end import AnswerEnd
from rholive.live.connection import open_connection
from rholive.live.endpoint import Endpoint
from rholive.live.errors import ConnectFailed, SessionClosed, SetupRejected
from rholive.live.events import (
    AnswerComplete,
    Closed,
    Connected,
    ContextLost,
    Event,
    FrameDropped,
    GoAway,
    HistorySeeded,
    InputTranscription,
    Reconnecting,
    Resumed,
    ResumptionUpdate,
    ServerEvent,
    ToolCall,
    ToolCallCancellation,
    Usage,
    answer_text,
)
from rholive.live.options import SessionOptions
from rholive.live.outbox import Outbox, Outgoing
from rholive.live.replay import ReplayBuffer
from rholive.live.sending import Sender
from rholive.live.tools import ToolRegistry, ToolRunner
from rholive.live.transcript import Transcript
from rholive.live.usage import UsageTotals
from rholive.live.wire import HistoryTurn, SetupConfig

log = logging.getLogger("rholive.live")

# Close codes that say the client sent something wrong: reconnecting would only repeat it.
FATAL_CLOSE_CODES = frozenset({1002, 1003, 1007, 1008, 1009, 1010})
FATAL_HTTP_STATUSES = frozenset({400, 401, 403, 404})


@dataclass(frozen=True, slots=True)
class _End:
    """How one connection ended."""

    code: int | None
    reason: str
    go_away: bool


class _Stop(Exception):
    """Internal: the session ends (``closed`` None when the application closed it)."""

    def __init__(self, closed: Closed | None) -> None:
        self.closed = closed


class LiveSession(Sender):
    """``async with LiveSession(endpoint, config) as session:`` send with the ``send_*`` methods, read
    with ``async for event in session`` (it does not stop at turn ends; it ends after ``Closed``).

    ``history``: the conversation so far, given to a session that starts without a resumption handle (the
    setup asks for ``historyConfig`` and the turns go right after setupComplete). The session keeps its own
    transcript (``history``) and seeds every later connection that starts without context the same way."""

    def __init__(
        self,
        endpoint: Endpoint,
        config: SetupConfig | None = None,
        tools: ToolRegistry | None = None,
        options: SessionOptions | None = None,
        history: Sequence[HistoryTurn] = (),
    ) -> None:
        config = models.fit_setup(config or SetupConfig())  # never send what the model refuses
        if tools is not None and len(tools) and not config.tools:
            config = dataclasses.replace(config, tools=tools.setup_tools())
        if endpoint.is_google:
            # The SDK refuses `transparent` outside Vertex: do not risk the setup on the Developer API; the
            # replay buffer then cuts at the last completed turn instead of the consumed index.
            config = dataclasses.replace(config, transparent_resumption=False)
        self.endpoint = endpoint
        self.config = config
        self.options = options or SessionOptions()
        self.usage = UsageTotals()
        self.transcript = Transcript(history)
        self._answer_end = AnswerEnd()
        self._replay = ReplayBuffer(config.resumption_handle)
        self._outbox = Outbox()
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._runner = ToolRunner(tools, self._send_tool_responses, self._emit) if tools is not None else None
        self._state = "new"  # new -> open -> closing -> closed
        self._closing = asyncio.Event()
        self._ws: ClientConnection | None = None
        self._go_away = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._generation = 0  # bumped per connection: tool calls belong to the connection that made them
        self._failures = 0  # consecutive failed connections (reset by a stable one)
        self._finished = False  # Closed was queued: nothing after it
        self._iteration_done = False
        self.connections = 0

    # ------------------------------------------------------------------ public state

    @property
    def handle(self) -> str | None:
        """The latest resumption handle (store it to continue the conversation in a later session)."""
        return self._replay.handle

    @property
    def dropped_frames(self) -> int:
        """Stale video frames dropped under backpressure (each reported by a FrameDropped event)."""
        return self._outbox.dropped_frames

    @property
    def dropped_tool_responses(self) -> int:
        """Responses to calls of an earlier connection, not sent (the resumed model calls again)."""
        return self._replay.dropped_tool_responses

    @property
    def replay_evicted(self) -> int:
        """Sent messages no longer kept for a resume (answered turns first): the server sent no resumption
        update for longer than the replay buffer holds (`ReplayBuffer.max_bytes`)."""
        return self._replay.evicted

    @property
    def is_open(self) -> bool:
        return self._state == "open"

    @property
    def history(self) -> list[HistoryTurn]:
        """The conversation so far as text turns (bounded): store it to seed a later session."""
        return self.transcript.turns()

    def __repr__(self) -> str:
        return f"LiveSession({self.endpoint!r}, state={self._state!r}, connections={self.connections})"

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> LiveSession:
        await self.connect()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def connect(self) -> None:
        """Open the first connection; raises ``SetupRejected`` or ``ConnectFailed`` when it cannot."""
        if self._state != "new":
            raise SessionClosed(f"the session is {self._state}; a LiveSession connects once")
        resuming = self._replay.handle is not None
        seed = self._seed_turns()
        ws, early = await open_connection(self.endpoint, self._setup_text(seeded=bool(seed)), self.options)
        self._state = "open"
        self.connections = 1
        self._take(early)
        self._emit(Connected(attempt=1, resumed=resuming))
        if seed:
            self._replay.skip()  # numbered (the server counts it), never resent: see _send_seed
            with contextlib.suppress(ConnectionClosed):  # the supervisor sees the socket closed, reconnects
                await self._send_seed(ws, seed)
        self._supervisor = asyncio.create_task(self._supervise(ws), name="rholive-live-session")

    async def close(self) -> None:
        """Send what is queued (for at most ``close_timeout_s``), close with 1000, end the event stream."""
        if self._state == "new":
            self._state = "closed"
            return
        if self._state != "open":
            if self._supervisor is not None:
                await asyncio.wait({self._supervisor})
            return
        self._state = "closing"
        if self._ws is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.options.close_timeout_s):
                    await self._outbox.drained()
        self._closing.set()
        if self._ws is not None:
            await _close_quietly(self._ws, 1000, "client closed the session")
        if self._supervisor is not None:
            done, _ = await asyncio.wait({self._supervisor}, timeout=self.options.close_timeout_s)
            if not done:
                self._supervisor.cancel()
                await asyncio.wait({self._supervisor})

    # ------------------------------------------------------------------ sending

    async def flush(self) -> None:
        """Wait until everything queued so far was handed to the socket."""
        await self._outbox.drained()

    def _enqueue(self, item: Outgoing) -> None:
        if self._state != "open":
            raise SessionClosed(f"cannot send: the session is {self._state}")
        if self._outbox.put(item):
            self._emit(FrameDropped(total=self._outbox.dropped_frames))

    def _tool_generation(self) -> int:
        return self._generation

    def _turn_message(self, turns: str | list[dict[str, Any]], turn_complete: bool) -> dict[str, Any]:
        """A typed turn as the model takes it: ``realtimeInput.text`` where clientContent is history only."""
        if isinstance(turns, str):
            self.transcript.user(turns)
            if turn_complete and models.typed_turns_as_realtime_text(self.config.model):
                return wire.realtime_text(turns)
        else:
            for turn in turns:
                if turn.get("role", "user") == "user":
                    self.transcript.user("".join(str(p.get("text", "")) for p in turn.get("parts", [])))
        return wire.client_content(turns, turn_complete)

    async def send_text(self, text: str) -> None:
        """Realtime text (does not interrupt)."""
        await super().send_text(text)
        self.transcript.user(text)

    async def update_context(
        self, system_instruction: str | None = None, tools: list[dict[str, Any]] | None = None
    ) -> None:
        """Change the system instruction and/or the tools mid-session (``contextUpdate``, no reconnect).
        The session's config changes too, so a later connection's setup carries them."""
        text = wire.encode(wire.context_update(system_instruction, tools))
        self._enqueue(Outgoing(text))
        changes: dict[str, Any] = {}
        if system_instruction is not None:
            changes["system_instruction"] = system_instruction
        if tools is not None:
            changes["tools"] = tools
        self.config = dataclasses.replace(self.config, **changes)

    # ------------------------------------------------------------------ events

    def __aiter__(self) -> LiveSession:
        return self

    async def __anext__(self) -> Event:
        if self._iteration_done or (self._state == "closed" and self._events.empty()):
            raise StopAsyncIteration
        if self._state == "new":
            raise SessionClosed("connect the session before reading its events")
        event = await self._events.get()
        if isinstance(event, Closed):
            self._iteration_done = True
        return event

    def _emit(self, event: Event) -> None:
        if not self._finished:
            self._events.put_nowait(event)

    def _take(self, events: list[ServerEvent]) -> None:
        """Account the server events of one frame, then hand them to the application."""
        for event in events:
            self._transcribe(event)
            if isinstance(event, ResumptionUpdate):
                self._replay.update(event.new_handle, event.resumable, event.last_consumed_index)
            elif isinstance(event, Usage):
                self.usage.add(event)
            elif isinstance(event, GoAway):
                self._go_away.set()
            self._emit(event)
            if self._runner is not None:
                if isinstance(event, ToolCall):
                    self._runner.start(event.calls)
                elif isinstance(event, ToolCallCancellation):
                    self._runner.cancel(event.ids)
        if self._answer_end.frame(events):
            self._replay.turn_complete()  # answered: never resent, whether or not a resumption update follows
            self.transcript.close()
            self._emit(AnswerComplete())

    def _transcribe(self, event: ServerEvent) -> None:
        if isinstance(event, InputTranscription):
            self.transcript.piece("user", event.text)
            return
        text = answer_text(event)
        if text is not None:
            self.transcript.piece("model", text)

    # ------------------------------------------------------------------ connection loop

    def _setup_text(self, seeded: bool = False) -> str:
        config = dataclasses.replace(
            self.config, resumption_handle=self._replay.handle, history_in_client_content=seeded
        )
        return wire.encode(wire.setup(config))

    def _seed_turns(self) -> list[HistoryTurn]:
        """History for a connection that starts without a handle (nothing when it resumes). Only answered
        turns: a pending user turn is sent again as a turn by the replay."""
        return [] if self._replay.handle is not None else self.transcript.answered()

    async def _send_seed(self, ws: ClientConnection, turns: list[HistoryTurn]) -> None:
        """The history, right after setupComplete and before anything else on this connection. The replay
        buffer numbers it but never keeps it: resent on a resume it would be a new turn to answer."""
        await ws.send(wire.encode(wire.history(turns)))
        self._emit(HistorySeeded(turns=len(turns)))

    async def _supervise(self, ws: ClientConnection) -> None:
        loop = asyncio.get_running_loop()
        closed: Closed | None = None
        try:
            while True:
                started = loop.time()
                end = await self._serve(ws)
                if self._closing.is_set():
                    break
                if loop.time() - started >= self.options.stable_after_s:
                    self._failures = 0
                if end.code in FATAL_CLOSE_CODES or not self.options.reconnect:
                    closed = Closed(end.code, end.reason, error=not end.go_away and end.code != 1000)
                    break
                ws = await self._reconnect(end)
        except _Stop as stop:
            closed = stop.closed
        finally:
            await self._finish(closed)

    async def _finish(self, closed: Closed | None) -> None:
        self._state = "closed"
        if self._runner is not None:
            await self._runner.close()
        unsent = len(self._outbox)
        if unsent:
            log.warning("Live session ended with %d queued message(s) unsent", unsent)
        self._emit(closed or Closed(1000, "closed by the client"))
        self._finished = True

    async def _serve(self, ws: ClientConnection) -> _End:
        """Read and write on one connection until it ends (or the server announces its end)."""
        self._ws = ws
        self._go_away = go_away = asyncio.Event()
        reader = asyncio.create_task(self._read(ws), name="rholive-live-reader")
        writer = asyncio.create_task(self._write(ws), name="rholive-live-writer")
        leaving = asyncio.create_task(go_away.wait())
        try:
            await asyncio.wait({reader, writer, leaving}, return_when=asyncio.FIRST_COMPLETED)
            writer.cancel()  # a dying or goAway'd socket takes nothing more; the queue waits
            if not reader.done():
                if go_away.is_set():  # close the old socket first: resuming beside it fails
                    await _close_quietly(ws, 1000, "going away: resuming on a new connection")
                elif writer.done() and not writer.cancelled() and writer.exception() is not None:
                    await _close_quietly(ws, 1011, "client writer failed")
            await reader  # drains what arrived before the close (updates, last parts)
        finally:
            for task in (reader, writer, leaving):
                task.cancel()
            await asyncio.gather(reader, writer, leaving, return_exceptions=True)
            self._ws = None
        return _End(ws.close_code, ws.close_reason or "", go_away.is_set())

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                self._take(wire.parse_server_message(raw))

    async def _write(self, ws: ClientConnection) -> None:
        try:
            while True:
                await self._outbox.wait()
                item = self._outbox.pop()  # taken and recorded with no await between: cancel-safe
                try:
                    if item.tool and item.generation != self._generation:
                        self._replay.dropped_tool_responses += 1
                        log.warning("tool response for a call of an earlier connection not sent")
                        continue
                    evicted = self._replay.evicted
                    self._replay.record(item.text, item.tool)
                    if self._replay.evicted and not evicted:
                        log.warning(
                            "the server has sent no resumption update for %d MiB of input: the oldest input "
                            "is no longer kept for a resume (counted in replay_evicted)",
                            self._replay.max_bytes >> 20,
                        )
                    await ws.send(item.text)
                finally:
                    self._outbox.sent()
        except ConnectionClosed:
            return
        except Exception:
            log.exception("Live session writer failed")
            raise

    async def _reconnect(self, end: _End) -> ClientConnection:
        reason = "go_away" if end.go_away else _describe(end)
        self._generation += 1
        if self._runner is not None:
            self._runner.cancel(self._runner.running)
        lost_reason = "" if self.config.session_resumption else "session resumption is off"
        attempt = 0
        while True:
            attempt += 1
            delay = 0.0
            if not (end.go_away and attempt == 1):
                self._failures += 1
                if self._failures > self.options.max_reconnect_attempts:
                    message = f"gave up after {attempt - 1} reconnection attempt(s); last: {reason}"
                    raise _Stop(Closed(end.code, message, error=True))
                delay = self.options.backoff_s(self._failures)
            self._emit(Reconnecting(reason=reason, attempt=attempt, delay_s=delay))
            if await _wait_event(self._closing, delay):
                raise _Stop(None)
            handle = self._replay.handle
            seed = self._seed_turns()
            try:
                ws, early = await open_connection(self.endpoint, self._setup_text(bool(seed)), self.options)
            except SetupRejected as exc:
                if handle is not None and exc.code == 1008 and not exc.http:
                    self._replay.forget_handle()  # expired or ended: start afresh rather than give up
                    reason = lost_reason = f"resumption refused: {exc.reason}"
                    continue
                if exc.code in (FATAL_HTTP_STATUSES if exc.http else FATAL_CLOSE_CODES):
                    raise _Stop(Closed(exc.code, exc.reason, error=True)) from None
                reason = str(exc)
                continue
            except ConnectFailed as exc:
                reason = str(exc)
                continue
            if self._closing.is_set():
                await _close_quietly(ws, 1000, "client closed the session")
                raise _Stop(None)
            await self._resume(ws, early, attempt, lost_reason, seed)
            return ws

    async def _resume(
        self,
        ws: ClientConnection,
        early: list[ServerEvent],
        attempt: int,
        lost: str,
        seed: list[HistoryTurn],
    ) -> None:
        resumed = self._replay.handle is not None
        self.connections += 1
        resend = self._replay.restart(fresh=not resumed, skipped=1 if seed else 0)
        self._take(early)
        self._emit(Connected(attempt=attempt, resumed=resumed))
        if not resumed:
            self._answer_end.reset()
            detail = lost or "no resumption handle yet"
            known = "with only the text of" if seed else "without"
            self._emit(ContextLost(f"{detail}; the model starts {known} the conversation so far"))
        with contextlib.suppress(ConnectionClosed):  # still recorded: the next resume sends them again
            if seed:
                await self._send_seed(ws, seed)
            for text in resend:
                await ws.send(text)
        if resumed:
            self._emit(Resumed(replayed=len(resend)))


def _describe(end: _End) -> str:
    return f"connection closed ({end.code} {end.reason})" if end.reason else f"connection closed ({end.code})"


async def _wait_event(event: asyncio.Event, timeout_s: float) -> bool:
    """True when ``event`` was set within ``timeout_s``."""
    if event.is_set():
        return True
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout_s)
    return event.is_set()


async def _close_quietly(ws: ClientConnection, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await ws.close(code, reason)
