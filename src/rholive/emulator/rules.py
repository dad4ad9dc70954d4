"""What the Live service rejects, as pure functions over decoded client JSON.

Every broken rule raises ``Rejection`` carrying the close code (1007 invalid argument, 1008 policy / not
found) and a specific reason, so a client can show exactly what it did wrong. Both key spellings and both
base64 alphabets are accepted, like the service. No I/O here: the connection layer closes the socket.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from rholive.live import keys

INVALID_ARGUMENT = 1007
POLICY = 1008


class Rejection(Exception):
    """A client message the service would refuse; the socket is closed with ``code`` and ``reason``."""

    def __init__(self, reason: str, code: int = INVALID_ARGUMENT) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


# ----------------------------------------------------------------------------- typed client messages


@dataclass(frozen=True, slots=True)
class Audio:
    data: bytes
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.data) / 2 / self.rate


@dataclass(frozen=True, slots=True)
class Video:
    data: bytes
    mime_type: str


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class ActivityStart:
    pass


@dataclass(frozen=True, slots=True)
class ActivityEnd:
    pass


@dataclass(frozen=True, slots=True)
class AudioStreamEnd:
    pass


@dataclass(frozen=True, slots=True)
class Content:
    """One turn of a clientContent, kept apart from its neighbours."""

    role: str  # "user" | "model"
    texts: tuple[str, ...]
    audio: tuple[Audio, ...] = ()
    images: tuple[Video, ...] = ()


@dataclass(frozen=True, slots=True)
class ClientContent:
    turns: tuple[Content, ...]
    turn_complete: bool


@dataclass(frozen=True, slots=True)
class FunctionResult:
    id: str
    name: str
    response: dict[str, Any]
    scheduling: str = "WHEN_IDLE"  # NON_BLOCKING calls only; the SDK documents WHEN_IDLE as the default
    will_continue: bool = False  # a NON_BLOCKING call answers again under the same id


@dataclass(frozen=True, slots=True)
class ContextUpdate:
    """Fields left out are None: they keep their value."""

    instruction: Any = None  # a Content or a string, as in setup
    tools: list[Any] | None = None


@dataclass(frozen=True, slots=True)
class ToolResponse:
    results: tuple[FunctionResult, ...]


ClientMessage = (
    Audio
    | Video
    | Text
    | ActivityStart
    | ActivityEnd
    | AudioStreamEnd
    | ClientContent
    | ToolResponse
    | ContextUpdate
)


# ----------------------------------------------------------------------------- framing

TOP_LEVEL = ("setup", "clientContent", "realtimeInput", "toolResponse", "contextUpdate")
SCHEDULING = ("SCHEDULING_UNSPECIFIED", "SILENT", "WHEN_IDLE", "INTERRUPT")
REALTIME_FIELDS = ("audio", "video", "text", "activityStart", "activityEnd", "audioStreamEnd", "mediaChunks")


MAX_DEPTH = 100  # protobuf's JSON parser refuses deeper nesting; so does the service


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e999 would become inf
        raise ValueError(f"{text} is out of range")
    return number


def decode_frame(data: str | bytes) -> dict[str, Any]:
    """JSON text (or UTF-8 JSON in a binary frame) -> the message object."""
    try:
        message = json.loads(
            data, parse_constant=_no_constant, parse_float=_finite_float
        )  # NaN and Infinity are not JSON
    except RecursionError:
        raise Rejection(f"Invalid JSON payload received: nesting deeper than {MAX_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError):
        raise Rejection("Invalid JSON payload received: the message is not valid JSON") from None
    if not isinstance(message, dict):
        raise Rejection("Invalid JSON payload received: a client message must be a JSON object")
    if _depth(message) > MAX_DEPTH:
        raise Rejection(f"Invalid JSON payload received: nesting deeper than {MAX_DEPTH} levels")
    return message


def _depth(value: Any) -> int:
    """Nesting depth of decoded JSON, without recursion (the input is what is being guarded against)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def split_message(message: dict[str, Any]) -> tuple[str, Any]:
    """The one top-level field of a client message, as (camelCase name, body)."""
    names = [keys.canonical(k) for k in message]
    for name in names:
        if name not in TOP_LEVEL:
            raise Rejection(f'Invalid JSON payload received. Unknown name "{name}": Cannot find field.')
    if len(names) != 1:
        got = ", ".join(names) or "nothing"
        raise Rejection(
            f"A client message must carry exactly one of setup, clientContent, realtimeInput, toolResponse "
            f"(got {got})"
        )
    return names[0], next(iter(message.values()))


