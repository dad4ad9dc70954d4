"""Tools the model may call: a registry of plain Python functions and a runner for the Live tool calls.

Declarations come from each function's signature, type hints and docstring (or an explicit schema), in the
Live ``functionDeclarations`` format. The runner executes calls concurrently as asyncio tasks (sync
functions in a worker thread) and sends each response back with the id of its call.
"""

from __future__ import annotations

import asyncio
import collections.abc as cabc
import inspect
import json
import logging
import re
import types
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin, overload

from rholive.live.events import FunctionCall, ToolResult
from rholive.live.wire import FunctionResponse, ResponseBlob

log = logging.getLogger(__name__)

BEHAVIORS = ("BLOCKING", "NON_BLOCKING")
SCHEDULINGS = ("INTERRUPT", "WHEN_IDLE", "SILENT")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,63}")
_SCALARS: dict[Any, str] = {str: "STRING", bool: "BOOLEAN", int: "INTEGER", float: "NUMBER"}
_SEQUENCES = (list, tuple, set, frozenset, cabc.Sequence, cabc.Iterable, cabc.Set)
_MAPPINGS = (dict, cabc.Mapping)


@dataclass(frozen=True, slots=True)
class ToolReply:
    """What a tool may return instead of a plain value: its response and media for the model to see."""

    response: dict[str, Any]
    parts: tuple[ResponseBlob, ...] = ()


@dataclass(frozen=True, slots=True)
class Tool:
    """One registered function and its Live declaration."""

    name: str
    fn: Callable[..., Any]
    declaration: dict[str, Any]
    is_async: bool
    behavior: str | None = None
    scheduling: str | None = None  # sent with each response of a NON_BLOCKING tool
    streams: bool = False  # an async generator: each value is one response (willContinue), NON_BLOCKING only


