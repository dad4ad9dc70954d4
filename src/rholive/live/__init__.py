"""The Live session layer: what the rest of rholive may use."""

from rholive.live import events
from rholive.live.endpoint import Endpoint
from rholive.live.errors import LiveError, SetupRejected
from rholive.live.session import LiveSession, SessionOptions
from rholive.live.tools import ToolRegistry, ToolRunner
from rholive.live.usage import UsageTotals
from rholive.live.wire import ActivityDetection, FunctionResponse, SetupConfig

__all__ = [
    "ActivityDetection",
    "Endpoint",
    "FunctionResponse",
    "LiveError",
    "LiveSession",
    "SessionOptions",
    "SetupConfig",
    "SetupRejected",
    "ToolRegistry",
    "ToolRunner",
    "UsageTotals",
    "events",
]
