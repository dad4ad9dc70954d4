"""A running cost estimate: usage reports times the model's prices. Pure: no clock, no I/O.

Each ``usageMetadata`` report is billed as reported, so the reports are summed (as ``UsageTotals`` does).
Prompt TEXT is priced at ``text_in``; prompt AUDIO, VIDEO and IMAGE at ``audio_in`` (the service prices video
and images like audio); response TEXT at ``text_out`` and response AUDIO at ``audio_out``. Tokens a report
does not break down by modality (and thinking tokens, counted in the total only) are priced as text.
A model with no known prices gets no estimate at all (``usd`` is None), never a misleading $0.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from rholive.live.events import Usage
from rholive.live.models import Prices, lookup

PRICE_FIELDS = ("text_in", "audio_in", "text_out", "audio_out")
_AUDIO_LIKE_INPUT = frozenset({"AUDIO", "VIDEO", "IMAGE"})
_PER_TOKEN = 1e-6  # prices are per 1M tokens


def prices_for(model: str, overrides: Mapping[str, float] | None = None) -> Prices | None:
    """The catalog's prices for ``model`` with ``overrides`` (from the config file) on top; None when some
    price is still unknown (an unknown model needs all four overridden)."""
    overrides = dict(overrides or {})
    unknown = set(overrides) - set(PRICE_FIELDS)
    if unknown:
        raise ValueError(f"unknown price(s): {', '.join(sorted(unknown))} ({', '.join(PRICE_FIELDS)})")
    entry = lookup(model)
    base = entry.prices if entry is not None else None
    if base is not None:
        source = "config file" if overrides else base.source
        return dataclasses.replace(base, **overrides, source=source)  # type: ignore[arg-type]
    if set(overrides) == set(PRICE_FIELDS):
        return Prices(**overrides, source="config file")  # type: ignore[arg-type]
    return None


def report_cost(usage: Usage, prices: Prices) -> float:
    """US dollars of one usage report."""
    dollars = 0.0
    for modality, tokens in usage.prompt_by_modality.items():
        rate = prices.audio_in if modality.upper() in _AUDIO_LIKE_INPUT else prices.text_in
        dollars += tokens * rate
    for modality, tokens in usage.response_by_modality.items():
        rate = prices.audio_out if modality.upper() == "AUDIO" else prices.text_out
        dollars += tokens * rate
    prompt_rest = max(0, usage.prompt_tokens - sum(usage.prompt_by_modality.values()))
    response_rest = max(0, usage.response_tokens - sum(usage.response_by_modality.values()))
    # the total also holds thinking and tool-use tokens that neither side reports: billed as output text
    unreported = max(0, usage.total_tokens - usage.prompt_tokens - usage.response_tokens)
    dollars += prompt_rest * prices.text_in + (response_rest + unreported) * prices.text_out
    return dollars * _PER_TOKEN


class CostMeter:
    """Fed every ``Usage`` of a session; ``usd`` is the estimate so far (None: no prices known)."""

    def __init__(self, model: str, prices: Prices | None) -> None:
        self.model = model
        self.prices = prices
        self.reports = 0
        self._usd = 0.0

    @property
    def known(self) -> bool:
        return self.prices is not None

    @property
    def usd(self) -> float | None:
        return self._usd if self.prices is not None else None

    def add(self, usage: Usage) -> float | None:
        """Account one report; returns its own cost (None when there is no estimate)."""
        self.reports += 1
        if self.prices is None:
            return None
        cost = report_cost(usage, self.prices)
        self._usd += cost
        return cost

    def reached(self, budget_usd: float | None) -> bool:
        """True once the estimate is at or over the budget (never without a budget or an estimate)."""
        return budget_usd is not None and self.prices is not None and self._usd >= budget_usd

    def summary(self) -> str:
        """``$0.0123 (estimated)`` or ``no estimate (no price known for models/x)``."""
        return format_estimate(self.usd, self.model)


def format_usd(usd: float) -> str:
    """Four decimals below a dollar (a turn costs fractions of a cent), two above."""
    return f"${usd:.4f}" if usd < 1 else f"${usd:,.2f}"


def format_budget(usd: float) -> str:
    return f"${usd:g}"


def format_estimate(usd: float | None, model: str) -> str:
    if usd is None:
        return f"no estimate (no price known for {model})"
    return f"{format_usd(usd)} (estimated)"


def budget_line(budget_usd: float, spent_usd: float) -> str:
    """The one line saying the budget ended the session."""
    return (
        f"rholive: budget of {format_budget(budget_usd)} reached (estimated {format_usd(spent_usd)}): "
        "session ended"
    )
