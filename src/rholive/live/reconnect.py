"""When to reconnect, how long to wait, when to give up: decided by what happened, fed explicit timestamps.

A connection that completed setup proves the service is reachable: the failure count starts again at zero,
so bursts of drops (each followed by a good connection) never end a session and never grow the backoff.
Only consecutive failed connects (no socket, no setupComplete) back off, and only enough of them in a row
end the session: the service cannot be reached at all. The Closed reason then says how long it tried.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from rholive.live.options import SessionOptions


@dataclass
class ReconnectPolicy:
    options: SessionOptions
    failures: int = 0  # consecutive connects that failed since the last good one
    outage_since: float | None = None  # when the last good connection ended

    def connection_ended(self, now: float) -> None:
        if self.outage_since is None:
            self.outage_since = now

    def connected(self) -> None:
        """A connection completed setup: the service is reachable."""
        self.failures = 0
        self.outage_since = None

    def connect_failed(self) -> None:
        self.failures += 1

    @property
    def gives_up(self) -> bool:
        return self.failures >= self.options.max_reconnect_attempts

    def delay_s(self, rng: random.Random | None = None) -> float:
        """The wait before the next attempt: none right after a connection ended, backoff after failures."""
        return self.options.backoff_s(self.failures, rng) if self.failures else 0.0

    def outage_s(self, now: float) -> float:
        return 0.0 if self.outage_since is None else max(0.0, now - self.outage_since)

    def give_up_reason(self, now: float, last: str) -> str:
        return (
            f"gave up after {self.failures} failed reconnection attempt(s) over {self.outage_s(now):.1f} s "
            f"(the service could not be reached); last: {last}"
        )
