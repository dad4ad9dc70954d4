"""The bot's side of the group calls: runs the call worker as a child process and drives `CallPlan`.

The worker (``python -m rholive.telegram.voicechat.worker``) is started on the first ``/join`` and talks JSON
lines over its stdin/stdout. If it dies — an exception, ``os.abort()``, a segfault in native code — this side
sees the pipe close, reads the exit status, tells every affected chat, and the plan rejoins through a new
worker after a backoff. The voice-note bot shares nothing with the worker but that pipe, so it keeps
answering whatever happens there.

One driver task does everything in order: commands from the chat, events from the worker, the plan's
deadlines. It reads the clock and hands the time to the pure plan.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import json
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from rholive.live import Endpoint
from rholive.telegram.voicechat import texts as say
from rholive.telegram.voicechat.plan import CallPlan, Effect, Join, Leave, PlanOptions, Say, State
from rholive.telegram.voicechat.speaker import MIX

log = logging.getLogger("rholive.telegram.voicechat")
Tell = Callable[[int, str], Awaitable[None]]
COMMANDS = ("join", "leave", "call")  # /call: where the userbot is in this group
STOP_GRACE_S = 10.0


@dataclass
class VoiceChatConfig:
    """What the worker needs. ``session``/``api_id``/``api_hash`` are secrets: they go to the worker over
    its stdin only, and never into a repr, a log line or an exception."""

    session: str = field(repr=False)
    api_id: int = field(repr=False)
    api_hash: str = field(repr=False)
    speakers: str = MIX  # "mix" everyone, or follow the "active" speaker
    plan: PlanOptions = field(default_factory=PlanOptions)
    client_factory: str | None = None  # module:function making the CallClient (tests: a fake)
    client_options: dict[str, Any] = field(default_factory=dict)
    system_instruction: str | None = None
    voice_name: str | None = None
    model: str | None = None
    ca_file: str | None = None  # the CA the Live endpoint's certificate is checked against (--ca-file)

    def with_defaults(
        self, model: str, instruction: str | None, voice: str | None, ca_file: str | None = None
    ) -> VoiceChatConfig:
        """Fill what the flags left open from the bot's own settings."""
        return dataclasses.replace(
            self,
            model=self.model or model,
            system_instruction=self.system_instruction or instruction,
            voice_name=self.voice_name or voice,
            ca_file=self.ca_file or ca_file,
        )

    @property
    def secrets(self) -> list[str]:
        return [self.session, self.api_hash, str(self.api_id)]

    def worker_config(self, endpoint: Endpoint) -> dict[str, Any]:
        setup = {"system_instruction": self.system_instruction, "voice_name": self.voice_name}
        if self.model:
            setup["model"] = self.model
        return {
            "session": self.session,
            "api_id": self.api_id,
            "api_hash": self.api_hash,
            "speakers": self.speakers,
            "client_factory": self.client_factory,
            "client_options": self.client_options,
            "setup": setup,
            "endpoint": {
                "base_url": endpoint.base_url,
                "api_key": endpoint.api_key,
                "ephemeral_token": endpoint.ephemeral_token,
                "api_version": endpoint.api_version,
                "ca_file": self.ca_file,
            },
        }


class WorkerProcess:
    """One child worker: send commands, read events; ``exit_status`` once its pipe has closed."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, config: dict[str, Any]) -> WorkerProcess:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "rholive.telegram.voicechat.worker",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 20,
        )
        worker = cls(proc)
        worker.send(config)
        return worker

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        if self.proc.stdin.is_closing():
            return
        self.proc.stdin.write((json.dumps(message) + "\n").encode())

    async def next_event(self) -> dict[str, Any] | None:
        """The next event, or None when the worker's stdout closed (it exited or died)."""
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            try:
                event = json.loads(line)
            except ValueError:
                log.warning("unreadable line from the call worker (%d bytes)", len(line))
                continue
            if isinstance(event, dict) and "event" in event:
                return event
        return None

    async def wait(self) -> int:
        return await self.proc.wait()

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.send({"cmd": "quit"})
            with contextlib.suppress(Exception):
                self.proc.stdin.close()  # type: ignore[union-attr]
            try:
                await asyncio.wait_for(self.proc.wait(), STOP_GRACE_S)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


