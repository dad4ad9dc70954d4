from __future__ import annotations

import itertools

import numpy as np
import pytest
from frames import page, with_caret, with_clock, with_cursor, with_window
from hypothesis import given, settings
from hypothesis import strategies as st

from rholive.screen.gate import (
    RATE_LIMITED,
    SMALL_CHANGE,
    UNCHANGED,
    FrameGate,
    GateConfig,
    SendFrame,
    SkipFrame,
    thumbnail,
)

BASE = page(1)


def primed(config: GateConfig | None = None) -> FrameGate:
    gate = FrameGate(config)
    assert isinstance(gate.decide(BASE, 0.0), SendFrame)  # the first frame always goes out
    return gate


def test_identical_frame_is_unchanged() -> None:
    gate = primed()
    assert gate.decide(BASE.copy(), 5.0) == SkipFrame(UNCHANGED)


def test_moving_cursor_is_not_sent() -> None:
    gate = primed()
    for i, (x, y) in enumerate([(100, 100), (400, 300), (401, 305), (900, 650), (20, 700 - 19)]):
        decision = gate.decide(with_cursor(BASE, x, y), 10.0 + i * 2)
        assert decision == SkipFrame(SMALL_CHANGE), (x, y)


def test_blinking_caret_is_not_sent() -> None:
    gate = primed()
    for i in range(10):
        assert not isinstance(gate.decide(with_caret(BASE, 500, 200, on=i % 2 == 0), 2.0 + i), SendFrame)


def test_clock_tick_is_not_sent() -> None:
    gate = primed()
    clocked = with_clock(BASE, "12:58")
    assert isinstance(gate.decide(clocked, 2.0), SendFrame)  # the taskbar appearing is a real change
    for i, text in enumerate(["12:59", "13:00", "13:01", "23:59"]):
        # block means may not even see a digit change (unchanged); either way it is not sent
        decision = gate.decide(with_clock(BASE, text), 4.0 + i * 2)
        assert decision in (SkipFrame(SMALL_CHANGE), SkipFrame(UNCHANGED)), text


def test_cursor_and_clock_together_are_not_sent() -> None:
    gate = primed()
    assert isinstance(gate.decide(with_clock(BASE, "09:00"), 2.0), SendFrame)
    frame = with_cursor(with_clock(BASE, "09:01"), 640, 360)
    assert gate.decide(frame, 4.0) == SkipFrame(SMALL_CHANGE)


@pytest.mark.parametrize(
    "changed",
    [page(2), page(1, first_line=1), page(1, first_line=3), with_window(BASE, 7)],
    ids=["new page", "scroll one line", "scroll three lines", "new window"],
)
def test_real_changes_are_sent(changed: np.ndarray) -> None:
    gate = primed()
    decision = gate.decide(changed, 2.0)
    assert isinstance(decision, SendFrame)
    assert 0 < decision.changed_fraction <= 1


def test_typing_accumulates_until_it_matters() -> None:
    """Each keystroke is a tiny change, but compared with the last SENT frame a typed line adds up."""
    from frames import draw_text

    gate = primed()
    frame = BASE  # lines 41.. of the editor are empty
    line = "def solve(nums): return sorted(set(nums))[-2] if len(set(nums)) > 1 else None  # second largest"
    decisions = []
    for i in range(1, len(line) + 1):
        typed = frame.copy()
        draw_text(typed, 16, 8 + 41 * 16, line[:i])
        decisions.append(gate.decide(typed, 2.0 + i))
    sends = [i for i, d in enumerate(decisions) if isinstance(d, SendFrame)]
    assert sends, "a whole typed line never reached the model"
    assert len(sends) < len(line) // 10, f"typing sent {len(sends)} frames for {len(line)} keystrokes"
    assert isinstance(decisions[0], SkipFrame)


def test_rate_limit_with_explicit_timestamps() -> None:
    gate = primed(GateConfig(max_fps=1.0))
    assert gate.decide(page(2), 0.5) == SkipFrame(RATE_LIMITED)
    assert gate.decide(page(2), 0.99) == SkipFrame(RATE_LIMITED)
    assert isinstance(gate.decide(page(2), 1.0), SendFrame)
    # the reference is now page 2: going back to it is unchanged, a new page is rate limited again
    assert gate.decide(page(2), 1.2) == SkipFrame(UNCHANGED)
    assert gate.decide(page(3), 1.5) == SkipFrame(RATE_LIMITED)


def test_faster_rate_is_configurable() -> None:
    gate = primed(GateConfig(max_fps=4.0))
    assert isinstance(gate.decide(page(2), 0.25), SendFrame)
    assert gate.decide(page(3), 0.3) == SkipFrame(RATE_LIMITED)


def test_stats_count_each_reason() -> None:
    gate = primed()
    gate.decide(BASE, 0.1)
    gate.decide(BASE, 0.2)
    gate.decide(with_cursor(BASE, 50, 50), 0.3)
    gate.decide(page(2), 0.6)  # within 1 s of the first send
    gate.decide(page(2), 3.0)
    assert gate.stats.sent == 2
    assert gate.stats.skipped == {UNCHANGED: 2, SMALL_CHANGE: 1, RATE_LIMITED: 1}
    assert gate.stats.seen == 6


