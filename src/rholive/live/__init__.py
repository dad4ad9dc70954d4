"""The Live session layer: what the rest of rholive may use.

``LiveSession`` owns the socket (setup, ordered writer, reader, reconnect/resume/replay); ``Endpoint`` says
where and how to connect; the event types are in ``rholive.live.events`` and re-exported here.
"""

from rholive.live import events, models
from rholive.live.endpoint import Endpoint
from rholive.live.errors import ConnectFailed, LiveError, SessionClosed, SetupRejected
from rholive.live.events import (
    AudioChunk,
    Closed,
    Connected,
    ContextLost,
    Event,
    FrameDropped,
    FunctionCall,
    GenerationComplete,
    GoAway,
    Grounding,
    InputTranscription,
    Interrupted,
    OutputTranscription,
    ProtocolError,
    Reconnecting,
    Resumed,
    ResumptionUpdate,
    SetupComplete,
    TextPart,
    ToolCall,
    ToolCallCancellation,
    ToolResult,
    TurnComplete,
    UnknownMessage,
    Usage,
    answer_text,
)
from rholive.live.options import SessionOptions
from rholive.live.session import LiveSession
from rholive.live.tools import ToolRegistry, ToolRunner
from rholive.live.usage import UsageTotals
from rholive.live.wire import ActivityDetection, FunctionResponse, SetupConfig

__all__ = [
    "ActivityDetection",
    "AudioChunk",
    "Closed",
    "ConnectFailed",
    "Connected",
    "ContextLost",
    "Endpoint",
    "Event",
    "FrameDropped",
    "FunctionCall",
    "FunctionResponse",
    "GenerationComplete",
    "GoAway",
    "Grounding",
    "InputTranscription",
    "Interrupted",
    "LiveError",
    "LiveSession",
    "OutputTranscription",
    "ProtocolError",
    "Reconnecting",
    "Resumed",
    "ResumptionUpdate",
    "SessionClosed",
    "SessionOptions",
    "SetupComplete",
    "SetupConfig",
    "SetupRejected",
    "TextPart",
    "ToolCall",
    "ToolCallCancellation",
    "ToolRegistry",
    "ToolResult",
    "ToolRunner",
    "TurnComplete",
    "UnknownMessage",
    "Usage",
    "UsageTotals",
    "answer_text",
    "events",
    "models",
]
