"""Whether anything was drawn on the X screen since the last look (the X DAMAGE extension), so an unchanged
screen is not captured at all.

At rest the screen thread sampled twice a second: a full-screen capture and a shrink each time, for a screen
that had not changed. DAMAGE tells the X server to send one event when something is drawn anywhere on the root
window (child windows included), and nothing until we clear it again; checking costs a few microseconds.
Optional: without python-xlib or the extension (not X11, a server without DAMAGE) `open()` returns None and
every sample is captured as before.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


class DamageWatch:
    def __init__(self, disp: Any, damage: int, event_type: int) -> None:
        self._disp = disp
        self._damage = damage
        self._event_type = event_type

    @classmethod
    def open(cls, display: str | None = None) -> DamageWatch | None:
        """A watch on the whole screen of `display` (default: $DISPLAY), or None when it cannot be had."""
        try:
            from Xlib import display as xdisplay
            from Xlib.ext import damage
        except ImportError:
            return None
        try:
            disp = xdisplay.Display(display)
        except Exception as exc:  # the capture reports a bad display itself
            log.debug("no X connection for damage events: %s", exc)
            return None
        try:
            info = disp.query_extension("DAMAGE")
            if info is None or not info.present:
                disp.close()
                return None
            disp.damage_query_version()  # the server expects the client's version before anything else
            handle = disp.screen().root.damage_create(damage.DamageReportNonEmpty)
            disp.sync()
        except Exception as exc:  # a server that refuses: capture every sample, as without the extension
            log.debug("no damage events: %s", exc)
            disp.close()
            return None
        return cls(disp, handle, info.first_event + damage.DamageNotifyCode)

    def drawn(self) -> bool:
        """Whether anything was drawn since the last call that returned True (True the first time).

        When it returns True the damage is already cleared on the server (a round trip), so a capture taken
        after this call contains everything drawn before it; anything drawn later makes the next call True.
        A broken connection counts as drawn (the capture then reports the problem).
        """
        try:
            hit = False
            for _ in range(self._disp.pending_events()):
                if self._disp.next_event().type == self._event_type:
                    hit = True
            if hit:
                self._disp.damage_subtract(self._damage)
                self._disp.sync()
            return hit
        except Exception as exc:  # the X server went away: from now on, capture every sample
            log.debug("damage events stopped: %s", exc)
            self.close()
            self.drawn = lambda: True  # type: ignore[method-assign]
            return True

    def close(self) -> None:
        try:
            self._disp.close()
        except Exception:  # already gone
            pass
