"""Live wire format: build every client message, parse every server message into typed events.

Pure functions, no I/O. Builders return plain dicts in camelCase (``encode`` turns them into JSON text).
``parse_server_message`` never raises: a malformed frame becomes one ``ProtocolError`` event.

Server frames are read leniently where the service is known to vary (either key spelling, either base64
alphabet, int64 counts sent as JSON strings, durations as ``"1.5s"`` or ``{"seconds", "nanos"}``) and strictly
where a wrong type would mean we misread the frame.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from rholive.live import keys
from rholive.live.events import (
    AudioChunk,
    FunctionCall,
    GenerationComplete,
    GoAway,
    Grounding,
    InputTranscription,
    InteractionStatus,
    InterimInputTranscription,
    Interrupted,
    OutputTranscription,
    ProtocolError,
    ResumptionUpdate,
    ServerEvent,
    SetupComplete,
    TextPart,
    ToolCall,
    ToolCallCancellation,
    TurnComplete,
    UnknownMessage,
    Usage,
    VoiceActivity,
    WaitingForInput,
)

Modality = Literal["TEXT", "AUDIO"]
INPUT_AUDIO_RATE = 16000
OUTPUT_AUDIO_RATE = 24000


@dataclass(slots=True)
class ActivityDetection:
    """``realtimeInputConfig.automaticActivityDetection``. ``disabled=True`` means the client sends
    activityStart/activityEnd itself (client-side turn detection)."""

    disabled: bool = False
    start_sensitivity: str | None = None  # START_SENSITIVITY_HIGH | START_SENSITIVITY_LOW
    end_sensitivity: str | None = None  # END_SENSITIVITY_HIGH | END_SENSITIVITY_LOW
    prefix_padding_ms: int | None = None
    silence_duration_ms: int | None = None


@dataclass(frozen=True, slots=True)
class TranscriptionOptions:
    """``AudioTranscriptionConfig`` options: BCP-47 language hints and phrases the recogniser should favour.
    Empty means the service's defaults (automatic language detection, no vocabulary)."""

    language_codes: tuple[str, ...] = ()
    custom_vocabulary: tuple[str, ...] = ()


@dataclass(slots=True)
class SetupConfig:
    """Everything the ``setup`` message can carry (see shared/live-protocol.md)."""

    model: str = "models/gemini-3.8-live"  # live.models.DEFAULT_MODEL (the catalog imports this module)
    response_modality: Modality = "AUDIO"
    system_instruction: str | None = None
    # generationConfig
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_output_tokens: int | None = None
    media_resolution: str | None = None  # MEDIA_RESOLUTION_LOW | _MEDIUM | _HIGH
    voice_name: str | None = None  # speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName
    language_code: str | None = None  # speechConfig.languageCode
    enable_affective_dialog: bool | None = None
    thinking_budget: int | None = None  # thinkingConfig.thinkingBudget (2.5 models)
    thinking_level: str | None = None  # thinkingConfig.thinkingLevel (3.x models): minimal|low|medium|high
    # realtimeInputConfig
    activity_detection: ActivityDetection = field(default_factory=ActivityDetection)
    activity_handling: str | None = None  # START_OF_ACTIVITY_INTERRUPTS | NO_INTERRUPTION
    turn_coverage: str | None = None  # TURN_INCLUDES_ONLY_ACTIVITY | TURN_INCLUDES_ALL_INPUT
    # transcription
    input_transcription: bool = False
    output_transcription: bool = True  # the answer's text: today's Live models answer in AUDIO only
    input_transcription_options: TranscriptionOptions = field(default_factory=TranscriptionOptions)
    output_transcription_options: TranscriptionOptions = field(default_factory=TranscriptionOptions)
    # historyConfig.initialHistoryInClientContent: the first clientContent turns after setupComplete are
    # history (no answer) up to the one with turnComplete true. LiveSession sets it when it seeds a session.
    history_in_client_content: bool = False
    # session lifetime
    session_resumption: bool = True  # ask for resumption updates
    # transparent: the server also reports lastConsumedClientMessageIndex. The google-genai SDK allows it only
    # on Vertex; LiveSession turns it off for the Gemini Developer API host and uses a turn-boundary fallback.
    transparent_resumption: bool = True
    resumption_handle: str | None = None
    compression_trigger_tokens: int | None = None  # contextWindowCompression when not None
    compression_target_tokens: int | None = None
    proactive_audio: bool | None = None  # proactivity.proactiveAudio (v1alpha)
    proactive_video: bool | None = None  # proactivity.proactiveVideo (may answer on a frame; costly)
    tools: list[dict[str, Any]] = field(default_factory=list)  # [{"functionDeclarations": [...]}, ...]


