"""Typed events that a Live session yields to the application.

Two families share one union:
- *server events*: parsed from what the Live service sends (wire.parse_server_message);
- *session events*: transitions of the connection itself (reconnecting, resumed, context lost, ...),
  emitted by LiveSession so that a UI can show them.

Every event has a stable ``kind`` used as the ``"event"`` field of ``--json`` output: these names are a
contract with scripts outside this repo, add new ones, never rename.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

# ---------------------------------------------------------------- server events


@dataclass(frozen=True, slots=True)
class SetupComplete:
    kind: ClassVar[str] = "setup_complete"
    session_id: str | None = None


@dataclass(frozen=True, slots=True)
class TextPart:
    """A piece of the model's text answer (TEXT modality), streamed in several parts per turn."""

    kind: ClassVar[str] = "text"
    text: str
    thought: bool = False


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """A piece of the model's spoken answer: raw 16-bit little-endian PCM, mono."""

    kind: ClassVar[str] = "audio"
    data: bytes
    mime_type: str = "audio/pcm;rate=24000"
    sample_rate: int = 24000


@dataclass(frozen=True, slots=True)
class InputTranscription:
    kind: ClassVar[str] = "input_transcription"
    text: str
    finished: bool = False
    language_code: str | None = None  # BCP-47, when the service says which language it heard


@dataclass(frozen=True, slots=True)
class InterimInputTranscription:
    """A low-latency guess at what the user is saying, replaced by later ones (not part of the transcript)."""

    kind: ClassVar[str] = "interim_input_transcription"
    text: str
    finished: bool = False
    language_code: str | None = None


@dataclass(frozen=True, slots=True)
class OutputTranscription:
    kind: ClassVar[str] = "output_transcription"
    text: str
    finished: bool = False
    language_code: str | None = None


@dataclass(frozen=True, slots=True)
class Interrupted:
    """The model stopped its reply because the user started a new activity (barge-in)."""

    kind: ClassVar[str] = "interrupted"


@dataclass(frozen=True, slots=True)
class GenerationComplete:
    kind: ClassVar[str] = "generation_complete"


@dataclass(frozen=True, slots=True)
class TurnComplete:
    kind: ClassVar[str] = "turn_complete"
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class InteractionStatus:
    """``serverContent.interactionStatus``, sent alongside turnComplete: IN_PROGRESS while the model still
    works in the background (more answer follows), IDLE when it is done (REQUIRES_ACTION: old name of IDLE)."""

    kind: ClassVar[str] = "interaction_status"
    status: str


@dataclass(frozen=True, slots=True)
class WaitingForInput:
    """The model is not generating because it expects the user to go on (e.g. mid-sentence)."""

    kind: ClassVar[str] = "waiting_for_input"


@dataclass(frozen=True, slots=True)
class VoiceActivity:
    """The service's voice activity detection: ACTIVITY_START / ACTIVITY_END of the user's speech, at
    ``audio_offset_s`` seconds of the input audio stream."""

    kind: ClassVar[str] = "voice_activity"
    activity: str
    audio_offset_s: float | None = None


@dataclass(frozen=True, slots=True)
class Grounding:
    kind: ClassVar[str] = "grounding"
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FunctionCall:
    id: str
    name: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ToolCall:
    kind: ClassVar[str] = "tool_call"
    calls: tuple[FunctionCall, ...] = ()


@dataclass(frozen=True, slots=True)
class ToolCallCancellation:
    kind: ClassVar[str] = "tool_call_cancellation"
    ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GoAway:
    """The server will close this connection in ``time_left_s`` seconds."""

    kind: ClassVar[str] = "go_away"
    time_left_s: float = 0.0


@dataclass(frozen=True, slots=True)
class ResumptionUpdate:
    kind: ClassVar[str] = "resumption_update"
    new_handle: str | None = None
    resumable: bool = False
    last_consumed_index: int | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """One ``usageMetadata`` report. Token counts by modality: {"TEXT": n, "AUDIO": n, ...}."""

    kind: ClassVar[str] = "usage"
    prompt_tokens: int = 0
    response_tokens: int = 0
    total_tokens: int = 0
    prompt_by_modality: dict[str, int] = field(default_factory=dict)
    response_by_modality: dict[str, int] = field(default_factory=dict)
    thoughts_tokens: int = 0
    cached_tokens: int = 0  # cachedContentTokenCount: part of the prompt served from the cache
    tool_use_prompt_tokens: int = 0


@dataclass(frozen=True, slots=True)
class UnknownMessage:
    """A server message whose top-level field(s) we do not know. Reported once, never fatal."""

    kind: ClassVar[str] = "unknown_message"
    fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProtocolError:
    """A malformed server frame (not JSON, wrong types, bad base64). The session goes on."""

    kind: ClassVar[str] = "protocol_error"
    message: str
    excerpt: str = ""


