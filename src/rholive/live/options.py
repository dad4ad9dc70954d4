"""How a Live session treats its connection: timeouts, keepalive, limits, reconnection."""

from __future__ import annotations

import random
from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True)
class SessionOptions:
    setup_timeout_s: float = 15.0  # from sending setup to setupComplete
    open_timeout_s: float = 15.0  # TCP + TLS + WebSocket upgrade
    close_timeout_s: float = 5.0  # closing handshake; also how long close() lets queued messages drain
    # The service can take 8-30 s to answer a ping: a shorter ping timeout kills healthy sessions.
    ping_interval_s: float | None = 20.0
    ping_timeout_s: float | None = 60.0
    max_message_bytes: int = 32 * MIB  # inbound frames exceed websockets' 1 MiB default
    compression: bool = False  # permessage-deflate: little gain on base64 audio, real CPU cost
    # reconnection after an abnormal close (goAway reconnects always, at once)
    reconnect: bool = True
    # consecutive failed connects (no setupComplete) before giving up; a connection that completes setup
    # resets the count, so drops followed by good connections never end a session
    max_reconnect_attempts: int = 6
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 15.0
    backoff_jitter: float = 0.25  # +- this fraction of each delay, so many clients do not retry in step
    stable_after_s: float = 30.0  # unused since a completed setup resets the failure count (kept for callers)
    # after goAway, keep the connection until the answer in progress ends, at most until timeLeft minus this
    go_away_margin_s: float = 2.0
    # no server content this long after a user turn ended (or after the last piece of its answer): the
    # connection is stalled; reconnect and send the turn once more (None: never)
    stall_timeout_s: float | None = 8.0

    def __post_init__(self) -> None:
        if self.max_message_bytes < 16 * MIB:
            raise ValueError("max_message_bytes must be at least 16 MiB (server frames exceed 1 MiB)")
        if self.max_reconnect_attempts < 1:
            raise ValueError("max_reconnect_attempts must be at least 1")
        for name in ("setup_timeout_s", "open_timeout_s", "close_timeout_s", "backoff_max_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.stall_timeout_s is not None and self.stall_timeout_s <= 0:
            raise ValueError("stall_timeout_s must be positive (or None: no watchdog)")
        if self.go_away_margin_s < 0:
            raise ValueError("go_away_margin_s must not be negative")
        if not 0 <= self.backoff_jitter < 1:
            raise ValueError("backoff_jitter must be in [0, 1)")

    def backoff_s(self, failures: int, rng: random.Random | None = None) -> float:
        """Delay before retry number ``failures`` (1-based): exponential, capped, with jitter."""
        base = min(self.backoff_max_s, self.backoff_initial_s * 2 ** max(failures - 1, 0))
        spread = (rng or random).uniform(-self.backoff_jitter, self.backoff_jitter)
        return max(0.0, base * (1 + spread))
