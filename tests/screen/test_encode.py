from __future__ import annotations

import numpy as np
import pytest
import simplejpeg
from frames import page

from rholive.screen.encode import (
    block_means,
    encode_jpeg,
    frame_to_jpeg,
    media_resolution_for,
    resize_long_edge,
    shrink_factor,
)


@pytest.mark.parametrize(
    ("w", "h", "limit", "expected"),
    [
        (1920, 1080, 1024, (960, 540)),
        (3840, 2160, 1024, (960, 540)),
        (2560, 1440, 1024, (853, 480)),
        (800, 600, 1024, (800, 600)),
        (1080, 1920, 1024, (540, 960)),
        (1920, 1080, 512, (480, 270)),
    ],
)
def test_long_edge_fits(w: int, h: int, limit: int, expected: tuple[int, int]) -> None:
    frame = np.zeros((h, w, 4), np.uint8)
    out = resize_long_edge(frame, limit)
    assert (out.shape[1], out.shape[0]) == expected
    assert max(out.shape[:2]) <= limit
    assert out.flags.c_contiguous and out.dtype == np.uint8 and out.shape[2] == 4


def test_resize_box_mean_exact() -> None:
    frame = np.zeros((64, 64, 4), np.uint8)
    frame[0, 0] = 100
    frame[0, 1] = 201
    out = resize_long_edge(frame, 32)
    assert out[0, 0, 0] == round((100 + 201) / 4)
    assert out[1, 1, 0] == 0


def reference_box_mean(frame: np.ndarray, k: int) -> np.ndarray:
    """Per-channel means of whole k x k blocks in float64, the straightforward way."""
    oh, ow = frame.shape[0] // k, frame.shape[1] // k
    blocks = frame[: oh * k, : ow * k].astype(np.float64).reshape(oh, k, ow, k, frame.shape[2])
    return blocks.mean(axis=(1, 3))


@pytest.mark.parametrize(
    ("w", "h", "channels", "limit"),
    [
        (1920, 1080, 4, 1024),  # k = 2
        (1921, 1083, 4, 1024),  # k = 2, a row and 3 columns that do not fill a block
        (2561, 1447, 3, 1024),  # k = 3, BGR
        (3843, 2163, 4, 1024),  # k = 4
        (1001, 37, 3, 200),  # k = 6, BGR, a single row of blocks
        (777, 1234, 4, 100),  # k = 13, portrait
    ],
)
def test_resize_equals_reference_box_mean(w: int, h: int, channels: int, limit: int) -> None:
    frame = np.random.default_rng(w * h).integers(0, 256, (h, w, channels), dtype=np.uint8)
    k = shrink_factor(w, h, limit)
    out = resize_long_edge(frame, limit)
    assert out.shape == (h // k, w // k, channels)
    assert out.dtype == np.uint8 and out.flags.c_contiguous
    diff = np.abs(out.astype(np.float64) - reference_box_mean(frame, k))
    assert diff.max() <= 1.0
    # The edge rows/columns that do not fill a block are left out, not folded into the last block.
    if h % k:
        frame[-(h % k) :] = 255 - frame[-(h % k) :]
    if w % k:
        frame[:, -(w % k) :] = 255 - frame[:, -(w % k) :]
    assert np.array_equal(resize_long_edge(frame, limit), out)


def test_resize_keeps_channel_order_and_alpha_is_not_premultiplied() -> None:
    frame = np.zeros((40, 40, 4), np.uint8)
    frame[..., 0], frame[..., 1], frame[..., 2], frame[..., 3] = 10, 120, 250, 0  # transparent in RGBA terms
    out = resize_long_edge(frame, 20)
    assert out.shape == (20, 20, 4)
    assert (out[..., 0] == 10).all() and (out[..., 1] == 120).all() and (out[..., 2] == 250).all()
    bgr = resize_long_edge(np.ascontiguousarray(frame[..., :3]), 20)
    assert bgr.shape == (20, 20, 3) and np.array_equal(bgr, out[..., :3])


def test_resize_accepts_a_non_contiguous_view() -> None:
    big = np.random.default_rng(5).integers(0, 256, (300, 500, 4), dtype=np.uint8)
    view = big[10:290, 20:480]  # e.g. a region of a larger capture
    assert not view.flags.c_contiguous
    out = resize_long_edge(view, 100)
    assert np.array_equal(out, resize_long_edge(np.ascontiguousarray(view), 100))
    assert np.abs(out - reference_box_mean(view, 5)).max() <= 1.0
    assert np.array_equal(resize_long_edge(view, 1024), view)  # fits: same pixels, made contiguous


def test_block_means_refuses_frames_smaller_than_a_block() -> None:
    with pytest.raises(ValueError, match="8x8 blocks"):
        block_means(np.zeros((4, 40, 4), np.uint8), 8)


def test_jpeg_round_trip_keeps_colours_in_bgra_order() -> None:
    frame = np.zeros((64, 64, 4), np.uint8)
    frame[..., 2] = 255  # red in BGRA
    frame[..., 3] = 255
    data = encode_jpeg(frame, quality=90)
    assert data[:2] == b"\xff\xd8"
    rgb = simplejpeg.decode_jpeg(data, colorspace="RGB")
    assert rgb[32, 32, 0] > 240 and rgb[32, 32, 1] < 15 and rgb[32, 32, 2] < 15


def test_quality_changes_size_and_frame_is_decodable() -> None:
    frame = np.ascontiguousarray(np.repeat(np.repeat(page(3), 2, axis=0), 2, axis=1)[:1080, :1920])
    low, high = frame_to_jpeg(frame, quality=40), frame_to_jpeg(frame, quality=95)
    assert len(low) < len(high)
    h, w = simplejpeg.decode_jpeg_header(high)[:2]
    assert (w, h) == (960, 540)


def test_media_resolution_matches_limit() -> None:
    assert media_resolution_for(512) == "MEDIA_RESOLUTION_LOW"
    assert media_resolution_for(1024) == "MEDIA_RESOLUTION_MEDIUM"
    assert media_resolution_for(2048) == "MEDIA_RESOLUTION_HIGH"


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="quality"):
        encode_jpeg(np.zeros((8, 8, 4), np.uint8), quality=0)
    with pytest.raises(ValueError, match="uint8"):
        encode_jpeg(np.zeros((8, 8, 4), np.float32))
    with pytest.raises(ValueError, match="max_edge"):
        resize_long_edge(np.zeros((8, 8, 4), np.uint8), 4)
    with pytest.raises(ValueError, match="HxWx3 or HxWx4"):
        resize_long_edge(np.zeros((64, 64, 2), np.uint8), 16)


def test_halving_is_the_exact_rounded_2x2_mean() -> None:
    """OpenCV's area resize at 2x: (sum + 2) // 4 per channel, the same pixels Pillow's reduce gave."""
    frame = np.random.default_rng(11).integers(0, 256, (270, 482, 4), dtype=np.uint8)
    sums = frame.reshape(135, 2, 241, 2, 4).astype(np.int32).sum(axis=(1, 3))
    assert np.array_equal(block_means(frame, 2), ((sums + 2) // 4).astype(np.uint8))
