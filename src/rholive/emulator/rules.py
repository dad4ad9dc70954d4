"""What the Live service rejects, as pure functions over decoded client JSON.

Every broken rule raises ``Rejection`` carrying the close code (1007 invalid argument, 1008 policy / not
found) and a specific reason, so a client can show exactly what it did wrong. Both key spellings and both
base64 alphabets are accepted, like the service. No I/O here: the connection layer closes the socket.
"""

from __future__ import annotations

import json
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
class ClientContent:
    texts: tuple[str, ...]
    audio: tuple[Audio, ...]
    images: tuple[Video, ...]
    turn_complete: bool


@dataclass(frozen=True, slots=True)
class FunctionResult:
    id: str
    name: str
    response: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolResponse:
    results: tuple[FunctionResult, ...]


@dataclass(frozen=True, slots=True)
class ContextUpdate:
    """``contextUpdate``: None where the message leaves the instruction or the tools as they are."""

    system_instruction: str | None
    tools: tuple[dict[str, Any], ...] | None


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
REALTIME_FIELDS = ("audio", "video", "text", "activityStart", "activityEnd", "audioStreamEnd", "mediaChunks")


def decode_frame(data: str | bytes) -> dict[str, Any]:
    """JSON text (or UTF-8 JSON in a binary frame) -> the message object."""
    try:
        message = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise Rejection("Invalid JSON payload received: the message is not valid JSON") from None
    if not isinstance(message, dict):
        raise Rejection("Invalid JSON payload received: a client message must be a JSON object")
    return message


def split_message(message: dict[str, Any]) -> tuple[str, Any]:
    """The one top-level field of a client message, as (camelCase name, body)."""
    names = [keys.canonical(k) for k in message]
    for name in names:
        if name not in TOP_LEVEL:
            raise Rejection(f'Invalid JSON payload received. Unknown name "{name}": Cannot find field.')
    if len(names) != 1:
        got = ", ".join(names) or "nothing"
        raise Rejection(f"A client message must carry exactly one of {', '.join(TOP_LEVEL)} (got {got})")
    return names[0], next(iter(message.values()))


# ----------------------------------------------------------------------------- realtimeInput & co

_PCM_MIME = re.compile(r"^audio/pcm\s*;\s*rate\s*=\s*(\d+)$", re.IGNORECASE)
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
    rate = int(match.group(1))
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


def parse_client_content(body: Any) -> ClientContent:
    if not isinstance(body, dict):
        raise Rejection("clientContent must be an object")
    for key in body:
        if keys.canonical(key) not in ("turns", "turnComplete"):
            raise Rejection(f"Invalid JSON payload received. Unknown name \"{key}\" at 'client_content'.")
    turns = keys.get(body, "turns", [])
    if not isinstance(turns, list):
        raise Rejection("clientContent.turns must be a list of contents")
    texts: list[str] = []
    audio: list[Audio] = []
    images: list[Video] = []
    for i, turn in enumerate(turns):
        parts = keys.get(turn, "parts", [])
        if not isinstance(turn, dict) or not isinstance(parts, list):
            raise Rejection(f"clientContent.turns[{i}] must be an object with a parts list")
        if keys.get(turn, "role", "user") == "model":
            continue  # seeded model history: context only, not the user's input
        for j, part in enumerate(parts):
            where = f"clientContent.turns[{i}].parts[{j}]"
            if keys.has(part, "text") and isinstance(keys.get(part, "text"), str):
                texts.append(keys.get(part, "text"))
            elif keys.has(part, "inlineData"):
                chunk = _parse_chunk(keys.get(part, "inlineData"), f"{where}.inlineData")
                (audio if isinstance(chunk, Audio) else images).append(chunk)
            else:
                raise Rejection(f"{where} must carry text or inlineData")
    complete = keys.get(body, "turnComplete", False)
    if not isinstance(complete, bool):
        raise Rejection("clientContent.turnComplete must be a boolean")
    return ClientContent(tuple(texts), tuple(audio), tuple(images), complete)


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
        results.append(FunctionResult(call_id, str(keys.get(item, "name", "")), response))
    return ToolResponse(tuple(results))


def parse_context_update(body: Any) -> ContextUpdate:
    if not isinstance(body, dict):
        raise Rejection("contextUpdate must be an object")
    for key in body:
        if keys.canonical(key) not in ("systemInstruction", "tools"):
            raise Rejection(f"Invalid JSON payload received. Unknown name \"{key}\" at 'context_update'.")
    instruction = keys.get(body, "systemInstruction")
    text = None
    if instruction is not None:
        parts = keys.get(instruction, "parts") if isinstance(instruction, dict) else None
        if not isinstance(parts, list):
            raise Rejection("contextUpdate.systemInstruction must be a content with a parts list")
        text = "".join(str(keys.get(p, "text", "")) for p in parts if isinstance(p, dict))
    wrapper = keys.get(body, "tools")
    tools = None
    if wrapper is not None:
        listed = keys.get(wrapper, "tools", []) if isinstance(wrapper, dict) else None
        if not isinstance(listed, list):
            raise Rejection("contextUpdate.tools must be an object with a tools list")
        tools = tuple(listed)
    return ContextUpdate(text, tools)


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
