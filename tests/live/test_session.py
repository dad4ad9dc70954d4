"""LiveSession against the real emulator over real sockets: turns, tools, interruption, refusals, tokens.

Resilience (goAway, drops, lost context) is in test_session_resilience.py. No sleeps: every wait is on an
observed event, bounded by a timeout.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import pytest

from rholive.emulator import Emulator
from rholive.live import (
    ActivityDetection,
    Endpoint,
    FunctionResponse,
    LiveSession,
    SessionClosed,
    SetupConfig,
    SetupRejected,
    ToolRegistry,
)
from rholive.live import events as ev

from .conftest import Events, emulator_options


async def test_text_turns_stream_and_the_events_go_on_after_turn_complete(emu: Emulator) -> None:
    async with LiveSession(Endpoint(emu.url), SetupConfig()) as session:
        seen = Events(session)
        await session.send_turn("hello there")
        await seen.until(lambda s: s.count(ev.TurnComplete) == 1)
        await session.send_turn("and again")
        await seen.until(lambda s: s.count(ev.TurnComplete) == 2)
    await seen.ended()
    assert seen.replies() == ["reply 1: hello there", "reply 2: and again"]
    assert seen.count(ev.OutputTranscription) >= 4  # streamed in parts, not one blob
    assert seen.kinds()[:2] == ["setup_complete", "connected"]
    last = seen.items[-1]
    assert isinstance(last, ev.Closed) and last.code == 1000 and not last.error
    assert session.usage.reports == 2
    assert session.usage.total_tokens > 0
    assert session.usage.prompt_by_modality.get("TEXT", 0) > 0
    assert session.handle is not None  # resumption updates were read


async def test_tool_round_trip_with_a_sync_and_an_async_tool(emu: Emulator) -> None:
    tools = ToolRegistry()

    @tools.tool
    def shout(value: str) -> dict[str, str]:
        """Upper-case a word."""
        return {"loud": value.upper()}

    @tools.tool
    async def length(value: str) -> int:
        """Count the letters of a word."""
        await asyncio.sleep(0)
        return len(value)

    async with LiveSession(Endpoint(emu.url), SetupConfig(), tools=tools) as session:
        seen = Events(session)
        await session.send_turn("use shout hey")
        await seen.until(lambda s: s.count(ev.TurnComplete) == 1)
        await session.send_turn("use length four")
        await seen.until(lambda s: s.count(ev.TurnComplete) == 2)
    assert seen.replies() == ["shout said {'loud': 'HEY'}", "length said {'result': 4}"]
    calls = [c for event in seen.of(ev.ToolCall) for c in event.calls]
    results = seen.of(ev.ToolResult)
    assert [c.name for c in calls] == ["shout", "length"]
    assert [(r.id, r.name) for r in results] == [(c.id, c.name) for c in calls]
    assert results[0].response == {"loud": "HEY"} and not results[0].cancelled


async def test_setup_carries_the_registry_declarations(emu: Emulator) -> None:
    tools = ToolRegistry()

    @tools.tool
    def ping(value: str) -> str:
        """Answer pong."""
        return "pong"

    session = LiveSession(Endpoint(emu.url), SetupConfig(), tools=tools)
    assert session.config.tools == tools.setup_tools()
    explicit = [{"functionDeclarations": [{"name": "other"}]}]
    assert LiveSession(Endpoint(emu.url), SetupConfig(tools=explicit), tools=tools).config.tools == explicit


async def test_without_a_registry_the_app_answers_tool_calls_itself(emu: Emulator) -> None:
    async with LiveSession(Endpoint(emu.url), SetupConfig()) as session:
        seen = Events(session)
        await session.send_turn("use lookup cat")
        await seen.until(lambda s: s.count(ev.ToolCall) == 1)
        call = seen.of(ev.ToolCall)[0].calls[0]
        assert (call.name, call.args) == ("lookup", {"value": "cat"})
        await session.send_tool_response(FunctionResponse(call.id, call.name, {"found": "meow"}))
        await seen.until(lambda s: s.count(ev.TurnComplete) == 1)
    assert seen.replies() == ["lookup said {'found': 'meow'}"]


async def test_a_new_turn_during_a_reply_interrupts_it() -> None:
    async with Emulator(emulator_options(reply_delay_s=1.0)) as emu:
        config = SetupConfig(input_transcription=True)
        async with LiveSession(Endpoint(emu.url), config) as session:
            seen = Events(session)
            await session.send_turn("first")
            # the server closed turn 1 and its reply is pending (delayed): a clientContent now interrupts
            await seen.until(lambda s: s.count(ev.InputTranscription) == 1)
            await session.send_turn("second")
            await seen.until(lambda s: s.count(ev.TurnComplete) == 2)  # interrupted ... turnComplete, then 2
        assert seen.count(ev.Interrupted) == 1
        assert seen.replies() == ["", "reply 2: second"]
        assert [t.text for t in emu.conversations[0].turns] == ["first", "second"]


async def test_activity_markers_delimit_an_audio_turn_in_order(emu: Emulator) -> None:
    config = SetupConfig(activity_detection=ActivityDetection(disabled=True))
    chunk = b"\x10\x00" * 1600  # 100 ms at 16 kHz
    async with LiveSession(Endpoint(emu.url), config) as session:
        seen = Events(session)
        await session.activity_start()
        for _ in range(5):
            await session.send_audio(chunk)
        await session.activity_end()
        await seen.until(lambda s: s.count(ev.TurnComplete) == 1)
    (turn,) = emu.conversations[0].turns
    assert turn.audio_bytes == 5 * len(chunk)  # every chunk inside the activity, none dropped
    assert emu.conversations[0].ignored_audio_seconds == 0


async def test_a_stale_video_frame_is_dropped_and_counted_audio_never(emu: Emulator) -> None:
    async with LiveSession(Endpoint(emu.url), SetupConfig()) as session:
        seen = Events(session)
        # no await yields between these sends, so the writer has not taken any: the queue is backed up
        await session.send_video(b"\xff\xd8frame-1")
        await session.send_audio(b"\x00\x00" * 160)
        await session.send_video(b"\xff\xd8frame-2")
        await session.send_video(b"\xff\xd8frame-3!")
        await session.send_turn("what do you see")
        await seen.until(lambda s: s.count(ev.TurnComplete) == 1)
    assert session.dropped_frames == 2
    assert [e.total for e in seen.of(ev.FrameDropped)] == [1, 2]
    (turn,) = emu.conversations[0].turns
    assert (turn.video_frames, turn.video_bytes) == (1, len(b"\xff\xd8frame-3!"))


async def test_a_rule_broken_closes_with_1007_and_its_reason_without_retry(emu: Emulator) -> None:
    session = LiveSession(Endpoint(emu.url), SetupConfig())  # automatic activity detection is on
    async with session:
        seen = Events(session)
        await session.activity_start()
        await seen.ended()
        with pytest.raises(SessionClosed):
            await session.send_turn("anyone?")
    closed = seen.items[-1]
    assert isinstance(closed, ev.Closed) and closed.error
    assert closed.code == 1007
    assert "activityStart" in closed.reason and "disabled" in closed.reason
    assert seen.count(ev.Reconnecting) == 0
    assert emu.conversations[0].connections == 1


async def test_a_wrong_api_key_raises_setup_rejected_without_the_key() -> None:
    secret = "AIza-wrong-secret-0123456789"
    async with Emulator(emulator_options(api_keys=["the-right-key"])) as emu:
        session = LiveSession(Endpoint(emu.url, api_key=secret), SetupConfig())
        with pytest.raises(SetupRejected) as caught:
            await session.__aenter__()
    exc = caught.value
    assert exc.code == 1008
    assert "API key not valid" in exc.reason
    for text in (str(exc), repr(exc), exc.reason, repr(session)):
        assert secret not in text


async def test_the_right_api_key_goes_in_a_header_never_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    secret = "AIza-right-secret-9876543210"
    caplog.set_level(logging.DEBUG)
    async with Emulator(emulator_options(api_keys=[secret])) as emu:
        endpoint = Endpoint(emu.url, api_key=secret)
        assert secret not in endpoint.url()
        async with LiveSession(endpoint, SetupConfig()) as session:
            seen = Events(session)
            await session.send_turn("hi")
            await seen.until(lambda s: s.count(ev.TurnComplete) == 1)
    assert any("x-goog-api-key" in r.getMessage() for r in caplog.records)  # the header was logged...
    assert all(secret not in r.getMessage() for r in caplog.records)  # ...with its value redacted


async def test_ephemeral_token_flow_on_the_constrained_endpoint() -> None:
    key = "server-side-key"
    async with Emulator(emulator_options(api_keys=[key])) as emu:
        async with aiohttp.ClientSession() as http:
            answer = await http.post(
                f"{emu.http_url}/v1alpha/auth_tokens", headers={"x-goog-api-key": key}, json={"uses": 1}
            )
            assert answer.status == 200
            token = (await answer.json())["name"]
        endpoint = Endpoint(emu.url, ephemeral_token=token)
        assert endpoint.url().endswith("v1alpha.GenerativeService.BidiGenerateContentConstrained")
        assert token not in endpoint.url() and token not in repr(endpoint)
        async with LiveSession(endpoint, SetupConfig()) as session:
            seen = Events(session)
            await session.send_turn("via token")
            await seen.until(lambda s: s.count(ev.TurnComplete) == 1)
        assert seen.replies() == ["reply 1: via token"]
        with pytest.raises(SetupRejected) as used_up:  # one use: a second new session is refused
            await LiveSession(endpoint, SetupConfig()).connect()
        assert used_up.value.code == 1008 and token not in str(used_up.value)


async def test_bad_input_gets_one_clear_error_and_the_session_goes_on(emu: Emulator) -> None:
    async with LiveSession(Endpoint(emu.url), SetupConfig()) as session:
        seen = Events(session)
        with pytest.raises(ValueError, match="even number of bytes"):
            await session.send_audio(b"\x00\x00\x00")
        with pytest.raises(TypeError):
            await session.send_audio("not bytes")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            await session.send_tool_response(FunctionResponse("id", "f", {"x": object()}))
        await session.send_turn("still here")
        await seen.until(lambda s: s.count(ev.TurnComplete) == 1)
    assert seen.replies() == ["reply 1: still here"]


async def test_close_ends_the_stream_and_leaves_no_task_behind(emu: Emulator) -> None:
    session = LiveSession(Endpoint(emu.url), SetupConfig())
    async with session:
        seen = Events(session)
        await session.send_turn("bye")
        await seen.until(lambda s: s.count(ev.TurnComplete) == 1)
    await seen.ended()
    assert seen.count(ev.Closed) == 1
    leftovers: list[Any] = [t for t in asyncio.all_tasks() if t.get_name().startswith("rholive-live")]
    assert leftovers == []
    await session.close()  # idempotent
    assert [e async for e in session] == []  # the stream stays ended
    with pytest.raises(SessionClosed):
        await session.send_text("late")
