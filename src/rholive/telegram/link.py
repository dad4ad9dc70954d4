"""One chat's Live session: open (resuming when a handle is stored), ask one turn, collect the answer.

The chat's conversation is the shared `rholive.conversation.Conversation`: it follows the session's events in
its own task, so a turn waits for its answer with a timeout without ever leaving the session's iterator
half-consumed. Every new resumption handle is stored the moment it arrives, so a crash (not only an idle
close) still lets the conversation continue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from rholive.conversation import AnswerCollector, Conversation
from rholive.live import (
    Endpoint,
    Event,
    LiveSession,
    ResumptionUpdate,
    SessionOptions,
    SetupConfig,
    ToolRegistry,
)
from rholive.telegram.replies import Reply

log = logging.getLogger("rholive.telegram")
INPUT_RATE = 16000


class SessionFailed(Exception):
    """The model session ended or misbehaved mid-turn; the chat gets a polite reply and a fresh session."""


@dataclass(slots=True)
class Answer:
    reply: Reply
    model_s: float  # from the end of our input to the answer's end: the model's (emulator's) own time


class _ChatConversation(Conversation):
    """The conversation of one chat: stores each resumable handle as it arrives."""

    def __init__(self, session: LiveSession, on_handle: Callable[[str], None]) -> None:
        self.collector = AnswerCollector()
        super().__init__(session, self.collector)
        self._on_handle = on_handle

    def on_event(self, event: Event) -> None:
        if isinstance(event, ResumptionUpdate) and event.resumable and event.new_handle:
            self._on_handle(event.new_handle)


class ChatLink:
    def __init__(
        self,
        endpoint: Endpoint,
        config: SetupConfig,
        on_handle: Callable[[str], None],
        options: SessionOptions | None = None,
    ) -> None:
        self._endpoint = endpoint
        self._config = config
        self._on_handle = on_handle
        self._options = options
        self._talk: _ChatConversation | None = None

    @property
    def is_open(self) -> bool:
        return self._talk is not None

    async def open(self) -> None:
        """Connect and set up; raises what the session raises (e.g. ``SetupRejected``, ``OSError``)."""
        # an empty registry answers a tool call with an error: without it the turn waited forever
        session = LiveSession(
            self._endpoint, self._config, ToolRegistry(), options=self._options or SessionOptions()
        )
        await session.__aenter__()
        self._talk = _ChatConversation(session, self._on_handle)
        self._talk.start()

    async def ask_audio(self, pcm: bytes, chunk_ms: int, timeout_s: float) -> Answer:
        """One voice note = one activity: activityStart, the audio in chunks, activityEnd; then the answer."""
        talk = self._require()
        step = max(2, INPUT_RATE * 2 * chunk_ms // 1000 // 2 * 2)
        await talk.session.activity_start()
        for start in range(0, len(pcm), step):
            await talk.session.send_audio(pcm[start : start + step], INPUT_RATE)
        await talk.session.activity_end()
        return await self._answer(talk, timeout_s)

    async def change_instruction(self, instruction: str) -> None:
        """A new system instruction on the open session (contextUpdate): same conversation, no reconnect."""
        await self._require().session.update_context(system_instruction=instruction)

    async def ask_text(self, text: str, timeout_s: float) -> Answer:
        talk = self._require()
        await talk.session.send_turn(text)
        return await self._answer(talk, timeout_s)

    def _require(self) -> _ChatConversation:
        if self._talk is None:
            raise SessionFailed("the session is not open")
        return self._talk

    async def _answer(self, talk: _ChatConversation, timeout_s: float) -> Answer:
        """The next whole answer; SessionFailed when the session ends first or none comes in time."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        if not await talk.wait_answers(talk.answers + 1, timeout_s):
            if talk.over:
                closed = talk.closed
                reason = f": {closed.code} {closed.reason}" if closed is not None and closed.code else ""
                raise SessionFailed(f"the model session closed{reason}")
            raise SessionFailed(f"no complete answer within {timeout_s:g} s")
        whole = talk.collector.take()
        return Answer(Reply(whole.audio, whole.text, whole.sample_rate), loop.time() - started)

    async def close(self) -> None:
        talk, self._talk = self._talk, None
        if talk is None:
            return
        with contextlib.suppress(Exception):
            await talk.session.__aexit__(None, None, None)
        if talk.task is not None:
            talk.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                try:
                    await talk.task
                except Exception as exc:  # the session's own failure: the turn already said so
                    log.warning("Live session reader stopped: %s", type(exc).__name__)
