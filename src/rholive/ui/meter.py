"""Audio level meter with peak hold (pure: fed dBFS readings with explicit timestamps, no clock reads).

The peak marker stays at the loudest recent level for `hold_s`, then falls at `decay_db_per_s` until it meets
the current level again. This is what makes a short word visible on a meter that is redrawn only ~10 times
a second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SILENCE_DBFS = -100.0
# The bar and its number follow the level only once it moved this far from what they show: room noise on a
# microphone wobbles by tenths of a dB around a cell edge or a whole dB, which would redraw the view ten
# times a second for nothing.
SHOWN_STEP_DB = 1.0


@dataclass(frozen=True)
class MeterReading:
    level: float  # dBFS, clamped to [SILENCE_DBFS, 0]
    peak: float  # dBFS, >= level


@dataclass(frozen=True)
class MeterCells:
    """A reading quantised to a bar of `width` cells: what a redraw would actually change."""

    filled: int  # cells lit by the current level
    peak: int | None  # index of the peak-hold cell, None when the peak is under the floor
    level_db: int  # rounded dBFS shown as a number


class LevelMeter:
    def __init__(
        self, *, hold_s: float = 1.5, decay_db_per_s: float = 20.0, floor_dbfs: float = -60.0
    ) -> None:
        if hold_s < 0 or decay_db_per_s <= 0 or not -100.0 <= floor_dbfs < 0:
            raise ValueError("hold_s >= 0, decay_db_per_s > 0 and -100 <= floor_dbfs < 0 are required")
        self.hold_s, self.decay_db_per_s, self.floor_dbfs = hold_s, decay_db_per_s, floor_dbfs
        self._level = SILENCE_DBFS
        self._shown = SILENCE_DBFS  # the level the bar shows (see SHOWN_STEP_DB)
        self._peak = SILENCE_DBFS
        self._peak_at = 0.0
        self.invalid = 0  # readings that were NaN (counted, shown as silence)

    def update(self, dbfs: float, now: float) -> None:
        if math.isnan(dbfs):
            self.invalid += 1
            dbfs = SILENCE_DBFS
        self._level = min(0.0, max(SILENCE_DBFS, dbfs))
        if abs(self._level - self._shown) >= SHOWN_STEP_DB or self._level == SILENCE_DBFS:
            self._shown = self._level
        if self._level >= self._held_peak(now):
            self._peak, self._peak_at = self._level, now

    def _held_peak(self, now: float) -> float:
        falling_for = now - self._peak_at - self.hold_s
        if falling_for <= 0:
            return self._peak
        return max(SILENCE_DBFS, self._peak - self.decay_db_per_s * falling_for)

    def reading(self, now: float) -> MeterReading:
        return MeterReading(self._level, max(self._level, self._held_peak(now)))

    def cells(self, width: int, now: float) -> MeterCells:
        peak = self.reading(now).peak
        return to_cells(MeterReading(self._shown, max(self._shown, peak)), width, self.floor_dbfs)


def to_cells(reading: MeterReading, width: int, floor_dbfs: float) -> MeterCells:
    """Quantise a reading to a bar: linear in dB from the floor (0 cells) to 0 dBFS (all `width` cells)."""

    def lit(dbfs: float) -> int:
        if dbfs <= floor_dbfs:
            return 0
        return max(1, min(width, math.ceil((dbfs - floor_dbfs) / -floor_dbfs * width)))

    peak = lit(reading.peak)
    return MeterCells(lit(reading.level), peak - 1 if peak > 0 else None, round(reading.level))
