"""The real `CallClient`: a Telethon user account (StringSession) driving py-tgcalls 3 with raw PCM.

Only this module touches Telegram's servers, so it is the part that cannot be tested offline. What it relies
on was read in py-tgcalls 3.0.0's source:

- ``PyTgCalls(telethon_client)`` must be built inside the running loop (it keeps ``get_event_loop()``);
  ``start()`` calls ``client.start()`` only when not connected — we connect and check authorisation first,
  so a dead session is one clear error instead of an interactive phone prompt.
- ``play(chat_id, Stream(microphone=AudioStream(MediaSource.EXTERNAL, "", AudioParameters(rate, ch))),
  GroupCallConfig(auto_start=False))`` joins the group call (``phone.joinGroupCall``) with our PCM as the
  microphone; with no voice chat running it raises ``NoActiveGroupCall`` (``auto_start=False``: we never
  start one ourselves). ``send_frame(chat_id, Device.MICROPHONE, pcm)`` sends one frame.
- ``record(chat_id, RecordStream(audio=True, audio_parameters=...))`` sets an EXTERNAL PLAYBACK source;
  everyone's audio then arrives as ``StreamFrames`` updates (direction INCOMING, one ``Frame`` per SSRC with
  ``.ssrc`` and ``.frame`` bytes) through ``on_update(filters.stream_frame(...))``.
- Leaving the call by Telegram's side (kicked, left the group, the voice chat closed) is a ``ChatUpdate``
  whose status is in ``ChatUpdate.Status.LEFT_CALL``. A transport failure after connecting only clears
  py-tgcalls' cache (no update), so a watchdog polls ``await calls.calls`` to notice a vanished call.
- The account's membership is not checked by py-tgcalls (its ``get_input_call`` swallows every error and
  reports "no active group call"), so we ask Telethon first: ``get_permissions(chat, "me")`` raises
  ``UserNotParticipantError`` / ``ChannelPrivateError`` when the account is not in the group.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from rholive.telegram.voicechat.client import (
    BAD_SESSION,
    NO_VOICE_CHAT,
    NOT_MEMBER,
    TRANSIENT,
    UNAVAILABLE,
    DropCallback,
    FramesCallback,
    JoinError,
)
from rholive.telegram.voicechat.texts import BAD_SESSION as BAD_SESSION_TEXT
from rholive.telegram.voicechat.texts import NO_VOICE_CHAT as NO_VOICE_CHAT_TEXT
from rholive.telegram.voicechat.texts import NOT_MEMBER as NOT_MEMBER_TEXT

log = logging.getLogger("rholive.telegram.voicechat")
WATCHDOG_S = 5.0


def make_client(config: dict[str, Any]) -> PyTgCallsClient:
    """The worker's default factory."""
    return PyTgCallsClient(
        config["session"], int(config["api_id"]), config["api_hash"], rate=int(config.get("rate", 48000))
    )