# ----------------------------------------------------------------------------- realtimeInput & co

# the rate may be left out (the official cookbook does): 16 kHz then, like the service
_PCM_MIME = re.compile(r"^audio/pcm(?:\s*;\s*rate\s*=\s*(\d+))?$", re.IGNORECASE)
DEFAULT_INPUT_RATE = 16000
IMAGE_TYPES = ("image/jpeg", "image/png")


def _blob_bytes(blob: Any, where: str) -> tuple[bytes, str]:
    if not isinstance(blob, dict):
        raise Rejection(f"{where} must be an object with data and mimeType")
    mime = keys.get(blob, "mimeType")
    if not isinstance(mime, str) or not mime:
        raise Rejection(f"{where}.mimeType is required")
    try:
        data = keys.b64decode_any(keys.get(blob, "data", ""))
    except ValueError:
        raise Rejection(f"Invalid value at '{where}.data' (TYPE_BYTES): base64 decoding failed") from None
    return data, mime.strip()


def parse_audio(blob: Any, where: str) -> Audio:
    data, mime = _blob_bytes(blob, where)
    match = _PCM_MIME.match(mime)
    if match is None:
        raise Rejection(f"{where}.mimeType must be audio/pcm;rate=N (16-bit PCM), got {mime!r}")
    rate = int(match.group(1) or DEFAULT_INPUT_RATE)
    if not 8000 <= rate <= 48000:
        raise Rejection(f"{where}: unsupported sample rate {rate} (8000..48000 Hz)")
    if len(data) % 2:
        raise Rejection(f"{where}: {len(data)} bytes is not whole 16-bit samples")
    return Audio(data, rate)


def parse_image(blob: Any, where: str) -> Video:
    data, mime = _blob_bytes(blob, where)
    if mime.lower() not in IMAGE_TYPES:
        raise Rejection(f"{where}.mimeType must be image/jpeg or image/png, got {mime!r}")
    return Video(data, mime.lower())


def _parse_chunk(blob: Any, where: str) -> Audio | Video:
    mime = keys.get(blob, "mimeType")
    if isinstance(mime, str) and mime.lower().startswith("audio/"):
        return parse_audio(blob, where)
    return parse_image(blob, where)


def parse_realtime(body: Any, auto_detection: bool) -> list[ClientMessage]:
    """``realtimeInput``: exactly one field; markers only in the detection mode that allows them."""
    if not isinstance(body, dict):
        raise Rejection("realtimeInput must be an object")
    names = [keys.canonical(k) for k in body]
    for name in names:
        if name not in REALTIME_FIELDS:
            raise Rejection(f"Invalid JSON payload received. Unknown name \"{name}\" at 'realtime_input'.")
    if len(names) != 1:
        raise Rejection(
            "realtimeInput must carry exactly one of audio, video, text, activityStart, activityEnd, "
            f"audioStreamEnd (got {', '.join(names) or 'nothing'})"
        )
    name, value = names[0], next(iter(body.values()))
    if name == "audio":
        return [parse_audio(value, "realtimeInput.audio")]
    if name == "video":
        return [parse_image(value, "realtimeInput.video")]
    if name == "mediaChunks":
        if not isinstance(value, list) or not value:
            raise Rejection("realtimeInput.mediaChunks must be a non-empty list of blobs")
        return [_parse_chunk(b, f"realtimeInput.mediaChunks[{i}]") for i, b in enumerate(value)]
    if name == "text":
        if not isinstance(value, str):
            raise Rejection("realtimeInput.text must be a string")
        return [Text(value)]
    if name in ("activityStart", "activityEnd"):
        if auto_detection:
            raise Rejection(
                f"{name} is only allowed when realtimeInputConfig.automaticActivityDetection.disabled is true"
            )
        if value is not None and not isinstance(value, dict):
            raise Rejection(f"realtimeInput.{name} must be an empty object")
        return [ActivityStart() if name == "activityStart" else ActivityEnd()]
    # audioStreamEnd
    if not auto_detection:
        raise Rejection("audioStreamEnd is only allowed when automatic activity detection is enabled")
    if value is not True:
        raise Rejection("realtimeInput.audioStreamEnd must be true")
    return [AudioStreamEnd()]


