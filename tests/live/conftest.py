"""LiveSession tests run against the real emulator on loopback, over real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from rholive.emulator import Emulator, EmulatorOptions
from rholive.emulator.brains import CallTool, Say, UserTurn
from rholive.live import LiveSession
from rholive.live import events as ev

WAIT_S = 15.0  # a generous bound on any single wait; never a measurement


class CountingBrain:
    """Replies ``reply N: TEXT`` (N = the turn number), so a doubled or lost turn shows in the answers.
    ``use NAME ARG`` makes it call tool NAME with {"value": ARG} and then report the response."""

    def respond(self, turn: UserTurn, history: list[UserTurn]) -> list[Any]:
        if turn.text.startswith("use "):
            _, name, arg = turn.text.split(" ", 2)
            return [CallTool(name, {"value": arg})]
        return [Say(f"reply {turn.number}: {turn.text}")]

    def after_tool(self, name: str, args: dict[str, Any], response: dict[str, Any]) -> list[Any]:
        return [Say(f"{name} said {response}")]


class HoldingBrain:
    """Makes the emulator hold the reply to the first ``holds`` calls (a reply delay far beyond any test):
    the socket stays open, pings are answered, no answer comes. Later replies come at once."""

    def __init__(self, options: EmulatorOptions, holds: int) -> None:
        self.options, self.holds, self.calls = options, holds, 0

    def respond(self, turn: UserTurn, history: list[UserTurn]) -> list[Any]:
        self.calls += 1
        self.options.reply_delay_s = 3600.0 if self.calls <= self.holds else 0.0  # read right after this
        return [Say(f"reply {turn.number}: {turn.text}")]

    def after_tool(self, name: str, args: dict[str, Any], response: dict[str, Any]) -> list[Any]:
        return []


def holding_emulator(holds: int) -> EmulatorOptions:
    options = EmulatorOptions(words_per_part=2)
    options.brain = HoldingBrain(options, holds)
    return options


def emulator_options(**overrides: Any) -> EmulatorOptions:
    return EmulatorOptions(brain=CountingBrain(), words_per_part=2, **overrides)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(emulator_options()) as server:
        yield server


class Events:
    """Reads a session's events in a background task; tests wait on conditions over what arrived."""

    def __init__(self, session: LiveSession) -> None:
        self.items: list[ev.Event] = []
        self._arrived = asyncio.Condition()
        self.task = asyncio.create_task(self._read(session))

    async def _read(self, session: LiveSession) -> None:
        async for event in session:
            async with self._arrived:
                self.items.append(event)
                self._arrived.notify_all()

    async def until(self, condition: Callable[[Events], bool], within: float = WAIT_S) -> None:
        async def wait() -> None:
            async with self._arrived:
                await self._arrived.wait_for(lambda: condition(self))

        await asyncio.wait_for(wait(), within)

    async def ended(self) -> None:
        await asyncio.wait_for(self.task, WAIT_S)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.items if isinstance(e, kind)]

    def count(self, kind: type) -> int:
        return len(self.of(kind))

    def replies(self, end: type = ev.TurnComplete) -> list[str]:
        """The text of every completed model turn (ended by ``end``), in order (a turn cut by a reconnect
        restarts)."""
        done, current = [], []
        for event in self.items:
            text = ev.answer_text(event)
            if text is not None:
                current.append(text)
            elif isinstance(event, end):
                done.append("".join(current).strip())
                current = []
            elif isinstance(event, ev.Reconnecting | ev.Interrupted):
                current = []  # a partial reply never completed: the resumed model answers again
        return done

    def kinds(self) -> list[str]:
        return [e.kind for e in self.items]
