"""`rholive telegram --redis URL` (a front, answering too unless ``--no-work``) and `rholive telegram worker`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramUnauthorizedError

from rholive.config import Settings
from rholive.connect import open_endpoint
from rholive.conversation import VOICE_NOTE_DEFAULT, voice_note_personas
from rholive.live import Endpoint
from rholive.telegram.chats import ChatHub, ChatOptions
from rholive.telegram.logsafe import install_redaction, remove_redaction
from rholive.telegram.pacing import PacingOptions
from rholive.telegram.replies import send_text
from rholive.telegram.run import BotTokenRefused
from rholive.telegram.scale.calls import CallCoordinator
from rholive.telegram.scale.conn import RedisLink
from rholive.telegram.scale.front import Front, WebhookFront, ensure_group, publish_allow
from rholive.telegram.scale.keys import Keys
from rholive.telegram.scale.pacer import SharedPacer
from rholive.telegram.scale.state import RedisChatStates
from rholive.telegram.scale.worker import Worker
from rholive.telegram.voicechat import VoiceChatConfig, VoiceChatsOff, VoiceChatSupervisor

log = logging.getLogger("rholive.telegram")


@dataclass(frozen=True, slots=True)
class ScaleOptions:
    redis_url: str
    work: bool = True  # the front answers too (False: --no-work)
    lease_s: float = 30.0  # a dead worker's chats and calls are taken over after this long
    webhook: str | None = None  # --webhook URL (with listen): no long polling
    listen: str | None = None
    polling_timeout: int = 10
    stop_grace_s: float = 60.0  # on SIGTERM, notes being answered get this long to finish


def _bot(token: str, api_url: str | None) -> Bot:
    api = TelegramAPIServer.from_base(api_url) if api_url else None
    return Bot(token, session=AiohttpSession(api=api) if api else AiohttpSession())


async def _check_token(bot: Bot) -> str | None:
    try:
        me = await bot.get_me()
    except TelegramUnauthorizedError:
        raise BotTokenRefused("the Bot API refused the bot token (check --bot-token)") from None
    return me.username


@contextlib.asynccontextmanager
async def _worker(
    settings: Settings,
    endpoint: Endpoint,
    bot: Bot,
    redis: RedisLink,
    keys: Keys,
    lease_s: float,
    options: ChatOptions | None,
    pacing: PacingOptions | None,
    voicechat: VoiceChatConfig | None,
) -> AsyncIterator[Worker]:
    options = options or ChatOptions(model=settings.model)
    states = RedisChatStates(redis, keys)
    pacer = SharedPacer(redis, keys, pacing)
    names = voice_note_personas(settings.system_instruction, settings.voice)
    hub = ChatHub(bot, endpoint, states, pacer, names, VOICE_NOTE_DEFAULT, options)

    async def tell(chat_id: int, text: str) -> None:
        await send_text(bot, pacer, chat_id, text)

    runner: VoiceChatSupervisor | VoiceChatsOff = VoiceChatsOff(tell)
    if voicechat is not None:
        persona = names[VOICE_NOTE_DEFAULT]
        ca_file = str(settings.ca_file) if settings.ca_file else None
        voicechat = voicechat.with_defaults(options.model, persona.instruction, persona.voice, ca_file)
        runner = VoiceChatSupervisor(voicechat, endpoint, tell)
    calls = CallCoordinator(redis, keys, runner, enabled=voicechat is not None, lease_s=lease_s)
    worker = Worker(
        redis, keys, bot, hub, states, pacer, calls, lease_s=lease_s, capacity=options.max_active_chats
    )
    try:
        yield worker
    finally:
        await hub.close()
        await runner.close()
        await states.close()


async def serve(
    settings: Settings,
    bot_token: str,
    api_url: str | None,
    scale: ScaleOptions,
    *,
    front: bool,
    allow: Iterable[int] = (),
    options: ChatOptions | None = None,
    pacing: PacingOptions | None = None,
    voicechat: VoiceChatConfig | None = None,
    stop: asyncio.Event | None = None,
    handle_signals: bool = False,
) -> Worker | None:
    """Run a front (``front``) and/or a worker (``scale.work``) until ``stop`` is set (or SIGINT/SIGTERM
    with ``handle_signals``). Returns the worker, for its figures."""
    keys = Keys.for_token(bot_token)
    redis = RedisLink(scale.redis_url)
    bot = _bot(bot_token, api_url)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM) if handle_signals else ():
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    tasks: list[asyncio.Task[None]] = []
    worker: Worker | None = None
    working: asyncio.Task[None] | None = None
    try:
        username = await _check_token(bot)
        await ensure_group(redis, keys)
        async with contextlib.AsyncExitStack() as stack:
            if front:
                allow = sorted(set(allow))
                await publish_allow(redis, keys, allow)
                receiver = Front(redis, keys, bot, scale.polling_timeout)
                if scale.webhook:
                    hook = WebhookFront(receiver, scale.webhook, scale.listen or "127.0.0.1:8080")
                    await hook.start()
                    stack.push_async_callback(hook.stop)
                else:
                    tasks.append(asyncio.create_task(receiver.poll(), name="rholive-front-poll"))
                log.warning(
                    "front for @%s on Redis %s; allowed chats: %s; %s",
                    username,
                    redis.where,
                    allow or "none",
                    "answering too" if scale.work else "not answering (--no-work)",
                )
            if scale.work:
                endpoint = await stack.enter_async_context(open_endpoint(settings))
                worker = await stack.enter_async_context(
                    _worker(settings, endpoint, bot, redis, keys, scale.lease_s, options, pacing, voicechat)
                )
                working = asyncio.create_task(worker.run(), name="rholive-worker")
                tasks.append(working)
                if worker.calls.enabled:
                    tasks.append(asyncio.create_task(worker.calls.run(), name="rholive-worker-calls"))
                log.warning("worker %s for @%s on Redis %s", worker.name, username, redis.where)
            stopping = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait([stopping, *tasks], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stopping:  # a loop ended on its own: a bug or a Redis error, not an outage
                    task.result()
                    raise RuntimeError(f"{task.get_name()} ended unexpectedly")
            stopping.cancel()
            if worker is not None and working is not None and not working.done():
                # finish the notes in hand (answered and recorded), so no one answers them again
                worker.stop_taking()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(working), scale.stop_grace_s)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        for task in tasks:
            task.cancel()
        if worker is not None:
            print(f"rholive: worker {worker.name}: {worker.stats.summary()}", file=sys.stderr, flush=True)
        await bot.session.close()
        await redis.close()
    return worker


async def run_scaled(
    settings: Settings,
    bot_token: str,
    api_url: str | None,
    scale: ScaleOptions,
    *,
    front: bool,
    allow: Iterable[int] = (),
    options: ChatOptions | None = None,
    pacing: PacingOptions | None = None,
    voicechat: VoiceChatConfig | None = None,
) -> None:
    """`serve` with the secrets kept out of every log line."""
    secrets = [bot_token, *(voicechat.secrets if voicechat else [])]
    if settings.api_key is not None:
        secrets.append(settings.api_key.get_secret_value())
    password = urlsplit(scale.redis_url).password
    if password:
        secrets.append(password)
    redactor = install_redaction(secrets)
    allow = list(allow)
    if front and not allow:
        print(
            "rholive: no --allow given: the bot answers nobody. A user who writes to it is told their chat "
            "id; allow it with --allow CHAT_ID.",
            file=sys.stderr,
        )
    try:
        await serve(
            settings,
            bot_token,
            api_url,
            scale,
            front=front,
            allow=allow,
            options=options,
            pacing=pacing,
            voicechat=voicechat,
            handle_signals=True,
        )
    finally:
        remove_redaction(redactor)
