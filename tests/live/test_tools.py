"""Tool registry declarations and the concurrent tool runner."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Literal

import pytest

from rholive.live import models
from rholive.live.events import FunctionCall, ToolResult
from rholive.live.tools import ToolRegistry, ToolRunner, parse_docstring
from rholive.live.wire import FunctionResponse, SetupConfig

WAIT = 5.0  # generous bound on any handshake; a hang fails the test instead of blocking the suite


# ---------------------------------------------------------------- declarations


def get_weather(
    city: str,
    days: int,
    units: Literal["metric", "imperial"] = "metric",
    tags: list[str] | None = None,
    threshold: float = 0.5,
    verbose: bool = False,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Get the weather forecast
    for a city.

    Looks it up in a table; more prose that is not the description.

    Args:
        city: Name of the city,
            in English.
        days (int): How many days ahead.
        units: Unit system.

    Returns:
        The forecast.
    """
    return {"city": city, "days": days}


def test_declaration_from_signature_and_docstring() -> None:
    registry = ToolRegistry()
    registry.register(get_weather)
    assert registry.setup_tools() == [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "description": "Get the weather forecast for a city.",
                    "parameters": {
                        "type": "OBJECT",
                        "properties": {
                            "city": {"type": "STRING", "description": "Name of the city, in English."},
                            "days": {"type": "INTEGER", "description": "How many days ahead."},
                            "units": {
                                "type": "STRING",
                                "enum": ["metric", "imperial"],
                                "description": "Unit system.",
                            },
                            "tags": {"type": "ARRAY", "items": {"type": "STRING"}, "nullable": True},
                            "threshold": {"type": "NUMBER"},
                            "verbose": {"type": "BOOLEAN"},
                            "extra": {"type": "OBJECT", "nullable": True},
                        },
                        "required": ["city", "days"],
                    },
                    # our tools answer within the turn unless told otherwise (3.8 defaults to NON_BLOCKING)
                    "behavior": "BLOCKING",
                }
            ]
        }
    ]


def test_declaration_is_valid_for_the_official_sdk() -> None:
    from google.genai import types

    registry = ToolRegistry()
    registry.register(get_weather, behavior="NON_BLOCKING")
    (tool,) = registry.setup_tools()
    parsed = types.Tool.model_validate(tool)
    (decl,) = parsed.function_declarations or []
    assert decl.name == "get_weather" and decl.behavior == types.Behavior.NON_BLOCKING
    assert decl.parameters is not None and decl.parameters.required == ["city", "days"]
    assert decl.parameters.properties is not None
    assert decl.parameters.properties["units"].enum == ["metric", "imperial"]


def test_decorator_forms_explicit_schema_and_behavior() -> None:
    registry = ToolRegistry()

    @registry.tool
    def ping() -> str:
        """Answer pong."""
        return "pong"

    schema = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}

    @registry.tool(name="search_web", description="Search the web.", schema=schema, behavior="NON_BLOCKING")
    async def search(**kwargs: Any) -> dict[str, Any]:
        return kwargs

    assert ping() == "pong"  # the decorator returns the function itself
    assert "ping" in registry and "search_web" in registry and len(registry) == 2
    assert registry.declarations() == [
        # no parameters: the service refuses empty OBJECTs
        {"name": "ping", "description": "Answer pong.", "behavior": "BLOCKING"},
        {
            "name": "search_web",
            "description": "Search the web.",
            "parameters": schema,
            "behavior": "NON_BLOCKING",
        },
    ]


def test_empty_registry_declares_no_tools() -> None:
    assert ToolRegistry().setup_tools() == []


def test_optional_literal_and_tuple_hints() -> None:
    registry = ToolRegistry()

    def f(mode: Literal["a", "b"] | None, values: tuple[int, ...]) -> None: ...

    props = registry.register(f).declaration["parameters"]["properties"]
    assert props == {
        "mode": {"type": "STRING", "enum": ["a", "b"], "nullable": True},
        "values": {"type": "ARRAY", "items": {"type": "INTEGER"}},
    }


def no_hint(x): ...  # type: ignore[no-untyped-def]
def two_types(x: int | str) -> None: ...
def bare_list(x: list) -> None: ...  # type: ignore[type-arg]
def int_literal(x: Literal[1, 2]) -> None: ...


