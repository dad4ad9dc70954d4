"""A local fake of the Telegram Bot API (aiohttp on loopback) that aiogram long-polls.

It speaks what the voice-note bot uses: getMe, getUpdates (a real long poll), getFile and the file download
path, sendMessage, sendVoice (multipart; aiogram uploads the file under a random field and sends
``voice=attach://<field>``), sendChatAction. Tests push updates in, read what the bot sent (every request in
arrival order), make a method answer 429 with ``parameters.retry_after``, and wait on conditions instead of
sleeping.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 424242
BOT_USERNAME = "rholive_test_bot"


@dataclass
class Call:
    """One Bot API request as the fake received it."""

    seq: int
    method: str
    chat_id: int | None = None
    text: str | None = None
    caption: str | None = None
    voice: bytes | None = None
    voice_field: str | None = None  # the multipart field the upload came in (``attach://`` target)
    reply_to: int | None = None
    status: int = 200
    fields: dict[str, str] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)  # when the fake received it (turnaround figures)


@dataclass
class _Failure:
    method: str
    chat_id: int | None
    retry_after: int
    times: int


class FakeBotAPI:
    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.downloads: list[str] = []  # file paths served, in order
        self.polls = 0  # getUpdates requests received
        self.offsets: list[int] = []  # the offset of every getUpdates (what the bot confirmed)
        self.pushed_at: dict[int, float] = {}  # message id -> when the user sent it (time.monotonic)
        self.webhook: dict[str, str] = {}  # the last setWebhook's fields (url, secret_token, ...)
        self._updates: list[dict[str, Any]] = []
        self._files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, data)
        self._ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._seq = itertools.count(1)
        self._failures: list[_Failure] = []
        self.voice_forbidden: set[int] = set()  # chats whose privacy settings refuse voice messages
        self._changed = asyncio.Condition()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.url = ""

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> FakeBotAPI:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._method)
        app.router.add_get("/bot{token}/{method}", self._method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        self._closing = True
        await self._notify()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeBotAPI:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ what tests do

    def push_voice(self, chat_id: int, data: bytes, duration: int, kind: str = "voice") -> int:
        """A user sends a voice note (OGG/Opus bytes); returns its message id."""
        file_id = f"file-{next(self._ids)}"
        self._files[file_id] = (f"voice/{file_id}.oga", data)
        media = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(data),
        }
        return self._push(chat_id, {kind: media})

    def push_text(self, chat_id: int, text: str) -> int:
        return self._push(chat_id, {"text": text})

    def fail_next(
        self, method: str, chat_id: int | None = None, retry_after: int = 1, times: int = 1
    ) -> None:
        """The next ``times`` calls of ``method`` (to ``chat_id``, or any chat) answer 429 Too Many Requests."""
        self._failures.append(_Failure(method, chat_id, retry_after, times))

    def sent(self, chat_id: int, method: str | None = None, ok_only: bool = True) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.chat_id == chat_id
            and (method is None or c.method == method)
            and (not ok_only or c.status == 200)
            and c.method in ("sendMessage", "sendVoice")
        ]

    def replies(self, chat_id: int) -> list[Call]:
        """Messages and voice notes the bot delivered to a chat, in order."""
        return self.sent(chat_id)

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates the bot has not confirmed yet (Telegram would hand them over again)."""
        return list(self._updates)

    def count(self, method: str) -> int:
        return sum(1 for c in self.calls if c.method == method)

    async def wait_for(self, predicate: Callable[[], bool], limit_s: float = 30.0) -> None:
        """Until ``predicate()`` holds; re-checked on every request the fake serves (no polling loop)."""
        async with asyncio.timeout(limit_s), self._changed:
            await self._changed.wait_for(predicate)

    # ------------------------------------------------------------------ internals

    def _push(self, chat_id: int, content: dict[str, Any]) -> int:
        message_id = next(self._message_ids)
        chat_type = "private" if chat_id > 0 else "group"
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": chat_type, "first_name": "Tester", "title": "Test group"},
            "from": {"id": abs(chat_id), "is_bot": False, "first_name": "Tester"},
            **content,
        }
        if chat_type == "private":
            message["chat"].pop("title")
        self._updates.append({"update_id": next(self._ids), "message": message})
        self.pushed_at[message_id] = time.monotonic()
        asyncio.get_running_loop().create_task(self._notify())
        return message_id

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "rholive", "username": BOT_USERNAME},
            **content,
        }

    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        form = await request.post()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        chat_id = int(fields["chat_id"]) if "chat_id" in fields else None
        call = Call(seq=next(self._seq), method=method, chat_id=chat_id, fields=fields)
        if method == "getUpdates":
            self.polls += 1
            self.offsets.append(int(fields.get("offset", 0) or 0))
        else:
            self.calls.append(call)
        self._record(call, form)  # before any 429, so a refused upload can be compared with its retry
        try:
            failure = self._failure_for(method, chat_id)
            if failure is not None:
                call.status = 429
                return _error(
                    429,
                    f"Too Many Requests: retry after {failure.retry_after}",
                    {"retry_after": failure.retry_after},
                )
            return await self._answer(method, call)
        finally:
            await self._notify()

    def _failure_for(self, method: str, chat_id: int | None) -> _Failure | None:
        for failure in self._failures:
            if failure.method == method and failure.chat_id in (None, chat_id) and failure.times > 0:
                failure.times -= 1
                return failure
        return None

    def _record(self, call: Call, form: Any) -> None:
        fields = call.fields
        call.text, call.caption, call.reply_to = fields.get("text"), fields.get("caption"), _reply_to(fields)
        if call.method == "sendVoice":
            target = fields.get("voice", "")
            name = target.removeprefix("attach://") if target.startswith("attach://") else "voice"
            upload = form.get(name)
            if upload is not None and not isinstance(upload, str):
                call.voice, call.voice_field = upload.file.read(), name

    async def _answer(self, method: str, call: Call) -> web.Response:
        fields = call.fields
        if method == "getMe":
            return _ok({"id": BOT_ID, "is_bot": True, "first_name": "rholive", "username": BOT_USERNAME})
        if method == "getUpdates":
            return _ok(await self._get_updates(fields))
        if method == "getFile":
            entry = self._files.get(fields.get("file_id", ""))
            if entry is None:
                return _error(400, "Bad Request: invalid file_id")
            path, data = entry
            return _ok(
                {
                    "file_id": fields["file_id"],
                    "file_unique_id": "u",
                    "file_size": len(data),
                    "file_path": path,
                }
            )
        if method == "sendChatAction":
            return _ok(True)
        if method == "setWebhook":
            self.webhook = dict(fields)
            return _ok(True)
        if method == "sendMessage":
            return _ok(self._message(call.chat_id or 0, text=call.text or ""))
        if method == "sendVoice":
            if call.chat_id in self.voice_forbidden:
                call.status = 400
                return _error(400, "Bad Request: VOICE_MESSAGES_FORBIDDEN")
            if call.voice is None:
                return _error(400, "Bad Request: there is no voice in the request")
            voice = {"file_id": f"sent-{call.seq}", "file_unique_id": f"s{call.seq}", "duration": 1}
            return _ok(self._message(call.chat_id or 0, voice=voice, caption=call.caption))
        return _error(404, f"Not Found: method {method} is not faked")

    async def _get_updates(self, fields: dict[str, str]) -> list[dict[str, Any]]:
        offset = int(fields.get("offset", 0) or 0)
        timeout = float(fields.get("timeout", 0) or 0)
        # confirmed updates (below offset) are gone for good, as on the real server
        self._updates = [u for u in self._updates if u["update_id"] >= offset]

        def pending() -> bool:
            return bool(self._updates) or self._closing

        if not pending() and timeout > 0:
            async with self._changed:
                try:
                    await asyncio.wait_for(self._changed.wait_for(pending), timeout)
                except TimeoutError:
                    pass
        return list(self._updates) if not self._closing else []

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        for file_path, data in self._files.values():
            if file_path == path:
                self.downloads.append(path)
                await self._notify()
                return web.Response(body=data, content_type="application/octet-stream")
        return web.Response(status=404)


def _reply_to(fields: dict[str, str]) -> int | None:
    raw = fields.get("reply_parameters")
    if raw:
        return int(json.loads(raw)["message_id"])
    return int(fields["reply_to_message_id"]) if "reply_to_message_id" in fields else None


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(code: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=code)
