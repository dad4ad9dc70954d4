"""``rholive chat``: each stdin line is a user turn over one Live session; replies go to stdout."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from rholive.config import Settings
from rholive.connect import open_endpoint
from rholive.conversation import (
    ChatPrinter,
    Conversation,
    cost_meter,
    no_tools,
    session_options,
    setup_config,
)
from rholive.live import LiveSession
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
        talk = Conversation(session, printer, meter, settings.budget_usd).start()
        async for line in read_lines(stdin):
            if talk.over or talk.over_budget.is_set():  # usage that came after its turn's end is counted here
                break
            if not line.strip():
                continue
            printer.user(line)
            mark = talk.settled
            await session.send_turn(line)
            # the usage of a turn rides on its turnComplete frame and is handled before this wakes up
            await talk.wait_settled(mark)
            if talk.over_budget.is_set():
                break
        await talk.close()
    failed = talk.failed_exit(err)
    if failed is not None:
        return failed
    return 0


def main(settings: Settings, *, json_mode: bool) -> int:
    return asyncio.run(
        run_chat(settings, json_mode=json_mode, stdin=sys.stdin, out=sys.stdout, err=sys.stderr)
    )
