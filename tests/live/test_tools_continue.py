"""NON_BLOCKING tools that answer several times (willContinue) and tools that return media (parts)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from rholive.live.events import FunctionCall
from rholive.live.tools import ToolRegistry, ToolReply, ToolRunner
from rholive.live.wire import FunctionResponse, ResponseBlob

from .test_tools import Recorder


async def test_a_generator_tool_sends_each_value_then_a_silent_end() -> None:
    registry = ToolRegistry()

    @registry.tool(behavior="NON_BLOCKING", scheduling="WHEN_IDLE")
    async def countdown(start: int) -> AsyncIterator[dict[str, int]]:
        for n in range(start, 0, -1):
            yield {"left": n}

    rec = Recorder()
    ToolRunner(registry, rec.send, rec.on_result).start([FunctionCall("c1", "countdown", {"start": 2})])
    await rec.until(sent=3, results=1)
    assert rec.sent == [
        FunctionResponse("c1", "countdown", {"left": 2}, "WHEN_IDLE", will_continue=True),
        FunctionResponse("c1", "countdown", {"left": 1}, "WHEN_IDLE", will_continue=True),
        FunctionResponse("c1", "countdown", {}, "SILENT", will_continue=False),
    ]


async def test_a_generator_that_fails_ends_with_the_error() -> None:
    registry = ToolRegistry()

    @registry.tool(behavior="NON_BLOCKING")
    async def flaky() -> AsyncIterator[str]:
        yield "first"
        raise RuntimeError("lost the feed")

    rec = Recorder()
    ToolRunner(registry, rec.send).start([FunctionCall("f1", "flaky", {})])
    await rec.until(sent=2)
    assert rec.sent[0].response == {"result": "first"} and rec.sent[0].will_continue is True
    assert rec.sent[1].response == {"error": "RuntimeError: lost the feed"}
    assert rec.sent[1].will_continue is False


def test_a_generator_tool_must_be_non_blocking() -> None:
    async def ticks() -> AsyncIterator[int]:
        yield 1

    with pytest.raises(ValueError, match="NON_BLOCKING"):
        ToolRegistry().register(ticks)


async def test_a_tool_reply_carries_media_parts() -> None:
    registry = ToolRegistry()
    photo = ResponseBlob(b"\xff\xd8", "image/jpeg")

    @registry.tool
    def snapshot() -> ToolReply:
        return ToolReply({"status": "ok"}, parts=(photo,))

    rec = Recorder()
    ToolRunner(registry, rec.send).start([FunctionCall("s1", "snapshot", {})])
    await rec.until(sent=1)
    assert rec.sent == [FunctionResponse("s1", "snapshot", {"status": "ok"}, parts=(photo,))]
