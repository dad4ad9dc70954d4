"""When is the model's answer over? One rule for every model, over the events of one server frame.

Most models end an answer with ``turnComplete``. Models with background reasoning (catalog
``interaction_status``) send ``interactionStatus`` alongside it: IN_PROGRESS says more of the answer follows,
and the answer ends at the IDLE that comes later. A turnComplete without a status ends the answer, so a model
that never sends the status works the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from rholive.live.events import Event, InteractionStatus, TurnComplete

IN_PROGRESS = "IN_PROGRESS"
DONE_STATUSES = frozenset({"IDLE", "REQUIRES_ACTION"})  # REQUIRES_ACTION: the deprecated name of IDLE


class AnswerEnd:
    def __init__(self) -> None:
        self.background = False  # a turnComplete said IN_PROGRESS: the answer ends at IDLE

    def frame(self, events: Sequence[Event]) -> bool:
        """True when the answer ended with this frame."""
        turn_complete = any(isinstance(e, TurnComplete) for e in events)
        statuses = [e.status for e in events if isinstance(e, InteractionStatus)]
        status = statuses[-1] if statuses else None
        if turn_complete:
            self.background = status == IN_PROGRESS
            return not self.background
        if self.background and status in DONE_STATUSES:
            self.background = False
            return True
        return False

    def reset(self) -> None:
        """A fresh connection: background work of the old one will never report IDLE."""
        self.background = False
