"""The frame gate's grey thumbnails, and a cache that redoes only the rows of blocks where the screen changed.

At rest the screen thread samples the same (or nearly the same: a blinking caret, a clock) screen twice a
second. Comparing a frame with the previous one, 8-byte words a row of blocks at a time, costs about half of
averaging the whole frame again and is exact: a changed pixel always marks its row of blocks as changed, so no
change is missed, and the rows redone are averaged from the same pixels as a full thumbnail would be.
"""

from __future__ import annotations

import numpy as np

from rholive.screen.encode import block_means


def check_frame(frame: np.ndarray) -> None:
    if frame.ndim != 3 or frame.shape[2] not in (3, 4) or frame.dtype != np.uint8:
        raise ValueError(
            f"expected an HxWx3 or HxWx4 uint8 frame, got shape {frame.shape} dtype {frame.dtype}"
        )


def thumbnail(frame: np.ndarray, block: int) -> np.ndarray:
    """Grey block means (float32, (H//block, W//block)) of a BGRA/BGR uint8 frame; edges that do not fill a block
    are left out.

    Grey is linear in the channels, so it is taken of the (rounded) channel means of each block rather than of
    every pixel: one Pillow reduce over the frame, and the weighting on the small copy only. The rounding moves
    a block's grey by at most 0.5 of a level, far below the gate's level threshold.
    """
    check_frame(frame)
    h, w = frame.shape[0] // block, frame.shape[1] // block
    if h == 0 or w == 0:
        raise ValueError(f"frame {frame.shape[1]}x{frame.shape[0]} is smaller than one {block}px block")
    means = block_means(frame, block).astype(np.float32)
    b, g, r = means[..., 0], means[..., 1], means[..., 2]
    return np.float32(0.114) * b + np.float32(0.587) * g + np.float32(0.299) * r


def changed_block_rows(frame: np.ndarray, previous: np.ndarray, block: int) -> np.ndarray:
    """Bool per row of blocks (H//block of them): does any pixel (alpha included) differ in that row?"""
    rows = frame.shape[0] // block
    span = rows * block
    a = frame[:span].reshape(rows, -1)
    b = previous[:span].reshape(rows, -1)
    if a.shape[1] % 8 == 0:  # compare 8 bytes at a time where the row length allows it
        a, b = a.view(np.uint64), b.view(np.uint64)
    return (a != b).any(axis=1)


class ThumbnailCache:
    """`thumbnail(frame, block)` of successive frames, redoing only the rows of blocks that changed.

    It keeps a reference to the last frame (no copy): a frame must not be changed after it was passed in. mss
    hands out a fresh buffer per grab; a grabber that reuses its buffer is detected (the frames share memory)
    and then every frame is averaged whole, as without the cache.
    """

    def __init__(self, block: int) -> None:
        self.block = block
        self.rows_redone = 0  # rows of blocks averaged again, over all frames (whole frames count all rows)
        self._frame: np.ndarray | None = None
        self._thumb: np.ndarray | None = None

    def update(self, frame: np.ndarray) -> np.ndarray:
        """The thumbnail of `frame` (a new array: earlier results are never modified)."""
        check_frame(frame)
        previous, thumb = self._frame, self._thumb
        if (
            previous is None
            or thumb is None
            or previous.shape != frame.shape
            or not frame.flags.c_contiguous
            or not previous.flags.c_contiguous
            or np.may_share_memory(previous, frame)
        ):
            whole = thumbnail(frame, self.block)
            self.rows_redone += whole.shape[0]
            self._frame, self._thumb = frame, whole
            return whole
        changed = changed_block_rows(frame, previous, self.block)
        if not changed.any():
            self._frame = frame
            return thumb
        fresh = thumb.copy()
        indices = np.flatnonzero(changed)
        # Redo each run of consecutive changed rows with one reduce over just those pixel rows.
        breaks = np.flatnonzero(np.diff(indices) > 1)
        starts = np.concatenate(([indices[0]], indices[breaks + 1]))
        ends = np.concatenate((indices[breaks], [indices[-1]])) + 1
        k = self.block
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            fresh[start:end] = thumbnail(frame[start * k : end * k], k)
        self.rows_redone += int(changed.sum())
        self._frame, self._thumb = frame, fresh
        return fresh