def describe_exit(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"the call worker was killed by {signal.Signals(-code).name}"
        return f"the call worker was killed by signal {-code}"
    return f"the call worker exited with code {code}"


class VoiceChatSupervisor:
    def __init__(
        self,
        config: VoiceChatConfig,
        endpoint: Endpoint,
        tell: Tell,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.endpoint = endpoint
        self.plan = CallPlan(config.plan)
        self.worker: WorkerProcess | None = None
        self.worker_starts = 0
        self.exits: list[int] = []  # exit status of every worker that ended
        self.events: collections.Counter[str] = collections.Counter()  # worker events seen, by name
        self._tell = tell
        self._clock = clock
        self._inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._driver: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._sayings: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
        self._sayer: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ the bot's side

    def submit(self, chat_id: int, command: str) -> None:
        """From a handler (synchronous, keeps the updates' order): ``join``, ``leave`` or ``call``."""
        if self._driver is None:
            self._driver = asyncio.create_task(self._drive(), name="voicechat-supervisor")
            self._sayer = asyncio.create_task(self._say_in_order(), name="voicechat-status")
        self._inbox.put_nowait(("command", (chat_id, command)))

    async def close(self) -> None:
        for task in (self._driver, self._reader):
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t in (self._driver, self._reader) if t), return_exceptions=True)
        if self.worker is not None:
            await self.worker.stop()
            self.worker = None
        if self._sayer is not None:
            self._sayer.cancel()
            await asyncio.gather(self._sayer, return_exceptions=True)

    # ------------------------------------------------------------------ the driver

    async def _drive(self) -> None:
        # One get() task outlives timeouts: cancelling a get() as an item arrives could lose that item.
        getter: asyncio.Task[tuple[str, Any]] | None = None
        try:
            while True:
                deadline = self.plan.next_deadline()
                timeout = None if deadline is None else max(0.0, deadline - self._clock())
                getter = getter or asyncio.ensure_future(self._inbox.get())
                done, _ = await asyncio.wait({getter}, timeout=timeout)
                kind, payload = ("tick", None)
                if done:
                    kind, payload = getter.result()
                    getter = None
                await self._safe_step(kind, payload)
        finally:
            if getter is not None:
                getter.cancel()

    async def _safe_step(self, kind: str, payload: Any) -> None:
        try:
            await self._step(kind, payload)
        except Exception:  # a bug here must not end the supervisor: the next input gets a fresh try
            log.exception("voice chat supervisor step failed (%s)", kind)

    async def _step(self, kind: str, payload: Any) -> None:
        now = self._clock()
        if kind == "command":
            effects = self._command(*payload, now)
        elif kind == "event":
            effects = self._event(payload, now)
        elif kind == "died":
            effects = self._died(payload, now)
        else:
            effects = []
        effects += self.plan.tick(now)
        await self._apply(effects, now)

    def _command(self, chat_id: int, command: str, now: float) -> list[Effect]:
        if chat_id > 0:
            return [Say(chat_id, say.NOT_A_GROUP)]
        if command == "join":
            return self.plan.join_requested(chat_id, now)
        if command == "leave":
            return self.plan.leave_requested(chat_id, now)
        return [Say(chat_id, self.plan.status(chat_id))]

    def _event(self, event: dict[str, Any], now: float) -> list[Effect]:
        name, chat_id = event.get("event"), event.get("chat_id")
        self.events[str(name)] += 1
        if name == "joined":
            return self.plan.joined(chat_id, now)
        if name == "left":
            return self.plan.left(chat_id, now)
        if name == "dropped":
            return self.plan.dropped(chat_id, now, str(event.get("reason") or "no reason given"))
        if name == "speech":
            return self.plan.heard_speech(chat_id, now)
        if name == "error":
            message, permanent = str(event.get("message") or "unknown error"), bool(event.get("permanent"))
            if chat_id is None:  # the worker itself could not start: every pending join fails
                log.warning("call worker error: %s", message)
                return [
                    e
                    for c in self.plan.active()
                    for e in self.plan.join_failed(c, now, message, permanent=permanent)
                ]
            return self.plan.join_failed(chat_id, now, message, permanent=permanent)
        return []

    def _died(self, code: int, now: float) -> list[Effect]:
        self.worker = None
        self.exits.append(code)
        if code == 0 and not self.plan.active():
            return []
        log.warning("%s", describe_exit(code))
        return self.plan.worker_died(now, describe_exit(code))

    async def _apply(self, effects: list[Effect], now: float) -> None:
        for effect in effects:
            if isinstance(effect, Say):
                self._sayings.put_nowait((effect.chat_id, effect.text))
            elif isinstance(effect, Join):
                try:
                    worker = await self._ensure_worker()
                except OSError as e:  # cannot even start the child: tell the chat, do not retry
                    message = f"cannot start the call worker ({type(e).__name__})"
                    await self._apply(
                        self.plan.join_failed(effect.chat_id, now, message, permanent=True), now
                    )
                    continue
                worker.send({"cmd": "join", "chat_id": effect.chat_id})
            elif isinstance(effect, Leave):
                if self.worker is None:  # nothing holds the call any more
                    await self._apply(self.plan.left(effect.chat_id, now), now)
                else:
                    self.worker.send({"cmd": "leave", "chat_id": effect.chat_id})

    async def _ensure_worker(self) -> WorkerProcess:
        if self.worker is None:
            self.worker = await WorkerProcess.start(self.config.worker_config(self.endpoint))
            self.worker_starts += 1
            self._reader = asyncio.create_task(self._read(self.worker), name="voicechat-worker-reader")
        return self.worker

    async def _read(self, worker: WorkerProcess) -> None:
        while (event := await worker.next_event()) is not None:
            self._inbox.put_nowait(("event", event))
        self._inbox.put_nowait(("died", await worker.wait()))

    async def _say_in_order(self) -> None:
        while True:
            chat_id, text = await self._sayings.get()
            try:
                await self._tell(chat_id, text)
            except Exception:  # a failed status line must not stop the supervisor
                log.exception("could not tell chat %s about its voice chat", chat_id)

    def state(self, chat_id: int) -> State:
        return self.plan.state(chat_id)


class VoiceChatsOff:
    """Stands in when no user account is configured: ``/join`` says how to set voice chats up."""

    def __init__(self, tell: Tell) -> None:
        self._tell = tell
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, chat_id: int, command: str) -> None:
        task = asyncio.create_task(self._tell(chat_id, say.NOT_SET_UP))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
