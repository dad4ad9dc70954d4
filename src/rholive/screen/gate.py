"""A pure frame gate: which screen frames are worth sending to the model.

Frames (HxWx4 BGRA or HxWx3 uint8 arrays) and explicit timestamps go in, decisions come out; no clock, no I/O.
Each frame is reduced to a small grey thumbnail (block means, `block` px per side) and compared with the
thumbnail of the last frame SENT, so slow changes (typing) add up until they matter. Changed blocks that form
a few small isolated clusters (cursor sprite at old and new position, blinking caret, clock digits) are ignored;
a new page, a scroll or a new window changes large connected areas and is sent, at most `max_fps` per second.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from rholive.screen.encode import block_means

UNCHANGED = "unchanged"  # nothing changed beyond noise
SMALL_CHANGE = "small_change"  # only a few small clusters changed (cursor, caret, clock)
RATE_LIMITED = "rate_limited"  # a real change, but the last send is less than 1/max_fps ago


@dataclass(frozen=True)
class GateConfig:
    max_fps: float = 1.0
    block: int = 8  # thumbnail = block means of block x block pixels (1/8 scale)
    level_threshold: float = 10.0  # grey-level difference (0..255) of a block mean that counts as a change
    min_changed_fraction: float = (
        0.004  # of all blocks, after dropping small clusters (~one typed line at 1080p)
    )
    small_cluster_blocks: int = 6  # a cluster whose bounding box fits in this many blocks per side is "small"
    max_small_clusters: int = (
        4  # more small clusters than this are no longer a cursor/caret/clock: they count
    )

    def __post_init__(self) -> None:
        if self.max_fps <= 0:
            raise ValueError(f"max_fps must be > 0, got {self.max_fps}")
        if self.block < 1:
            raise ValueError(f"block must be >= 1, got {self.block}")
        if not 0 < self.min_changed_fraction <= 1:
            raise ValueError(f"min_changed_fraction must be in (0, 1], got {self.min_changed_fraction}")


@dataclass(frozen=True)
class SendFrame:
    changed_fraction: float  # of blocks that changed since the last sent frame (1.0 for the first frame)


@dataclass(frozen=True)
class SkipFrame:
    reason: str  # UNCHANGED | SMALL_CHANGE | RATE_LIMITED


Decision = SendFrame | SkipFrame


@dataclass
class GateStats:
    sent: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def seen(self) -> int:
        return self.sent + sum(self.skipped.values())


def block_for_shrunk(k: int, block: int = GateConfig.block) -> int:
    """The block side on a frame shrunk k times that covers about `block` screen pixels, so the gate's
    thresholds (tuned on 8 px blocks of the screen) mean the same on the frame the model gets."""
    return max(1, round(block / k))


def thumbnail(frame: np.ndarray, block: int) -> np.ndarray:
    """Grey block means (float32, (H//block, W//block)) of a BGRA/BGR uint8 frame; edges that do not fill a block
    are left out.

    Grey is linear in the channels, so it is taken of the (rounded) channel means of each block rather than of
    every pixel: one reduce over the frame, and the weighting on the small copy only. The rounding moves a
    block's grey by at most 1 level (0.5 for blocks other than 4 px: see `block_means`), far below
    `level_threshold`.
    """
    if frame.ndim != 3 or frame.shape[2] not in (3, 4) or frame.dtype != np.uint8:
        raise ValueError(
            f"expected an HxWx3 or HxWx4 uint8 frame, got shape {frame.shape} dtype {frame.dtype}"
        )
    h, w = frame.shape[0] // block, frame.shape[1] // block
    if h == 0 or w == 0:
        raise ValueError(f"frame {frame.shape[1]}x{frame.shape[0]} is smaller than one {block}px block")
    means = block_means(frame, block).astype(np.float32)
    b, g, r = means[..., 0], means[..., 1], means[..., 2]
    return np.float32(0.114) * b + np.float32(0.587) * g + np.float32(0.299) * r


def _small_cluster_blocks(mask: np.ndarray, side: int, limit: int) -> int | None:
    """Number of changed blocks lying in small clusters (bounding box <= side x side, 8-connected), or None when
    there are more than `limit` such clusters (then they are not a cursor or a caret)."""
    seen = np.zeros_like(mask)
    rows, cols = mask.shape
    small_blocks = 0
    small_clusters = 0
    for y0, x0 in zip(*np.nonzero(mask), strict=True):
        if seen[y0, x0]:
            continue
        seen[y0, x0] = True
        stack = [(int(y0), int(x0))]
        count, top, bottom, left, right = 0, int(y0), int(y0), int(x0), int(x0)
        while stack:
            y, x = stack.pop()
            count += 1
            top, bottom, left, right = min(top, y), max(bottom, y), min(left, x), max(right, x)
            for ny in (y - 1, y, y + 1):
                for nx in (x - 1, x, x + 1):
                    if 0 <= ny < rows and 0 <= nx < cols and mask[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        stack.append((ny, nx))
        if bottom - top < side and right - left < side:
            small_clusters += 1
            if small_clusters > limit:
                return None
            small_blocks += count
    return small_blocks


class FrameGate:
    """Decides per frame; keeps the last sent thumbnail and `stats`."""

    def __init__(self, config: GateConfig | None = None, stats: GateStats | None = None) -> None:
        self.config = config or GateConfig()
        self.stats = stats or GateStats()  # passed on when a gate replaces another (a new block size)
        self._reference: np.ndarray | None = None
        self._last_sent: float | None = None
        self._last_t: float | None = None
        self._last_decision: Decision | None = None

    def decide(self, frame: np.ndarray, t: float) -> Decision:
        """`t` in seconds on any monotonic clock; must not go backwards."""
        if self._last_t is not None and t < self._last_t:
            raise ValueError(f"timestamps must not go backwards ({t} < {self._last_t})")
        self._last_t = t
        thumb = thumbnail(frame, self.config.block)
        ref = self._reference
        if ref is None or ref.shape != thumb.shape:  # first frame, or the monitor/region size changed
            return self._send(thumb, t, 1.0)
        mask = np.abs(thumb - ref) > self.config.level_threshold
        changed = int(np.count_nonzero(mask))
        if changed == 0:
            return self._skip(UNCHANGED)
        total = mask.size
        needed = self.config.min_changed_fraction * total
        side, limit = self.config.small_cluster_blocks, self.config.max_small_clusters
        # Small clusters can hide at most limit * side^2 blocks: beyond that no need to look at clusters.
        if changed - limit * side * side < needed:
            small = _small_cluster_blocks(mask, side, limit)
            significant = changed if small is None else changed - small
            if significant < needed:
                return self._skip(SMALL_CHANGE)
        if self._last_sent is not None and t - self._last_sent < 1.0 / self.config.max_fps:
            return self._skip(RATE_LIMITED)
        return self._send(thumb, t, changed / total)

    def same_frame(self, t: float) -> SkipFrame | None:
        """The decision for a frame known to equal the last one decided (nothing was drawn on the screen since):
        the same skip again, counted, without looking at the frame; None when it must be looked at (there was
        no frame yet, or the last change was only rate limited and may be due now)."""
        if self._last_t is not None and t < self._last_t:
            raise ValueError(f"timestamps must not go backwards ({t} < {self._last_t})")
        if self._last_decision is None or self._last_decision == SkipFrame(RATE_LIMITED):
            return None
        self._last_t = t
        # A sent frame is the reference itself now; a skipped one compares with the same reference as before.
        return self._skip(
            UNCHANGED if isinstance(self._last_decision, SendFrame) else self._last_decision.reason
        )

    def force(self, frame: np.ndarray, t: float) -> SendFrame:
        """Send this frame regardless of change and rate (e.g. the user pressed "ask now")."""
        if self._last_t is not None and t < self._last_t:
            raise ValueError(f"timestamps must not go backwards ({t} < {self._last_t})")
        self._last_t = t
        return self._send(thumbnail(frame, self.config.block), t, 1.0)

    def _send(self, thumb: np.ndarray, t: float, fraction: float) -> SendFrame:
        self._reference = thumb
        self._last_sent = t
        self.stats.sent += 1
        decision = SendFrame(fraction)
        self._last_decision = decision
        return decision

    def _skip(self, reason: str) -> SkipFrame:
        self.stats.skipped[reason] += 1
        decision = SkipFrame(reason)
        self._last_decision = decision
        return decision