def test_size_change_resets_reference() -> None:
    gate = primed()
    assert isinstance(gate.decide(np.ascontiguousarray(BASE[:360, :640]), 2.0), SendFrame)


def test_force_sends_regardless() -> None:
    gate = primed()
    assert isinstance(gate.force(BASE, 0.1), SendFrame)
    assert gate.stats.sent == 2


def test_bad_input_is_refused_clearly() -> None:
    gate = primed()
    with pytest.raises(ValueError, match="backwards"):
        gate.decide(BASE, -1.0)
    with pytest.raises(ValueError, match="uint8"):
        gate.decide(BASE.astype(np.float32), 1.0)
    with pytest.raises(ValueError, match="max_fps"):
        GateConfig(max_fps=0)
    with pytest.raises(ValueError, match="block"):
        thumbnail(np.zeros((4, 4, 4), np.uint8), 8)


def test_thumbnail_is_grey_block_means() -> None:
    frame = np.zeros((16, 16, 4), np.uint8)
    frame[:8, :8, :3] = 255
    thumb = thumbnail(frame, 8)
    assert thumb.shape == (2, 2)
    assert thumb[0, 0] == pytest.approx(255, abs=0.5)
    assert thumb[1, 1] == 0


@pytest.mark.parametrize(
    ("w", "h", "channels", "block"),
    [(1280, 720, 4, 8), (1283, 725, 4, 8), (1921, 1087, 3, 8), (333, 101, 4, 5), (64, 48, 3, 16)],
)
def test_thumbnail_equals_reference_grey_block_means(w: int, h: int, channels: int, block: int) -> None:
    frame = np.random.default_rng(w + h).integers(0, 256, (h, w, channels), dtype=np.uint8)
    oh, ow = h // block, w // block
    blocks = frame[: oh * block, : ow * block, :3].astype(np.float64)
    grey = 0.114 * blocks[..., 0] + 0.587 * blocks[..., 1] + 0.299 * blocks[..., 2]  # BGR order
    reference = grey.reshape(oh, block, ow, block).mean(axis=(1, 3))
    thumb = thumbnail(frame, block)
    assert thumb.shape == (oh, ow) and thumb.dtype == np.float32
    assert np.abs(thumb - reference).max() <= 0.5 + 1e-3  # channel means are rounded to whole levels


def test_thumbnail_ignores_alpha() -> None:
    frame = page(2)
    transparent = frame.copy()
    transparent[..., 3] = 0
    assert np.array_equal(thumbnail(frame, 8), thumbnail(transparent, 8))
    assert np.array_equal(thumbnail(frame, 8), thumbnail(np.ascontiguousarray(frame[..., :3]), 8))


DISTINCT = [page(s) for s in range(4)] + [with_cursor(page(0), 300, 300)]


@settings(max_examples=60, deadline=None)
@given(
    max_fps=st.sampled_from([0.5, 1.0, 2.0, 5.0]),
    steps=st.lists(
        st.tuples(st.floats(0.0, 0.7), st.integers(0, len(DISTINCT) - 1)), min_size=1, max_size=40
    ),
)
def test_never_more_than_max_fps(max_fps: float, steps: list[tuple[float, int]]) -> None:
    gate = FrameGate(GateConfig(max_fps=max_fps))
    t = 0.0
    sent: list[float] = []
    for gap, index in steps:
        t += gap
        if isinstance(gate.decide(DISTINCT[index], t), SendFrame):
            sent.append(t)
    assert all(b - a >= 1.0 / max_fps for a, b in itertools.pairwise(sent))
    for start in sent:  # in every one-second window starting at a send
        assert sum(1 for s in sent if start <= s < start + 1.0) <= max(1, int(max_fps))
    assert gate.stats.sent == len(sent)
    assert gate.stats.seen == len(steps)


def test_a_frame_known_unchanged_repeats_the_last_skip_without_being_looked_at() -> None:
    gate = FrameGate()
    assert gate.same_frame(0.0) is None  # nothing decided yet: the frame must be looked at
    assert isinstance(gate.decide(BASE, 0.0), SendFrame)
    assert gate.same_frame(0.2) == SkipFrame(UNCHANGED)  # the sent frame is the reference now
    assert gate.decide(with_cursor(BASE, 100, 100), 0.4) == SkipFrame(SMALL_CHANGE)
    assert gate.same_frame(0.5) == SkipFrame(SMALL_CHANGE)
    assert gate.decide(page(2), 0.6) == SkipFrame(RATE_LIMITED)
    assert gate.same_frame(1.0) is None  # a rate-limited change may be due now: look again
    assert isinstance(gate.decide(page(2), 1.0), SendFrame)
    assert gate.stats.skipped == {UNCHANGED: 1, SMALL_CHANGE: 2, RATE_LIMITED: 1}
    with pytest.raises(ValueError, match="backwards"):
        gate.same_frame(0.9)
