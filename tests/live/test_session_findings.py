"""Scenarios found by session helper B where the LiveSession of 01141dc fails (all pass on B's version).

Self-contained (own brain and event reader); only the API both versions share. Real emulator, real sockets.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from rholive.emulator import Emulator
from rholive.live import (
    Endpoint,
    FunctionResponse,
    LiveSession,
    SessionOptions,
    SetupConfig,
    ToolRegistry,
)
from rholive.live import events as ev

from .conftest import WAIT_S, Events, emulator_options

FAST = SessionOptions(backoff_initial_s=0.05)


async def test_a_debug_log_never_shows_the_api_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "AIza-right-secret-9876543210"
    caplog.set_level(logging.DEBUG)  # e.g. an app run with --debug
    async with Emulator(emulator_options(api_keys=[secret])) as emu:
        async with LiveSession(Endpoint(base_url=emu.url, api_key=secret), SetupConfig()) as session:
            seen = Events(session)
            await session.send_turn("hi")
            await seen.until(lambda s: s.count(ev.TurnComplete) == 1)
    leaks = [r.name + ": " + r.getMessage() for r in caplog.records if secret in r.getMessage()]
    assert leaks == []


async def test_a_non_json_tool_response_fails_in_the_caller_and_the_session_goes_on(
    emu: Emulator,
) -> None:
    # On 01141dc the encode error kills the writer task (nothing is sent any more) and close() then never
    # returns: the supervisor swallows its cancellation in `await reader` and reconnects. Expect a hang.
    async with (
        asyncio.timeout(WAIT_S),
        LiveSession(Endpoint(base_url=emu.url), SetupConfig()) as session,
    ):
        seen = Events(session)
        with pytest.raises(TypeError):
            await session.send_tool_response([FunctionResponse("id-1", "f", {"when": object()})])
        await session.send_turn("still there?")
        await seen.until(lambda s: s.count(ev.TurnComplete) == 1, within=5)


async def test_a_tool_response_of_a_dead_connection_is_not_replayed() -> None:
    # setup, the turn, the toolResponse: the socket dies right after the server consumed the response.
    # The resumed model (state at the last handle: turn not answered) calls the tool again with a new
    # id; resending the old response on top made the emulator close with 1007 (unknown call id).
    tools = ToolRegistry()

    @tools.tool
    def shout(value: str) -> dict[str, str]:
        """Upper-case a word."""
        return {"loud": value.upper()}

    async with Emulator(emulator_options(drop_after_messages=3)) as emu:
        session = LiveSession(Endpoint(base_url=emu.url), SetupConfig(), tools=tools, options=FAST)
        async with session:
            seen = Events(session)
            await session.send_turn("use shout hey")
            await seen.until(lambda s: s.count(ev.TurnComplete) == 1 or s.count(ev.Closed) == 1)
    assert seen.count(ev.Closed) == 0 or not seen.of(ev.Closed)[0].error, seen.of(ev.Closed)
    assert seen.replies()[-1] == "shout said {'loud': 'HEY'}"


async def test_the_session_limit_ends_the_context_not_the_session() -> None:
    # Without contextWindowCompression the service ends a conversation (15 min audio); its handles are
    # then refused. A long-running copilot should go on in a fresh conversation and say so.
    async with Emulator(emulator_options(audio_session_limit_s=1.0)) as emu:
        async with LiveSession(Endpoint(base_url=emu.url), SetupConfig(), options=FAST) as session:
            seen = Events(session)
            await seen.until(lambda s: s.count(ev.ContextLost) >= 1 or s.count(ev.Closed) == 1)
            assert seen.count(ev.Closed) == 0, seen.of(ev.Closed)
            await session.send_turn("hello again")
            await seen.until(lambda s: s.count(ev.TurnComplete) == 1)
    assert seen.count(ev.ContextLost) == 1


async def test_a_slow_tool_call_across_a_go_away_does_not_kill_the_session() -> None:
    # goAway 0.5 s into the connection; the tool takes until the test releases it (after the switch).
    release = asyncio.Event()
    tools = ToolRegistry()

    @tools.tool
    async def slow(value: str) -> str:
        """Answer when released."""
        await release.wait()
        return value

    options = emulator_options(connection_lifetime_s=1.5, goaway_notice_s=1.0)
    async with Emulator(options) as emu:
        session = LiveSession(Endpoint(base_url=emu.url), SetupConfig(), tools=tools, options=FAST)
        async with session:
            seen = Events(session)
            await session.send_turn("use slow done")
            await seen.until(lambda s: s.count(ev.Connected) >= 2)  # the switch happened mid-call
            await seen.until(lambda s: s.count(ev.ToolCall) >= 2)  # the resumed model called again
            release.set()
            await seen.until(lambda s: s.count(ev.TurnComplete) >= 1 or s.count(ev.Closed) == 1)
    assert seen.count(ev.Closed) == 0 or not seen.of(ev.Closed)[0].error, seen.of(ev.Closed)
    assert seen.replies()[0] == "slow said {'result': 'done'}"
