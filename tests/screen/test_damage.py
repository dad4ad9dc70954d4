from __future__ import annotations

from rholive.screen import DamageWatch


def test_no_x_server_means_no_watch_and_every_sample_is_captured() -> None:
    assert DamageWatch.open(":9999") is None  # nothing listens there: the source captures as before
