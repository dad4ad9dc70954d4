"""The screen thread's per-sample path: shrink once, gate the shrunk frame, encode only what passes."""

from __future__ import annotations

import numpy as np
import simplejpeg

from rholive.copilot.screen_source import ScreenConfig, ScreenFrame, ScreenSource
from rholive.screen import SkipFrame, block_for_shrunk


def text_screen(w: int, h: int, seed: int) -> np.ndarray:
    """Rows of dark glyph-like runs on white, at a 16 px line pitch, scaled with the screen like HiDPI text."""
    scale = max(1, w // 1920)
    rng = np.random.default_rng(seed)
    frame = np.full((h, w, 4), 245, np.uint8)
    for y in range(20 * scale, h - 20 * scale, 16 * scale):
        ink = rng.random((10 * scale, w - 40 * scale)) < 0.3
        frame[y : y + 10 * scale, 20 * scale : w - 20 * scale, :3][ink] = 25
    return frame


def with_cursor(frame: np.ndarray, x: int, y: int) -> np.ndarray:
    out = frame.copy()
    out[y : y + 19, x : x + 12, :3] = 0
    return out


class Screens:
    """A grabber showing whatever `frame` is set to."""

    def __init__(self, frame: np.ndarray) -> None:
        self.frame = frame

    def grab(self) -> np.ndarray:
        return self.frame

    def close(self) -> None:
        pass


def test_blocks_cover_the_same_screen_pixels_on_a_shrunk_frame() -> None:
    assert [block_for_shrunk(k) for k in (1, 2, 3, 4, 8, 16)] == [8, 4, 3, 2, 1, 1]


async def test_a_1080p_screen_is_gated_at_960_px_and_the_cursor_is_not_sent() -> None:
    base = text_screen(1920, 1080, 1)
    screens = Screens(base)
    source = await ScreenSource(ScreenConfig(max_edge=1024), open_grabber=lambda: screens).open()
    try:
        first = await source.sample(0.0)
        assert isinstance(first, ScreenFrame)
        assert simplejpeg.decode_jpeg_header(first.jpeg)[:2] == (540, 960)
        assert source.gate.config.block == 4  # 8 screen pixels at half size
        for i, (x, y) in enumerate([(100, 100), (900, 500), (1500, 90), (30, 1000)]):
            screens.frame = with_cursor(base, x, y)
            assert await source.sample(2.0 + i) == SkipFrame("small_change"), (x, y)
        screens.frame = text_screen(1920, 1080, 2)
        assert isinstance(await source.sample(10.0), ScreenFrame)
        assert source.stats == (2, {"small_change": 4})
    finally:
        await source.aclose()


async def test_a_new_screen_size_gets_its_own_block_and_keeps_the_counts() -> None:
    screens = Screens(text_screen(1920, 1080, 1))
    source = await ScreenSource(ScreenConfig(max_edge=1024), open_grabber=lambda: screens).open()
    try:
        assert isinstance(await source.sample(0.0), ScreenFrame)
        screens.frame = text_screen(3840, 2160, 1)  # the same text on a 4K monitor
        frame = await source.sample(2.0)
        assert isinstance(frame, ScreenFrame)  # a new size is always sent (nothing to compare with)
        assert simplejpeg.decode_jpeg_header(frame.jpeg)[:2] == (540, 960)
        assert source.gate.config.block == 2
        assert await source.sample(4.0) == SkipFrame("unchanged")
        assert source.stats == (2, {"unchanged": 1})
    finally:
        await source.aclose()
