"""The Live session layer: what the rest of rholive may use.

``LiveSession`` owns the socket (setup, ordered writer, reader, reconnect/resume/replay); ``Endpoint`` says
where and how to connect; the event types are in ``rholive.live.events`` and re-exported here.
"""

from typing import TYPE_CHECKING, Any

from rholive.live import events, models
from rholive.live.cost import PRICE_FIELDS, CostMeter, budget_line, format_usd, prices_for
from rholive.live.endpoint import Endpoint
from rholive.live.errors import ConnectFailed, LiveError, SessionClosed, SetupRejected
from rholive.live.events import (
    AnswerComplete,
    AnswerCut,
    AudioChunk,
    Closed,
    Connected,
    ContextLost,
    ContextRestored,
    Event,
    FrameDropped,
    FunctionCall,
    GenerationComplete,
    GoAway,
    Grounding,
    HistorySeeded,
    InputTranscription,
    InteractionStatus,
    InterimInputTranscription,
    Interrupted,
    OutputTranscription,
    ProtocolError,
    Reconnecting,
    Resumed,
    ResumptionUpdate,
    SetupComplete,
    Stalled,
    TextPart,
    ToolCall,
    ToolCallCancellation,
    ToolResult,
    TurnComplete,
    UnknownMessage,
    Usage,
    VoiceActivity,
    WaitingForInput,
    answer_text,
)
from rholive.live.models import DEFAULT_MODEL, LiveModel
from rholive.live.options import SessionOptions
from rholive.live.refusal import is_model_refusal, model_refused
from rholive.live.session import LiveSession
from rholive.live.tools import ToolRegistry, ToolReply, ToolRunner
from rholive.live.usage import UsageTotals
from rholive.live.wire import (
    ActivityDetection,
    FunctionResponse,
    HistoryTurn,
    ResponseBlob,
    SetupConfig,
    TranscriptionOptions,
)

if TYPE_CHECKING:
    from rholive.live.listing import ListedModel, list_models, live_model_names, live_models

# the model listing needs aiohttp: loaded on first use, so opening a session does not import it
_LISTING = {"ListedModel", "list_models", "live_model_names", "live_models"}


def __getattr__(name: str) -> Any:
    if name in _LISTING:
        from rholive.live import listing

        return getattr(listing, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_MODEL",
    "PRICE_FIELDS",
    "ActivityDetection",
    "AnswerComplete",
    "AnswerCut",
    "AudioChunk",
    "Closed",
    "ConnectFailed",
    "Connected",
    "ContextLost",
    "ContextRestored",
    "CostMeter",
    "Endpoint",
    "Event",
    "FrameDropped",
    "FunctionCall",
    "FunctionResponse",
    "GenerationComplete",
    "GoAway",
    "Grounding",
    "HistorySeeded",
    "HistoryTurn",
    "InputTranscription",
    "InteractionStatus",
    "InterimInputTranscription",
    "Interrupted",
    "ListedModel",
    "LiveError",
    "LiveModel",
    "LiveSession",
    "OutputTranscription",
    "ProtocolError",
    "Reconnecting",
    "ResponseBlob",
    "Resumed",
    "ResumptionUpdate",
    "SessionClosed",
    "SessionOptions",
    "SetupComplete",
    "SetupConfig",
    "SetupRejected",
    "Stalled",
    "TextPart",
    "ToolCall",
    "ToolCallCancellation",
    "ToolRegistry",
    "ToolReply",
    "ToolResult",
    "ToolRunner",
    "TranscriptionOptions",
    "TurnComplete",
    "UnknownMessage",
    "Usage",
    "UsageTotals",
    "VoiceActivity",
    "WaitingForInput",
    "answer_text",
    "budget_line",
    "events",
    "format_usd",
    "is_model_refusal",
    "list_models",
    "live_model_names",
    "live_models",
    "model_refused",
    "models",
    "prices_for",
]
