from __future__ import annotations

import numpy as np
import pytest
import simplejpeg
from frames import page

from rholive.screen.encode import encode_jpeg, frame_to_jpeg, media_resolution_for, resize_long_edge


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
