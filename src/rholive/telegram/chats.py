"""Chats: one worker and one Live session per chat, notes answered in order, chats concurrent under a limit.

The bot's handlers only `ChatHub.submit` jobs (synchronously, so updates keep their order); each chat's worker
takes its jobs one by one. A worker holds a slot of the hub's semaphore only while it works on a job, so idle
chats cost no slot. A chat idle for ``idle_close_s`` has its session closed (its resumption handle is already in
the store) and its worker ends; the next message starts a worker that resumes the conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from rholive.audio import AudioDecodeError, decode_pcm16, duration_s
from rholive.conversation import Persona
from rholive.live import (
    DEFAULT_MODEL,
    ActivityDetection,
    Endpoint,
    SessionClosed,
    SessionOptions,
    SetupConfig,
    SetupRejected,
    is_model_refusal,
    live_model_names,
    model_refused,
)
from rholive.telegram import texts
from rholive.telegram.link import INPUT_RATE, Answer, ChatLink
from rholive.telegram.pacing import Pacer
from rholive.telegram.replies import send_reply, send_text
from rholive.telegram.store import ChatStates

log = logging.getLogger("rholive.telegram")
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # the cloud Bot API refuses to serve bigger files to bots


@dataclass(frozen=True, slots=True)
class ChatOptions:
    max_active_chats: int = 8  # chats worked on at once (each with a live model turn)
    max_open_sessions: int = (
        64  # beyond this, the least recently used idle session is closed (it resumes later)
    )
    idle_close_s: float = 300.0  # close a chat's session after this long without messages
    max_note_s: float = 300.0  # longer voice notes are refused politely
    turn_timeout_s: float = 120.0  # a model answer must be complete within this
    chunk_ms: int = 250  # audio per realtimeInput message
    model: str = DEFAULT_MODEL
    compression_trigger_tokens: int | None = 25600  # context compression lifts the 15 min session cap
    session_options: SessionOptions | None = None


# ---------------------------------------------------------------- jobs (what a handler submits)


@dataclass(frozen=True, slots=True)
class VoiceJob:
    message_id: int
    file_id: str
    declared_s: float = 0.0  # Telegram's own duration field
    file_size: int | None = None
    received_at: float = 0.0  # loop time when the update reached us (for turnaround figures)


@dataclass(frozen=True, slots=True)
class TextJob:
    message_id: int
    text: str


@dataclass(frozen=True, slots=True)
class CommandJob:
    message_id: int
    name: str  # "start" | "reset" | "voice" | "persona"
    arg: str = ""


Job = VoiceJob | TextJob | CommandJob


@dataclass(frozen=True, slots=True)
class Timing:
    """One voice note's turnaround: received → reply uploaded, and the part spent waiting for the model."""

    chat_id: int
    total_s: float
    model_s: float

    @property
    def overhead_s(self) -> float:
        return self.total_s - self.model_s


@dataclass
class _Worker:
    queue: asyncio.Queue[Job] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None