class ToolRegistry:
    """Functions the model may call, by name."""

    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}

    def register(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        schema: dict[str, Any] | None = None,
        behavior: str | None = "BLOCKING",
        scheduling: str | None = None,
    ) -> Tool:
        """Add ``fn``; raises TypeError/ValueError at once for what the service would refuse later."""
        name = name or getattr(fn, "__name__", "")
        if not _NAME.fullmatch(name):
            raise ValueError(f"invalid tool name {name!r} (letters, digits, _ . : -, at most 64)")
        if name in self._tools:
            raise ValueError(f"a tool named {name!r} is already registered")
        if behavior is not None and behavior not in BEHAVIORS:
            raise ValueError(f"behavior must be one of {BEHAVIORS}, not {behavior!r}")
        if scheduling is not None and scheduling not in SCHEDULINGS:
            raise ValueError(f"scheduling must be one of {SCHEDULINGS}, not {scheduling!r}")
        if scheduling is not None and behavior != "NON_BLOCKING":
            raise ValueError("scheduling only applies to NON_BLOCKING tools")
        streams = inspect.isasyncgenfunction(fn)
        if streams and behavior != "NON_BLOCKING":
            raise ValueError("a tool that yields several responses must be NON_BLOCKING (willContinue)")
        tool = Tool(
            name=name,
            fn=fn,
            declaration=declare(fn, name, description, schema, behavior),
            is_async=_is_async(fn),
            behavior=behavior,
            scheduling=scheduling,
            streams=streams,
        )
        self._tools[name] = tool
        return tool

    @overload
    def tool(self, fn: Callable[..., Any], /) -> Callable[..., Any]: ...
    @overload
    def tool(
        self, fn: None = None, /, **options: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]: ...
    def tool(self, fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
        """Decorator: ``@registry.tool`` or ``@registry.tool(name=..., behavior="NON_BLOCKING", ...)``.
        Returns the function unchanged."""

        def add(f: Callable[..., Any]) -> Callable[..., Any]:
            self.register(f, **options)
            return f

        return add if fn is None else add(fn)

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __len__(self) -> int:
        return len(self._tools)

    def declarations(self) -> list[dict[str, Any]]:
        return [t.declaration for t in self._tools.values()]

    def setup_tools(self) -> list[dict[str, Any]]:
        """The value for ``SetupConfig.tools``; empty when no tool is registered."""
        return [{"functionDeclarations": self.declarations()}] if self._tools else []


def _is_async(fn: Callable[..., Any]) -> bool:
    # also covers partials of coroutine functions and objects with an ``async def __call__``
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(type(fn).__call__)


# ---------------------------------------------------------------- declarations


def declare(
    fn: Callable[..., Any],
    name: str,
    description: str | None = None,
    schema: dict[str, Any] | None = None,
    behavior: str | None = None,
) -> dict[str, Any]:
    """The ``functionDeclarations`` entry for ``fn``; ``schema`` (given as-is) replaces the derived one."""
    summary, arg_docs = parse_docstring(inspect.getdoc(fn) or "")
    declaration: dict[str, Any] = {"name": name}
    if description or summary:
        declaration["description"] = description or summary
    if schema is not None:
        if not isinstance(schema, dict):
            raise TypeError("schema must be a dict (an OpenAPI/JSON schema object)")
        declaration["parameters"] = schema
    else:
        parameters = _parameters(fn, name, arg_docs)
        if parameters is not None:  # the service refuses an OBJECT with no properties
            declaration["parameters"] = parameters
    if behavior is not None:
        declaration["behavior"] = behavior
    return declaration


def _parameters(fn: Callable[..., Any], name: str, arg_docs: dict[str, str]) -> dict[str, Any] | None:
    try:
        signature = inspect.signature(fn, eval_str=True)
    except (NameError, SyntaxError) as exc:
        raise TypeError(f"cannot read the type hints of tool {name!r}: {exc}") from None
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            continue  # the model passes keyword arguments only
        if param.annotation is param.empty:
            raise TypeError(f"parameter {param.name!r} of tool {name!r} has no type hint (or pass schema=)")
        prop = json_type(param.annotation, f"{name}.{param.name}")
        if param.name in arg_docs:
            prop["description"] = arg_docs[param.name]
        properties[param.name] = prop
        if param.default is param.empty:
            required.append(param.name)
    if not properties:
        return None
    out: dict[str, Any] = {"type": "OBJECT", "properties": properties}
    if required:
        out["required"] = required
    return out


def json_type(hint: Any, where: str) -> dict[str, Any]:
    """The OpenAPI-subset schema of one type hint; TypeError for what it cannot express."""
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return {**json_type(rest[0], where), "nullable": True}
        raise TypeError(f"{where}: unions of several types are not supported (pass schema=)")
    if origin is Literal:
        if not all(isinstance(v, str) for v in args):
            raise TypeError(f"{where}: only Literal of strings is supported")
        return {"type": "STRING", "enum": list(args)}
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    if hint in _SEQUENCES or origin in _SEQUENCES:
        items = [a for a in args if a is not Ellipsis]
        if len(set(items)) != 1:
            raise TypeError(f"{where}: a sequence needs one item type, like list[str]")
        return {"type": "ARRAY", "items": json_type(items[0], f"{where}[]")}
    if hint in _MAPPINGS or origin in _MAPPINGS:
        return {"type": "OBJECT"}
    raise TypeError(
        f"{where}: type {hint!r} is not supported (use str/int/float/bool/list/dict/Literal or schema=)"
    )


_SECTION = re.compile(r"(Args|Arguments|Parameters):\s*")
_ARG_LINE = re.compile(r"\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)")


def parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """First paragraph (joined into one line) and the descriptions of a Google-style ``Args:`` section.
    ``doc`` is already dedented (``inspect.getdoc``): section headers sit at column 0."""
    lines = doc.strip().splitlines()
    summary: list[str] = []
    for line in lines:
        if not line.strip() or _SECTION.fullmatch(line.strip()):
            break
        summary.append(line.strip())
    args: dict[str, str] = {}
    in_args, current, entry_indent = False, None, 0
    for line in lines:
        text = line.strip()
        if not text:
            continue
        if _indent(line) == 0:  # a new section (or prose) starts
            in_args, current = bool(_SECTION.fullmatch(text)), None
            continue
        if not in_args:
            continue
        match = _ARG_LINE.fullmatch(text)
        if match and (current is None or _indent(line) <= entry_indent):
            current, entry_indent = match.group(1), _indent(line)
            args[current] = match.group(2).strip()
        elif current is not None:  # continuation of the current entry
            args[current] = f"{args[current]} {text}".strip()
    return " ".join(summary), args


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


# ---------------------------------------------------------------- running calls

Sender = Callable[[list[FunctionResponse]], Awaitable[None]]
ResultHook = Callable[[ToolResult], Awaitable[None] | None]


class ToolRunner:
    """Runs tool calls concurrently and sends each response with its call's id.

    A call cancelled (``cancel``/``close``) before it finished sends nothing. Cancelling a sync tool stops
    waiting for it; its thread runs to the end but its result is discarded.
    """

    def __init__(self, registry: ToolRegistry, send: Sender, on_result: ResultHook | None = None) -> None:
        self._registry = registry
        self._send = send
        self._on_result = on_result
        self._running: dict[str, asyncio.Task[None]] = {}  # cancellable: function not finished yet
        self._tasks: set[asyncio.Task[None]] = set()  # every live task, including ones sending

    def start(self, calls: Iterable[FunctionCall]) -> list[asyncio.Task[None]]:
        """Start one task per call (from a ``ToolCall`` event). Must run inside the event loop."""
        started = []
        for call in calls:
            task = asyncio.create_task(self._run(call), name=f"tool:{call.name}:{call.id}")
            self._running[call.id] = task
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started.append(task)
        return started

    def cancel(self, ids: Iterable[str]) -> list[str]:
        """Cancel the calls with these ids (from a ``ToolCallCancellation``); returns those still running."""
        cancelled = []
        for call_id in ids:
            task = self._running.pop(call_id, None)
            if task is not None:
                task.cancel()
                cancelled.append(call_id)
        return cancelled

    @property
    def running(self) -> frozenset[str]:
        return frozenset(self._running)

    async def wait(self) -> None:
        """Wait until every started call has finished (or was cancelled)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        """Cancel every call still running and wait for the tasks to end."""
        self._running.clear()
        for task in list(self._tasks):
            task.cancel()
        await self.wait()

    async def _run(self, call: FunctionCall) -> None:
        tool = self._registry.get(call.name)
        try:
            if tool is not None and tool.streams:
                reply = await self._stream(tool, call)
            else:
                reply = await self._invoke(tool, call)
        except asyncio.CancelledError:
            await self._report(ToolResult(id=call.id, name=call.name, cancelled=True))
            raise
        finally:
            if self._running.get(call.id) is asyncio.current_task():
                self._running.pop(call.id)
        will_continue = False if tool is not None and tool.streams else None
        scheduling = "SILENT" if will_continue is False else _scheduling(tool)
        await self._respond(call, reply, scheduling, will_continue)
        await self._report(ToolResult(id=call.id, name=call.name, response=reply.response))

    async def _stream(self, tool: Tool, call: FunctionCall) -> ToolReply:
        """Send each value the generator yields as soon as it comes (``willContinue: true``); the end is an
        empty SILENT ``willContinue: false`` (google-genai: it finishes the call without a new answer)."""
        try:
            async for value in tool.fn(**call.args):
                await self._respond(call, _reply(call, value), _scheduling(tool), True)
        except Exception as exc:
            return ToolReply({"error": f"{type(exc).__name__}: {exc}"})
        return ToolReply({})

    async def _respond(
        self, call: FunctionCall, reply: ToolReply, scheduling: str | None, will_continue: bool | None
    ) -> None:
        response = FunctionResponse(
            call.id, call.name, reply.response, scheduling, will_continue, parts=reply.parts
        )
        try:
            await self._send([response])
        except Exception:
            log.exception("could not send the response of tool call %s (%s)", call.id, call.name)

    async def _invoke(self, tool: Tool | None, call: FunctionCall) -> ToolReply:
        if tool is None:
            return ToolReply({"error": f"unknown function {call.name!r}"})
        try:
            if tool.is_async:
                value = await tool.fn(**call.args)
            else:
                value = await asyncio.to_thread(tool.fn, **call.args)
        except Exception as exc:
            return ToolReply({"error": f"{type(exc).__name__}: {exc}"})
        return _reply(call, value)

    async def _report(self, result: ToolResult) -> None:
        if self._on_result is None:
            return
        try:
            outcome = self._on_result(result)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception:
            log.exception("tool result hook failed for call %s", result.id)


def _scheduling(tool: Tool | None) -> str | None:
    return tool.scheduling if tool is not None and tool.behavior == "NON_BLOCKING" else None


def _reply(call: FunctionCall, value: Any) -> ToolReply:
    """A tool's return value as a response the session can always encode."""
    reply = (
        value
        if isinstance(value, ToolReply)
        else ToolReply(value if isinstance(value, dict) else {"result": value})
    )
    try:
        json.dumps(reply.response)  # fail here, as this call's error, rather than in the session's writer
    except (TypeError, ValueError) as exc:
        return ToolReply({"error": f"result of {call.name!r} is not JSON-serializable ({exc})"})
    return reply