@dataclass(frozen=True, slots=True)
class ResponseBlob:
    """Media returned by a tool with its response (``FunctionResponse.parts[].inlineData``)."""

    data: bytes
    mime_type: str


@dataclass(frozen=True, slots=True)
class FunctionResponse:
    id: str
    name: str
    response: dict[str, Any]
    scheduling: str | None = None  # INTERRUPT | WHEN_IDLE | SILENT (NON_BLOCKING tools)
    will_continue: bool | None = None  # NON_BLOCKING: more responses to this call follow
    parts: tuple[ResponseBlob, ...] = ()  # multimodal results (an image, a clip)


@dataclass(frozen=True, slots=True)
class HistoryTurn:
    """One turn of a conversation, as history for a fresh session: role "user" or "model", and its text."""

    role: Literal["user", "model"]
    text: str


# ---------------------------------------------------------------- client messages


def setup(config: SetupConfig) -> dict[str, Any]:
    """``{"setup": {...}}`` with every set field of ``config``; fields left None are omitted."""
    model = config.model if "/" in config.model else f"models/{config.model}"
    body: dict[str, Any] = {"model": model, "generationConfig": _generation_config(config)}
    if config.system_instruction is not None:
        body["systemInstruction"] = {"parts": [{"text": config.system_instruction}], "role": "user"}
    if config.tools:
        body["tools"] = config.tools
    realtime = _realtime_input_config(config)
    if realtime:
        body["realtimeInputConfig"] = realtime
    if config.input_transcription:
        body["inputAudioTranscription"] = _transcription_config(config.input_transcription_options)
    if config.output_transcription:
        body["outputAudioTranscription"] = _transcription_config(config.output_transcription_options)
    if config.history_in_client_content:
        body["historyConfig"] = {"initialHistoryInClientContent": True}
    resumption: dict[str, Any] = (
        {"transparent": True} if config.session_resumption and config.transparent_resumption else {}
    )
    if config.resumption_handle is not None:
        resumption["handle"] = config.resumption_handle
    if resumption or config.session_resumption:
        body["sessionResumption"] = resumption  # {} still asks for resumption updates
    if config.compression_trigger_tokens is not None or config.compression_target_tokens is not None:
        compression: dict[str, Any] = {}
        if config.compression_trigger_tokens is not None:
            compression["triggerTokens"] = config.compression_trigger_tokens
        window = _omit_none({"targetTokens": config.compression_target_tokens})
        compression["slidingWindow"] = window  # the sliding window is the only mechanism; {} = its defaults
        body["contextWindowCompression"] = compression
    proactivity = _omit_none(
        {"proactiveAudio": config.proactive_audio, "proactiveVideo": config.proactive_video}
    )
    if proactivity:
        body["proactivity"] = proactivity
    return {"setup": body}


def _transcription_config(options: TranscriptionOptions) -> dict[str, Any]:
    """``{}`` (transcribe with the defaults) plus the options that are set."""
    out: dict[str, Any] = {}
    if options.language_codes:
        out["languageCodes"] = list(options.language_codes)
    if options.custom_vocabulary:
        out["customVocabulary"] = list(options.custom_vocabulary)
    return out


def _generation_config(config: SetupConfig) -> dict[str, Any]:
    # enableAffectiveDialog sits in generationConfig (as the SDK sends it); proactivity is top-level in setup.
    generation = _omit_none(
        {
            "responseModalities": [config.response_modality],
            "temperature": config.temperature,
            "topP": config.top_p,
            "topK": config.top_k,
            "maxOutputTokens": config.max_output_tokens,
            "mediaResolution": config.media_resolution,
            "enableAffectiveDialog": config.enable_affective_dialog,
        }
    )
    speech: dict[str, Any] = {}
    if config.voice_name is not None:
        speech["voiceConfig"] = {"prebuiltVoiceConfig": {"voiceName": config.voice_name}}
    if config.language_code is not None:
        speech["languageCode"] = config.language_code
    if speech:
        generation["speechConfig"] = speech
    thinking = _omit_none({"thinkingBudget": config.thinking_budget, "thinkingLevel": config.thinking_level})
    if thinking:
        generation["thinkingConfig"] = thinking
    return generation


