"""The screen path on a real X server: Xvfb, a Tk window whose text changes, the pointer warped around.

Capture is with the cursor composited in (XFixes), so the cursor really is in the frames the gate sees.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from xvfb import XServer, xvfb  # noqa: F401  (fixture)

from rholive.copilot import ScreenConfig, ScreenFrame, ScreenSource
from rholive.screen import (
    DamageWatch,
    FrameGate,
    Region,
    ScreenCapture,
    ScreenCaptureError,
    SendFrame,
    SkipFrame,
    frame_to_jpeg,
    terminal_area,
)

APP = Path(__file__).with_name("screen_app.py")


class Window:
    """The Tk app in its own process; each command returns once the app has flushed its drawing."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(APP)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        self._ack()  # the first page is drawn

    def _ack(self) -> None:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if line.strip() != "ok":
            raise RuntimeError(f"screen app failed (exit {self.proc.poll()})")

    def _send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        self._ack()

    def show(self, seed: int) -> None:
        self._send(f"show {seed}")

    def warp(self, x: int, y: int) -> None:
        self._send(f"warp {x} {y}")

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def screen(xvfb: XServer, monkeypatch: pytest.MonkeyPatch):  # noqa: F811
    monkeypatch.setenv("DISPLAY", xvfb.display)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    window = Window({**os.environ, "DISPLAY": xvfb.display})
    capture = ScreenCapture(with_cursor=True)
    try:
        yield window, capture
    finally:
        capture.close()
        window.close()


def grab_settled(window: Window, capture: ScreenCapture) -> np.ndarray:
    """Capture until two consecutive frames agree (the X server has finished drawing); a copy."""
    previous = capture.grab().copy()
    for _ in range(50):
        frame = capture.grab().copy()
        if np.array_equal(frame, previous):
            return frame
        previous = frame
    return previous


def test_capture_is_a_bgra_view_of_the_whole_screen(screen) -> None:
    _window, capture = screen
    frame = capture.grab()
    assert frame.shape == (720, 1280, 4) and frame.dtype == np.uint8
    assert frame.base is not None  # a view on mss's buffer, not a copy
    assert frame[..., :3].mean() > 128  # the white text window covers the screen
    assert len(frame_to_jpeg(frame)) > 1000


def test_region_capture(screen) -> None:
    _, _capture = screen
    with ScreenCapture(region=Region.parse("100,50,320,200")) as part:
        assert part.grab().shape == (200, 320, 4)
    with pytest.raises(ScreenCaptureError, match="no monitor 7"):
        ScreenCapture(monitor=7)


def test_gate_sends_text_changes_not_the_cursor(screen) -> None:
    window, capture = screen
    gate = FrameGate()
    t = 0.0
    window.warp(600, 300)
    previous = grab_settled(window, capture)
    assert isinstance(gate.decide(previous, t), SendFrame)
    cursor_frames = 0
    for x, y in [(100, 100), (900, 500), (640, 360), (20, 650), (1200, 40)]:
        t += 2.0
        window.warp(x, y)
        frame = grab_settled(window, capture)
        assert not np.array_equal(frame, previous), "the cursor is not in the captured frames"
        previous = frame
        decision = gate.decide(frame, t)
        assert isinstance(decision, SkipFrame), f"cursor move to {x},{y} was sent"
        cursor_frames += 1
    assert gate.stats.sent == 1
    for seed in (1, 2):
        t += 2.0
        window.show(seed)
        assert isinstance(gate.decide(grab_settled(window, capture), t), SendFrame), (
            f"text page {seed} not sent"
        )
    assert gate.stats.sent == 3
    assert sum(gate.stats.skipped.values()) == cursor_frames


def test_capture_without_display_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    with pytest.raises(ScreenCaptureError, match="XWayland"):
        ScreenCapture()
    monkeypatch.delenv("WAYLAND_DISPLAY")
    with pytest.raises(ScreenCaptureError, match="DISPLAY is not set"):
        ScreenCapture()


