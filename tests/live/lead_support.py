"""A real emulator on loopback for LiveSession tests, with a brain whose answers tests can predict."""

from __future__ import annotations

import asyncio
from typing import Any

from rholive.emulator.brains import CallTool, Say, UserTurn
from rholive.live import LiveSession
from rholive.live import events as ev


class NumberingBrain:
    """Answers "answer N: TEXT" (N = the turn's number), or calls a tool for "tool NAME ARG"."""

    def respond(self, turn: UserTurn, history: list[UserTurn]) -> list[Any]:
        if turn.text.startswith("tool "):
            _, name, arg = turn.text.split(" ", 2)
            return [CallTool(name, {"value": arg})]
        return [Say(f"answer {turn.number}: {turn.text or f'{turn.audio_seconds:.1f} s'} ok")]

    def after_tool(self, name: str, args: dict[str, Any], response: dict[str, Any]) -> list[Any]:
        return [Say(f"{name} gave {response}")]


class Transcript:
    """Consumes a session's events in the background; tests wait for conditions on what arrived."""

    def __init__(self, session: LiveSession) -> None:
        self.events: list[ev.Event] = []
        self._changed = asyncio.Condition()
        self._task = asyncio.create_task(self._consume(session))

    async def _consume(self, session: LiveSession) -> None:
        async for event in session:
            async with self._changed:
                self.events.append(event)
                self._changed.notify_all()

    async def wait_for(self, predicate: Any, within: float = 10.0) -> None:
        async def check() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: predicate(self))

        await asyncio.wait_for(check(), within)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def count(self, kind: type) -> int:
        return len(self.of(kind))

    def answers(self) -> list[str]:
        """The text of each completed reply, in order."""
        out, current = [], []
        for event in self.events:
            if isinstance(event, ev.TextPart):
                current.append(event.text)
            elif isinstance(event, ev.TurnComplete):
                out.append("".join(current).strip())
                current = []
        return out

    async def finished(self) -> None:
        await asyncio.wait_for(self._task, 10)
