"""``rholive chat``: each stdin line is a user turn over one Live session; replies go to stdout."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from rholive.config import Settings
from rholive.connect import open_endpoint
from rholive.conversation import (
    BUDGET_EXIT,
    ChatPrinter,
    cost_event,
    cost_meter,
    no_tools,
    session_options,
    setup_config,
)
from rholive.live import LiveSession, budget_line
from rholive.live import events as ev
from rholive.textio import read_lines


async def run_chat(settings: Settings, *, json_mode: bool, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    """Returns the process exit code: 0 after EOF, 1 when the session ended with an error, `BUDGET_EXIT` when
    the estimated cost reached the budget (the turn that crossed it is answered; no later line is sent)."""
    printer = ChatPrinter(out, err, json_mode)
    meter = cost_meter(settings)
    async with (
        open_endpoint(settings, quiet=False) as endpoint,
        LiveSession(
            endpoint, setup_config(settings), no_tools(), options=session_options(settings)
        ) as session,
    ):
        answer_done = asyncio.Event()
        over_budget = asyncio.Event()
        closed: list[ev.Closed] = []

        async def consume() -> None:
            async for event in session:
                printer.event(event)
                if isinstance(event, ev.Usage):
                    printer.cost(cost_event(meter, meter.add(event)))
                    if meter.reached(settings.budget_usd):
                        over_budget.set()
                # not TurnComplete: with background reasoning the answer goes on after it. A turn given up
                # after two stalls, or a model that waits for more input, ends the wait too: never hang.
                if isinstance(event, ev.AnswerComplete | ev.Stalled | ev.WaitingForInput):
                    answer_done.set()
                elif isinstance(event, ev.Closed):
                    closed.append(event)
                    answer_done.set()

        consumer = asyncio.create_task(consume())
        async for line in read_lines(stdin):
            if closed or over_budget.is_set():  # usage that came after its turn's end is counted here
                break
            if not line.strip():
                continue
            printer.user(line)
            answer_done.clear()
            await session.send_turn(line)
            # the usage of a turn rides on its turnComplete frame and is handled before this wakes up
            await answer_done.wait()
            if over_budget.is_set():
                break
        await session.close()
        await consumer
    if closed and closed[0].error:
        return 1
    if over_budget.is_set() and settings.budget_usd is not None and meter.usd is not None:
        print(budget_line(settings.budget_usd, meter.usd), file=err, flush=True)
        return BUDGET_EXIT
    return 0


def main(settings: Settings, *, json_mode: bool) -> int:
    return asyncio.run(
        run_chat(settings, json_mode=json_mode, stdin=sys.stdin, out=sys.stdout, err=sys.stderr)
    )
