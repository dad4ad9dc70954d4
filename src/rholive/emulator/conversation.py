"""Conversations outlive connections: resumption handles name snapshots of a conversation's state."""

from __future__ import annotations

import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from rholive.emulator.brains import Brain, UserTurn
from rholive.emulator.rules import POLICY, FunctionResult, Rejection
from rholive.emulator.turns import TurnState

HANDLES_KEPT = 64  # per conversation; older handles are forgotten like expired ones


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


class Store:
    def __init__(self) -> None:
        self.conversations: list[Conversation] = []
        self._snapshots: dict[str, tuple[Conversation, TurnState, bool]] = {}

    def new(self, brain: Brain, now: float) -> Conversation:
        conversation = Conversation(id=f"conv-{len(self.conversations) + 1}", brain=brain, started_at=now)
        self.conversations.append(conversation)
        return conversation

    def snapshot(self, conversation: Conversation, resumable: bool = True) -> str:
        """A new handle for the conversation's state right now (given while busy: never resumable)."""
        handle = secrets.token_urlsafe(18)
        self._snapshots[handle] = (conversation, conversation.state.copy(), resumable)
        conversation.handles.append(handle)
        while len(conversation.handles) > HANDLES_KEPT:
            self._snapshots.pop(conversation.handles.popleft(), None)
        return handle

    def resume(self, handle: str) -> Conversation:
        """Restore the conversation a handle names to exactly the state captured with it."""
        entry = self._snapshots.get(handle)
        if entry is None:
            raise Rejection("Session resumption handle not found or expired", POLICY)
        conversation, state, resumable = entry
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
