"""The call worker: a child process that holds the group calls, so a crash of the call library (ntgcalls is
native code) kills this process and never the voice-note bot.

``python -m rholive.telegram.voicechat.worker`` speaks JSON lines: it reads its config (one line, with the
secrets: they never travel in argv or the environment) and then commands on stdin, and writes events on
stdout. stdout is moved to a private descriptor first and fd 1 pointed at stderr, so whatever a library
prints (py-tgcalls prints a banner) cannot corrupt the event stream.

Commands: ``{"cmd": "join"|"leave", "chat_id": N}``, ``{"cmd": "status"}``, ``{"cmd": "quit"}``.
Events: ``ready``, ``joined``, ``left``, ``dropped`` (with ``reason``), ``speech`` (someone talks; at most one
per second per call), ``error`` (``kind``, ``message``, ``permanent``; ``chat_id`` null for the whole
worker), ``status`` (``calls``). End of stdin (the bot is gone) leaves every call and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

from rholive.audio import rms_dbfs
from rholive.connect import ca_context
from rholive.live import ActivityDetection, Endpoint, LiveSession, SetupConfig, ToolRegistry
from rholive.telegram.logsafe import RedactingFilter, install_redaction
from rholive.telegram.voicechat.bridge import VoiceChatBridge
from rholive.telegram.voicechat.client import (
    TRANSIENT,
    UNAVAILABLE,
    CallClient,
    ClientCallIO,
    FrameRouter,
    JoinError,
    load_factory,
)
from rholive.telegram.voicechat.speaker import MIX

log = logging.getLogger("rholive.telegram.voicechat")
DEFAULT_FACTORY = "rholive.telegram.voicechat.join:make_client"
SPEECH_DBFS = -45.0  # a frame this loud counts as someone speaking (for the idle leave)
SPEECH_EVERY_S = 1.0
SECRET_KEYS = ("session", "api_hash", "api_id", "api_key", "ephemeral_token")


@dataclass
class _Call:
    task: asyncio.Task[None]
    leaving: bool = False
    announced: bool = False  # "joined" was sent


class Worker:
    def __init__(self, config: dict[str, Any], out: Any, redactor: RedactingFilter) -> None:
        self.config = config
        self._out = out
        self._redactor = redactor
        self.router = FrameRouter()
        self.client: CallClient | None = None
        self.calls: dict[int, _Call] = {}
        self._quit = False
        # One call set up at a time. All calls in a process share ntgcalls' one peer connection factory, and
        # its video encoder factory is not safe to negotiate on from two calls at once (a double free). Joins
        # at the same moment are common: after a crash the new worker is asked to rejoin every call.
        self._setting_up = asyncio.Lock()

    # ------------------------------------------------------------------ events out

    def emit(self, event: str, **fields: Any) -> None:
        if isinstance(fields.get("message"), str):
            fields["message"] = self._redactor.redact(fields["message"])
        line = json.dumps({"event": event, **fields}) + "\n"
        self._out.write(line.encode())  # unbuffered: the line is in the pipe before anything else happens

    # ------------------------------------------------------------------ lifetime

    async def serve(self, commands: asyncio.StreamReader) -> int:
        try:
            factory = load_factory(self.config.get("client_factory") or DEFAULT_FACTORY)
            self.client = factory(self.config)
            self.client.on_frames(self.router)
            self.client.on_dropped(self._dropped)
            await self.client.start()
        except JoinError as e:
            self.emit("error", chat_id=None, kind=e.kind, message=e.message, permanent=e.permanent)
            return 3
        except Exception as e:  # a broken install or config: one clear line, and the bot goes on
            log.exception("the call client did not start")
            self.emit("error", chat_id=None, kind=UNAVAILABLE, message=_describe(e), permanent=True)
            return 3
        self.emit("ready")
        try:
            while line := await commands.readline():
                self._command(line)
                if self._quit:
                    break
        finally:
            await self._leave_all()
            with contextlib.suppress(Exception):
                await self.client.stop()
        return 0

    def _command(self, line: bytes) -> None:
        try:
            cmd = json.loads(line)
            name, chat_id = cmd["cmd"], cmd.get("chat_id")
        except (ValueError, KeyError, TypeError):
            self.emit("error", chat_id=None, kind="protocol", message="unreadable command", permanent=False)
            return
        if name == "join" and isinstance(chat_id, int):
            if chat_id not in self.calls:
                self.calls[chat_id] = _Call(asyncio.create_task(self._run_call(chat_id)))
            elif self.calls[chat_id].announced:
                self.emit("joined", chat_id=chat_id)
        elif name == "leave" and isinstance(chat_id, int):
            call = self.calls.get(chat_id)
            if call is None:
                self.emit("left", chat_id=chat_id)
            else:
                call.leaving = True
                call.task.cancel()
        elif name == "status":
            self.emit("status", calls=sorted(c for c, call in self.calls.items() if call.announced))
        elif name == "quit":
            self._quit = True
        else:
            self.emit(
                "error", chat_id=None, kind="protocol", message=f"unknown command {name!r}", permanent=False
            )

    async def _leave_all(self) -> None:
        for call in self.calls.values():
            call.leaving = True
            call.task.cancel()
        await asyncio.gather(*(c.task for c in self.calls.values()), return_exceptions=True)

    # ------------------------------------------------------------------ one call

    def _dropped(self, chat_id: int, reason: str) -> None:
        call = self.calls.get(chat_id)
        if call is not None and not call.leaving:
            call.task.cancel(msg=f"dropped: {reason}")

    async def _run_call(self, chat_id: int) -> None:
        assert self.client is not None
        outcome: tuple[str, dict[str, Any]] = ("left", {})
        joined = False
        try:
            async with self._setting_up:
                await self.client.join(chat_id)
            joined = True
            async with LiveSession(self._endpoint(), self._setup(), ToolRegistry()) as session:
                bridge = VoiceChatBridge(
                    ClientCallIO(self.client, self.router, chat_id),
                    session,
                    on_heard=self._speech_meter(chat_id),
                    speakers=self.config.get("speakers", MIX),
                )
                self.calls[chat_id].announced = True
                self.emit("joined", chat_id=chat_id)
                await bridge.run()
            outcome = ("dropped", {"reason": "the model session ended"})
        except JoinError as e:
            outcome = ("error", {"kind": e.kind, "message": e.message, "permanent": e.permanent})
        except asyncio.CancelledError as e:
            reason = str(e.args[0]) if e.args else ""
            if reason.startswith("dropped: "):
                outcome = ("dropped", {"reason": reason.removeprefix("dropped: ")})
                joined = False  # Telegram ended it: nothing to leave
        except Exception as e:  # the model session failed, or the call library raised
            log.exception("call %s failed", chat_id)
            outcome = ("error", {"kind": TRANSIENT, "message": _describe(e), "permanent": False})
        finally:
            self.router.unroute(chat_id)
            if joined:
                with contextlib.suppress(Exception):
                    await self.client.leave(chat_id)
            self.calls.pop(chat_id, None)
        self.emit(outcome[0], chat_id=chat_id, **outcome[1])

    def _speech_meter(self, chat_id: int) -> Any:
        last = [-SPEECH_EVERY_S]

        def heard(batch: list[tuple[int, bytes]]) -> None:
            now = time.monotonic()
            if now - last[0] >= SPEECH_EVERY_S and any(rms_dbfs(pcm) > SPEECH_DBFS for _s, pcm in batch):
                last[0] = now
                self.emit("speech", chat_id=chat_id)

        return heard

    def _endpoint(self) -> Endpoint:
        e = self.config.get("endpoint", {})
        return Endpoint(
            base_url=e.get("base_url"),
            api_key=e.get("api_key"),
            ephemeral_token=e.get("ephemeral_token"),
            api_version=e.get("api_version"),
            ssl=ca_context(e.get("ca_file")),
        )

    def _setup(self) -> SetupConfig:
        s = self.config.get("setup", {})
        extra = {"model": s["model"]} if s.get("model") else {}
        return SetupConfig(
            response_modality="AUDIO",
            system_instruction=s.get("system_instruction"),
            voice_name=s.get("voice_name"),
            output_transcription=True,
            activity_detection=ActivityDetection(silence_duration_ms=s.get("silence_duration_ms")),
            **extra,
        )


def _describe(e: BaseException) -> str:
    text = str(e).strip()
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


async def _main(out: Any) -> int:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    config = json.loads(await reader.readline() or b"{}")
    secrets = [str(config.get(k) or "") for k in SECRET_KEYS]
    secrets += [str(config.get("endpoint", {}).get(k) or "") for k in SECRET_KEYS]
    redactor = install_redaction(secrets)
    logging.getLogger().setLevel(config.get("log_level", logging.INFO))
    return await Worker(config, out, redactor).serve(reader)


def main() -> None:
    out = os.fdopen(os.dup(1), "wb", buffering=0)  # the event stream, on a private descriptor
    os.dup2(2, 1)  # anything printed by a library goes to stderr
    sys.stdout = sys.stderr
    sys.exit(asyncio.run(_main(out)))


if __name__ == "__main__":
    main()
