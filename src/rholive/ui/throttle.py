"""Redraw coalescing (pure): any number of changes between two redraws cost one redraw.

Fed explicit timestamps; the caller decides what a timestamp is (the painter thread uses a monotonic clock,
tests pass numbers).
"""

from __future__ import annotations


class RedrawThrottle:
    def __init__(self, max_fps: float) -> None:
        if max_fps <= 0:
            raise ValueError("max_fps must be > 0")
        self.interval_s = 1.0 / max_fps
        self.dirty = False
        self._last_draw: float | None = None

    def mark(self) -> None:
        """Something on screen changed."""
        self.dirty = True

    def next_at(self) -> float | None:
        """The earliest time a pending change may be drawn, or None when nothing is pending."""
        if not self.dirty:
            return None
        return -float("inf") if self._last_draw is None else self._last_draw + self.interval_s

    def due(self, now: float) -> bool:
        at = self.next_at()
        return at is not None and now >= at

    def drawn(self, now: float) -> None:
        self.dirty = False
        self._last_draw = now
