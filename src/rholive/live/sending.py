"""The typed send API of a Live session: each call builds one client message and queues it in order.

Input is checked and encoded here, in the caller, so bad input raises one clear error at once and the
session goes on; the writer task only ever sees valid JSON text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rholive.live import wire
from rholive.live.outbox import Outgoing
from rholive.live.wire import FunctionResponse


class Sender:
    """Subclasses provide ``_enqueue`` (which refuses when the session is not open) and
    ``_tool_generation`` (the connection a tool response belongs to)."""

    def _enqueue(self, item: Outgoing) -> None:
        raise NotImplementedError

    def _tool_generation(self) -> int:
        raise NotImplementedError

    async def _put(self, item: Outgoing) -> None:
        """Queue ``item``; a subclass may write it at once when nothing is waiting before it."""
        self._enqueue(item)

    async def send_turn(self, turns: str | list[dict[str, Any]], turn_complete: bool = True) -> None:
        """A ``clientContent`` turn (interrupts a reply in progress)."""
        self._enqueue(Outgoing(wire.encode(self._turn_message(turns, turn_complete))))

    def _turn_message(self, turns: str | list[dict[str, Any]], turn_complete: bool) -> dict[str, Any]:
        return wire.client_content(turns, turn_complete)

    async def send_text(self, text: str) -> None:
        """Realtime text (does not interrupt)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be str, not {type(text).__name__}")
        self._enqueue(Outgoing(wire.encode(wire.realtime_text(text))))

    async def send_audio(self, pcm: bytes, rate: int = wire.INPUT_AUDIO_RATE) -> None:
        """16-bit little-endian mono PCM. Never dropped, whatever the backlog. Returns once the message is queued,
        or written when nothing was waiting before it (then it may wait while the socket's buffer is full)."""
        if not isinstance(pcm, bytes | bytearray | memoryview):
            raise TypeError(f"audio must be bytes of 16-bit PCM, not {type(pcm).__name__}")
        if len(pcm) % 2:
            raise ValueError(f"16-bit PCM has an even number of bytes, got {len(pcm)}")
        if not isinstance(rate, int) or rate <= 0:
            raise ValueError(f"sample rate must be a positive integer, got {rate!r}")
        await self._put(Outgoing(wire.realtime_audio_text(pcm, rate)))

    async def send_video(self, frame: bytes, mime_type: str = "image/jpeg") -> None:
        """A video frame. If the previous one is still waiting for the socket it is dropped (counted)."""
        if not isinstance(frame, bytes | bytearray | memoryview):
            raise TypeError(f"a video frame must be bytes, not {type(frame).__name__}")
        await self._put(Outgoing(wire.realtime_video_text(frame, mime_type), video=True))

    async def activity_start(self) -> None:
        self._enqueue(Outgoing(wire.encode(wire.activity_start())))

    async def activity_end(self) -> None:
        self._enqueue(Outgoing(wire.encode(wire.activity_end())))

    async def audio_stream_end(self) -> None:
        self._enqueue(Outgoing(wire.encode(wire.audio_stream_end())))

    async def send_tool_response(self, responses: FunctionResponse | Sequence[FunctionResponse]) -> None:
        """Answer tool calls yourself (when no ToolRegistry was given)."""
        if isinstance(responses, FunctionResponse):
            responses = [responses]
        self._enqueue(self._tool_outgoing(list(responses)))

    def _tool_outgoing(self, responses: list[FunctionResponse]) -> Outgoing:
        text = wire.encode(wire.tool_response(responses))
        return Outgoing(text, tool=True, generation=self._tool_generation())

    async def _send_tool_responses(self, responses: list[FunctionResponse]) -> None:
        self._enqueue(self._tool_outgoing(responses))