@pytest.mark.parametrize("fn", [no_hint, two_types, bare_list, int_literal])
def test_inexpressible_signatures_are_refused_at_registration(fn: Any) -> None:
    with pytest.raises(TypeError, match="x"):
        ToolRegistry().register(fn)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name": "has space"}, "invalid tool name"),
        ({"behavior": "SOMETIMES"}, "behavior"),
        ({"behavior": "NON_BLOCKING", "scheduling": "LATER"}, "scheduling"),
        ({"scheduling": "WHEN_IDLE"}, "NON_BLOCKING"),
    ],
)
def test_bad_options_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ToolRegistry().register(get_weather, **options)


def test_duplicate_name_is_refused() -> None:
    registry = ToolRegistry()
    registry.register(get_weather)
    with pytest.raises(ValueError, match="already registered"):
        registry.register(get_weather)


def test_docstring_parser() -> None:
    doc = "Summary line.\n\nArgs:\n    a: first\n        more\n    *args: ignored\n    b (str): second\nRaises:\n    c: not an arg"
    assert parse_docstring(doc) == ("Summary line.", {"a": "first more", "args": "ignored", "b": "second"})
    assert parse_docstring("") == ("", {})


# ---------------------------------------------------------------- running calls


class Recorder:
    """Collects what the runner sends and reports; lets a test wait for a number of responses."""

    def __init__(self) -> None:
        self.sent: list[FunctionResponse] = []
        self.results: list[ToolResult] = []
        self._changed = asyncio.Condition()

    async def send(self, responses: list[FunctionResponse]) -> None:
        async with self._changed:
            self.sent.extend(responses)
            self._changed.notify_all()

    async def on_result(self, result: ToolResult) -> None:
        async with self._changed:
            self.results.append(result)
            self._changed.notify_all()

    async def until(self, sent: int = 0, results: int = 0) -> None:
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.sent) >= sent and len(self.results) >= results), WAIT
            )

    def by_id(self) -> dict[str, FunctionResponse]:
        return {r.id: r for r in self.sent}


async def test_sync_and_async_tools_run_concurrently_and_answer_with_their_ids() -> None:
    """Each tool only finishes once the other has started: sequential execution would time out."""
    registry = ToolRegistry()
    loop = asyncio.get_running_loop()
    sync_started = asyncio.Event()
    async_started = threading.Event()

    @registry.tool
    def slow_sync(n: int) -> int:
        loop.call_soon_threadsafe(sync_started.set)
        if not async_started.wait(WAIT):
            raise TimeoutError("the async tool never started")
        return n * 2

    @registry.tool
    async def slow_async(word: str) -> dict[str, Any]:
        async_started.set()
        await asyncio.wait_for(sync_started.wait(), WAIT)
        return {"echo": word}

    rec = Recorder()
    runner = ToolRunner(registry, rec.send, on_result=rec.on_result)
    runner.start(
        [FunctionCall("id-1", "slow_sync", {"n": 21}), FunctionCall("id-2", "slow_async", {"word": "hi"})]
    )
    await rec.until(sent=2, results=2)

    assert rec.by_id() == {
        "id-1": FunctionResponse("id-1", "slow_sync", {"result": 42}),  # a non-dict value is wrapped
        "id-2": FunctionResponse("id-2", "slow_async", {"echo": "hi"}),  # a dict goes as-is
    }
    assert {(r.id, r.cancelled) for r in rec.results} == {("id-1", False), ("id-2", False)}
    assert runner.running == frozenset()


async def test_errors_become_error_responses() -> None:
    registry = ToolRegistry()

    @registry.tool
    def divide(a: int, b: int) -> float:
        return a / b

    @registry.tool
    async def not_json() -> object:
        return object()

    rec = Recorder()
    runner = ToolRunner(registry, rec.send, on_result=rec.on_result)
    runner.start(
        [
            FunctionCall("e1", "divide", {"a": 1, "b": 0}),
            FunctionCall("e2", "no_such_tool", {}),
            FunctionCall("e3", "divide", {"a": 1, "c": 2}),
            FunctionCall("e4", "not_json", {}),
        ]
    )
    await rec.until(sent=4, results=4)
    responses = {k: v.response for k, v in rec.by_id().items()}
    assert responses["e1"] == {"error": "ZeroDivisionError: division by zero"}
    assert responses["e2"] == {"error": "unknown function 'no_such_tool'"}
    assert responses["e3"]["error"].startswith("TypeError: ")
    assert "not JSON-serializable" in responses["e4"]["error"]
    assert [r.response for r in rec.results if r.id == "e1"] == [responses["e1"]]


