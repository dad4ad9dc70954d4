"""One Live WebSocket connection: setup, the reader loop, the ordered writer, replies, timers and faults.

Every client message is applied synchronously (index, turn state, tool results) before anything is awaited,
so a resumption snapshot taken at any await point captures exactly messages 0..index. Everything sent goes
through one FIFO writer, so the order of server messages is the order in which they were decided.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from rholive.emulator import rules, setup_checks
from rholive.emulator.auth import Auth, Credential, Refused, apply_locked_setup
from rholive.emulator.brains import Brain
from rholive.emulator.conversation import Conversation, Store
from rholive.emulator.faults import CHAOS_GOAWAY_S, COUNTED, RESUME_REFUSALS, Chaos, ChaosDraws
from rholive.emulator.options import EmulatorOptions
from rholive.emulator.replies import FollowUp, Produced, Replier, turn_tokens, usage_metadata
from rholive.emulator.rules import INVALID_ARGUMENT, POLICY, ContextUpdate, Rejection
from rholive.emulator.session_config import (
    SessionConfig,
    parse_setup,
    parse_tools,
    served_like_the_default,
    system_text,
)
from rholive.emulator.turns import (
    Context,
    ContextChanged,
    Interrupt,
    ToolResults,
    TurnClosed,
    TurnTaker,
)
from rholive.live import models

log = logging.getLogger("rholive.emulator")

SETUP_TIMEOUT_S = 30.0
SENSITIVITY_THRESHOLD = {"START_SENSITIVITY_HIGH": 0.5, "START_SENSITIVITY_LOW": 2.0}


@dataclass
class Hub:
    """What all connections of one emulator share."""

    options: EmulatorOptions
    auth: Auth
    store: Store
    make_brain: Callable[[], Brain]
    fired: set[str] = field(default_factory=set)  # faults that already fired (faults_once)
    chaos: ChaosDraws = field(default_factory=lambda: ChaosDraws(0.0, 0))
    numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))  # connections, from 1


def duration(seconds: float) -> str:
    """Protobuf JSON duration: ``"50s"``, ``"0.5s"``."""
    text = f"{seconds:.3f}".rstrip("0").rstrip(".")
    return f"{text}s"


def close_reason(reason: str) -> bytes:
    """A close reason must fit in 123 bytes of UTF-8."""
    data = reason.encode()
    if len(data) <= 123:
        return data
    return data[:120].decode(errors="ignore").encode() + b"..."


class Connection:
    def __init__(
        self, hub: Hub, ws: web.WebSocketResponse, request: web.Request, version: str, credential: Any
    ) -> None:
        self.hub = hub
        self.ws = ws
        self.request = request
        self.version = version
        self.credential: Credential | Refused = credential
        self.number = next(hub.numbers)
        self._chaos: Chaos | None = None  # the failure drawn for this connection (--chaos)
        self._stalled = False  # a stalled connection answers nothing more
        self.index = -1  # index of the last consumed client message (setup is 0)
        self.conversation: Conversation | None = None
        self.config: SessionConfig | None = None
        self._out: asyncio.Queue[tuple[dict[str, Any], asyncio.Future[None] | None]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[Any]] = []
        self._reply: asyncio.Task[Any] | None = None
        self._reply_turn: Any = None  # the user turn the running reply answers (None: a tool follow-up)
        self._follow_ups: collections.deque[FollowUp] = collections.deque()
        self._closing = False
        self._close_task: asyncio.Task[bool] | None = None
        self._limit_task: asyncio.Task[Any] | None = None
        self._update_due = False

    # ------------------------------------------------------------------ output

    def post(self, message: dict[str, Any]) -> None:
        self._out.put_nowait((message, None))

    async def send(self, message: dict[str, Any]) -> None:
        """Queue a message and wait until it is written (replies pace themselves on this)."""
        done = asyncio.get_running_loop().create_future()
        self._out.put_nowait((message, done))
        await done

    async def _writer(self) -> None:
        while True:
            message, done = await self._out.get()
            try:
                if not self.ws.closed:
                    await self.ws.send_str(json.dumps(message))
            except (ConnectionError, RuntimeError) as exc:
                if done is not None and not done.done():
                    done.set_exception(ConnectionError(f"connection closed: {exc}"))
                continue
            if done is not None and not done.done():
                done.set_result(None)

    async def close(self, code: int, reason: str) -> None:
        """Close with a code and reason; the closing handshake runs in its own task, so cancelling the
        caller (a timer) cannot cut it short."""
        if self._close_task is None:
            self._closing = True
            log.debug("closing connection: %s %s", code, reason)
            self._cancel_work()
            self._close_task = asyncio.create_task(self.ws.close(code=code, message=close_reason(reason)))
        await asyncio.shield(self._close_task)

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (the client sees 1006)."""
        self._closing = True
        self._cancel_work()
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    def supersede(self) -> None:
        """Another connection resumed this conversation: stop touching its state right now, then close."""
        if self._closing:
            return
        self._closing = True
        self._cancel_work()
        self._tasks.append(asyncio.create_task(self._close_superseded()))

    async def _close_superseded(self) -> None:
        self._close_task = asyncio.create_task(
            self.ws.close(code=1000, message=close_reason("Session resumed on another connection"))
        )
        await asyncio.shield(self._close_task)

    def _cancel_work(self) -> None:
        if self._reply is not None:
            self._reply.cancel()
        if self._limit_task is not None:
            self._limit_task.cancel()

    # ------------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        self._tasks.append(asyncio.create_task(self._writer()))
        try:
            if await self._setup():
                await self._read_loop()
        except Rejection as rejection:
            await self.close(rejection.code, rejection.reason)
        except Exception as exc:  # a message no check foresaw: refuse it rather than die with 1000
            log.debug("unexpected error while handling a client message", exc_info=True)
            await self.close(INVALID_ARGUMENT, f"Invalid client message: {type(exc).__name__}: {exc}")
        finally:
            self._cancel_work()
            if self.conversation is not None and self.conversation.live is self:
                self.conversation.live = None
                self.hub.store.touch(self.conversation)
            for task in self._tasks:
                task.cancel()
            if self._close_task is not None:
                with contextlib.suppress(Exception):
                    await self._close_task
            elif not self.ws.closed:
                await self.ws.close()

    async def _receive(self, limit_s: float | None = None) -> str | bytes | None:
        message = await self.ws.receive(timeout=limit_s)
        if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
            return message.data
        return None

    async def _setup(self) -> bool:
        try:
            data = await self._receive(SETUP_TIMEOUT_S)
        except TimeoutError:
            await self.close(1008, "No setup message received")
            return False
        if data is None:
            return False
        self.index = 0
        if isinstance(self.credential, Refused):
            await self.close(POLICY, self.credential.reason)
            return False
        name, body = rules.split_message(rules.decode_frame(data))
        if name != "setup":
            raise Rejection(f"The first message must be setup (got {name})")
        token = self.credential.token
        if token is not None and isinstance(body, dict):
            body = apply_locked_setup(body, token)
        config = parse_setup(body, self.version, tuple(self.hub.options.extra_models))
        try:
            self.hub.auth.admit(self.credential, resuming=config.resumption_handle is not None)
        except Refused as refused:
            await self.close(POLICY, refused.reason)
            return False
        self._chaos = self.hub.chaos.draw(self.number, resuming=bool(config.resumption_handle))
        refusal = self._resume_refusal(config)
        if refusal is not None:
            await self.close(refusal, RESUME_REFUSALS[refusal])
            return False
        loop = asyncio.get_running_loop()
        if config.resumption_handle:
            conversation = self.hub.store.resume(config.resumption_handle)
        else:
            conversation = self.hub.store.new(self.hub.make_brain(), loop.time())
            conversation.state.seeding = config.history_seeding
        conversation.connections += 1
        if conversation.live is not None and conversation.live is not self:
            conversation.live.supersede()  # one connection at a time drives a conversation
        conversation.live = self
        self.conversation, self.config = conversation, config
        self.context = Context(config.system_instruction, dict(config.tools))
        self.taker = TurnTaker(config, conversation.state, self.context)
        self._configure_vad()
        self.replier = Replier(
            self.send,
            config,
            self.hub.options,
            conversation.brain,
            self.context,
            conversation.tool_results,
            mid_answer=self._mid_answer,
        )
        self.post({"setupComplete": {}})
        self._resumption_update()
        self._start_timers()
        self._maybe_reply()
        return await self._faults()

    def _configure_vad(self) -> None:
        assert self.config is not None and self.conversation is not None
        options, vad = self.hub.options, self.conversation.state.vad
        vad.silence_ms = self.config.silence_duration_ms or options.silence_duration_ms
        prefix = self.config.prefix_padding_ms
        vad.prefix_ms = options.prefix_padding_ms if prefix is None else prefix
        factor = SENSITIVITY_THRESHOLD.get(self.config.start_sensitivity or "", 1.0)
        vad.threshold = options.vad_threshold * factor

    async def _read_loop(self) -> None:
        while not self._closing:
            data = await self._receive()
            if data is None or self._closing:
                return
            self.index += 1
            self._consume(data)
            if not await self._faults():
                return

    def _consume(self, data: str | bytes) -> None:
        """Apply one client message; all state changes happen here, synchronously."""
        assert self.config is not None and self.conversation is not None
        messages = rules.parse_message(rules.decode_frame(data), self.config.auto_detection)
        had_video = self.conversation.state.has_video
        self._update_due = False
        for message in messages:
            for effect in self.taker.apply(message):
                if isinstance(effect, Interrupt):
                    self._interrupt()
                elif isinstance(effect, TurnClosed):
                    self._transcribe_input(effect)
                    self._maybe_reply()
                elif isinstance(effect, ToolResults):
                    self._tool_results(effect)
                elif isinstance(effect, ContextChanged):
                    self._update_context(effect.update)
        if self.conversation.state.has_video and not had_video:
            self._start_limit()  # audio+video sessions have the shorter limit
        if self._update_due:  # after the whole message is applied, so the snapshot holds all of it
            self._resumption_update()

    # ------------------------------------------------------------------ replies

    def _tool_results(self, effect: ToolResults) -> None:
        for follow_up in self.replier.resolve(effect.results):
            if follow_up.result.scheduling == "INTERRUPT":
                self._interrupt(force=True)  # cut the current answer to speak about the result now
            self._follow_ups.append(follow_up)  # WHEN_IDLE: after the current answer
        self._maybe_reply()

    def _update_context(self, update: ContextUpdate) -> None:
        assert self.config is not None
        if update.instruction is not None:
            setup_checks.check_instruction(update.instruction, "contextUpdate.systemInstruction")
            self.context.instruction = system_text(update.instruction)
        if update.tools is not None:
            model = models.lookup(self.config.model) or served_like_the_default(self.config.model)
            self.context.tools = parse_tools(update.tools, model, "contextUpdate.tools.tools")

    def _interrupt(self, force: bool = False) -> None:
        """Stop the reply in progress: interrupted, then turnComplete (clients flush playback there)."""
        assert self.config is not None and self.conversation is not None
        if self._reply is None or self._reply.done() or not (self.config.interrupts or force):
            return
        ids = self.replier.cancel_calls()  # before cancelling the task, which would cancel the futures
        self._reply.cancel()
        self._reply = None
        if self._reply_turn is not None:
            self.conversation.state.answered += 1  # the interrupted turn got the answer it got
        if ids:
            self.post({"toolCallCancellation": {"ids": ids}})
        self.post({"serverContent": {"interrupted": True}})
        self.post({"serverContent": self._turn_complete()})
        self._update_due = True  # the interrupted turn is settled: a new resumption point

    def _turn_complete(self) -> dict[str, Any]:
        content: dict[str, Any] = {"turnComplete": True}
        if self.config is not None and self.config.interaction_status:
            content["interactionStatus"] = self.replier.status()
        return content

    def _transcribe_input(self, closed: TurnClosed) -> None:
        assert self.config is not None
        if not self.config.input_transcription:
            return
        turn = closed.turn
        pieces = [turn.text] if turn.text else []
        if turn.audio_seconds:
            pieces.append(f"[{turn.audio_seconds:.1f} s of audio]")  # no ASR here: say what was heard
        if pieces:
            self.post({"serverContent": {"inputTranscription": {"text": " ".join(pieces)}}})

    @property
    def _busy(self) -> bool:
        """The model generates or a tool runs: a handle given now cannot be resumed."""
        return (self._reply is not None and not self._reply.done()) or self.replier.running_tools

    def _maybe_reply(self) -> None:
        if self._closing or self._stalled or (self._reply is not None and not self._reply.done()):
            return
        assert self.conversation is not None
        if self._follow_ups:  # a tool result waited for the answer before it to end
            self._reply_turn = None
            self._reply = asyncio.create_task(self._speak_follow_up(self._follow_ups.popleft()))
            return
        turn = self.conversation.state.unanswered()
        if turn is not None and self._stalls(turn):
            self._stalled = True  # the socket stays open and pings are answered: only a watchdog helps
            return
        if turn is not None:
            self._reply_turn = turn
            self._reply = asyncio.create_task(self._answer(turn))

    async def _answer(self, turn: Any) -> None:
        assert self.conversation is not None and self.config is not None
        state = self.conversation.state
        produced = await self._streamed(self.replier.reply(turn, list(state.turns[: turn.number - 1])))
        if produced is None:
            return
        # Done streaming; no await from here on, so nothing can interrupt or interleave.
        state.answered += 1
        self._finish(turn_tokens(turn, self.config.low_media_resolution), produced)

    async def _speak_follow_up(self, follow_up: FollowUp) -> None:
        produced = await self._streamed(self.replier.follow_up(follow_up))
        if produced is not None:
            self._finish({}, produced)

    async def _streamed(self, reply: Any) -> Produced | None:
        """Run a reply to its end; None when the connection failed under it."""
        try:
            return await reply
        except ConnectionError:
            return None
        except Exception:
            log.exception("reply failed")
            await self.close(1011, "Internal error while generating the reply")
            return None

    def _finish(self, prompt: dict[str, int], produced: Produced) -> None:
        self._reply = None
        self._reply_turn = None
        # usage rides on the turnComplete message, like the service: clients that stop reading at
        # turnComplete (the SDK's receive()) still get it
        usage = usage_metadata(prompt, produced.tokens())
        self.post({"serverContent": self._turn_complete(), "usageMetadata": usage})
        self._resumption_update()
        self._maybe_reply()

    def _resumption_update(self) -> None:
        assert self.config is not None and self.conversation is not None
        if not self.config.resumption:
            return
        resumable = not self._busy
        handle = self.hub.store.snapshot(self.conversation, resumable)
        update: dict[str, Any] = {"newHandle": handle, "resumable": resumable}
        if self.config.transparent:
            update["lastConsumedClientMessageIndex"] = str(self.index)  # int64: a string in JSON
        self.post({"sessionResumptionUpdate": update})

    # ------------------------------------------------------------------ timers and faults

    def _start_timers(self) -> None:
        lifetime = self.hub.options.connection_lifetime_s
        if lifetime is not None:
            self._tasks.append(asyncio.create_task(self._lifetime(lifetime)))
        self._start_limit()

    async def _lifetime(self, lifetime: float) -> None:
        notice = min(max(self.hub.options.goaway_notice_s, 0.0), lifetime)
        await asyncio.sleep(lifetime - notice)
        await self._go_away(notice)

    async def _go_away(self, notice: float) -> None:
        self.post({"goAway": {"timeLeft": duration(notice)}})
        await asyncio.sleep(notice)
        await self.close(1011, "Deadline expired")

    def _start_limit(self) -> None:
        assert self.config is not None and self.conversation is not None
        if self._limit_task is not None:
            self._limit_task.cancel()
            self._limit_task = None
        if self.config.compression:
            return
        video = self.conversation.state.has_video
        options = self.hub.options
        limit = options.video_session_limit_s if video else options.audio_session_limit_s
        if limit is not None:
            self._limit_task = asyncio.create_task(self._session_limit(limit, video))

    async def _session_limit(self, limit: float, video: bool) -> None:
        assert self.conversation is not None
        left = self.conversation.started_at + limit - asyncio.get_running_loop().time()
        await asyncio.sleep(max(left, 0.0))
        kind = "audio+video" if video else "audio"
        reason = f"Session limit reached: {kind} sessions last {limit:g} s without contextWindowCompression"
        self.conversation.ended = reason
        self._limit_task = None
        await self.close(1000, reason)

    async def _faults(self) -> bool:
        """Fire the fault flags once this connection has received the configured number of messages.
        Returns False when the connection is gone."""
        options, count = self.hub.options, self.index + 1
        if options.drop_after_messages == count and self._arm("drop"):
            self.abort()
            return False
        if options.close_code is not None and options.close_after_messages == count and self._arm("close"):
            await self.close(options.close_code, f"Emulator fault: closing after {count} client messages")
            return False
        chaos = self._chaos
        if chaos is None or chaos.kind not in COUNTED or chaos.at_message != count:
            return True
        return await self._counted_chaos(chaos.kind)

    async def _counted_chaos(self, kind: str) -> bool:
        self._chaos = None
        if kind == "drop":
            self.abort()
            return False
        if kind == "close_1011":
            await self.close(1011, "Internal error encountered.")
            return False
        self._tasks.append(asyncio.create_task(self._go_away(CHAOS_GOAWAY_S)))  # goaway
        return True

    def _chaos_now(self, kind: str) -> bool:
        """True once, when the failure drawn for this connection is ``kind``."""
        if self._chaos is None or self._chaos.kind != kind:
            return False
        self._chaos = None
        return True

    def _first_time(self, fault: str, turn_number: int) -> bool:
        """A fault hits a turn of a conversation once: the resumed connection gets the answer."""
        assert self.conversation is not None
        key = (fault, turn_number)
        if key in self.conversation.faulted:
            return False
        self.conversation.faulted.add(key)
        return True

    def _resume_refusal(self, config: SessionConfig) -> int | None:
        """The close code a resuming setup is refused with (--refuse-resume, chaos), or None."""
        if not config.resumption_handle:
            return None
        if self._chaos is not None and self._chaos.kind == "refuse_resume":
            return self._chaos.code
        refuse = self.hub.options.refuse_resume
        return refuse if refuse is not None and self._arm("refuse_resume") else None

    def _stalls(self, turn: Any) -> bool:
        chosen = self._chaos_now("stall") or self.hub.options.stall_after == turn.number
        return chosen and self._first_time("stall", turn.number)

    async def _mid_answer(self) -> None:
        """Failures in the middle of an answer to a user turn (not of a tool follow-up)."""
        turn, options = self._reply_turn, self.hub.options
        if turn is None:
            return
        if options.unresumable_while_generating or self._chaos_now("unresumable"):
            self._unresumable_update()
        if options.split_turn_complete or self._chaos_now("split_turn_complete"):
            await self.send({"serverContent": {"turnComplete": True}})  # the rest of the sentence follows
        dropping = options.drop_mid_answer or self._chaos_now("drop_mid_answer")
        if dropping and self._first_time("drop_mid_answer", turn.number):
            self.abort()
            raise ConnectionError("dropped in the middle of the answer (fault)")

    def _unresumable_update(self) -> None:
        """What the service says while it generates: not resumable now, and no handle to resume."""
        assert self.config is not None
        if not self.config.resumption:
            return
        update: dict[str, Any] = {"resumable": False}
        if self.config.transparent:
            update["lastConsumedClientMessageIndex"] = str(self.index)
        self.post({"sessionResumptionUpdate": update})

    def _arm(self, fault: str) -> bool:
        if not self.hub.options.faults_once:
            return True
        if fault in self.hub.fired:
            return False
        self.hub.fired.add(fault)
        return True