def test_a_region_off_the_screen_is_one_error_at_start(screen) -> None:
    """X refused every grab of it: a 6-line X11 error twice a second, forever."""
    with pytest.raises(ScreenCaptureError, match=r"region 1900,1000,200,200 is not inside the screen \(0,0,"):
        ScreenCapture(region=Region.parse("1900,1000,200,200"))


def test_the_terminal_window_is_found_and_followed(xvfb: XServer) -> None:  # noqa: F811
    """Without the overlay the answers go to the terminal; rholive must not capture that window."""
    from Xlib import X, display

    disp = display.Display(xvfb.display)
    root = disp.screen().root
    terminal = root.create_window(200, 150, 300, 200, 0, disp.screen().root_depth, X.InputOutput)
    terminal.map()
    disp.sync()
    try:
        env = {"DISPLAY": xvfb.display, "WINDOWID": str(terminal.id)}
        area = terminal_area(env)
        assert area is not None and area() == (200, 150, 300, 200)
        terminal.configure(x=40, y=60, width=320, height=240)  # the user moves and resizes it
        disp.sync()
        assert area() == (40, 60, 320, 240)
        terminal.unmap()
        disp.sync()
        assert area() is None  # minimised: nothing of it is on the screen
        # no $WINDOWID and no window manager saying which window is active: nothing to mask
        assert terminal_area({"DISPLAY": xvfb.display}) is None
    finally:
        terminal.destroy()
        disp.close()


def test_damage_events_tell_a_drawn_screen_from_an_untouched_one(screen) -> None:
    window, _capture = screen
    watch = DamageWatch.open()
    assert watch is not None, "Xvfb has the DAMAGE extension"
    try:
        assert watch.drawn()  # the first look: nothing is known yet
        assert not watch.drawn()
        window.warp(300, 200)  # the pointer moving draws nothing on the screen
        assert not watch.drawn()
        window.show(4)
        assert watch.drawn()
        assert not watch.drawn()
    finally:
        watch.close()


async def test_the_screen_source_does_not_capture_an_untouched_screen(screen) -> None:
    window, _capture = screen
    source = await ScreenSource(ScreenConfig(max_fps=1.0)).open()
    try:
        assert isinstance(await source.sample(0.0), ScreenFrame)
        for i in range(1, 5):
            assert await source.sample(i * 0.5) == SkipFrame("unchanged")
        assert source.captures == 1  # nothing was drawn: no capture, no shrink
        window.show(5)
        assert isinstance(await source.sample(3.0), ScreenFrame)
        assert await source.sample(3.5) == SkipFrame("unchanged")
        assert source.captures == 2
        assert await source.sample(9.0) == SkipFrame("unchanged")  # a capture every 5 s all the same
        assert source.captures == 3
        assert source.stats == (2, {"unchanged": 6})
    finally:
        await source.aclose()


def test_damage_only_inside_our_own_window_is_not_a_drawing(screen) -> None:
    window, capture = screen
    before = grab_settled(window, capture)
    window.show(6)
    changed = np.argwhere(np.any(grab_settled(window, capture) != before, axis=2))
    (top, left), (bottom, right) = changed.min(axis=0), changed.max(axis=0)
    app = (
        0,
        0,
        capture.area["width"],
        int(bottom) + 40,
    )  # the app's whole band: every redraw of it lands here
    own = {"area": app}
    watch = DamageWatch.open(ignore=lambda: own["area"])
    assert watch is not None
    try:
        assert watch.drawn()  # the first look: nothing is known yet
        window.show(7)
        assert not watch.drawn()  # drawn only inside "our own window"
        half = (int(left), int(top), max(1, int(right - left) // 2), max(1, int(bottom - top) // 2))
        own["area"] = half  # now the same redraw reaches outside what we ignore
        window.show(8)
        assert watch.drawn()
        assert not watch.drawn()
        own["area"] = None  # no window (yet): every drawing counts
        window.show(9)
        assert watch.drawn()
    finally:
        watch.close()