class ChatHub:
    def __init__(
        self,
        bot: Bot,
        endpoint: Endpoint,
        store: ChatStates,
        pacer: Pacer,
        personas: dict[str, Persona],
        default_persona: str,
        options: ChatOptions | None = None,
        on_timing: Callable[[Timing], None] | None = None,
    ) -> None:
        self.bot, self.endpoint, self.store, self.pacer = bot, endpoint, store, pacer
        self.personas, self.default_persona = personas, default_persona
        self.options = options or ChatOptions()
        self.on_timing = on_timing
        self._slots = asyncio.Semaphore(max(1, self.options.max_active_chats))
        self._workers: dict[int, _Worker] = {}
        self._links: dict[int, ChatLink] = {}  # oldest use first: the order LRU closing follows
        self._busy: set[int] = set()  # chats with a job in progress (their session must stay open)
        self._closing = False

    # -- the handlers' side

    def submit(self, chat_id: int, job: Job) -> None:
        """Queue ``job`` for its chat (never blocks, keeps order); starts the chat's worker if needed."""
        if self._closing:
            return
        worker = self._workers.get(chat_id)
        if worker is None:
            worker = self._workers[chat_id] = _Worker()
            worker.task = asyncio.create_task(self._work(chat_id, worker), name=f"rholive-chat-{chat_id}")
        worker.queue.put_nowait(job)

    @property
    def active_chats(self) -> int:
        return len(self._workers)

    # -- the Redis workers' side (scale.worker): they order a chat's jobs themselves

    async def run(self, chat_id: int, job: Job) -> None:
        """Answer one job now, under the hub's limit of chats worked on at once."""
        async with self._slots:
            self._busy.add(chat_id)
            try:
                await self._run_job(chat_id, job)
            finally:
                self._busy.discard(chat_id)

    async def drop_session(self, chat_id: int) -> None:
        """Close the chat's session (another worker moved its conversation on; the next job resumes)."""
        await self._close_link(chat_id)

    async def close(self) -> None:
        """Stop every worker (a job in progress is abandoned) and close every session; handles stay stored."""
        self._closing = True
        tasks = [w.task for w in self._workers.values() if w.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await asyncio.gather(*(link.close() for link in self._links.values()), return_exceptions=True)
        self._links.clear()
        self._workers.clear()

    # -- one chat's worker

    async def _work(self, chat_id: int, worker: _Worker) -> None:
        try:
            while True:
                try:
                    job = await asyncio.wait_for(worker.queue.get(), self.options.idle_close_s)
                except TimeoutError:
                    await self._close_link(chat_id)
                    if worker.queue.empty():  # nothing arrived while closing: this worker is done
                        self._workers.pop(chat_id, None)
                        self.pacer.forget_idle()
                        return
                    continue
                await self.run(chat_id, job)
        finally:
            if self._workers.get(chat_id) is worker and not self._closing:
                self._workers.pop(chat_id, None)

    async def _run_job(self, chat_id: int, job: Job) -> None:
        try:
            if isinstance(job, VoiceJob):
                await self._voice(chat_id, job)
            elif isinstance(job, TextJob):
                await self._text(chat_id, job)
            else:
                await self._command(chat_id, job)
        except asyncio.CancelledError:
            raise
        except TelegramAPIError as exc:  # a send failed for good (e.g. the user blocked the bot)
            log.warning("chat %s: Telegram refused a reply: %s", chat_id, type(exc).__name__)
        except Exception:
            log.exception("chat %s: job failed", chat_id)
            with contextlib.suppress(Exception):
                await self._say(chat_id, texts.INTERNAL_ERROR, job.message_id)

    async def _say(self, chat_id: int, text: str, reply_to: int | None = None) -> None:
        await send_text(self.bot, self.pacer, chat_id, text, reply_to)

    async def _action(self, chat_id: int, action: str) -> None:
        # best effort and unpaced: a missing "recording…" hint must not delay or fail the answer
        with contextlib.suppress(TelegramAPIError):
            await self.bot.send_chat_action(chat_id, action)

    # -- voice notes

    async def _voice(self, chat_id: int, job: VoiceJob) -> None:
        limit = self.options.max_note_s
        if job.declared_s > limit:
            await self._say(chat_id, texts.too_long(job.declared_s, limit), job.message_id)
            return
        if job.file_size is not None and job.file_size > MAX_DOWNLOAD_BYTES:
            await self._say(chat_id, texts.too_long(job.declared_s, limit), job.message_id)
            return
        await self._action(chat_id, "record_voice")
        try:
            info = await self.bot.get_file(job.file_id)
            if not info.file_path:
                raise ValueError("no file path")
            data = (await self.bot.download_file(info.file_path)).read()  # type: ignore[union-attr]
        except (TelegramAPIError, ValueError, OSError) as exc:
            log.warning("chat %s: voice note download failed: %s", chat_id, type(exc).__name__)
            await self._say(chat_id, texts.DOWNLOAD_FAILED, job.message_id)
            return
        if not data:
            await self._say(chat_id, texts.EMPTY_NOTE, job.message_id)
            return
        try:
            pcm = await asyncio.to_thread(decode_pcm16, data, INPUT_RATE)
        except AudioDecodeError as exc:
            log.info("chat %s: unreadable voice note: %s", chat_id, exc)
            await self._say(chat_id, texts.CORRUPT_NOTE, job.message_id)
            return
        seconds = duration_s(pcm, INPUT_RATE)
        if seconds <= 0:
            await self._say(chat_id, texts.EMPTY_NOTE, job.message_id)
            return
        if seconds > limit:
            await self._say(chat_id, texts.too_long(seconds, limit), job.message_id)
            return
        answer = await self._ask(
            chat_id,
            job.message_id,
            lambda link: link.ask_audio(pcm, self.options.chunk_ms, self.options.turn_timeout_s),
        )
        if answer is None:
            return
        voice = self.store.get(chat_id).voice
        await send_reply(self.bot, self.pacer, chat_id, answer.reply, voice=voice, reply_to=job.message_id)
        if self.on_timing is not None and job.received_at:
            total = asyncio.get_running_loop().time() - job.received_at
            self.on_timing(Timing(chat_id, total, answer.model_s))

    # -- text

    async def _text(self, chat_id: int, job: TextJob) -> None:
        if not job.text.strip():  # a sticker, a photo, an unknown command: say what works
            await self._say(chat_id, texts.UNSUPPORTED, job.message_id)
            return
        await self._action(chat_id, "typing")
        answer = await self._ask(
            chat_id, job.message_id, lambda link: link.ask_text(job.text, self.options.turn_timeout_s)
        )
        if answer is not None:
            await send_reply(
                self.bot, self.pacer, chat_id, answer.reply, voice=False, reply_to=job.message_id
            )

    async def _ask(
        self, chat_id: int, reply_to: int, turn: Callable[[ChatLink], Awaitable[Answer]]
    ) -> Answer | None:
        """Run one model turn on the chat's session (opening it first); on failure reply politely, drop the
        session (the next message opens a fresh one, resuming from the stored handle) and return None."""
        try:
            link = await self._link(chat_id)
            answer = await turn(link)
            self.store.set_history(chat_id, link.history)
            return answer
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # SetupRejected, refused connections, timeouts, a session that closed
            log.warning("chat %s: model turn failed: %s", chat_id, await self._explain(exc))
            await self._close_link(chat_id)
            await self._say(chat_id, texts.MODEL_FAILED, reply_to)
            return None

    async def _explain(self, exc: Exception) -> str:
        """One line; a refused model names the Live models the endpoint lists now."""
        if isinstance(exc, SetupRejected) and is_model_refusal(exc, self.options.model):
            names = await live_model_names(self.endpoint)
            return str(model_refused(exc, self.options.model, names))
        return _one_line(exc)

    async def _link(self, chat_id: int) -> ChatLink:
        link = self._links.pop(chat_id, None)
        if link is not None and link.is_open:
            self._links[chat_id] = link  # most recently used goes last
            return link
        await self._make_room()
        state = self.store.get(chat_id)
        link = self._new_link(chat_id, state.handle)
        try:
            await self._open(link)
        except Exception as exc:
            if state.handle is None:
                raise
            # the handle expired (or the endpoint forgot it): start over rather than fail every message;
            # a kept conversation (Redis mode) seeds the new session, so nothing is lost
            log.info("chat %s: could not resume (%s); starting a new conversation", chat_id, _one_line(exc))
            self.store.set_handle(chat_id, None)
            link = self._new_link(chat_id, None)
            await self._open(link)
            if not state.history:
                await self._say(chat_id, texts.CONTEXT_LOST)
        self._links[chat_id] = link
        return link

    async def _open(self, link: ChatLink) -> None:
        # a session that keeps retrying an unreachable endpoint must not hold the chat forever
        async with asyncio.timeout(self.options.turn_timeout_s):
            await link.open()

    async def _make_room(self) -> None:
        """Close least recently used idle sessions until one more fits (their handles are stored)."""
        while len(self._links) >= max(1, self.options.max_open_sessions):
            idle = next((c for c in self._links if c not in self._busy), None)
            if idle is None:
                return  # every open session is mid-turn: exceed the cap rather than break a turn
            await self._close_link(idle)

    def _new_link(self, chat_id: int, handle: str | None) -> ChatLink:
        state = self.store.get(chat_id)
        persona = self.personas.get(state.persona or "") or self.personas[self.default_persona]
        options = self.options
        config = SetupConfig(
            model=options.model,
            response_modality="AUDIO",
            system_instruction=persona.instruction,
            voice_name=persona.voice,
            activity_detection=ActivityDetection(disabled=True),  # a whole note is one activity
            output_transcription=True,
            session_resumption=True,
            resumption_handle=handle,
            compression_trigger_tokens=options.compression_trigger_tokens,
        )
        return ChatLink(
            self.endpoint,
            config,
            lambda h: self.store.set_handle(chat_id, h),
            options.session_options,
            history=state.history,
        )

    async def _close_link(self, chat_id: int) -> None:
        link = self._links.pop(chat_id, None)
        if link is not None:
            await link.close()

    # -- commands

    async def _command(self, chat_id: int, job: CommandJob) -> None:
        if job.name == "start":
            await self._say(chat_id, texts.welcome(sorted(self.personas)))
        elif job.name == "reset":
            await self._close_link(chat_id)
            self.store.set_handle(chat_id, None)
            self.store.set_history(chat_id, ())
            await self._say(chat_id, texts.RESET_DONE, job.message_id)
        elif job.name == "voice":
            arg = job.arg.strip().lower()
            if arg not in ("on", "off"):
                voice = self.store.get(chat_id).voice
                await self._say(chat_id, texts.voice_usage(voice), job.message_id)
                return
            self.store.set_voice(chat_id, arg == "on")
            await self._say(chat_id, texts.voice_set(arg == "on"), job.message_id)
        elif job.name == "persona":
            await self._persona(chat_id, job)

    async def _persona(self, chat_id: int, job: CommandJob) -> None:
        name = job.arg.strip().lower()
        current = self.store.get(chat_id).persona or self.default_persona
        if not name:
            await self._say(chat_id, texts.persona_list(sorted(self.personas), current), job.message_id)
            return
        if name not in self.personas:
            await self._say(chat_id, texts.persona_unknown(name, sorted(self.personas)), job.message_id)
            return
        old = self.personas.get(current) or self.personas[self.default_persona]
        await self._switch_persona(chat_id, old, self.personas[name])
        self.store.set_persona(chat_id, name)
        await self._say(chat_id, texts.persona_set(name), job.message_id)

    async def _switch_persona(self, chat_id: int, old: Persona, new: Persona) -> None:
        """Keep the conversation: an open session gets the new instruction over contextUpdate; a closed one
        resumes later with it in its setup. Only a new voice (speechConfig cannot change mid-session)
        starts a new conversation."""
        if new.voice != old.voice:
            await self._close_link(chat_id)
            self.store.set_handle(chat_id, None)
            self.store.set_history(chat_id, ())
            return
        link = self._links.get(chat_id)
        if link is None or not link.is_open:
            return
        try:
            await link.change_instruction(new.instruction)
        except SessionClosed:
            await self._close_link(chat_id)  # the next message resumes, with the new persona's setup


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