def _realtime_input_config(config: SetupConfig) -> dict[str, Any]:
    vad = config.activity_detection
    detection = _omit_none(
        {
            "startOfSpeechSensitivity": vad.start_sensitivity,
            "endOfSpeechSensitivity": vad.end_sensitivity,
            "prefixPaddingMs": vad.prefix_padding_ms,
            "silenceDurationMs": vad.silence_duration_ms,
        }
    )
    if vad.disabled or detection:
        detection = {"disabled": vad.disabled, **detection}
    return _omit_none(
        {
            "automaticActivityDetection": detection or None,
            "activityHandling": config.activity_handling,
            "turnCoverage": config.turn_coverage,
        }
    )


def _omit_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _blob(data: bytes, mime_type: str) -> dict[str, str]:
    return {"data": base64.b64encode(data).decode("ascii"), "mimeType": mime_type}


def realtime_audio_text(pcm: bytes, rate: int = INPUT_AUDIO_RATE) -> str:
    """``encode(realtime_audio(pcm, rate))``, built from a template: the hot path of every session."""
    return _realtime_blob_text("audio", pcm, f"audio/pcm;rate={rate}")


def realtime_video_text(jpeg: bytes, mime_type: str = "image/jpeg") -> str:
    """``encode(realtime_video(jpeg, mime_type))``, built from a template."""
    return _realtime_blob_text("video", jpeg, mime_type)


@lru_cache(maxsize=64)
def _blob_template(kind: str, mime_type: str) -> tuple[str, str]:
    """The JSON text around a realtime blob's base64 data, as ``encode`` writes it."""
    if not isinstance(mime_type, str):
        raise TypeError(f"mime_type must be str, not {type(mime_type).__name__}")
    return '{"realtimeInput":{"' + kind + '":{"data":"', '","mimeType":' + json.dumps(mime_type) + "}}}"


def _realtime_blob_text(kind: str, data: bytes, mime_type: str) -> str:
    head, tail = _blob_template(kind, mime_type)
    # base64 is plain ASCII with nothing JSON escapes: the text is exactly what json.dumps would give
    return head + binascii.b2a_base64(data, newline=False).decode("ascii") + tail


def realtime_audio(pcm: bytes, rate: int = INPUT_AUDIO_RATE) -> dict[str, Any]:
    return {"realtimeInput": {"audio": _blob(pcm, f"audio/pcm;rate={rate}")}}


def realtime_video(jpeg: bytes, mime_type: str = "image/jpeg") -> dict[str, Any]:
    return {"realtimeInput": {"video": _blob(jpeg, mime_type)}}


def realtime_text(text: str) -> dict[str, Any]:
    return {"realtimeInput": {"text": text}}


def activity_start() -> dict[str, Any]:
    return {"realtimeInput": {"activityStart": {}}}


def activity_end() -> dict[str, Any]:
    return {"realtimeInput": {"activityEnd": {}}}


def audio_stream_end() -> dict[str, Any]:
    return {"realtimeInput": {"audioStreamEnd": True}}


def client_content(turns: str | list[dict[str, Any]], turn_complete: bool = True) -> dict[str, Any]:
    """A plain string becomes one user turn with one text part."""
    if isinstance(turns, str):
        turns = [{"parts": [{"text": turns}], "role": "user"}]
    return {"clientContent": {"turns": turns, "turnComplete": turn_complete}}


def history(turns: list[HistoryTurn]) -> dict[str, Any]:
    """The seed of a session set up with ``historyConfig``: all turns in one ``clientContent`` with
    ``turnComplete: true``, which ends the history. The service takes initial history without a model call
    (google-genai ``HistoryConfig``), so the seed is never answered; it may end with a model turn."""
    contents = [{"parts": [{"text": t.text}], "role": t.role} for t in turns]
    return client_content(contents, turn_complete=True)


