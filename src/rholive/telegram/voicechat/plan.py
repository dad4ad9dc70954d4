"""What the voice chat supervisor does, as a pure state machine per group (no clock, no I/O).

Every input carries its timestamp ``now`` (seconds, any monotonic origin); every output is a list of
effects for the I/O layer to carry out: `Join` / `Leave` (commands to the call worker) and `Say` (a status
line in the group's chat). `next_deadline` tells the I/O layer when to call `tick` next (idle leave, the
end of a rejoin backoff). This is what makes join/leave/idle/drop/rejoin/backoff/give-up testable to the
millisecond.

States of one group: idle (not in a call) → joining → joined → leaving → idle; a drop or a crashed worker
while joining/joined → waiting (backoff) → joining again, at most ``max_attempts`` times in a row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from rholive.telegram.voicechat import texts as say


class State(StrEnum):
    IDLE = "idle"
    JOINING = "joining"
    JOINED = "joined"
    LEAVING = "leaving"
    WAITING = "waiting"  # after a drop, before the next join attempt


@dataclass(frozen=True, slots=True)
class PlanOptions:
    idle_leave_s: float = 300.0  # leave when nobody spoke for this long
    max_attempts: int = 5  # rejoin attempts in a row after drops before giving up
    backoff_s: float = 2.0  # first rejoin delay; doubles per attempt...
    max_backoff_s: float = 60.0  # ...up to this

    def backoff(self, attempt: int) -> float:
        """Delay before rejoin attempt ``attempt`` (1-based)."""
        return min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))


@dataclass(frozen=True, slots=True)
class Join:
    chat_id: int


@dataclass(frozen=True, slots=True)
class Leave:
    chat_id: int


@dataclass(frozen=True, slots=True)
class Say:
    chat_id: int
    text: str


Effect = Join | Leave | Say


@dataclass
class _Group:
    state: State = State.IDLE
    last_speech: float = 0.0
    attempts: int = 0  # rejoin attempts since the last successful join
    retry_at: float = 0.0
    leave_reason: str = ""  # why we are leaving: told when the worker confirms


@dataclass
class CallPlan:
    """The plan of every group the userbot is (or should be) in, keyed by chat id."""

    options: PlanOptions = field(default_factory=PlanOptions)
    groups: dict[int, _Group] = field(default_factory=dict)

    def state(self, chat_id: int) -> State:
        group = self.groups.get(chat_id)
        return group.state if group else State.IDLE

    def active(self) -> list[int]:
        """Groups the worker is (or is being asked to be) in."""
        return [c for c, g in self.groups.items() if g.state in (State.JOINING, State.JOINED, State.LEAVING)]

    def _group(self, chat_id: int) -> _Group:
        return self.groups.setdefault(chat_id, _Group())

    def _drop(self, chat_id: int) -> None:
        self.groups.pop(chat_id, None)

    # ------------------------------------------------------------------ commands from the chat

    def join_requested(self, chat_id: int, now: float) -> list[Effect]:
        group = self._group(chat_id)
        if group.state is State.JOINED:
            return [Say(chat_id, say.ALREADY_JOINED)]
        if group.state in (State.JOINING, State.WAITING):
            return [Say(chat_id, say.ALREADY_JOINING)]
        if group.state is State.LEAVING:
            return [Say(chat_id, say.STILL_LEAVING)]
        group.state, group.attempts = State.JOINING, 0
        return [Join(chat_id), Say(chat_id, say.JOINING)]

    def leave_requested(self, chat_id: int, now: float) -> list[Effect]:
        group = self.groups.get(chat_id)
        if group is None or group.state is State.IDLE:
            return [Say(chat_id, say.NOT_IN_CALL)]
        if group.state is State.WAITING:  # nothing to leave: just stop rejoining
            self._drop(chat_id)
            return [Say(chat_id, say.left("on request"))]
        if group.state is State.LEAVING:
            return []
        group.state, group.leave_reason = State.LEAVING, "on request"
        return [Leave(chat_id)]

    # ------------------------------------------------------------------ events from the worker

    def joined(self, chat_id: int, now: float) -> list[Effect]:
        group = self.groups.get(chat_id)
        if group is None or group.state is not State.JOINING:
            return [Leave(chat_id)]  # a join nobody wants any more (left meanwhile): undo it
        group.state, group.attempts, group.last_speech = State.JOINED, 0, now
        return [Say(chat_id, say.JOINED)]

    def heard_speech(self, chat_id: int, now: float) -> list[Effect]:
        group = self.groups.get(chat_id)
        if group is not None and group.state is State.JOINED:
            group.last_speech = max(group.last_speech, now)
        return []

    def left(self, chat_id: int, now: float) -> list[Effect]:
        group = self.groups.get(chat_id)
        if group is None:
            return []
        reason = group.leave_reason if group.state is State.LEAVING else "on request"
        self._drop(chat_id)
        return [Say(chat_id, say.left(reason))]

    def join_failed(self, chat_id: int, now: float, message: str, *, permanent: bool) -> list[Effect]:
        """The worker could not join. Permanent failures (no voice chat running, the account is not in the
        group, a bad session) are told and end the plan; others are retried like a drop."""
        group = self.groups.get(chat_id)
        if group is None or group.state not in (State.JOINING, State.JOINED):
            return []
        if permanent:
            self._drop(chat_id)
            return [Say(chat_id, say.join_failed(message))]
        return self._rejoin_later(chat_id, group, now, say.DROPPED, message)

    def dropped(self, chat_id: int, now: float, reason: str) -> list[Effect]:
        group = self.groups.get(chat_id)
        if group is None:
            return []
        if group.state is State.LEAVING:  # we were leaving anyway
            return self.left(chat_id, now)
        if group.state not in (State.JOINING, State.JOINED):
            return []
        return self._rejoin_later(chat_id, group, now, say.DROPPED, reason)

    def worker_died(self, now: float, how: str) -> list[Effect]:
        """The call worker process ended unexpectedly (crash, signal): every group it held is affected."""
        effects: list[Effect] = []
        for chat_id, group in list(self.groups.items()):
            if group.state is State.LEAVING:
                effects += self.left(chat_id, now)
            elif group.state in (State.JOINING, State.JOINED):
                effects += self._rejoin_later(chat_id, group, now, say.CRASHED, how)
        return effects

    def _rejoin_later(self, chat_id: int, group: _Group, now: float, what: str, why: str) -> list[Effect]:
        if group.attempts >= self.options.max_attempts:
            self._drop(chat_id)
            return [Say(chat_id, say.gave_up(what, why, self.options.max_attempts))]
        group.attempts += 1
        group.state = State.WAITING
        group.retry_at = now + self.options.backoff(group.attempts)
        return [Say(chat_id, say.rejoining(what, why, group.attempts, self.options.max_attempts))]

    # ------------------------------------------------------------------ time

    def tick(self, now: float) -> list[Effect]:
        effects: list[Effect] = []
        for chat_id, group in list(self.groups.items()):
            if group.state is State.WAITING and now >= group.retry_at:
                group.state = State.JOINING
                effects.append(Join(chat_id))
            elif group.state is State.JOINED and now - group.last_speech >= self.options.idle_leave_s:
                group.state, group.leave_reason = State.LEAVING, "idle"
                effects.append(Leave(chat_id))
        return effects

    def next_deadline(self) -> float | None:
        """When `tick` has something to do next (None: nothing is timed)."""
        times = [g.retry_at for g in self.groups.values() if g.state is State.WAITING]
        times += [
            g.last_speech + self.options.idle_leave_s for g in self.groups.values() if g.state is State.JOINED
        ]
        return min(times, default=None)

    def status(self, chat_id: int) -> str:
        group = self.groups.get(chat_id)
        if group is None:
            return say.NOT_IN_CALL
        return say.status(group.state.value, group.attempts, self.options.max_attempts)
