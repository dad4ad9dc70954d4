"""Planner actions → Live session calls, keeping the wire's one-activity-at-a-time state.

The planner (pure) decides; this performs: `OpenTurn` → `activityStart`, `SendFrame` → the frame's JPEG as
`realtimeInput.video`, `CloseTurn` → `activityEnd`, `BargeIn` → the listener flushes playback and withdraws
the answer. Audio turns are opened by the segmenter: `open_audio` / `close_audio` make sure the markers are on
the wire exactly once even when the planner's actions already carried them. A frame is never sent outside an
activity (after `activityEnd`): such an action is counted as skipped (`outside_turn`), never sent.

Frames the gate passed are kept in a small cache by id until sent or superseded (counted `superseded`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Protocol

from rholive.copilot.planner import BargeIn, CloseTurn, OpenTurn, SendFrame
from rholive.copilot.screen_source import ScreenFrame

KEEP_FRAMES = 8


class Wire(Protocol):
    async def activity_start(self) -> None: ...
    async def activity_end(self) -> None: ...
    async def send_video(self, frame: bytes, mime_type: str = "image/jpeg") -> None: ...


class WireListener(Protocol):
    def screen_turn_sent(self, frames: list[ScreenFrame]) -> None: ...
    def frame_sent(self, frame: ScreenFrame, turn: str) -> None: ...
    def frame_skipped(self, reason: str) -> None: ...
    def barge_in(self, who: str) -> None: ...


class TurnWire:
    def __init__(self, session: Wire, listener: WireListener) -> None:
        self.session = session
        self.listener = listener
        self.open_kind: str | None = None  # "audio" | "screen" while an activity is on the wire
        self._frames: OrderedDict[int, ScreenFrame] = OrderedDict()
        self._sent_ids: set[int] = set()
        self._turn_frames: list[ScreenFrame] = []
        self.frames_sent = 0

    def keep(self, frame: ScreenFrame) -> None:
        self._frames[frame.id] = frame
        while len(self._frames) > KEEP_FRAMES:
            old_id, _ = self._frames.popitem(last=False)
            if old_id not in self._sent_ids:
                self.listener.frame_skipped("superseded")
            self._sent_ids.discard(old_id)

    async def perform(self, actions: Sequence[Any]) -> None:
        for action in actions:
            if isinstance(action, OpenTurn):
                await self._open(action.kind)
            elif isinstance(action, SendFrame):
                await self._frame(action.frame_id)
            elif isinstance(action, CloseTurn):
                await self._close()
            elif isinstance(action, BargeIn):
                self.listener.barge_in(action.who)
            else:
                raise TypeError(f"unknown planner action {action!r}")

    async def open_audio(self) -> None:
        if self.open_kind is None:
            await self._open("audio")

    async def close_audio(self) -> None:
        if self.open_kind is not None:
            await self._close()

    async def _open(self, kind: str) -> None:
        if self.open_kind is not None:
            return  # already open: one activity at a time (the planner never asks twice; be safe)
        await self.session.activity_start()
        self.open_kind = kind
        self._turn_frames = []

    async def _frame(self, frame_id: int) -> None:
        frame = self._frames.get(frame_id)
        if frame is None:
            self.listener.frame_skipped("expired")
            return
        if self.open_kind is None:
            self.listener.frame_skipped("outside_turn")
            return
        await self.session.send_video(frame.jpeg)
        self._sent_ids.add(frame_id)
        self._turn_frames.append(frame)
        self.frames_sent += 1
        self.listener.frame_sent(frame, self.open_kind)

    async def _close(self) -> None:
        if self.open_kind is None:
            return
        kind, self.open_kind = self.open_kind, None
        await self.session.activity_end()
        if kind == "screen":
            self.listener.screen_turn_sent(self._turn_frames)
        self._turn_frames = []
