from __future__ import annotations

import numpy as np
from frames import page, with_caret, with_cursor
from hypothesis import given, settings
from hypothesis import strategies as st

from rholive.screen.thumbnails import ThumbnailCache, changed_block_rows, thumbnail


@settings(max_examples=40, deadline=None)
@given(
    size=st.sampled_from([(64, 48, 4, 8), (67, 45, 4, 8), (90, 70, 3, 8), (50, 33, 4, 5), (63, 40, 3, 16)]),
    edits=st.lists(
        st.tuples(st.integers(0, 200), st.integers(0, 200), st.integers(1, 40), st.integers(0, 255)),
        max_size=12,
    ),
)
def test_the_cache_gives_the_same_thumbnail_as_averaging_the_whole_frame(
    size: tuple[int, int, int, int], edits: list[tuple[int, int, int, int]]
) -> None:
    w, h, channels, block = size
    frame = np.random.default_rng(w * h).integers(0, 256, (h, w, channels), dtype=np.uint8)
    cache = ThumbnailCache(block)
    results = [(cache.update(frame), thumbnail(frame, block))]
    for y, x, side, value in edits:
        frame = frame.copy()  # a fresh buffer per grab, like mss
        frame[y % h : y % h + side, x % w : x % w + side, value % channels] = value
        results.append((cache.update(frame), thumbnail(frame, block)))
    for cached, whole in results:  # earlier results were not modified by later frames either
        assert np.array_equal(cached, whole)


def test_an_unchanged_frame_redoes_nothing_and_a_caret_one_row_of_blocks() -> None:
    base = page(1)  # 1280x720: 90 rows of 8 px blocks
    cache = ThumbnailCache(8)
    first = cache.update(base)
    assert cache.rows_redone == 90
    assert cache.update(base.copy()) is first
    assert cache.rows_redone == 90
    caret = with_caret(base, 500, 200, on=True)  # 16 px tall at y=200: rows of blocks 25 and 26
    assert np.array_equal(cache.update(caret), thumbnail(caret, 8))
    assert cache.rows_redone == 92


def test_one_changed_pixel_is_never_missed() -> None:
    base = page(2)
    cache = ThumbnailCache(8)
    cache.update(base)
    for y, x in [(0, 0), (719, 1279), (355, 7), (8, 640)]:
        frame = base.copy()
        frame[y, x, :3] = 255 - frame[y, x, :3]
        mask = changed_block_rows(frame, base, 8)
        assert mask.sum() == 1 and mask[y // 8]
        assert np.array_equal(cache.update(frame), thumbnail(frame, 8))
        base = frame


def test_a_grabber_that_reuses_its_buffer_gets_whole_thumbnails() -> None:
    buffer = page(3)
    cache = ThumbnailCache(8)
    cache.update(buffer)
    buffer[:] = with_cursor(page(4), 10, 10)  # the same memory, new content
    assert np.array_equal(cache.update(buffer), thumbnail(buffer, 8))
    assert cache.rows_redone == 2 * 90
    view = buffer[:, :640]  # not contiguous: averaged whole too
    assert np.array_equal(cache.update(view), thumbnail(view, 8))