# ---------------------------------------------------------------- session events


@dataclass(frozen=True, slots=True)
class Connected:
    """A connection finished setup. ``resumed`` when it carried a resumption handle."""

    kind: ClassVar[str] = "connected"
    attempt: int = 1
    resumed: bool = False


@dataclass(frozen=True, slots=True)
class Reconnecting:
    """The session lost (or is leaving) its connection and will open another one."""

    kind: ClassVar[str] = "reconnecting"
    reason: str = ""
    attempt: int = 1
    delay_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Resumed:
    """A new connection continues the conversation; ``replayed`` unconsumed messages were sent again."""

    kind: ClassVar[str] = "resumed"
    replayed: int = 0


@dataclass(frozen=True, slots=True)
class ContextLost:
    """A new connection had no resumption handle: the model does not remember the conversation."""

    kind: ClassVar[str] = "context_lost"
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ContextRestored:
    """The service refused to resume (the handle is gone): a fresh session was opened and given the
    conversation so far as text (``turns`` turns carried over); ``reason`` is the refusal."""

    kind: ClassVar[str] = "context_restored"
    turns: int = 0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class AnswerCut:
    """The answer being streamed was cut (its connection dropped, or was left at a goAway deadline, or
    stalled). Nothing more of it comes; its turn is asked again and the repeat follows as a new answer.
    ``text`` is what had arrived of it."""

    kind: ClassVar[str] = "answer_cut"
    reason: str = ""
    text: str = ""


@dataclass(frozen=True, slots=True)
class Stalled:
    """No answer came to a turn, twice: the connection stayed open and silent for ``timeout_s`` after the
    turn, and again after a reconnect sent it once more. The turn is given up; the session goes on."""

    kind: ClassVar[str] = "stall"
    timeout_s: float = 0.0


@dataclass(frozen=True, slots=True)
class HistorySeeded:
    """A fresh connection was given the conversation so far as text history (``turns`` turns)."""

    kind: ClassVar[str] = "history_seeded"
    turns: int = 0


@dataclass(frozen=True, slots=True)
class AnswerComplete:
    """The model's answer is over, for every model: right after TurnComplete, or, when that TurnComplete
    came with interactionStatus IN_PROGRESS (extended thinking), after the IDLE that follows."""

    kind: ClassVar[str] = "answer_complete"


@dataclass(frozen=True, slots=True)
class ToolResult:
    """A registered tool finished (or failed, or was cancelled); its response went back to the model."""

    kind: ClassVar[str] = "tool_result"
    id: str = ""
    name: str = ""
    response: dict[str, Any] = field(default_factory=dict)
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class FrameDropped:
    """A stale video frame was dropped under backpressure (counted, never silent)."""

    kind: ClassVar[str] = "frame_dropped"
    total: int = 0


@dataclass(frozen=True, slots=True)
class Closed:
    """The session ended for good. ``code``/``reason`` come from the close frame when there was one."""

    kind: ClassVar[str] = "closed"
    code: int | None = None
    reason: str = ""
    error: bool = False


ServerEvent = (
    SetupComplete
    | TextPart
    | AudioChunk
    | InputTranscription
    | InterimInputTranscription
    | OutputTranscription
    | Interrupted
    | GenerationComplete
    | TurnComplete
    | InteractionStatus
    | WaitingForInput
    | VoiceActivity
    | Grounding
    | ToolCall
    | ToolCallCancellation
    | GoAway
    | ResumptionUpdate
    | Usage
    | UnknownMessage
    | ProtocolError
)
SessionEvent = (
    Connected
    | Reconnecting
    | Resumed
    | ContextLost
    | ContextRestored
    | AnswerCut
    | Stalled
    | HistorySeeded
    | AnswerComplete
    | ToolResult
    | FrameDropped
    | Closed
)
Event = ServerEvent | SessionEvent


def event_to_dict(event: Event) -> dict[str, Any]:
    """A JSON-ready dict with ``"event"`` first. Audio bytes become their length, not their content."""
    out: dict[str, Any] = {"event": event.kind}
    for f in fields(event):  # type: ignore[arg-type]
        value = getattr(event, f.name)
        if isinstance(value, bytes):
            out["bytes"] = len(value)
        elif isinstance(value, tuple):
            out[f.name] = [_plain(v) for v in value]
        else:
            out[f.name] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, FunctionCall):
        return {"id": value.id, "name": value.name, "args": value.args}
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def answer_text(event: Event) -> str | None:
    """The piece of the model's answer an event carries, as text: a (non-thought) text part, or the output
    transcription of a spoken answer (today's Live models answer in AUDIO only). None for other events."""
    if isinstance(event, TextPart):
        return None if event.thought else event.text
    if isinstance(event, OutputTranscription):
        return event.text
    return None
