"""The service's failures the emulator can play (EmulatorOptions fault fields, ``--chaos``).

Every failure leaves a correct client a way through: a stall or a mid-answer drop hits one turn once (the
conversation remembers it, so the resumed connection gets the answer), a refused resume only refuses
resumes (a fresh session works), goAway and 1011 only end a connection.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from rholive.emulator.conversation import STALE_HANDLE

RESUME_REFUSALS = {
    1007: "Invalid session resumption handle: session not found",
    1008: STALE_HANDLE,
}
# failures played at a point in the client's messages (the count drawn with them)
COUNTED = ("goaway", "close_1011", "drop")
# failures played in the middle of the connection's first answer
MID_ANSWER = ("stall", "split_turn_complete", "drop_mid_answer", "unresumable")
CHAOS_KINDS = COUNTED + MID_ANSWER
CHAOS_GOAWAY_S = 1.0  # a short goAway: the connection closes with 1011 this long after it
FIRST_COUNT, LAST_COUNT = 2, 6  # counted failures fire after this many client messages (setup is the 1st)


@dataclass(frozen=True, slots=True)
class Chaos:
    """The one failure drawn for a connection."""

    kind: str  # one of CHAOS_KINDS, or "refuse_resume"
    at_message: int  # for COUNTED kinds: fires once this many client messages were received
    code: int  # for refuse_resume: 1007 or 1008


class ChaosDraws:
    """Seeded draws, one per connection that got through setup, in the order they did."""

    def __init__(self, rate: float, seed: int) -> None:
        self.rate = rate
        self._random = random.Random(seed)
        self.injected: list[tuple[int, str]] = []  # (connection number, kind), as drawn

    def draw(self, connection: int, resuming: bool) -> Chaos | None:
        if self.rate <= 0:
            return None
        # always the same number of draws per connection, so one choice never shifts the next ones
        hit = self._random.random() < self.rate
        kinds = CHAOS_KINDS + (("refuse_resume",) if resuming else ())
        chaos = Chaos(
            self._random.choice(kinds),
            self._random.randint(FIRST_COUNT, LAST_COUNT),
            self._random.choice(tuple(RESUME_REFUSALS)),
        )
        if not hit:
            return None
        self.injected.append((connection, chaos.kind))
        return chaos


def check_options(refuse_resume: int | None, chaos_rate: float, stall_after: int | None) -> None:
    """Refuse fault settings that mean nothing, with the flag's name."""
    if refuse_resume is not None and refuse_resume not in RESUME_REFUSALS:
        raise ValueError(f"--refuse-resume takes 1007 or 1008, not {refuse_resume}")
    if not 0.0 <= chaos_rate <= 1.0:
        raise ValueError(f"--chaos takes a share of connections between 0 and 1, not {chaos_rate:g}")
    if stall_after is not None and stall_after < 1:
        raise ValueError(f"--stall-after takes a turn number (1, 2, ...), not {stall_after}")
