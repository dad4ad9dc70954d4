"""LiveSession: one conversation with a Live model, kept alive across connections.

A supervisor task owns the current socket and runs, per connection, one writer task (drains the ordered
``Outbox``) and one reader task (parses frames into typed events on the event queue). Realtime audio and video
sent while nothing waits in the outbox is written by the sender itself, in the same order (``_put``). When a connection
ends, the supervisor decides: the application closed it (stop), the server refused what we sent (1007,
1008: stop, report), or anything else (goAway, 1006, 1011, 1001, an unexpected 1000, a stall): reconnect,
resume with the latest handle, resend what the server had not consumed (``ReplayBuffer``), then go on with
the queue. A refused resume (1007/1008 on a setup with a handle) is not the end: a fresh session is seeded
with the transcript. A third task per connection watches the time: it leaves a goAway'd connection once the
answer in progress ends (or just before the deadline), and leaves a stalled one (``StallWatchdog``).
Every step is an event (Reconnecting, Connected, Resumed, ContextLost, ContextRestored, AnswerCut, Stalled,
Closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
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
    AnswerCut,
    AudioChunk,
    Closed,
    Connected,
    ContextLost,
    ContextRestored,
    Event,
    FrameDropped,
    GoAway,
    HistorySeeded,
    InputTranscription,
    ProtocolError,
    Reconnecting,
    Resumed,
    ResumptionUpdate,
    ServerEvent,
    SetupComplete,
    Stalled,
    ToolCall,
    ToolCallCancellation,
    TurnComplete,
    UnknownMessage,
    Usage,
    WaitingForInput,
    answer_text,
)
from rholive.live.options import SessionOptions
from rholive.live.outbox import Outbox, Outgoing
from rholive.live.reconnect import ReconnectPolicy
from rholive.live.replay import ReplayBuffer, ends_turn
from rholive.live.sending import Sender
from rholive.live.tools import ToolRegistry, ToolRunner
from rholive.live.transcript import Transcript
from rholive.live.usage import UsageTotals
from rholive.live.watchdog import StallWatchdog, Verdict
from rholive.live.wire import HistoryTurn, SetupConfig

log = logging.getLogger("rholive.live")

# Close codes that say the client sent something wrong: reconnecting would only repeat it.
FATAL_CLOSE_CODES = frozenset({1002, 1003, 1007, 1008, 1009, 1010})
FATAL_HTTP_STATUSES = frozenset({400, 401, 403, 404})
# A setup that carried a handle refused with these: the handle is gone (expired, unknown), not our setup.
RESUME_REFUSED_CODES = frozenset({1007, 1008})
# Server messages that say nothing about the answer: not progress for the stall watchdog.
NOT_PROGRESS = (ResumptionUpdate, Usage, GoAway, SetupComplete, UnknownMessage, ProtocolError)


@dataclass(frozen=True, slots=True)
class _End:
    """How one connection ended."""

    code: int | None
    reason: str
    why: str = ""  # "go_away" or "stall" when we left it for that reason (or the server closed after goAway)

    @property
    def go_away(self) -> bool:
        return self.why == "go_away"


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
        self._leave_at: float | None = None  # goAway: leave by then (loop time), or once the answer ends
        self._changed = (
            asyncio.Event()
        )  # the watcher looks again: a goAway or a frame after it, a turn went out
        self._watchdog = StallWatchdog(self.options.stall_timeout_s or math.inf)
        self._policy = ReconnectPolicy(self.options)
        self._supervisor: asyncio.Task[None] | None = None
        self._generation = 0  # bumped per connection: tool calls belong to the connection that made them
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
        """Unanswered messages no longer kept for a resume (answered turns are never kept): the server sent no resumption
        update for longer than the replay buffer holds: realtime audio/video outside a client-marked turn past its
        newest `ReplayBuffer.ambient_max_bytes` (1 MiB, ~24 s of audio), anything past `max_bytes` (16 MiB)."""
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

    async def _put(self, item: Outgoing) -> None:
        """Realtime media: written here when the socket is up and nothing waits before it (most chunks of a
        live stream), else queued for the writer. Either way recorded for a resume before the write."""
        ws = self._ws
        if ws is None or self._state != "open" or not self._outbox.take_direct():
            self._enqueue(item)
            return
        try:
            self._record(item)
            await ws.send(item.text)
            self._sent_now(item.text, item.tool)
        except ConnectionClosed:
            pass  # recorded: the resumed connection sends it again
        finally:
            self._outbox.sent()

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
        now = asyncio.get_running_loop().time()
        silence = False  # the model chose not to answer (yet): an answer for the watchdog
        for event in events:
            self._transcribe(event)
            if isinstance(event, ResumptionUpdate):
                self._replay.update(event.new_handle, event.resumable, event.last_consumed_index)
            elif isinstance(event, Usage):
                self.usage.add(event)
            elif isinstance(event, GoAway):
                self._leave_at = now + max(0.0, event.time_left_s - self.options.go_away_margin_s)
            if not isinstance(event, NOT_PROGRESS):
                piece = answer_text(event) is not None or isinstance(event, AudioChunk)
                self._watchdog.progress(now, answer_piece=piece)
            if isinstance(event, ToolCall):
                self._watchdog.tool_call()
            silence = silence or isinstance(event, WaitingForInput)
            silence = silence or (isinstance(event, TurnComplete) and event.reason is not None)
            self._emit(event)
            if self._runner is not None:
                if isinstance(event, ToolCall):
                    self._runner.start(event.calls)
                elif isinstance(event, ToolCallCancellation):
                    self._runner.cancel(event.ids)
        if self._answer_end.frame(events):
            self._replay.turn_complete()  # answered: never resent, whether or not a resumption update follows
            self.transcript.close()
            self._watchdog.answer_ended()
            self._emit(AnswerComplete())
        elif silence:
            self._watchdog.answer_ended()
        if self._leave_at is not None:
            self._changed.set()  # leaving after a goAway once the answer ends: the watcher looks at every frame
        # Otherwise a frame only moves the stall deadline later (or removes it): the watcher, asleep until the
        # earlier one, finds that out when it wakes. Waking it for every audio chunk cost a task switch each.

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
        closed: Closed | None = None
        try:
            while True:
                end = await self._serve(ws)
                if self._closing.is_set():
                    break
                self._connection_lost(end)
                if end.code in FATAL_CLOSE_CODES or not self.options.reconnect:
                    closed = Closed(end.code, end.reason, error=not end.go_away and end.code != 1000)
                    break
                ws = await self._reconnect(end)
        except _Stop as stop:
            closed = stop.closed
        finally:
            await self._finish(closed)

    def _connection_lost(self, end: _End) -> None:
        """An answer streaming on the lost connection is cut: say so; its turn is asked again."""
        if self._watchdog.connection_ended():
            self._cut_answer(end.why or _describe(end))

    def _cut_answer(self, reason: str) -> None:
        self._answer_end.reset()
        self._emit(AnswerCut(reason=reason, text=self.transcript.drop_open_answer()))

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
        """Read and write on one connection until it ends, or we leave it (goAway, stall)."""
        self._ws = ws
        self._leave_at = None
        reader = asyncio.create_task(self._read(ws), name="rholive-live-reader")
        writer = asyncio.create_task(self._write(ws), name="rholive-live-writer")
        watcher = asyncio.create_task(self._watch(), name="rholive-live-watcher")
        leaving = ""
        try:
            await asyncio.wait({reader, writer, watcher}, return_when=asyncio.FIRST_COMPLETED)
            writer.cancel()  # a dying or abandoned socket takes nothing more; the queue waits
            if watcher.done() and not watcher.cancelled():
                leaving = watcher.result()
            if not reader.done():
                if leaving:  # close the old socket first: resuming beside it fails
                    await _close_quietly(ws, 1000, f"{leaving}: resuming on a new connection")
                elif writer.done() and not writer.cancelled() and writer.exception() is not None:
                    await _close_quietly(ws, 1011, "client writer failed")
            await reader  # drains what arrived before the close (updates, last parts)
        finally:
            for task in (reader, writer, watcher):
                task.cancel()
            await asyncio.gather(reader, writer, watcher, return_exceptions=True)
            self._ws = None
        if not leaving and self._leave_at is not None:
            leaving = "go_away"  # the server closed it at its deadline
        return _End(ws.close_code, ws.close_reason or "", leaving)

    async def _watch(self) -> str:
        """Returns why to leave this connection: "go_away" (its answer ended, or its deadline is near) or
        "stall" (a turn stalled: the first time it is sent once more, the second time it is given up)."""
        loop = asyncio.get_running_loop()
        while True:
            self._changed.clear()
            now = loop.time()
            if self._leave_at is not None and (not self._watchdog.in_progress or now >= self._leave_at):
                return "go_away"
            streaming = self._watchdog.streaming
            verdict = self._watchdog.check(now)
            if verdict is Verdict.RECONNECT:
                return "stall"
            if verdict is Verdict.GIVE_UP:
                # leave this connection too: its stuck generation must not answer later, as if to another turn
                self._give_up_turn(streaming)
                return "stall"
            times = [
                t for t in (self._watchdog.deadline(), self._leave_at) if t is not None and math.isfinite(t)
            ]
            await _wait_event(self._changed, max(0.0, min(times) - now) if times else None)

    def _give_up_turn(self, streaming: bool) -> None:
        """A turn stalled on two connections: stop waiting for it, never send it again, say so once."""
        if streaming:
            self._cut_answer("stall")
        self._replay.turn_complete()
        self.transcript.close()
        self._emit(Stalled(timeout_s=self._watchdog.timeout_s))

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
                    self._record(item)
                    await ws.send(item.text)
                    self._sent_now(item.text, item.tool)
                finally:
                    self._outbox.sent()
        except ConnectionClosed:
            return
        except Exception:
            log.exception("Live session writer failed")
            raise

    def _record(self, item: Outgoing) -> None:
        evicted = self._replay.evicted
        self._replay.record(item.text, item.tool)
        if self._replay.evicted and not evicted:
            self._warn_evicted()

    def _warn_evicted(self) -> None:
        """Once per session: the replay buffer began forgetting input (every message is counted)."""
        replay = self._replay
        if replay.evicted_ambient:
            log.warning(
                "no resumption update for %d KiB of realtime input outside a turn: older input is no longer "
                "kept for a resume (counted in replay_evicted)",
                replay.ambient_max_bytes >> 10,
            )
        else:
            log.warning(
                "the server has sent no resumption update for %d MiB of unanswered input: the oldest part "
                "is no longer kept for a resume (counted in replay_evicted)",
                replay.max_bytes >> 20,
            )

    def _sent_now(self, text: str, tool: bool, new: bool = True) -> None:
        """A message went out: a turn's end makes an answer owed, a tool response lets the model go on."""
        now = asyncio.get_running_loop().time()
        if ends_turn(text):
            self._watchdog.turn_sent(now, new=new)
            self._changed.set()
        elif tool:
            self._watchdog.client_replied(now)
            self._changed.set()

    async def _reconnect(self, end: _End) -> ClientConnection:
        loop = asyncio.get_running_loop()
        reason = _leave_reason(end, self._watchdog.timeout_s)
        self._generation += 1
        if self._runner is not None:
            self._runner.cancel(self._runner.running)
        self._policy.connection_ended(loop.time())
        lost_reason = "" if self.config.session_resumption else "session resumption is off"
        refused = ""
        attempt = 0
        while True:
            attempt += 1
            delay = self._policy.delay_s()
            self._emit(Reconnecting(reason=reason, attempt=attempt, delay_s=delay))
            if await _wait_event(self._closing, delay):
                raise _Stop(None)
            handle = self._replay.handle
            seed = self._seed_turns()
            try:
                ws, early = await open_connection(self.endpoint, self._setup_text(bool(seed)), self.options)
            except SetupRejected as exc:
                if handle is not None and not exc.http and exc.code in RESUME_REFUSED_CODES:
                    # the handle is gone (expired, unknown, ended): continue afresh with the transcript
                    self._replay.forget_handle()
                    reason = lost_reason = refused = f"resumption refused ({exc.code}): {exc.reason}"
                    continue
                if exc.code in (FATAL_HTTP_STATUSES if exc.http else FATAL_CLOSE_CODES):
                    raise _Stop(Closed(exc.code, exc.reason, error=True)) from None
                reason = str(exc)
                self._connect_failed(end, reason)
                continue
            except ConnectFailed as exc:
                reason = str(exc)
                self._connect_failed(end, reason)
                continue
            self._policy.connected()
            if self._closing.is_set():
                await _close_quietly(ws, 1000, "client closed the session")
                raise _Stop(None)
            await self._resume(ws, early, attempt, lost_reason, seed, refused)
            return ws

    def _connect_failed(self, end: _End, reason: str) -> None:
        self._policy.connect_failed()
        if self._policy.gives_up:
            now = asyncio.get_running_loop().time()
            raise _Stop(Closed(end.code, self._policy.give_up_reason(now, reason), error=True))

    async def _resume(
        self,
        ws: ClientConnection,
        early: list[ServerEvent],
        attempt: int,
        lost: str,
        seed: list[HistoryTurn],
        refused: str = "",
    ) -> None:
        resumed = self._replay.handle is not None
        self.connections += 1
        resend = self._replay.restart(fresh=not resumed, skipped=1 if seed else 0)
        self._watchdog.connection_opened(asyncio.get_running_loop().time())
        self._take(early)
        self._emit(Connected(attempt=attempt, resumed=resumed))
        if not resumed:
            self._answer_end.reset()
            if refused and seed:
                self._emit(ContextRestored(turns=len(seed), reason=refused))
            else:
                detail = lost or "no resumption handle yet"
                known = "with only the text of" if seed else "without"
                self._emit(ContextLost(f"{detail}; the model starts {known} the conversation so far"))
        with contextlib.suppress(ConnectionClosed):  # still recorded: the next resume sends them again
            if seed:
                await self._send_seed(ws, seed)
            for text in resend:
                await ws.send(text)
                self._sent_now(text, tool=False, new=False)
        if resumed:
            self._emit(Resumed(replayed=len(resend)))


def _leave_reason(end: _End, stall_timeout_s: float) -> str:
    if end.why == "stall":
        return f"stall: no answer within {stall_timeout_s:g} s"
    return end.why or _describe(end)


def _describe(end: _End) -> str:
    return f"connection closed ({end.code} {end.reason})" if end.reason else f"connection closed ({end.code})"


async def _wait_event(event: asyncio.Event, timeout_s: float | None) -> bool:
    """True when ``event`` was set within ``timeout_s``."""
    if event.is_set():
        return True
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout_s)
    return event.is_set()


async def _close_quietly(ws: ClientConnection, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await ws.close(code, reason)
