"""Screen frames for the model: capture (mss), a pure change/rate gate, resize + JPEG encode."""

from rholive.screen.capture import Region, ScreenCapture, ScreenCaptureError, check_display
from rholive.screen.damage import DamageWatch
from rholive.screen.encode import (
    DEFAULT_MAX_EDGE,
    DEFAULT_QUALITY,
    encode_jpeg,
    frame_to_jpeg,
    media_resolution_for,
    resize_long_edge,
    shrink_factor,
)
from rholive.screen.gate import (
    Decision,
    FrameGate,
    GateConfig,
    GateStats,
    SendFrame,
    SkipFrame,
    block_for_shrunk,
)
from rholive.screen.own_window import terminal_area

__all__ = [
    "DEFAULT_MAX_EDGE",
    "DEFAULT_QUALITY",
    "DamageWatch",
    "Decision",
    "FrameGate",
    "GateConfig",
    "GateStats",
    "Region",
    "ScreenCapture",
    "ScreenCaptureError",
    "SendFrame",
    "SkipFrame",
    "block_for_shrunk",
    "check_display",
    "encode_jpeg",
    "frame_to_jpeg",
    "media_resolution_for",
    "resize_long_edge",
    "shrink_factor",
    "terminal_area",
]
