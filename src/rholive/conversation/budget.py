"""The running cost of a face's session and its budget (``--budget`` / ``budget_usd``).

The service has no spend cap; this one is ours: a face feeds every ``Usage`` to the meter and ends the session
cleanly, with `budget_line`, once the estimate reaches the budget. Exit code `BUDGET_EXIT` tells a script that
the session was cut short by the budget (0 is a normal end, 1 an error).
"""

from __future__ import annotations

from rholive.config import Settings
from rholive.live import CostMeter, prices_for

BUDGET_EXIT = 3


def cost_meter(settings: Settings) -> CostMeter:
    """The meter for the settings' model and prices. A budget for a model without known prices is refused
    before anything starts: a cap that cannot be enforced must not look like one."""
    prices = prices_for(settings.model, settings.prices)
    if settings.budget_usd is not None and prices is None:
        raise ValueError(
            f"--budget needs prices for {settings.model}, which rholive's catalog does not know: "
            "set text_in, audio_in, text_out and audio_out in the [prices] table of the config file"
        )
    return CostMeter(settings.model, prices)


def cost_event(meter: CostMeter, report_usd: float | None) -> dict[str, object]:
    """The ``cost`` JSON event that follows each ``usage`` event."""
    event: dict[str, object] = {
        "event": "cost",
        "usd": report_usd,
        "total_usd": meter.usd,
        "model": meter.model,
        "estimated": True,
    }
    if not meter.known:
        event["note"] = f"no price known for {meter.model}"
    return event
