"""The cost estimate: usage reports times the catalog's prices, by modality."""

from __future__ import annotations

import pytest

from rholive.live.cost import CostMeter, budget_line, format_estimate, prices_for, report_cost
from rholive.live.events import Usage
from rholive.live.models import DEFAULT_MODEL, Prices, lookup

PRICES = Prices(text_in=1.0, audio_in=10.0, text_out=100.0, audio_out=1000.0)


def test_each_modality_at_its_own_rate() -> None:
    usage = Usage(
        prompt_tokens=1_000_000 * 4,
        response_tokens=1_000_000 * 2,
        total_tokens=1_000_000 * 6,
        prompt_by_modality={"TEXT": 1_000_000, "AUDIO": 1_000_000, "VIDEO": 1_000_000, "IMAGE": 1_000_000},
        response_by_modality={"TEXT": 1_000_000, "AUDIO": 1_000_000},
    )
    assert report_cost(usage, PRICES) == pytest.approx(1 + 10 + 10 + 10 + 100 + 1000)


def test_tokens_without_details_are_priced_as_text() -> None:
    usage = Usage(prompt_tokens=3_000_000, response_tokens=1_000_000, total_tokens=5_000_000)
    # 3M prompt text, 1M response text, 1M in the total only (thinking): output text
    assert report_cost(usage, PRICES) == pytest.approx(3 * 1 + 1 * 100 + 1 * 100)


def test_details_that_cover_part_of_the_count_leave_the_rest_as_text() -> None:
    usage = Usage(
        prompt_tokens=2_000_000,
        response_tokens=0,
        total_tokens=2_000_000,
        prompt_by_modality={"AUDIO": 1_000_000},
    )
    assert report_cost(usage, PRICES) == pytest.approx(10 + 1)


def test_reports_are_summed_and_the_budget_is_reached_at_the_line() -> None:
    meter = CostMeter("models/x", PRICES)
    one = Usage(prompt_tokens=10_000, total_tokens=10_000, prompt_by_modality={"TEXT": 10_000})
    assert meter.add(one) == pytest.approx(0.01)
    assert not meter.reached(0.02)
    meter.add(one)
    assert meter.usd == pytest.approx(0.02)
    assert meter.reached(0.02)
    assert not meter.reached(None)
    assert meter.reports == 2


def test_an_unknown_model_has_no_estimate_rather_than_zero() -> None:
    meter = CostMeter("models/unknown", prices_for("models/unknown"))
    assert meter.add(Usage(prompt_tokens=5, total_tokens=5)) is None
    assert meter.usd is None and not meter.known
    assert not meter.reached(0.0001)
    assert meter.summary() == "no estimate (no price known for models/unknown)"


def test_catalog_prices_and_overrides() -> None:
    entry = lookup(DEFAULT_MODEL)
    assert entry is not None and entry.prices is not None
    assert prices_for(DEFAULT_MODEL) == entry.prices
    changed = prices_for(DEFAULT_MODEL, {"audio_out": 99.0})
    assert changed is not None
    assert (changed.text_in, changed.audio_out, changed.source) == (entry.prices.text_in, 99.0, "config file")
    assert prices_for("models/mine", {"text_in": 1.0}) is None
    full = prices_for("models/mine", {"text_in": 1.0, "audio_in": 2.0, "text_out": 3.0, "audio_out": 4.0})
    assert full == Prices(1.0, 2.0, 3.0, 4.0, "config file")
    with pytest.raises(ValueError, match="unknown price"):
        prices_for(DEFAULT_MODEL, {"video_in": 1.0})


def test_lines() -> None:
    assert budget_line(0.05, 0.0512) == (
        "rholive: budget of $0.05 reached (estimated $0.0512): session ended"
    )
    assert format_estimate(0.001234, "m") == "$0.0012 (estimated)"
    assert format_estimate(12.5, "m") == "$12.50 (estimated)"