async def test_cancellation_stops_the_task_and_sends_nothing() -> None:
    registry = ToolRegistry()
    started = asyncio.Event()
    stopped = asyncio.Event()

    @registry.tool
    async def wait_forever() -> str:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()
        return "never"

    @registry.tool
    def quick() -> str:
        return "done"

    rec = Recorder()
    runner = ToolRunner(registry, rec.send, on_result=rec.on_result)
    runner.start([FunctionCall("slow", "wait_forever", {})])
    await asyncio.wait_for(started.wait(), WAIT)
    assert runner.running == frozenset({"slow"})

    assert runner.cancel(["slow", "unknown-id"]) == ["slow"]
    await asyncio.wait_for(stopped.wait(), WAIT)
    await rec.until(results=1)
    assert rec.results == [ToolResult(id="slow", name="wait_forever", cancelled=True)]

    # a later call's response is the only one ever sent: the cancelled call sent nothing
    runner.start([FunctionCall("q", "quick", {})])
    await rec.until(sent=1, results=2)
    await runner.wait()
    assert [r.id for r in rec.sent] == ["q"]


async def test_close_cancels_every_running_call() -> None:
    registry = ToolRegistry()
    started: list[str] = []
    all_started = asyncio.Event()

    @registry.tool
    async def hang(tag: str) -> None:
        started.append(tag)
        if len(started) == 2:
            all_started.set()
        await asyncio.Event().wait()

    rec = Recorder()
    runner = ToolRunner(registry, rec.send, on_result=rec.on_result)
    tasks = runner.start([FunctionCall("a", "hang", {"tag": "a"}), FunctionCall("b", "hang", {"tag": "b"})])
    await asyncio.wait_for(all_started.wait(), WAIT)
    await runner.close()
    assert all(t.cancelled() for t in tasks)
    assert rec.sent == [] and sorted(r.id for r in rec.results if r.cancelled) == ["a", "b"]


async def test_non_blocking_responses_carry_the_scheduling() -> None:
    registry = ToolRegistry()

    @registry.tool(name="remind", behavior="NON_BLOCKING", scheduling="WHEN_IDLE")
    def note(text: str) -> str:
        return f"noted: {text}"

    registry.register(lambda: "x", name="blocking_one", schema={"type": "OBJECT", "properties": {}})

    rec = Recorder()
    runner = ToolRunner(registry, rec.send)
    runner.start([FunctionCall("n1", "remind", {"text": "milk"}), FunctionCall("b1", "blocking_one", {})])
    await rec.until(sent=2)
    assert rec.by_id() == {
        "n1": FunctionResponse("n1", "remind", {"result": "noted: milk"}, scheduling="WHEN_IDLE"),
        "b1": FunctionResponse("b1", "blocking_one", {"result": "x"}),
    }


async def test_a_failing_send_or_hook_does_not_break_the_runner() -> None:
    registry = ToolRegistry()
    registry.register(lambda: 1, name="one", schema={})
    results: list[ToolResult] = []
    reported = asyncio.Event()

    async def broken_send(responses: list[FunctionResponse]) -> None:
        raise ConnectionError("socket gone")

    def hook(result: ToolResult) -> None:  # a sync hook works too
        results.append(result)
        reported.set()
        raise RuntimeError("hook bug")

    runner = ToolRunner(registry, broken_send, on_result=hook)
    (task,) = runner.start([FunctionCall("x", "one", {})])
    await asyncio.wait_for(reported.wait(), WAIT)
    await runner.wait()
    assert task.exception() is None
    assert results == [ToolResult(id="x", name="one", response={"result": 1})]


def test_behavior_is_left_out_for_models_that_only_block() -> None:
    """3.8 takes `behavior` (its default is NON_BLOCKING); 3.1 has blocking tools only: no field it may refuse."""
    registry = ToolRegistry()
    registry.register(get_weather)
    tools = registry.setup_tools()
    on_38 = models.fit_setup(SetupConfig(model="models/gemini-3.8-live", tools=tools))
    on_31 = models.fit_setup(SetupConfig(model="models/gemini-3.1-flash-live-preview", tools=tools))
    assert on_38.tools[0]["functionDeclarations"][0]["behavior"] == "BLOCKING"
    assert "behavior" not in on_31.tools[0]["functionDeclarations"][0]
    assert tools[0]["functionDeclarations"][0]["behavior"] == "BLOCKING"  # the registry's own list untouched
