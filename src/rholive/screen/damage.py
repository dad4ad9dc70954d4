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
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


Area = tuple[int, int, int, int]  # left, top, width, height in screen pixels


class DamageWatch:
    def __init__(
        self, disp: Any, damage: int, event_type: int, ignore: Callable[[], Area | None] | None = None
    ) -> None:
        self._disp = disp
        self._damage = damage
        self._event_type = event_type
        self._ignore = ignore
        self._looked = False  # the first look says "drawn": nothing is known yet

    @classmethod
    def open(
        cls, display: str | None = None, ignore: Callable[[], Area | None] | None = None
    ) -> DamageWatch | None:
        """A watch on the whole screen of `display` (default: $DISPLAY), or None when it cannot be had.

        `ignore` gives the area of our own window (the overlay, the terminal we print into), blanked in every
        frame anyway: what is drawn only there is not a change. Its meters repaint all the time; without this
        every sample would be captured."""
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
            # with an area to ignore, every growth of the damaged box is reported, so a drawing elsewhere after
            # our own window's is never hidden behind the one event NonEmpty would send
            level = damage.DamageReportBoundingBox if ignore is not None else damage.DamageReportNonEmpty
            handle = disp.screen().root.damage_create(level)
            disp.sync()
        except Exception as exc:  # a server that refuses: capture every sample, as without the extension
            log.debug("no damage events: %s", exc)
            disp.close()
            return None
        return cls(disp, handle, info.first_event + damage.DamageNotifyCode, ignore)

    def drawn(self) -> bool:
        """Whether anything was drawn since the last call that returned True (True the first time).

        When it returns True the damage is already cleared on the server (a round trip), so a capture taken
        after this call contains everything drawn before it; anything drawn later makes the next call True.
        A broken connection counts as drawn (the capture then reports the problem).
        """
        try:
            ignored = self._ignore() if self._ignore is not None else None
            drawn, any_event = self._read_events(ignored)
            first, self._looked = not self._looked, True
            if not any_event:
                return first
            self._disp.damage_subtract(self._damage)
            self._disp.sync()
            if drawn or first or ignored is None:
                return True
            # only our own window drew: what was drawn elsewhere before the subtract reached the server has
            # sent its event by now (the sync's reply comes after it)
            drawn, any_event = self._read_events(ignored)
            if any_event:
                self._disp.damage_subtract(self._damage)
                self._disp.sync()
            return drawn
        except Exception as exc:  # the X server went away: from now on, capture every sample
            log.debug("damage events stopped: %s", exc)
            self.close()
            self.drawn = lambda: True  # type: ignore[method-assign]
            return True

    def _read_events(self, ignored: Area | None) -> tuple[bool, bool]:
        """(something was drawn outside `ignored`, any damage event at all) over the pending events."""
        drawn = any_event = False
        for _ in range(self._disp.pending_events()):
            event = self._disp.next_event()
            if event.type != self._event_type:
                continue
            any_event = True
            if ignored is None or not _inside(event.area, ignored):
                drawn = True
        return drawn, any_event

    def close(self) -> None:
        try:
            self._disp.close()
        except Exception:  # already gone
            pass


def _inside(rect: Any, area: Area) -> bool:
    """Whether an X rectangle (x, y, width, height) lies within `area`."""
    left, top, width, height = area
    return (
        rect.x >= left
        and rect.y >= top
        and rect.x + rect.width <= left + width
        and rect.y + rect.height <= top + height
    )
