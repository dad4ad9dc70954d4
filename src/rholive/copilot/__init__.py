"""The copilot (`rholive run`): sources → pure gates → one Live session → views and the transcript store.

The names below are what the rest of rholive may use (`rholive demo` runs a screen turn through the planner;
`rholive history` reads the store). They load on first use (PEP 562), so `rholive history` does not load the
audio stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rholive.lazy import lazy_attributes

if TYPE_CHECKING:
    from rholive.copilot.planner import PlannerConfig, TurnPlanner
    from rholive.copilot.printer import CopilotPrinter
    from rholive.copilot.screen_source import ScreenConfig, ScreenFrame, ScreenSource
    from rholive.copilot.store import default_path
    from rholive.copilot.turn_wire import TurnWire

_WHERE = {
    "PlannerConfig": "planner",
    "TurnPlanner": "planner",
    "CopilotPrinter": "printer",
    "ScreenConfig": "screen_source",
    "ScreenFrame": "screen_source",
    "ScreenSource": "screen_source",
    "default_path": "store",
    "TurnWire": "turn_wire",
    "history": "history",
    "launch": "launch",
}

__all__ = [
    "CopilotPrinter",
    "PlannerConfig",
    "ScreenConfig",
    "ScreenFrame",
    "ScreenSource",
    "TurnPlanner",
    "TurnWire",
    "default_path",
    "history",
    "launch",
]

__getattr__ = lazy_attributes(__name__, _WHERE)
