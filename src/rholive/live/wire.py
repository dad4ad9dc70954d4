"""Live wire format: build every client message, parse every server message into typed events.

Pure functions, no I/O. Builders return plain dicts in camelCase (``encode`` turns them into JSON text).
``parse_server_message`` never raises: a malformed frame becomes one ``ProtocolError`` event.

CONTRACT (filled in by the wire work; signatures are fixed, other modules rely on them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from rholive.live.events import ServerEvent

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


@dataclass(slots=True)
class SetupConfig:
    """Everything the ``setup`` message can carry (see shared/live-protocol.md)."""

    model: str = "models/gemini-live-2.5-flash-preview"
    response_modality: Modality = "TEXT"
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
    thinking_budget: int | None = None
    # realtimeInputConfig
    activity_detection: ActivityDetection = field(default_factory=ActivityDetection)
    activity_handling: str | None = None  # START_OF_ACTIVITY_INTERRUPTS | NO_INTERRUPTION
    turn_coverage: str | None = None  # TURN_INCLUDES_ONLY_ACTIVITY | TURN_INCLUDES_ALL_INPUT
    # transcription
    input_transcription: bool = False
    output_transcription: bool = False
    # session lifetime
    session_resumption: bool = True  # ask for resumption updates (transparent: with consumed index)
    resumption_handle: str | None = None
    compression_trigger_tokens: int | None = None  # contextWindowCompression when not None
    compression_target_tokens: int | None = None
    proactive_audio: bool | None = None  # proactivity.proactiveAudio (v1alpha)
    tools: list[dict[str, Any]] = field(default_factory=list)  # [{"functionDeclarations": [...]}, ...]


@dataclass(frozen=True, slots=True)
class FunctionResponse:
    id: str
    name: str
    response: dict[str, Any]
    scheduling: str | None = None  # INTERRUPT | WHEN_IDLE | SILENT (NON_BLOCKING tools)
    will_continue: bool | None = None


def setup(config: SetupConfig) -> dict[str, Any]:
    """``{"setup": {...}}`` with every set field of ``config``; fields left None are omitted."""
    raise NotImplementedError


def realtime_audio(pcm: bytes, rate: int = INPUT_AUDIO_RATE) -> dict[str, Any]:
    raise NotImplementedError


def realtime_video(jpeg: bytes, mime_type: str = "image/jpeg") -> dict[str, Any]:
    raise NotImplementedError


def realtime_text(text: str) -> dict[str, Any]:
    raise NotImplementedError


def activity_start() -> dict[str, Any]:
    raise NotImplementedError


def activity_end() -> dict[str, Any]:
    raise NotImplementedError


def audio_stream_end() -> dict[str, Any]:
    raise NotImplementedError


def client_content(turns: str | list[dict[str, Any]], turn_complete: bool = True) -> dict[str, Any]:
    """A plain string becomes one user turn with one text part."""
    raise NotImplementedError


def tool_response(responses: list[FunctionResponse]) -> dict[str, Any]:
    raise NotImplementedError


def encode(message: dict[str, Any]) -> str:
    """Compact JSON text for the socket."""
    raise NotImplementedError


def parse_server_message(raw: str | bytes) -> list[ServerEvent]:
    """All events in one server frame, in order (e.g. text parts, then turnComplete, then usage).
    Never raises; an unparsable frame gives ``[ProtocolError(...)]``."""
    raise NotImplementedError
