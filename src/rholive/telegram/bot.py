"""aiogram handlers: the allow-list, commands, voice notes and text. Handlers only queue work on the
`ChatHub` (the chat's worker does the rest), so polling never waits on a model or an upload.

Secure default: a chat not on the allow-list gets no answer from the model — only a note with its chat id
and how to allow it (at most once per ``REFUSAL_REPEAT_S`` per chat, so a refused chat cannot make the bot
spam).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import Protocol

from aiogram import Bot, Dispatcher, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, Filter
from aiogram.types import Message

from rholive.telegram import texts
from rholive.telegram.chats import ChatHub, CommandJob, TextJob, VoiceJob
from rholive.telegram.pacing import Pacer
from rholive.telegram.replies import send_text

log = logging.getLogger("rholive.telegram")
REFUSAL_REPEAT_S = 600.0
COMMANDS = ("start", "help", "reset", "voice", "persona")
VOICECHAT_COMMANDS = ("join", "leave", "call")


class VoiceChats(Protocol):
    """Where /join, /leave and /call go (the voice chat supervisor, or a stand-in saying how to set it up)."""

    def submit(self, chat_id: int, command: str) -> None: ...


class _Refused(Filter):
    def __init__(self, allow: frozenset[int]) -> None:
        self.allow = allow

    async def __call__(self, message: Message) -> bool:
        return message.chat.id not in self.allow


class Refusals:
    """Tells a refused chat its id, in the background and not too often."""

    def __init__(self, bot: Bot, pacer: Pacer) -> None:
        self._bot, self._pacer = bot, pacer
        self._told: dict[int, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def refuse(self, chat_id: int) -> None:
        now = asyncio.get_running_loop().time()
        last = self._told.get(chat_id)
        if last is not None and now - last < REFUSAL_REPEAT_S:
            return
        self._told[chat_id] = now
        if len(self._told) > 10_000:  # many strangers: forget those told long enough ago
            self._told = {c: t for c, t in self._told.items() if now - t < REFUSAL_REPEAT_S}
        log.info("refused chat %s (not on the allow-list)", chat_id)
        task = asyncio.create_task(self._tell(chat_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _tell(self, chat_id: int) -> None:
        with contextlib.suppress(TelegramAPIError):
            await send_text(self._bot, self._pacer, chat_id, texts.refused(chat_id))

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def build_router(
    hub: ChatHub, allow: Iterable[int], refusals: Refusals, voicechats: VoiceChats | None = None
) -> Router:
    router = Router(name="rholive-telegram")
    allowed = frozenset(allow)

    @router.message(_Refused(allowed))
    async def refused(message: Message) -> None:
        refusals.refuse(message.chat.id)

    if voicechats is not None:

        @router.message(Command(*VOICECHAT_COMMANDS))
        async def voicechat(message: Message, command: CommandObject) -> None:
            voicechats.submit(message.chat.id, command.command)

    @router.message(Command(*COMMANDS))
    async def command(message: Message, command: CommandObject) -> None:
        name = "start" if command.command == "help" else command.command
        hub.submit(message.chat.id, CommandJob(message.message_id, name, command.args or ""))

    @router.message(F.voice | F.audio | F.video_note)
    async def note(message: Message) -> None:
        media = message.voice or message.audio or message.video_note
        assert media is not None
        hub.submit(
            message.chat.id,
            VoiceJob(
                message.message_id,
                media.file_id,
                declared_s=float(media.duration or 0),
                file_size=media.file_size,
                received_at=asyncio.get_running_loop().time(),
            ),
        )

    @router.message(F.text)
    async def text(message: Message) -> None:
        assert message.text is not None
        if message.text.startswith("/"):
            hub.submit(message.chat.id, TextJob(message.message_id, ""))  # answered as unsupported below
            return
        hub.submit(message.chat.id, TextJob(message.message_id, message.text))

    @router.message()
    async def other(message: Message) -> None:
        hub.submit(message.chat.id, TextJob(message.message_id, ""))

    return router


def build_dispatcher(
    hub: ChatHub, allow: Iterable[int], refusals: Refusals, voicechats: VoiceChats | None = None
) -> Dispatcher:
    dispatcher = Dispatcher()
    dispatcher.include_router(build_router(hub, allow, refusals, voicechats))
    return dispatcher
