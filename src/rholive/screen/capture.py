"""Screen capture with mss: the primary monitor, a chosen monitor, or a region.

`grab()` returns an HxWx4 uint8 BGRA numpy array that is a view on mss's buffer (no copy): it is valid until
the next `grab()`; copy it if you keep it longer.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType

import mss
import mss.exception
import numpy as np


class ScreenCaptureError(RuntimeError):
    """The screen cannot be captured; the message says what to do."""


@dataclass(frozen=True)
class Region:
    left: int
    top: int
    width: int
    height: int

    @classmethod
    def parse(cls, text: str) -> Region:
        """`x,y,w,h` in pixels, e.g. `0,0,1280,720`."""
        parts = [p.strip() for p in text.split(",")]
        try:
            if len(parts) != 4:
                raise ValueError
            x, y, w, h = (int(p) for p in parts)
        except ValueError:
            raise ValueError(
                f"region must be 'x,y,w,h' in pixels (e.g. 0,0,1280,720), got {text!r}"
            ) from None
        if w <= 0 or h <= 0:
            raise ValueError(f"region width and height must be > 0, got {text!r}")
        return cls(x, y, w, h)


def check_display(env: Mapping[str, str] | None = None) -> str:
    """The X display to capture from, or ScreenCaptureError saying how to get one (Linux only)."""
    env = os.environ if env is None else env
    display = env.get("DISPLAY", "")
    if display:
        return display
    if env.get("WAYLAND_DISPLAY"):
        raise ScreenCaptureError(
            "screen capture needs X11, but this is a Wayland session without X access (DISPLAY is not set): "
            "run rholive under XWayland (e.g. DISPLAY=:0 rholive ...), or log in to an X11 session"
        )
    raise ScreenCaptureError(
        "no display to capture: DISPLAY is not set (set DISPLAY=:0 for the local X server, "
        "or run a virtual one with Xvfb :99 and DISPLAY=:99)"
    )


class ScreenCapture:
    """`monitor`: 1 = primary (mss numbering; 0 = all monitors together). `region` overrides `monitor`."""

    def __init__(self, monitor: int = 1, region: Region | None = None, with_cursor: bool = False) -> None:
        if os.name == "posix" and not _is_macos():
            check_display()
        try:
            self._sct = mss.MSS(with_cursor=with_cursor)
        except mss.exception.ScreenShotError as exc:
            raise ScreenCaptureError(
                f"cannot open the display {os.environ.get('DISPLAY', '')!r} for capture ({exc}); "
                "check the X server is running and this user may connect to it (xhost / XAUTHORITY)"
            ) from None
        monitors = self._sct.monitors
        if region is not None:
            self.area = {
                "left": region.left,
                "top": region.top,
                "width": region.width,
                "height": region.height,
            }
            screen = monitors[0]  # all monitors together: X refuses to grab past its edges, every time
            if not _inside(self.area, screen):
                self._sct.close()
                raise ScreenCaptureError(
                    f"region {region.left},{region.top},{region.width},{region.height} is not inside the screen "
                    f"({screen['left']},{screen['top']},{screen['width']},{screen['height']})"
                )
        elif 0 <= monitor < len(monitors):
            self.area = dict(monitors[monitor])
        else:
            self._sct.close()
            raise ScreenCaptureError(
                f"no monitor {monitor}: this display has monitors 1..{len(monitors) - 1}"
            )

    def grab(self) -> np.ndarray:
        try:
            shot = self._sct.grab(self.area)
        except mss.exception.ScreenShotError as exc:
            raise ScreenCaptureError(f"screen capture of {self.area} failed: {exc}") from None
        # A view on the BGRA bytes mss already holds: no copy, no channel reordering.
        return np.frombuffer(shot.raw, dtype=np.uint8).reshape(shot.height, shot.width, 4)

    def close(self) -> None:
        self._sct.close()

    def __enter__(self) -> ScreenCapture:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _is_macos() -> bool:
    return os.uname().sysname == "Darwin"


def _inside(area: Mapping[str, int], screen: Mapping[str, int]) -> bool:
    return (
        area["left"] >= screen["left"]
        and area["top"] >= screen["top"]
        and area["left"] + area["width"] <= screen["left"] + screen["width"]
        and area["top"] + area["height"] <= screen["top"] + screen["height"]
    )
