"""The front: the one process that receives updates (long polling, or a webhook) and puts each on Redis.

Long polling confirms an update (the next ``getUpdates`` offset) only after it is on the stream, so a front
that dies or a Redis that is away loses nothing: Telegram hands the update over again.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError
from aiogram.types import Update
from aiohttp import ClientError, web

from rholive.telegram.scale import scripts
from rholive.telegram.scale.conn import RedisLink
from rholive.telegram.scale.keys import GROUP, Keys

log = logging.getLogger("rholive.telegram")
SEEN_TTL_S = 7 * 24 * 3600  # an update id is put on the stream once within this time
NOTES_TTL_S = 7 * 24 * 3600  # a chat's unanswered notes are kept this long without a worker
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def ensure_group(redis: RedisLink, keys: Keys) -> None:
    """The work stream and its consumer group (from the stream's start: nothing added earlier is skipped)."""

    async def create(r: object) -> None:
        try:
            await r.xgroup_create(keys.work, GROUP, id="0", mkstream=True)  # type: ignore[attr-defined]
        except Exception as exc:  # BUSYGROUP: another process made it first
            if "BUSYGROUP" not in str(exc):
                raise

    await redis.call(create)


async def publish_allow(redis: RedisLink, keys: Keys, allow: Iterable[int]) -> None:
    """The allowlist this front was given replaces the shared one (workers read it per update)."""
    ids = sorted(set(allow))

    async def replace(r: object) -> None:
        async with r.pipeline(transaction=True) as pipe:  # type: ignore[attr-defined]
            pipe.delete(keys.allow)
            if ids:
                pipe.sadd(keys.allow, *ids)
            await pipe.execute()

    await redis.call(replace)


class Front:
    def __init__(self, redis: RedisLink, keys: Keys, bot: Bot, polling_timeout: int = 10) -> None:
        self.redis, self.keys, self.bot = redis, keys, bot
        self.polling_timeout = polling_timeout
        self.enqueued = 0
        self.duplicates = 0  # updates Telegram (or a retry) handed over twice: put on the stream once
        self.dropped = 0  # updates without a chat (not asked for; counted, not lost silently)

    async def enqueue(self, update: Update) -> None:
        """Put ``update`` on Redis (waits while Redis is away). Returns once it is there."""
        message = update.message
        if message is None:
            self.dropped += 1
            log.warning("update %s has no message; not queued", update.update_id)
            return
        chat_id = message.chat.id
        keys = [self.keys.seen(update.update_id), self.keys.notes(chat_id), self.keys.work]
        payload = update.model_dump_json(exclude_none=True)
        args: list[object] = [update.update_id, payload, chat_id, SEEN_TTL_S, NOTES_TTL_S]
        if await self.redis.script(scripts.ENQUEUE, keys, args):
            self.enqueued += 1
        else:
            self.duplicates += 1

    async def poll(self) -> None:
        """Long polling until cancelled; the offset moves past an update only once it is on the stream."""
        offset: int | None = None
        failing = False
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset,
                    timeout=self.polling_timeout,
                    allowed_updates=["message"],
                    request_timeout=self.polling_timeout + 10,
                )
            except TelegramUnauthorizedError:
                raise
            except (TelegramAPIError, ClientError, TimeoutError, OSError) as exc:
                if not failing:
                    log.warning("getUpdates failed (%s); retrying", type(exc).__name__)
                failing = True
                await asyncio.sleep(1.0)
                continue
            failing = False
            for update in updates:
                await self.enqueue(update)
                offset = update.update_id + 1


class WebhookFront:
    """``--webhook URL --listen HOST:PORT``: Telegram POSTs updates to URL (a proxy forwards them here).

    Telegram gets 200 only once the update is on the stream; while Redis is away the request waits, and
    Telegram sends again what it did not get an answer for. A random secret (setWebhook's secret_token)
    keeps anyone else from posting updates.
    """

    def __init__(self, front: Front, url: str, listen: str) -> None:
        self.front, self.url = front, url
        host, _, port = listen.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"--listen wants HOST:PORT, got {listen!r}")
        self.host, self.port = host, int(port)
        self.path = urlsplit(url).path or "/"
        self.secret = secrets.token_urlsafe(24)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(self.path, self._receive)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        await self.front.bot.set_webhook(self.url, allowed_updates=["message"], secret_token=self.secret)
        log.warning("webhook: listening on %s:%s for %s", self.host, self.port, self.url)

    async def _receive(self, request: web.Request) -> web.Response:
        if request.headers.get(SECRET_HEADER) != self.secret:
            return web.Response(status=403)
        try:
            update = Update.model_validate(await request.json(), context={"bot": self.front.bot})
        except ValueError as exc:
            log.warning("webhook: unreadable update (%s); not queued", type(exc).__name__)
            self.front.dropped += 1
            return web.Response(status=200)  # resending it would not make it readable
        await self.front.enqueue(update)
        return web.Response(status=200)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
