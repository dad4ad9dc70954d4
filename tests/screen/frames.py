"""Synthetic BGRA desktop frames for the screen tests: pages of glyph-like text, a cursor sprite, a caret, a clock."""

from __future__ import annotations

import numpy as np

W, H = 1280, 720
CHAR_W, LINE_H = 8, 16


def _glyph(code: int) -> np.ndarray:
    """A fixed 6x11 1-bit pattern per character, dense like real text strokes."""
    rng = np.random.default_rng(code)
    return rng.random((11, 6)) < 0.45


def blank(value: int = 245) -> np.ndarray:
    frame = np.full((H, W, 4), value, dtype=np.uint8)
    frame[..., 3] = 255
    return frame


def draw_text(frame: np.ndarray, x: int, y: int, text: str, ink: int = 20) -> None:
    for i, ch in enumerate(text):
        gx, gy = x + i * CHAR_W, y + 2
        if gx + 6 > frame.shape[1] or gy + 11 > frame.shape[0]:
            break
        region = frame[gy : gy + 11, gx : gx + 6, :3]
        region[_glyph(ord(ch))] = ink


def page(seed: int, lines: int = 40, first_line: int = 0) -> np.ndarray:
    """A page of text; `first_line` shifts the content up (a scroll by whole lines)."""
    frame = blank()
    rng = np.random.default_rng(seed)
    words = ["".join(chr(97 + c) for c in rng.integers(0, 26, rng.integers(2, 9))) for _ in range(2000)]
    for row in range(lines):
        n = row + first_line
        text = " ".join(words[(n * 11) % 1900 : (n * 11) % 1900 + 11])
        draw_text(frame, 16, 8 + row * LINE_H, text)
    return frame


CURSOR = np.zeros((19, 12), dtype=bool)
for _r in range(19):
    CURSOR[_r, : min(_r // 1 + 1, 12) if _r < 12 else max(0, 19 - _r)] = True


def with_cursor(frame: np.ndarray, x: int, y: int) -> np.ndarray:
    out = frame.copy()
    sprite = out[y : y + 19, x : x + 12, :3]
    sprite[CURSOR[: sprite.shape[0], : sprite.shape[1]]] = 0
    return out


def with_caret(frame: np.ndarray, x: int, y: int, on: bool) -> np.ndarray:
    out = frame.copy()
    if on:
        out[y : y + LINE_H, x : x + 2, :3] = 0
    return out


def with_clock(frame: np.ndarray, text: str) -> np.ndarray:
    out = frame.copy()
    out[H - 24 : H, :, :3] = 60  # a taskbar along the bottom edge
    draw_text(out, W - 70, H - 20, text, ink=230)
    return out


def with_window(frame: np.ndarray, seed: int) -> np.ndarray:
    out = frame.copy()
    out[150:550, 300:900, :3] = 200
    out[150:174, 300:900, :3] = (180, 90, 40)  # title bar
    inner = page(seed, lines=22)
    out[180:540, 310:890] = inner[8:368, 16:596]
    return out
