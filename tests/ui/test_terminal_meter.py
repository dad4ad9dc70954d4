"""The pure parts of the terminal view: the level meter with peak hold, the redraw throttle, the dashboard
state. Explicit timestamps throughout."""

from __future__ import annotations

import math

import pytest

from rholive.ui.dashboard import ANSWER, DashboardState, Entry, looks_like_marker
from rholive.ui.meter import SILENCE_DBFS, LevelMeter
from rholive.ui.throttle import RedrawThrottle


def test_meter_clamps_and_counts_invalid_readings() -> None:
    meter = LevelMeter()
    meter.update(6.0, 0.0)  # over full scale
    assert meter.reading(0.0).level == 0.0
    meter.update(-250.0, 0.1)
    assert meter.reading(0.1).level == SILENCE_DBFS
    meter.update(math.nan, 0.2)
    assert meter.reading(0.2).level == SILENCE_DBFS
    assert meter.invalid == 1


def test_peak_holds_then_decays_to_the_level() -> None:
    meter = LevelMeter(hold_s=1.0, decay_db_per_s=20.0)
    meter.update(-10.0, 0.0)
    meter.update(-50.0, 0.1)
    assert meter.reading(0.1) == meter.reading(0.1).__class__(level=-50.0, peak=-10.0)
    assert meter.reading(1.0).peak == -10.0  # still held
    assert meter.reading(1.5).peak == pytest.approx(-20.0)  # 0.5 s of falling at 20 dB/s
    assert meter.reading(10.0).peak == -50.0  # fell to the level, never under it


def test_a_louder_reading_takes_the_peak_and_restarts_the_hold() -> None:
    meter = LevelMeter(hold_s=1.0, decay_db_per_s=20.0)
    meter.update(-30.0, 0.0)
    meter.update(-12.0, 2.0)
    meter.update(-40.0, 2.1)
    assert meter.reading(2.9).peak == -12.0
    # During the fall a reading above the falling peak (but under the old one) takes over.
    meter.update(-20.0, 3.5)  # the peak had fallen to -22 by then
    assert meter.reading(3.5).peak == -20.0


def test_cells_are_linear_in_db_above_the_floor() -> None:
    meter = LevelMeter(floor_dbfs=-60.0, hold_s=5.0)
    meter.update(-30.0, 0.0)
    cells = meter.cells(30, 0.0)
    assert (cells.filled, cells.peak, cells.level_db) == (15, 14, -30)
    meter.update(-61.0, 0.1)  # under the floor: nothing lit, the peak still shows
    cells = meter.cells(30, 0.1)
    assert (cells.filled, cells.peak) == (0, 14)
    meter.update(-59.9, 0.2)  # just over the floor lights one cell
    assert meter.cells(30, 0.2).filled == 1
    meter.update(0.0, 0.3)
    assert meter.cells(30, 0.3).filled == 30


def test_meter_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError):
        LevelMeter(floor_dbfs=0.0)
    with pytest.raises(ValueError):
        LevelMeter(decay_db_per_s=0.0)


def test_throttle_coalesces_changes_within_an_interval() -> None:
    throttle = RedrawThrottle(max_fps=10.0)
    assert not throttle.due(0.0)  # nothing changed yet
    throttle.mark()
    assert throttle.due(0.0)  # the first change draws at once
    throttle.drawn(0.0)
    for t in (0.01, 0.05, 0.099):
        throttle.mark()
        assert not throttle.due(t)
    assert throttle.next_at() == pytest.approx(0.1)
    assert throttle.due(0.1)
    throttle.drawn(0.1)
    assert throttle.next_at() is None and not throttle.due(5.0)


def test_state_reports_only_visible_changes() -> None:
    state = DashboardState()
    assert state.set_status("connected", "")
    assert not state.set_status("connected", "")
    assert state.set_status("reconnecting", "goAway")
    assert state.set_tokens(10) and not state.set_tokens(10)
    assert state.set_frames(1, {"unchanged": 2}) and not state.set_frames(1, {"unchanged": 2})
    assert state.set_level("me", -30.0, 0.0, cells=30)  # a new source shows up
    assert not state.set_level("me", -30.2, 0.1, cells=30)  # same cells, same number
    assert state.set_level("me", -12.0, 0.2, cells=30)


def test_state_history_keeps_order_and_drops_withdrawn_answers() -> None:
    state = DashboardState(history_len=3)
    state.user_turn("them", "what is 2+2?")
    state.answer_delta("4")
    assert state.answer_done(True) == Entry(ANSWER, "4")
    state.user_turn("me", "ok")
    state.answer_delta("<nothing>")
    assert state.answer_done(False) is None
    assert state.streaming is None
    assert [e.who for e in state.history] == ["them", ANSWER, "me"]
    assert (state.answers_shown, state.answers_withdrawn) == (1, 1)
    state.user_turn("screen", "screen changed")
    assert [e.who for e in state.history] == [ANSWER, "me", "screen"]  # the oldest fell off
    state.answer_delta("  \n")
    assert state.answer_done(True) is None  # blank: nothing to show


def test_marker_guard_only_hides_what_could_be_a_marker() -> None:
    assert looks_like_marker("<")
    assert looks_like_marker(" <nothing> ")
    assert looks_like_marker("<NOTHING>.")
    assert not looks_like_marker("Use a dict")
    assert not looks_like_marker("<div> is an HTML element that groups content")
    assert not looks_like_marker("<b>\nbold")


def test_room_noise_wobbling_does_not_change_the_bar() -> None:
    meter = LevelMeter()
    meter.update(-59.2, 0.0)
    shown = meter.cells(30, 0.0)
    for n, level in enumerate([-59.9, -58.6, -60.1, -59.0, -58.4]):  # tenths of a dB across a cell edge
        meter.update(level, 0.1 * (n + 1))
        assert meter.cells(30, 0.1 * (n + 1)) == shown
    assert meter.reading(0.6).level == -58.4  # the reading itself is exact
    meter.update(-40.0, 0.7)  # a word
    assert meter.cells(30, 0.7).level_db == -40
