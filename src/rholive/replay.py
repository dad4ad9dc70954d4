"""``rholive replay FILE``: an audio file through the turn segmenter into one Live session, replies shown.

The file stands in for a microphone (paced, or `--speed N` faster, or unpaced). With `--turns client` (the
default) our segmenter decides the turns and the session sends activityStart / audio / activityEnd; with
`--turns server` the audio streams continuously, the server's VAD finds the turns and `audioStreamEnd` marks
pauses and the end of the file. `--json` prints one JSON object per line: our turn decisions (`turn_open`,
`turn_close`, `stream_end`, with `t_ms` = position in the file's audio) and every session event.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TextIO

from rholive.audio import FileSource, segmenter_config
from rholive.config import Settings
from rholive.connect import open_endpoint
from rholive.conversation import (
    Conversation,
    TurnMode,
    TurnPump,
    TurnStream,
    VoicePrinter,
    cost_meter,
    no_tools,
    session_options,
    stream_server_turns,
    until_over_budget,
    voice_setup,
)
from rholive.live import LiveSession, ToolRegistry


async def _turn_by_turn(
    source: AsyncIterator[tuple[int, bytes]], pump: TurnPump, talk: Conversation
) -> AsyncIterator[tuple[int, bytes]]:
    """Unpaced replay compresses the file's silences, not the conversation: audio after a closed turn waits
    for that turn's answer, so a spoken answer (seconds long) is not cut by the next turn at once."""
    async for chunk in source:
        if pump.turns > talk.answers:
            await talk.wait_answers(pump.turns)
        yield chunk


async def run_replay(
    settings: Settings,
    path: str | Path,
    *,
    json_mode: bool = False,
    speed: float | None = None,
    turns: TurnMode = "client",
    out: TextIO | None = None,
    err: TextIO | None = None,
    tools: ToolRegistry | None = None,
) -> int:
    """Returns the exit code: 0 when every turn was answered, 1 when the session failed or answers are missing."""
    out = out or sys.stdout  # looked up now: tests and callers swap sys.stdout
    err = err or sys.stderr
    source = FileSource(path, speed=speed)  # a bad file fails here, before anything starts
    printer = VoicePrinter(out, err, json_mode)
    meter = cost_meter(settings)
    async with (
        source,
        open_endpoint(settings) as endpoint,
        LiveSession(
            endpoint,
            voice_setup(settings, turns),
            tools=tools or no_tools(),
            options=session_options(settings),
        ) as session,
    ):
        talk = Conversation(session, printer, meter, settings.budget_usd).start()
        if turns == "server":
            await until_over_budget(stream_server_turns(source, session, printer), talk.over_budget)
            if not talk.over_budget.is_set():
                await talk.wait_quiet()
            answered = talk.closed is None
        else:
            pump = TurnPump("me", session, TurnStream(), printer, config=segmenter_config(settings.segmenter))
            feed = source if speed is not None else _turn_by_turn(source, pump, talk)
            await until_over_budget(pump.run(feed), talk.over_budget)
            answered = talk.over_budget.is_set() or await talk.wait_answers(pump.turns)
            if not answered and talk.closed is None:
                print(f"rholive: {pump.turns - talk.answers} turn(s) got no answer", file=err, flush=True)
            if pump.turns == 0 and talk.closed is None:  # silence or noise only: say so, not a quiet exit 0
                print(f"rholive: no speech found in {source.name}: nothing was sent", file=err, flush=True)
                answered = False
        await talk.close()
    failed = talk.failed_exit(err)
    if failed is not None:
        return failed
    return 0 if answered else 1


def main(settings: Settings, path: Path, *, json_mode: bool, speed: float | None, turns: TurnMode) -> int:
    segmenter_config(settings.segmenter)  # a bad [segmenter] table fails before anything starts
    return asyncio.run(run_replay(settings, path, json_mode=json_mode, speed=speed, turns=turns))
