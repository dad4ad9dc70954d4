"""The copilot's overlay (extra `gui`, PySide6): a frameless, translucent, always-on-top window with the
streamed answer (Markdown, code blocks with a Copy button), the history of turns, a level meter per source
and a status line; global hotkeys for ask-now, pause/resume listening, hide/show and click-through.

Use from `rholive run`::

    from rholive.ui.overlay import overlay_available, run_with_overlay

    if (why_not := overlay_available()) is None:
        code = run_with_overlay(main, controls=controls, settings=OverlaySettings())
    else:
        ...  # the terminal view; tell the user `why_not`

`run_with_overlay(main, *, controls=None, settings=None) -> int`

- Qt owns the calling (main) thread; `main(view)` is a coroutine function run on a fresh asyncio event loop in
  a worker thread. `view` is an `OverlayView`: a `CopilotView` safe to call from that loop (or any thread).
- Closing the window (its × button, Ctrl+C in the terminal, SIGTERM) cancels `main`'s task; it gets 10 s to wind down.
  `main` returning or raising closes the window. The return value is `main`'s, 0 when it was cancelled by
  closing the window; an exception from `main` is re-raised here, in the main thread.
- `controls` (a `CopilotControls`) drive the Ask / Pause buttons and hotkeys. If the runtime builds them only
  after it has the view, it calls `view.set_controls(controls)` (an extra of `OverlayView`, any thread).
- Global hotkeys are grabbed on X11 (`OverlaySettings.hotkeys`, defaults ctrl+alt+space ask now,
  ctrl+alt+p pause/resume, ctrl+alt+h hide/show, ctrl+alt+t click-through). Where that cannot work (Wayland,
  a key another program holds) one warning is logged and shown in the window; the same keys still work as
  in-window shortcuts while the overlay has focus, and Hide / Click-through are off (only their global hotkey
  could undo them).
- Settings: `OverlaySettings(width, height, opacity, history_limit, typing_effect_ms=0, sources, hotkeys,
  global_hotkeys)`, or `OverlaySettings.from_mapping(config["overlay"])` with an `[overlay.hotkeys]` table.

`overlay_available() -> str | None`: None when the overlay can run here, else the reason it cannot (PySide6
not installed or not loadable, no display). It imports no Qt module on the failure paths that it can detect
without one, so it is cheap to call before choosing the interface.

Its parts, in the order the runtime's calls flow through them: ``runner`` (Qt owns the main thread, the
asyncio runtime a worker thread) → ``view`` (`OverlayView`, marshals the runtime's calls onto the Qt thread)
→ ``window`` (`OverlayWindow`) → ``widgets`` (the conversation, code blocks, level meters) → ``markdown``
(an answer split into prose and code). ``settings`` (`OverlaySettings`, the ``[overlay]`` table) and
``hotkeys`` (parsing, and the X11 grab) import no Qt, so the CLI and the config use them without the extra;
so does this module. The Qt parts below are loaded on first use (PEP 562).
"""

from __future__ import annotations

import ctypes
import importlib
import importlib.util
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rholive.lazy import lazy_attributes
from rholive.ui.overlay.hotkeys import (
    GlobalHotkeys,
    Hotkey,
    HotkeyError,
    HotkeySettings,
    HotkeysUnavailable,
    parse_hotkey,
)
from rholive.ui.overlay.settings import OverlaySettings
from rholive.ui.view import CopilotControls

if TYPE_CHECKING:
    from rholive.ui.overlay.markdown import Code, Prose, split_markdown
    from rholive.ui.overlay.view import OverlayView
    from rholive.ui.overlay.widgets import CODE_BG, CodeBlock
    from rholive.ui.overlay.window import OverlayWindow

_LAZY = {  # Qt (or only used with it): imported on first use, so this module imports without the gui extra
    "CODE_BG": "widgets",
    "Code": "markdown",
    "CodeBlock": "widgets",
    "OverlayView": "view",
    "OverlayWindow": "window",
    "Prose": "markdown",
    "split_markdown": "markdown",
}

__all__ = [
    "CODE_BG",
    "Code",
    "CodeBlock",
    "GlobalHotkeys",
    "Hotkey",
    "HotkeyError",
    "HotkeySettings",
    "HotkeysUnavailable",
    "OverlaySettings",
    "OverlayView",
    "OverlayWindow",
    "Prose",
    "overlay_available",
    "parse_hotkey",
    "run_with_overlay",
    "split_markdown",
]


__getattr__ = lazy_attributes(__name__, _LAZY)


_HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb")


def _xcb_plugin_problem() -> str | None:
    """Qt aborts the whole process when its X11 plugin cannot load (a missing libxcb-*): try loading it first."""
    spec = importlib.util.find_spec("PySide6")
    roots = list(spec.submodule_search_locations or []) if spec else []
    plugins = [Path(root) / "Qt" / "plugins" / "platforms" / "libqxcb.so" for root in roots]
    plugin = next((p for p in plugins if p.exists()), None)
    if plugin is None:
        return None  # a PySide6 laid out differently: let Qt decide
    try:
        ctypes.CDLL(str(plugin))
    except OSError as exc:
        return (
            f"Qt's X11 plugin cannot load ({exc}); install its libraries, e.g. apt-get install libxcb-cursor0"
            " libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-randr0 libxcb-shape0"
            " libxcb-xkb1 libxkbcommon-x11-0"
        )
    return None


def overlay_available() -> str | None:
    if importlib.util.find_spec("PySide6") is None:
        return "the overlay needs PySide6 (install the gui extra: uv sync --extra gui, or pip install 'rholive[gui]')"
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if sys.platform.startswith("linux") and not platform.startswith(_HEADLESS_PLATFORMS):
        has_x, has_wayland = bool(os.environ.get("DISPLAY")), bool(os.environ.get("WAYLAND_DISPLAY"))
        if not (has_x or has_wayland):
            return "no display for the overlay (neither DISPLAY nor WAYLAND_DISPLAY is set)"
        if has_x and not has_wayland and platform in ("", "xcb"):
            if (why := _xcb_plugin_problem()) is not None:
                return why
    try:
        import PySide6.QtWidgets  # noqa: F401
    except ImportError as exc:
        return f"PySide6 is installed but cannot load ({exc}); install the system libraries Qt needs"
    return None


def run_with_overlay(
    main: Callable[[OverlayView], Awaitable[int]],
    *,
    controls: CopilotControls | None = None,
    settings: OverlaySettings | None = None,
) -> int:
    """Run `main(view)` in a worker thread with the overlay in this thread; see the module docstring."""
    from rholive.ui.overlay.runner import run_with_overlay as run

    return run(main, controls=controls, settings=settings)
