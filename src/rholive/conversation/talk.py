"""One conversation as a face follows it: consumes the session's events, hands them to the face's sink (a
printer, the answer collector of Telegram), counts the answers, keeps the cost against the budget, remembers
how the session ended."""

from __future__ import annotations

import asyncio
from typing import Protocol, TextIO

from rholive.conversation.budget import BUDGET_EXIT, cost_event
from rholive.conversation.turns import ANSWER_TIMEOUT_S, SERVER_QUIET_S, wait_until
from rholive.live import CostMeter, LiveSession, budget_line
from rholive.live import events as ev


class AnswerSink(Protocol):
    """Where a face puts the session's events: every printer; `AnswerCollector`."""

    def event(self, event: ev.Event) -> None: ...

    def cost(self, event: dict[str, object]) -> None: ...


class Conversation:
    """Consumes session events, counts answers, remembers how the session ended."""

    def __init__(
        self,
        session: LiveSession,
        printer: AnswerSink,
        meter: CostMeter | None = None,
        budget_usd: float | None = None,
    ) -> None:
        self.session = session
        self.printer = printer
        self.meter = meter
        self.budget_usd = budget_usd
        self.over_budget = asyncio.Event()
        self.answers = 0
        self.settled = (
            0  # turns that need no more waiting: answered, given up after stalls, or waiting for input
        )
        self.closed: ev.Closed | None = None
        self.ended = False  # the session's events are over (closed, or its iterator failed)
        self.last_event = 0.0
        self.replying = False
        self._changed = asyncio.Condition()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> Conversation:
        self.task = asyncio.create_task(self._consume())
        return self

    async def _consume(self) -> None:
        try:
            await self._follow()
        finally:  # a failing session wakes its waiters too; the failure surfaces at close()
            async with self._changed:
                self.ended = True
                self._changed.notify_all()

    async def _follow(self) -> None:
        loop = asyncio.get_running_loop()
        async for event in self.session:
            self.on_event(event)
            await self.react(event)
            self.printer.event(event)
            if isinstance(event, ev.Usage) and self.meter is not None:
                self.printer.cost(cost_event(self.meter, self.meter.add(event)))
                if self.meter.reached(self.budget_usd):
                    self.over_budget.set()
            async with self._changed:
                self.last_event = loop.time()
                if isinstance(event, ev.AnswerComplete | ev.Stalled | ev.WaitingForInput):
                    self.settled += 1
                if isinstance(event, ev.AnswerComplete):  # not TurnComplete: background reasoning goes on
                    self.answers += 1
                    self.replying = False
                elif isinstance(event, ev.TextPart | ev.AudioChunk | ev.OutputTranscription | ev.ToolCall):
                    self.replying = True
                elif isinstance(event, ev.Closed):
                    self.closed = event
                self._changed.notify_all()

    def on_event(self, event: ev.Event) -> None:
        """Hook for subclasses (playback)."""

    async def react(self, event: ev.Event) -> None:
        """Hook for faces whose reaction to an event awaits (the copilot's planner and wire)."""

    async def wait_answers(self, count: int, limit_s: float = ANSWER_TIMEOUT_S) -> bool:
        """Until `count` answers arrived (True) or the session closed / timed out (False)."""
        await wait_until(self._changed, lambda: self.answers >= count or self.over, limit_s)
        return self.answers >= count

    async def wait_settled(self, mark: int, limit_s: float | None = None) -> None:
        """Until a turn settled after `mark` (a reading of `settled` taken before sending it): never hangs on a
        turn the session gave up on or a model that waits for more input."""
        await wait_until(self._changed, lambda: self.settled > mark or self.over, limit_s)

    @property
    def over(self) -> bool:
        """No answer can come any more: the session closed or its events ended."""
        return self.closed is not None or self.ended

    async def wait_quiet(self, quiet_s: float = SERVER_QUIET_S, limit_s: float = ANSWER_TIMEOUT_S) -> None:
        """Server turns: we cannot know how many turns the server heard; wait for a reply-free quiet spell."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit_s
        self.last_event = max(self.last_event, loop.time())
        while not self.over and loop.time() < deadline:
            left = self.last_event + quiet_s - loop.time()
            if left <= 0 and not self.replying:
                return
            await asyncio.sleep(max(left, 0.1))

    def failed_exit(self, err: TextIO) -> int | None:
        """The exit code of a session that did not end as planned: 1 when it closed with an error,
        `BUDGET_EXIT` (after one line saying so) when the estimate reached the budget; None otherwise."""
        if self.closed is not None and self.closed.error:
            return 1
        if (
            self.over_budget.is_set()
            and self.budget_usd is not None
            and self.meter
            and self.meter.usd is not None
        ):
            print(budget_line(self.budget_usd, self.meter.usd), file=err, flush=True)
            return BUDGET_EXIT
        return None

    async def close(self) -> None:
        await self.session.close()
        if self.task is not None:
            await self.task
