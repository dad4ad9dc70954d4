"""User interfaces of the copilot, both `CopilotView`s: the terminal (`TerminalView`, rich) and the overlay
(`overlay.run_with_overlay`, `overlay.overlay_available`; Qt, extra `gui`, imported only when used).
`TerminalView` loads on first use (PEP 562), so the overlay's process does not import rich's live display."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rholive.lazy import lazy_attributes
from rholive.ui.view import CopilotControls, CopilotView, Status, Who

if TYPE_CHECKING:
    from rholive.ui.terminal import TerminalView

__all__ = ["CopilotControls", "CopilotView", "Status", "TerminalView", "Who"]

__getattr__ = lazy_attributes(__name__, {"TerminalView": "terminal"})
