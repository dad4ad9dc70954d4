"""User interfaces of the copilot: the terminal (rich) and the overlay (Qt, extra `gui`), both `CopilotView`s."""

from rholive.ui.view import CopilotControls, CopilotView, Status, Who

__all__ = ["CopilotControls", "CopilotView", "Status", "Who"]
