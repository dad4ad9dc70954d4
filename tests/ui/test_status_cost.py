"""The running cost on the terminal's status line (the overlay's is in test_overlay)."""

from __future__ import annotations

from rholive.ui.dashboard import DashboardState
from rholive.ui.terminal_render import status_line


def test_status_line_shows_the_estimate_once_there_is_one() -> None:
    state = DashboardState()
    state.set_tokens(1234)
    assert "est." not in status_line(state.snapshot(0.0)).plain
    assert state.set_cost(0.01234)
    assert status_line(state.snapshot(0.0)).plain.endswith("tokens 1,234 · est. $0.0123")
    assert not state.set_cost(0.01234)  # unchanged: nothing to redraw
    state.set_cost(None)
    assert status_line(state.snapshot(0.0)).plain.endswith("tokens 1,234 · no cost estimate")