def context_update(
    system_instruction: str | None = None, tools: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """``contextUpdate``: only what is given changes. ``tools`` is wrapped (``{"tools": [...]}``) so that an
    empty list clears the tools while an absent field keeps them (google-genai LiveClientContextUpdateTools)."""
    body: dict[str, Any] = {}
    if system_instruction is not None:
        body["systemInstruction"] = {"parts": [{"text": system_instruction}], "role": "user"}
    if tools is not None:
        body["tools"] = {"tools": tools}
    if not body:
        raise ValueError("a context update needs a system instruction or tools")
    return {"contextUpdate": body}


def tool_response(responses: list[FunctionResponse]) -> dict[str, Any]:
    return {"toolResponse": {"functionResponses": [_function_response(r) for r in responses]}}


def _function_response(r: FunctionResponse) -> dict[str, Any]:
    item: dict[str, Any] = {"id": r.id, "name": r.name, "response": r.response}
    if r.scheduling is not None:
        item["scheduling"] = r.scheduling
    if r.will_continue is not None:
        item["willContinue"] = r.will_continue
    if r.parts:
        item["parts"] = [{"inlineData": _blob(p.data, p.mime_type)} for p in r.parts]
    return item


def encode(message: dict[str, Any]) -> str:
    """Compact JSON text for the socket."""
    # ensure_ascii keeps the text valid UTF-8 on the wire even if user text holds a lone surrogate
    return json.dumps(message, separators=(",", ":"))


# ---------------------------------------------------------------- server messages

EXCERPT_CHARS = 80


class _Malformed(Exception):
    """Internal: the frame is not what the protocol says; becomes one ProtocolError."""


def parse_server_message(raw: str | bytes) -> list[ServerEvent]:
    """All events in one server frame, in order (e.g. text parts, then turnComplete, then usage).
    Never raises; an unparsable frame gives ``[ProtocolError(...)]``."""
    try:
        return _parse(_load(raw))
    except _Malformed as exc:
        return [ProtocolError(str(exc), _excerpt(raw))]
    except Exception as exc:  # a parser bug must not kill the session's reader task
        return [ProtocolError(f"unreadable frame ({type(exc).__name__})", _excerpt(raw))]


def _load(raw: Any) -> dict[str, Any]:
    if isinstance(raw, bytearray | memoryview):
        raw = bytes(raw)
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _Malformed("frame is not UTF-8 text") from None
    if not isinstance(raw, str):
        raise _Malformed(f"frame must be text or bytes, not {type(raw).__name__}")
    try:
        msg = json.loads(raw)
    except (ValueError, RecursionError):
        raise _Malformed("frame is not valid JSON") from None
    if not isinstance(msg, dict):
        raise _Malformed(f"frame must be a JSON object, not {_json_type(msg)}")
    if not msg:
        raise _Malformed("frame has no field")
    return msg


def _parse(msg: dict[str, Any]) -> list[ServerEvent]:
    events: list[ServerEvent] = []
    unknown: list[str] = []
    usage: list[ServerEvent] = []
    for key, value in msg.items():
        name = keys.canonical(key)
        if name == "usageMetadata":
            usage.append(_usage(_obj(value, name)))
        elif name in _TOP_LEVEL:
            events.extend(_TOP_LEVEL[name](_obj(value, name)))
        else:
            unknown.append(key)
    if unknown:
        events.append(UnknownMessage(tuple(unknown)))
    return events + usage  # usage last: consumers account a frame's content before its cost


def _setup_complete(body: dict[str, Any]) -> list[ServerEvent]:
    return [SetupComplete(session_id=_opt(body, "sessionId", str, "setupComplete"))]


def _server_content(body: dict[str, Any]) -> list[ServerEvent]:
    where = "serverContent"
    out: list[ServerEvent] = []
    if len(body) == 1 and "modelTurn" in body:  # most frames of an answer: skip the dozen absent fields
        for part in _opt(_obj(body["modelTurn"], "modelTurn"), "parts", list, "modelTurn") or []:
            out.extend(_part(_obj(part, "modelTurn.parts[]")))
        return out
    heard = _opt_obj(body, "inputTranscription", where)
    if heard is not None:
        out.append(InputTranscription(*_transcription(heard, "inputTranscription")))
    interim = _opt_obj(body, "interimInputTranscription", where)
    if interim is not None:
        out.append(InterimInputTranscription(*_transcription(interim, "interimInputTranscription")))
    turn = _opt_obj(body, "modelTurn", where)
    if turn is not None:
        for part in _opt(turn, "parts", list, "modelTurn") or []:
            out.extend(_part(_obj(part, "modelTurn.parts[]")))
    said = _opt_obj(body, "outputTranscription", where)
    if said is not None:
        out.append(OutputTranscription(*_transcription(said, "outputTranscription")))
    grounding = _opt_obj(body, "groundingMetadata", where)
    if grounding is not None:
        out.append(Grounding(metadata=grounding))
    if _opt(body, "interrupted", bool, where):
        out.append(Interrupted())
    if _opt(body, "generationComplete", bool, where):
        out.append(GenerationComplete())
    if _opt(body, "waitingForInput", bool, where):
        out.append(WaitingForInput())
    if _opt(body, "turnComplete", bool, where):
        out.append(TurnComplete(reason=_opt(body, "turnCompleteReason", str, where)))
    status = _opt(body, "interactionStatus", str, where)
    if status is not None:  # after turnComplete: it says whether that turnComplete ends the answer
        out.append(InteractionStatus(status))
    return out


def _transcription(body: dict[str, Any], where: str) -> tuple[str, bool, str | None]:
    return (
        _opt(body, "text", str, where) or "",
        bool(_opt(body, "finished", bool, where)),
        _opt(body, "languageCode", str, where),
    )


def _part(part: dict[str, Any]) -> list[ServerEvent]:
    out: list[ServerEvent] = []
    text = _opt(part, "text", str, "part")
    if text is not None:
        out.append(TextPart(text, thought=bool(_opt(part, "thought", bool, "part"))))
    blob = _opt_obj(part, "inlineData", "part")
    if blob is not None:
        mime = _opt(blob, "mimeType", str, "inlineData") or f"audio/pcm;rate={OUTPUT_AUDIO_RATE}"
        # Live models only stream audio inline; other inline data has no event type and is skipped.
        if mime.lower().startswith("audio/"):
            data = _opt(blob, "data", str, "inlineData")
            if data is None:
                raise _Malformed("inlineData has no data")
            out.append(AudioChunk(_b64(data), mime, _sample_rate(mime)))
    return out


def _tool_call(body: dict[str, Any]) -> list[ServerEvent]:
    calls = []
    for item in _opt(body, "functionCalls", list, "toolCall") or []:
        call = _obj(item, "functionCalls[]")
        name = _opt(call, "name", str, "functionCall")
        if name is None:
            raise _Malformed("functionCall has no name")
        calls.append(
            FunctionCall(
                id=_opt(call, "id", str, "functionCall") or "",
                name=name,
                args=_opt(call, "args", dict, "functionCall") or {},
            )
        )
    return [ToolCall(calls=tuple(calls))]


def _tool_call_cancellation(body: dict[str, Any]) -> list[ServerEvent]:
    ids = _opt(body, "ids", list, "toolCallCancellation") or []
    if not all(isinstance(i, str) for i in ids):
        raise _Malformed("toolCallCancellation.ids must be strings")
    return [ToolCallCancellation(ids=tuple(ids))]


def _go_away(body: dict[str, Any]) -> list[ServerEvent]:
    left = keys.get(body, "timeLeft")
    return [GoAway(time_left_s=0.0 if left is None else _duration(left))]


def _resumption_update(body: dict[str, Any]) -> list[ServerEvent]:
    where = "sessionResumptionUpdate"
    index = keys.get(body, "lastConsumedClientMessageIndex")
    return [
        ResumptionUpdate(
            new_handle=_opt(body, "newHandle", str, where),
            resumable=bool(_opt(body, "resumable", bool, where)),
            last_consumed_index=None if index is None else _int(index, "lastConsumedClientMessageIndex"),
        )
    ]


def _voice_activity(body: dict[str, Any]) -> list[ServerEvent]:
    where = "voiceActivity"
    offset = keys.get(body, "audioOffset")
    return [
        VoiceActivity(
            activity=_opt(body, "voiceActivityType", str, where) or "TYPE_UNSPECIFIED",
            audio_offset_s=None if offset is None else _duration(offset, "voiceActivity.audioOffset"),
        )
    ]


def _usage(body: dict[str, Any]) -> Usage:
    def count(key: str) -> int:
        value = keys.get(body, key)
        return 0 if value is None else _int(value, key)

    return Usage(
        prompt_tokens=count("promptTokenCount"),
        response_tokens=count("responseTokenCount"),
        total_tokens=count("totalTokenCount"),
        thoughts_tokens=count("thoughtsTokenCount"),
        cached_tokens=count("cachedContentTokenCount"),
        tool_use_prompt_tokens=count("toolUsePromptTokenCount"),
        prompt_by_modality=_by_modality(keys.get(body, "promptTokensDetails"), "promptTokensDetails"),
        response_by_modality=_by_modality(keys.get(body, "responseTokensDetails"), "responseTokensDetails"),
    )


def _by_modality(details: Any, where: str) -> dict[str, int]:
    if details is None:
        return {}
    if not isinstance(details, list):
        raise _Malformed(f"{where} must be a list")
    out: dict[str, int] = {}
    for item in details:
        entry = _obj(item, f"{where}[]")
        modality = _opt(entry, "modality", str, where) or "MODALITY_UNSPECIFIED"
        tokens = keys.get(entry, "tokenCount")
        out[modality] = out.get(modality, 0) + (0 if tokens is None else _int(tokens, "tokenCount"))
    return out


_TOP_LEVEL: dict[str, Callable[[dict[str, Any]], list[ServerEvent]]] = {
    "setupComplete": _setup_complete,
    "serverContent": _server_content,
    "toolCall": _tool_call,
    "toolCallCancellation": _tool_call_cancellation,
    "goAway": _go_away,
    "sessionResumptionUpdate": _resumption_update,
    "voiceActivity": _voice_activity,
}

# ---------------------------------------------------------------- typed reads

_INT_TEXT = re.compile(r"-?\d+")
_DURATION_TEXT = re.compile(r"(\d+(?:\.\d*)?|\.\d+)s")


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def _obj(value: Any, where: str) -> dict[str, Any]:
    """A nested message; JSON null reads as an empty one."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Malformed(f"{where} must be an object, not {_json_type(value)}")
    return value


def _opt(obj: dict[str, Any], key: str, kind: type, where: str) -> Any:
    """``obj[key]`` in either spelling, checked to be of ``kind``; None when absent or null."""
    value = keys.get(obj, key)
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise _Malformed(f"{where}.{key} must be {kind.__name__}, not {_json_type(value)}")
    return value


def _opt_obj(obj: dict[str, Any], key: str, where: str) -> dict[str, Any] | None:
    return _opt(obj, key, dict, where)


def _int(value: Any, where: str) -> int:
    # proto3 JSON sends int64 fields as strings ("lastConsumedClientMessageIndex": "7")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INT_TEXT.fullmatch(value.strip()):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise _Malformed(f"{where} must be an integer, not {_json_type(value)}")


def _number(value: Any, where: str) -> float:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise _Malformed(f"{where} must be a number") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Malformed(f"{where} must be a finite number")
    return float(value)


def _duration(value: Any, where: str = "goAway.timeLeft") -> float:
    """``"50s"``, ``"1.5s"``, ``{"seconds": 50, "nanos": 0}`` or a bare number -> seconds."""
    if isinstance(value, str):
        match = _DURATION_TEXT.fullmatch(value.strip())
        if match is None:
            raise _Malformed(f"{where} must look like '50s'")
        return float(match.group(1))
    if isinstance(value, dict):
        seconds = _number(keys.get(value, "seconds", 0), f"{where}.seconds")
        nanos = _number(keys.get(value, "nanos", 0), f"{where}.nanos")
        total = seconds + nanos / 1e9
    else:
        total = _number(value, where)
    if total < 0:
        raise _Malformed(f"{where} must not be negative")
    return total


def _sample_rate(mime: str) -> int:
    for param in mime.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "rate":
            if not value.strip().isdigit() or int(value) <= 0:
                raise _Malformed(f"bad sample rate in mimeType {mime[:40]!r}")
            return int(value)
    return OUTPUT_AUDIO_RATE


def _b64(data: str) -> bytes:
    try:
        return keys.b64decode_any(data)
    except ValueError:
        raise _Malformed("inlineData.data is not valid base64") from None


def _excerpt(raw: Any) -> str:
    """The start of a frame for error messages: enough to recognise it, never a whole large frame."""
    if isinstance(raw, bytes | bytearray | memoryview):
        text = bytes(raw[: EXCERPT_CHARS * 4]).decode("utf-8", "replace")
    elif isinstance(raw, str):
        text = raw
    else:
        text = repr(raw)[: EXCERPT_CHARS * 4]
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…"
