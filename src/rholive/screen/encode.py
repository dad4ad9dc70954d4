"""Shrink a BGRA frame so its long edge fits a limit, and JPEG-encode it with simplejpeg (no colour conversion).

Shrinking uses an integer box filter (the smallest factor k with long_edge / k <= limit): averaging k x k pixels
keeps thin text strokes readable. Halving (k = 2, a 1080p screen to 960 px) runs in OpenCV's SIMD `resize`
(INTER_AREA, exactly the rounded 2x2 mean, the same pixels as Pillow's `Image.reduce` at about 1/5 of its CPU);
k = 4 is two halvings (within one level of the exact mean); other factors use Pillow's `reduce`, since OpenCV's
area resize is slower than Pillow's there (benchmarks/screen_pipeline.py). The last (size % k) rows/columns are
dropped (at most k - 1 pixels at the right and bottom edges).
"""

from __future__ import annotations

import functools
import math
from types import ModuleType

import numpy as np
import simplejpeg
from PIL import Image

DEFAULT_MAX_EDGE = 1024
DEFAULT_QUALITY = 80


def media_resolution_for(max_edge: int) -> str:
    """The `generationConfig.mediaResolution` matching frames whose long edge is at most `max_edge`.

    The service bills a frame 258 tokens at MEDIUM (it works on ~768 px tiles) and 66 at LOW (~256 px): sending
    more pixels than the chosen resolution uses only costs bandwidth, fewer loses detail.
    """
    if max_edge <= 512:
        return "MEDIA_RESOLUTION_LOW"
    if max_edge <= 1024:
        return "MEDIA_RESOLUTION_MEDIUM"
    return "MEDIA_RESOLUTION_HIGH"


def shrink_factor(width: int, height: int, max_edge: int) -> int:
    if max_edge < 16:
        raise ValueError(f"max_edge must be >= 16 px, got {max_edge}")
    return max(1, math.ceil(max(width, height) / max_edge))


def block_means(frame: np.ndarray, k: int) -> np.ndarray:
    """Rounded per-channel means (uint8, (H//k, W//k, C), C-contiguous) of k x k pixel blocks of a 3- or
    4-channel uint8 frame; partial edge blocks are left out. Alpha is averaged like the other channels (never
    premultiplied), so the channel order does not matter."""
    h, w, c = frame.shape
    oh, ow = h // k, w // k
    if c not in (3, 4) or oh == 0 or ow == 0:
        raise ValueError(f"cannot average {k}x{k} blocks of a frame of shape {frame.shape}")
    if k in (2, 4):
        out = frame[: oh * k, : ow * k]
        while out.shape[0] > oh:
            out = _halve(out)
        return out
    mode = "RGBX" if c == 4 else "RGB"  # RGBX, not RGBA: Pillow would premultiply RGBA by alpha
    # frombuffer maps a contiguous 4-channel array without copying it.
    image = Image.frombuffer(mode, (w, h), np.ascontiguousarray(frame), "raw", mode, 0, 1)
    return np.asarray(image.reduce(k, (0, 0, ow * k, oh * k)))


def _halve(frame: np.ndarray) -> np.ndarray:
    """Rounded 2x2 means of a frame with even sides."""
    if frame.strides[1:] != (frame.shape[2], 1):  # OpenCV takes rows at any stride, but packed pixels
        frame = np.ascontiguousarray(frame)
    h, w = frame.shape[:2]
    cv2 = _opencv()
    return cv2.resize(frame, (w // 2, h // 2), interpolation=cv2.INTER_AREA)


@functools.cache
def _opencv() -> ModuleType:
    """OpenCV, imported at the first halving (in the screen thread, not at start-up: it takes ~0.4 s)."""
    import cv2

    # One thread: the screen thread is one of several sharing the cores, and a 1080p frame is too small to
    # gain from OpenCV's thread pool.
    cv2.setNumThreads(1)
    return cv2


def resize_long_edge(frame: np.ndarray, max_edge: int = DEFAULT_MAX_EDGE) -> np.ndarray:
    """A C-contiguous uint8 frame (same channels, BGRA or BGR) whose long edge is <= max_edge; the input itself
    if it fits (copied only if it was not contiguous)."""
    if frame.ndim != 3 or frame.shape[2] not in (3, 4) or frame.dtype != np.uint8:
        raise ValueError(
            f"expected an HxWx3 or HxWx4 uint8 frame, got shape {frame.shape} dtype {frame.dtype}"
        )
    h, w = frame.shape[:2]
    k = shrink_factor(w, h, max_edge)
    if k == 1:
        return np.ascontiguousarray(frame)
    return block_means(frame, k)


def encode_jpeg(frame: np.ndarray, quality: int = DEFAULT_QUALITY) -> bytes:
    """JPEG bytes of a BGRA (4 channels) or BGR (3 channels) uint8 frame."""
    if not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality must be 1..100, got {quality}")
    if frame.ndim != 3 or frame.shape[2] not in (3, 4) or frame.dtype != np.uint8:
        raise ValueError(
            f"expected an HxWx3 or HxWx4 uint8 frame, got shape {frame.shape} dtype {frame.dtype}"
        )
    colorspace = "BGRA" if frame.shape[2] == 4 else "BGR"
    return simplejpeg.encode_jpeg(
        np.ascontiguousarray(frame), quality=quality, colorspace=colorspace, colorsubsampling="420"
    )


def frame_to_jpeg(
    frame: np.ndarray, max_edge: int = DEFAULT_MAX_EDGE, quality: int = DEFAULT_QUALITY
) -> bytes:
    """Resize then encode: what goes into `realtimeInput.video` (mime type image/jpeg)."""
    return encode_jpeg(resize_long_edge(frame, max_edge), quality)