def _parse_content(turn: Any, where: str) -> Content:
    parts = keys.get(turn, "parts", [])
    if not isinstance(turn, dict) or not isinstance(parts, list):
        raise Rejection(f"{where} must be an object with a parts list")
    role = keys.get(turn, "role", "user") or "user"
    if role not in ("user", "model"):
        raise Rejection(f"{where}.role must be user or model, got {role!r}")
    texts: list[str] = []
    audio: list[Audio] = []
    images: list[Video] = []
    for j, part in enumerate(parts):
        if keys.has(part, "text") and isinstance(keys.get(part, "text"), str):
            texts.append(keys.get(part, "text"))
        elif keys.has(part, "inlineData"):
            chunk = _parse_chunk(keys.get(part, "inlineData"), f"{where}.parts[{j}].inlineData")
            (audio if isinstance(chunk, Audio) else images).append(chunk)
        else:
            raise Rejection(f"{where}.parts[{j}] must carry text or inlineData")
    return Content(role, tuple(texts), tuple(audio), tuple(images))


def parse_client_content(body: Any) -> ClientContent:
    if not isinstance(body, dict):
        raise Rejection("clientContent must be an object")
    for key in body:
        if keys.canonical(key) not in ("turns", "turnComplete"):
            raise Rejection(f"Invalid JSON payload received. Unknown name \"{key}\" at 'client_content'.")
    turns = keys.get(body, "turns", [])
    if not isinstance(turns, list):
        raise Rejection("clientContent.turns must be a list of contents")
    contents = tuple(_parse_content(turn, f"clientContent.turns[{i}]") for i, turn in enumerate(turns))
    complete = keys.get(body, "turnComplete", False)
    if not isinstance(complete, bool):
        raise Rejection("clientContent.turnComplete must be a boolean")
    return ClientContent(contents, complete)


def parse_context_update(body: Any) -> ContextUpdate:
    if not isinstance(body, dict):
        raise Rejection("contextUpdate must be an object")
    for key in body:
        if keys.canonical(key) not in ("systemInstruction", "tools"):
            raise Rejection(f"Invalid JSON payload received. Unknown name \"{key}\" at 'context_update'.")
    if not body:
        raise Rejection("contextUpdate must set systemInstruction or tools")
    instruction = keys.get(body, "systemInstruction")
    if instruction is not None and not isinstance(instruction, dict | str):
        raise Rejection("contextUpdate.systemInstruction must be a Content")
    wrapper = keys.get(body, "tools")
    tools = None
    if wrapper is not None:
        # a wrapper object, so that "no change" (absent) and "no tools" ({"tools": []}) differ
        if not isinstance(wrapper, dict) or not isinstance(keys.get(wrapper, "tools", []), list):
            raise Rejection('contextUpdate.tools must be an object holding the list: {"tools": [...]}')
        tools = list(keys.get(wrapper, "tools", []))
    return ContextUpdate(instruction, tools)


def parse_tool_response(body: Any) -> ToolResponse:
    responses = keys.get(body, "functionResponses")
    if not isinstance(responses, list) or not responses:
        raise Rejection("toolResponse.functionResponses must be a non-empty list")
    results = []
    for i, item in enumerate(responses):
        call_id = keys.get(item, "id")
        if not isinstance(call_id, str) or not call_id:
            raise Rejection(f"toolResponse.functionResponses[{i}].id is required (the id of the toolCall)")
        response = keys.get(item, "response", {})
        if not isinstance(response, dict):
            raise Rejection(f"toolResponse.functionResponses[{i}].response must be an object")
        scheduling = keys.get(item, "scheduling") or "SCHEDULING_UNSPECIFIED"
        if scheduling not in SCHEDULING:
            raise Rejection(
                f"Invalid value at 'tool_response.function_responses[{i}].scheduling': {scheduling!r}"
            )
        if scheduling == "SCHEDULING_UNSPECIFIED":
            scheduling = "WHEN_IDLE"
        will_continue = keys.get(item, "willContinue", False)
        if not isinstance(will_continue, bool):
            raise Rejection(f"toolResponse.functionResponses[{i}].willContinue must be a boolean")
        name = str(keys.get(item, "name", ""))
        results.append(FunctionResult(call_id, name, response, scheduling, will_continue))
    return ToolResponse(tuple(results))


def parse_message(message: dict[str, Any], auto_detection: bool) -> list[ClientMessage]:
    """A client message after setup -> typed messages (several only for legacy ``mediaChunks``)."""
    name, body = split_message(message)
    if name == "setup":
        raise Rejection("setup must be sent only once, as the first message of the connection")
    if name == "realtimeInput":
        return parse_realtime(body, auto_detection)
    if name == "clientContent":
        return [parse_client_content(body)]
    if name == "contextUpdate":
        return [parse_context_update(body)]
    return [parse_tool_response(body)]
