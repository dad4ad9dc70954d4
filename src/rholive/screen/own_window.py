"""The X11 window of the terminal that runs rholive, so the copilot does not watch its own output.

Without the overlay, answers go to the terminal; if that terminal is on the captured screen, each new line
is a screen change, a screen turn, another line (seen: 3 screen turns about its own output in 30 s). The
terminal's window is ``$WINDOWID`` (xterm, kitty, alacritty, konsole, ... set it), else the window that was
active when rholive started (the one the command was typed in). Its place is read again on every call, so
moving or resizing the terminal is followed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger(__name__)

Area = tuple[int, int, int, int]  # left, top, width, height in screen pixels


def terminal_area(env: Mapping[str, str] | None = None) -> Callable[[], Area | None] | None:
    """A function giving the terminal window's area on the screen now, or None when it cannot be found (no
    X display, no python-xlib, no window id and no active window)."""
    env = os.environ if env is None else env
    if not env.get("DISPLAY"):
        return None
    try:
        from Xlib import X, display, error
    except ImportError:
        return None
    try:
        disp = display.Display(env["DISPLAY"])
    except (error.DisplayError, OSError) as exc:  # the capture reports a bad display itself
        log.debug("no X connection for the terminal's window: %s", exc)
        return None
    window = _window_id(disp, env)
    if window is None:
        disp.close()
        return None
    target = disp.create_resource_object("window", window)
    root = disp.screen().root

    def area() -> Area | None:
        try:
            geometry = target.get_geometry()
            attributes = target.get_attributes()
            if attributes.map_state != X.IsViewable:
                return None  # minimised or on another desktop: nothing of it is captured
            place = target.translate_coords(root, 0, 0)
        except error.XError:
            return None  # the terminal went away
        return (-place.x, -place.y, geometry.width, geometry.height)

    return area


def _window_id(disp: Any, env: Mapping[str, str]) -> int | None:
    text = env.get("WINDOWID", "").strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    root = disp.screen().root
    active = root.get_full_property(disp.intern_atom("_NET_ACTIVE_WINDOW"), 0)  # AnyPropertyType
    if active is None or not active.value or not active.value[0]:
        return None
    return int(active.value[0])
