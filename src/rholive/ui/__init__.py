"""User interfaces of the copilot, both `CopilotView`s: the terminal (`terminal.TerminalView`, rich) and the
overlay (`overlay.run_with_overlay`, `overlay.overlay_available`; Qt, extra `gui`, imported only when used)."""

from rholive.ui.view import CopilotControls, CopilotView, Status, Who

__all__ = ["CopilotControls", "CopilotView", "Status", "Who"]
