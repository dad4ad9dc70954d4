"""Conversations outlive connections: resumption handles name snapshots of a conversation's state."""

from __future__ import annotations

import itertools
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rholive.emulator.brains import Brain, UserTurn
from rholive.emulator.rules import POLICY, FunctionResult, Rejection
from rholive.emulator.turns import TurnState

HANDLES_KEPT = 64  # per conversation; older handles are forgotten like expired ones
STALE_HANDLE = "Session resumption handle not found or expired"


@dataclass(eq=False)
class Conversation:
    id: str
    brain: Brain
    started_at: float  # event loop time, for the session duration limits
    state: TurnState = field(default_factory=TurnState)
    connections: int = 0
    ended: str | None = None  # why the session ended for good (then its handles are refused)
    handles: deque[str] = field(default_factory=deque)
    live: Any = None  # the connection driving it now (a resume elsewhere closes that one)
    tool_results: list[FunctionResult] = field(default_factory=list)  # every function response taken in
    last_active: float = 0.0  # clock time of its last handle or connection: idle conversations expire
    faulted: set[tuple[str, int]] = field(default_factory=set)  # (fault, turn number) already played

    @property
    def turns(self) -> list[UserTurn]:
        """Every user turn received, in order, as the current state knows them (a resume rewinds)."""
        return self.state.turns

    @property
    def ignored_audio_seconds(self) -> float:
        """Audio that belonged to no turn (before speech, or outside activityStart/activityEnd)."""
        return self.state.ignored_audio_seconds

    def __repr__(self) -> str:
        return f"Conversation(id={self.id!r}, turns={len(self.turns)}, connections={self.connections})"


@dataclass(frozen=True, slots=True)
class Snapshot:
    conversation: Conversation
    state: TurnState
    resumable: bool
    given_at: float  # clock time: the handle expires handle_lifetime_s later


class Store:
    """Every conversation that can still be resumed. Handles expire like the service's (2 h); a
    conversation with no connection is forgotten once its last handle expired, or when more than
    ``max_conversations`` are kept (the longest idle first), so memory stays bounded."""

    def __init__(
        self, clock: Callable[[], float], handle_lifetime_s: float = 7200.0, max_conversations: int = 1000
    ) -> None:
        self.conversations: list[Conversation] = []
        self._snapshots: dict[str, Snapshot] = {}
        self._clock = clock
        self._lifetime = handle_lifetime_s
        self._cap = max(1, max_conversations)
        self._numbers = itertools.count(1)

    @property
    def handle_count(self) -> int:
        """Handles that can still be looked up (each holds a copy of a conversation's state)."""
        return len(self._snapshots)

    def new(self, brain: Brain, now: float) -> Conversation:
        self._forget_expired()
        conversation = Conversation(id=f"conv-{next(self._numbers)}", brain=brain, started_at=now)
        conversation.last_active = self._clock()
        self.conversations.append(conversation)
        self._enforce_cap()
        return conversation

    def touch(self, conversation: Conversation) -> None:
        """A connection of the conversation ended (or gave a handle): its idle time starts now."""
        conversation.last_active = self._clock()

    def snapshot(self, conversation: Conversation, resumable: bool = True) -> str:
        """A new handle for the conversation's state right now (given while busy: never resumable)."""
        handle = secrets.token_urlsafe(18)
        now = self._clock()
        self._snapshots[handle] = Snapshot(conversation, conversation.state.copy(), resumable, now)
        conversation.last_active = now
        conversation.handles.append(handle)
        while len(conversation.handles) > HANDLES_KEPT:
            self._snapshots.pop(conversation.handles.popleft(), None)
        return handle

    def _expired(self, given_at: float) -> bool:
        return self._clock() - given_at > self._lifetime

    def _forget_expired(self) -> None:
        for conversation in [
            c for c in self.conversations if c.live is None and self._expired(c.last_active)
        ]:
            self._forget(conversation)

    def _enforce_cap(self) -> None:
        """The longest idle conversations go first; one with a live connection is never forgotten."""
        excess = len(self.conversations) - self._cap
        if excess <= 0:
            return
        idle = sorted((c for c in self.conversations if c.live is None), key=lambda c: c.last_active)
        for conversation in idle[:excess]:
            self._forget(conversation)

    def _forget(self, conversation: Conversation) -> None:
        self.conversations.remove(conversation)
        for handle in conversation.handles:
            self._snapshots.pop(handle, None)
        conversation.handles.clear()

    def resume(self, handle: str) -> Conversation:
        """Restore the conversation a handle names to exactly the state captured with it."""
        entry = self._snapshots.get(handle)
        if entry is None or self._expired(entry.given_at):
            raise Rejection(STALE_HANDLE, POLICY)
        conversation, state, resumable = entry.conversation, entry.state, entry.resumable
        if not resumable:
            raise Rejection(
                "Session resumption handle is not resumable: it was given while the model was generating or "
                "running a tool (sessionResumptionUpdate.resumable was false)",
                POLICY,
            )
        if conversation.ended:
            raise Rejection(f"Session cannot be resumed: {conversation.ended}", POLICY)
        conversation.state = state.copy()
        return conversation