class PyTgCallsClient:
    def __init__(self, session: str, api_id: int, api_hash: str, *, rate: int = 48000, channels: int = 1):
        self._session, self._api_id, self._api_hash = session, api_id, api_hash
        self.rate, self.channels = rate, channels
        self._frames: FramesCallback | None = None
        self._dropped: DropCallback | None = None
        self._joined: set[int] = set()
        self._tg: Any = None
        self._calls: Any = None
        self._watchdog: asyncio.Task[None] | None = None
        self._dialogs_loaded = False

    async def start(self) -> None:
        try:
            from pytgcalls.pytgcalls_session import PyTgCallsSession
            from telethon import TelegramClient
            from telethon.sessions import StringSession
        except ImportError as e:
            raise JoinError(UNAVAILABLE, f"the voicechat extra is not installed ({e.name})") from None
        try:
            self._tg = TelegramClient(StringSession(self._session), self._api_id, self._api_hash)
        except ValueError:  # a malformed session string
            raise JoinError(BAD_SESSION, BAD_SESSION_TEXT) from None
        try:
            await self._tg.connect()
        except OSError as e:
            raise JoinError(TRANSIENT, f"cannot reach Telegram ({type(e).__name__})") from None
        if not await self._tg.is_user_authorized():
            await self._tg.disconnect()
            raise JoinError(BAD_SESSION, BAD_SESSION_TEXT)
        PyTgCallsSession.notice_displayed = True  # no banner, no version check over the network
        self.attach(self._tg)
        await self._calls.start()
        self._watchdog = asyncio.create_task(self._watch(), name="voicechat-watchdog")

    def attach(self, tg: Any) -> Any:
        """Build py-tgcalls over a Telethon client and register our update handlers (no network: the
        offline test drives these handlers through py-tgcalls' own dispatch)."""
        from pytgcalls import PyTgCalls, filters
        from pytgcalls.types import ChatUpdate, Direction, StreamFrames

        self._tg = tg
        self._calls = PyTgCalls(tg)

        @self._calls.on_update(filters.stream_frame(Direction.INCOMING))
        async def frames(_client: Any, update: StreamFrames) -> None:
            if self._frames is not None and update.chat_id in self._joined:
                self._frames(update.chat_id, [(int(f.ssrc), bytes(f.frame)) for f in update.frames])

        @self._calls.on_update(filters.chat_update(ChatUpdate.Status.LEFT_CALL))
        async def left(_client: Any, update: ChatUpdate) -> None:
            self._lost(update.chat_id, _left_reason(update.status, ChatUpdate.Status))

        return self._calls

    def streams(self) -> tuple[Any, Any]:
        """(what we play: our PCM as the microphone, what we record: everyone's PCM), both EXTERNAL raw
        s16le at our rate — the same descriptions ``MediaStream(ExternalMedia.AUDIO)`` would make."""
        from ntgcalls import MediaSource
        from pytgcalls.types import RecordStream
        from pytgcalls.types.raw import AudioParameters, AudioStream, Stream

        params = AudioParameters(self.rate, self.channels)
        play = Stream(microphone=AudioStream(MediaSource.EXTERNAL, "", params))
        return play, RecordStream(audio=True, audio_parameters=params)

    async def _check_member(self, chat_id: int) -> None:
        from telethon import errors

        for attempt in range(2):
            try:
                await self._tg.get_permissions(chat_id, "me")
                return
            except ValueError:
                # A fresh StringSession knows no entities: list the dialogs once to learn the group's.
                if attempt or self._dialogs_loaded:
                    break
                self._dialogs_loaded = True
                await self._tg.get_dialogs()
            except (errors.UserNotParticipantError, errors.ChannelPrivateError, errors.ChatForbiddenError):
                break
        raise JoinError(NOT_MEMBER, NOT_MEMBER_TEXT)

    async def join(self, chat_id: int) -> None:
        from ntgcalls import TelegramServerError
        from pytgcalls.exceptions import NoActiveGroupCall
        from pytgcalls.types import GroupCallConfig

        await self._check_member(chat_id)
        play, record = self.streams()
        try:
            await self._calls.play(chat_id, play, GroupCallConfig(auto_start=False))
            await self._calls.record(chat_id, record)
        except NoActiveGroupCall:
            raise JoinError(NO_VOICE_CHAT, NO_VOICE_CHAT_TEXT) from None
        except (TimeoutError, TelegramServerError, OSError) as e:
            raise JoinError(
                TRANSIENT, f"Telegram's call servers did not answer ({type(e).__name__})"
            ) from None
        self._joined.add(chat_id)

    async def leave(self, chat_id: int) -> None:
        from pytgcalls.exceptions import NoActiveGroupCall, NotInCallError

        self._joined.discard(chat_id)
        with contextlib.suppress(NotInCallError, NoActiveGroupCall):
            await self._calls.leave_call(chat_id)

    async def send_frame(self, chat_id: int, pcm: bytes) -> None:
        from pytgcalls.exceptions import NotInCallError
        from pytgcalls.types import Device

        try:
            await self._calls.send_frame(chat_id, Device.MICROPHONE, pcm)
        except NotInCallError:
            self._lost(chat_id, "the call connection was lost")

    def on_frames(self, callback: FramesCallback) -> None:
        self._frames = callback

    def on_dropped(self, callback: DropCallback) -> None:
        self._dropped = callback

    def _lost(self, chat_id: int, reason: str) -> None:
        if chat_id in self._joined:
            self._joined.discard(chat_id)
            if self._dropped is not None:
                self._dropped(chat_id, reason)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(WATCHDOG_S)  # a poll interval, not synchronisation
            with contextlib.suppress(Exception):
                alive = set(await self._calls.calls)
                for chat_id in list(self._joined - alive):
                    self._lost(chat_id, "the call connection was lost")

    async def stop(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            await asyncio.gather(self._watchdog, return_exceptions=True)
        for chat_id in list(self._joined):
            with contextlib.suppress(Exception):
                await self.leave(chat_id)
        if self._tg is not None:
            with contextlib.suppress(Exception):
                await self._tg.disconnect()


def _left_reason(status: Any, flags: Any) -> str:
    if status & flags.KICKED:
        return "the account was removed from the group or the call"
    if status & flags.CLOSED_VOICE_CHAT:
        return "the voice chat ended"
    if status & flags.LEFT_GROUP:
        return "the account left the group"
    return "Telegram ended the call"
