"""The overlay as a user gets it: `run_with_overlay` on a real X server (Xvfb, Qt's xcb plugin), in its own
process, driven by global hotkeys typed with xdotool and stopped with Ctrl+C (SIGINT).

Checked on the X server itself: the window's properties (always on top, utility window so no taskbar entry, no
decorations), what is on the screen (tesseract on a screen grab, the code block's background), the input shape
that click-through empties. Fails under CI=true when Xvfb, xdotool, tesseract or the gui extra is missing.

Run as a script, this file is the child: the overlay with controls that answer the parent on stdout.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

ANSWER = (
    "Keep a **hash map** of each value's index and look up the complement.\n\n"
    "```python\ndef two_sum(nums, target):\n    seen = {}\n    for i, n in enumerate(nums):\n"
    "        if target - n in seen:\n            return [seen[target - n], i]\n        seen[n] = i\n```\n"
)


def child() -> int:
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtGui import QGuiApplication

    from rholive.ui.overlay import OverlayView, run_with_overlay

    views: list[OverlayView] = []

    class Controls:
        def ask_now(self) -> None:
            # Runs in the Qt thread after every earlier call and hotkey: draw all of it, wait until the X server
            # has it, then tell the parent, which can then look at the screen without guessing how long to wait.
            for _ in range(3):
                QCoreApplication.sendPostedEvents()
            window = views[0].window
            window.repaint()
            QGuiApplication.sync()
            print(f"asked {int(window.winId())} {int(window.click_through())}", flush=True)

        def toggle_listening(self) -> bool:
            return True

    async def main(view: OverlayView) -> int:
        views.append(view)
        view.set_status("listening")
        view.user_turn("them", "Take a look at the problem on your screen.")
        view.answer_delta(ANSWER)
        view.answer_done(True)
        print("started", flush=True)
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            print("cancelled", flush=True)
            raise
        return 3

    return run_with_overlay(main, controls=Controls())


if __name__ == "__main__":
    raise SystemExit(child())


import pytest  # noqa: E402  (the child above needs none of the test machinery)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "real"))
from gui_parts import gui_tools  # noqa: E402
from xvfb import XServer, xvfb  # noqa: E402, F401  (fixture)


@pytest.fixture
def tools() -> dict[str, str]:
    return gui_tools()


@pytest.fixture
def overlay(xvfb: XServer, tools: dict[str, str]) -> Iterator[subprocess.Popen[str]]:  # noqa: F811
    env = {**os.environ, "DISPLAY": xvfb.display, "QT_QPA_PLATFORM": "xcb"}
    env.pop("WAYLAND_DISPLAY", None)
    proc = subprocess.Popen([sys.executable, __file__], stdout=subprocess.PIPE, text=True, env=env)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def line(stream: IO[str] | None) -> str:
    assert stream is not None
    return stream.readline().strip()


def test_overlay_on_a_real_x_server(
    xvfb: XServer,  # noqa: F811
    tools: dict[str, str],
    overlay: subprocess.Popen[str],
    tmp_path: Path,
) -> None:
    import mss
    from Xlib import display
    from Xlib.ext import shape

    env = {**os.environ, "DISPLAY": xvfb.display}

    def press(keys: str) -> None:
        subprocess.run([tools["xdotool"], "key", keys], env=env, check=True, timeout=30)

    def ask() -> tuple[int, bool]:
        press("ctrl+alt+space")  # the global hotkey; the child answers once all before it is on screen
        word, wid, through = line(overlay.stdout).split()
        assert word == "asked"
        return int(wid), through == "1"

    assert line(overlay.stdout) == "started"
    wid, through = ask()
    assert not through

    x = display.Display(xvfb.display)
    window = x.create_resource_object("window", wid)

    def atoms(name: str) -> list[str]:
        prop = window.get_full_property(x.intern_atom(name), 0)
        return [x.get_atom_name(a) for a in prop.value] if prop else []

    assert "_NET_WM_STATE_ABOVE" in atoms("_NET_WM_STATE")  # always on top
    assert atoms("_NET_WM_WINDOW_TYPE")[0] == "_NET_WM_WINDOW_TYPE_UTILITY"  # a tool window: no taskbar entry
    motif = window.get_full_property(x.intern_atom("_MOTIF_WM_HINTS"), 0)
    assert motif is not None and motif.value[0] & 2 and motif.value[2] == 0  # no decorations: frameless
    assert window.shape_get_rectangles(shape.SK.Input).rectangles  # takes clicks

    # What is on the screen: the answer's words and the dark code box, read from a grab of the X server.
    with mss.MSS(display=xvfb.display.encode()) as sct:
        shot = sct.grab(sct.monitors[1])
        png = tmp_path / "screen.png"
        mss.tools.to_png(shot.rgb, shot.size, output=str(png))
    text = subprocess.run(
        [tools["tesseract"], str(png), "stdout"], capture_output=True, text=True, check=True
    )
    words = " ".join(text.stdout.split())
    assert "hash map" in words and "complement" in words and "def two_sum" in words
    pixels = shot.rgb
    code_bg = bytes((0x0B, 0x0D, 0x12))
    dark = sum(pixels[i : i + 3] == code_bg for i in range(0, len(pixels), 3 * 7))
    assert dark > 1000  # a few hundred thousand pixels of the box, every 7th sampled

    # Click-through by its hotkey: the input shape becomes empty (clicks reach the window below); still shown.
    press("ctrl+alt+t")
    wid_after, through = ask()
    assert through and wid_after == wid
    assert window.shape_get_rectangles(shape.SK.Input).rectangles == []
    assert window.get_attributes().map_state == 2  # IsViewable
    press("ctrl+alt+t")
    _, through = ask()
    assert not through and window.shape_get_rectangles(shape.SK.Input).rectangles

    # Ctrl+C in the terminal: the window closes, the runtime is cancelled, exit code 0.
    overlay.send_signal(signal.SIGINT)
    assert line(overlay.stdout) == "cancelled"
    assert overlay.wait(timeout=30) == 0
    x.close()
