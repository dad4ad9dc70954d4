"""`rholive telegram`: the voice-note bot's lifetime — endpoint, Bot API session, store, polling, shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramUnauthorizedError

from rholive.config import Settings
from rholive.connect import open_endpoint
from rholive.conversation import VOICE_NOTE_DEFAULT, Persona, voice_note_personas
from rholive.live import Endpoint
from rholive.telegram.bot import Refusals, build_dispatcher
from rholive.telegram.chats import ChatHub, ChatOptions, Timing
from rholive.telegram.logsafe import install_redaction, remove_redaction
from rholive.telegram.pacing import Pacer, PacingOptions
from rholive.telegram.replies import send_text
from rholive.telegram.store import ChatStore
from rholive.telegram.voicechat import VoiceChatConfig, VoiceChatsOff, VoiceChatSupervisor

log = logging.getLogger("rholive.telegram")


class BotTokenRefused(RuntimeError):
    """The Bot API refused the token (the message never contains the token)."""


class VoiceNoteBot:
    """The bot with its own parts; `start` checks the token and begins polling, `stop` ends everything."""

    def __init__(
        self,
        settings: Settings,
        endpoint: Endpoint,
        bot_token: str,
        *,
        api_url: str | None = None,
        allow: Iterable[int] = (),
        options: ChatOptions | None = None,
        pacing: PacingOptions | None = None,
        db_path: Path | str | None = None,
        personas: dict[str, Persona] | None = None,
        on_timing: Callable[[Timing], None] | None = None,
        polling_timeout: int = 10,
        handle_signals: bool = False,
        voicechat: VoiceChatConfig | None = None,
    ) -> None:
        self.allow = frozenset(allow)
        api = TelegramAPIServer.from_base(api_url) if api_url else None
        self.bot = Bot(bot_token, session=AiohttpSession(api=api) if api else AiohttpSession())
        self.store = ChatStore(db_path or Path(settings.data_dir) / "telegram.sqlite3")
        self.pacer = Pacer(pacing)
        if options is None:
            options = ChatOptions(model=settings.model)
        names = personas or voice_note_personas(settings.system_instruction, settings.voice)
        default = VOICE_NOTE_DEFAULT if VOICE_NOTE_DEFAULT in names else next(iter(names))
        self.hub = ChatHub(self.bot, endpoint, self.store, self.pacer, names, default, options, on_timing)
        self.refusals = Refusals(self.bot, self.pacer)
        # Group voice chats run in a child process (see voicechat.supervisor): the bot only sends commands.
        self.voicechats: VoiceChatSupervisor | VoiceChatsOff = VoiceChatsOff(self._tell)
        if voicechat is not None:
            persona = names[default]  # the call speaks as the default persona, with the bot's model
            ca_file = str(settings.ca_file) if settings.ca_file else None
            voicechat = voicechat.with_defaults(options.model, persona.instruction, persona.voice, ca_file)
            self.voicechats = VoiceChatSupervisor(voicechat, endpoint, self._tell)
        self.dispatcher = build_dispatcher(self.hub, self.allow, self.refusals, self.voicechats)
        self._polling_timeout = polling_timeout
        self._handle_signals = handle_signals
        self._polling: asyncio.Task[None] | None = None
        self.username: str | None = None

    async def start(self) -> None:
        try:
            me = await self.bot.get_me()
        except TelegramUnauthorizedError:
            await self._close_parts()
            raise BotTokenRefused("the Bot API refused the bot token (check --bot-token)") from None
        except BaseException:
            await self._close_parts()
            raise
        self.username = me.username
        log.info("bot @%s is polling; allowed chats: %s", me.username, sorted(self.allow) or "none")
        self._polling = asyncio.create_task(
            self.dispatcher.start_polling(
                self.bot,
                polling_timeout=self._polling_timeout,
                handle_as_tasks=False,  # handlers only queue work; in-order handling keeps each chat's order
                allowed_updates=["message"],
                handle_signals=self._handle_signals,
                close_bot_session=False,
            ),
            name="rholive-telegram-polling",
        )

    async def wait(self) -> None:
        """Until polling ends (a signal when ``handle_signals``, or `stop`)."""
        if self._polling is not None:
            await self._polling

    async def stop(self) -> None:
        polling, self._polling = self._polling, None
        if polling is not None and not polling.done():
            with contextlib.suppress(RuntimeError):  # "Polling is not started": it had not begun yet
                await self.dispatcher.stop_polling()
            polling.cancel()
        if polling is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await polling
        await self._close_parts()

    async def _tell(self, chat_id: int, text: str) -> None:
        await send_text(self.bot, self.pacer, chat_id, text)

    async def _close_parts(self) -> None:
        await self.voicechats.close()
        await self.refusals.close()
        await self.hub.close()
        await self.bot.session.close()
        self.store.close()

    async def __aenter__(self) -> VoiceNoteBot:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def run_bot(
    settings: Settings,
    bot_token: str,
    api_url: str | None = None,
    allow: Iterable[int] = (),
    *,
    options: ChatOptions | None = None,
    pacing: PacingOptions | None = None,
    db_path: Path | str | None = None,
    voicechat: VoiceChatConfig | None = None,
) -> None:
    """Run the voice-note bot until SIGINT/SIGTERM. With an empty ``allow`` it answers nobody (and says so)."""
    secrets = [bot_token, *(voicechat.secrets if voicechat else [])]
    if settings.api_key is not None:
        secrets.append(settings.api_key.get_secret_value())
    redactor = install_redaction(secrets)
    allow = list(allow)
    if not allow:
        print(
            "rholive: no --allow given: the bot answers nobody. A user who writes to it is told their chat "
            "id; allow it with --allow CHAT_ID.",
            file=sys.stderr,
        )
    try:
        async with open_endpoint(settings) as endpoint:
            bot = VoiceNoteBot(
                settings,
                endpoint,
                bot_token,
                api_url=api_url,
                allow=allow,
                options=options,
                pacing=pacing,
                db_path=db_path,
                handle_signals=True,
                voicechat=voicechat,
            )
            await bot.start()
            try:
                await bot.wait()
            finally:
                await bot.stop()
    finally:
        remove_redaction(redactor)
