"""Turn taking, sans I/O: typed client messages in, effects out (interrupt, turn closed, tool results).

``TurnState`` is everything a resumption handle must capture: the turns received so far, how many of them
were answered, the partly received turn and the VAD's state. ``TurnTaker`` applies one message at a time
and raises ``Rejection`` for the rules that depend on state (a marker out of order).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from rholive.emulator import rules
from rholive.emulator.brains import UserTurn
from rholive.emulator.rules import Rejection
from rholive.emulator.session_config import SessionConfig
from rholive.emulator.vad import End, EnergyVad, Onset, Segment
from rholive.live import keys


@dataclass(slots=True)
class Pending:
    """The user turn being received."""

    texts: list[str] = field(default_factory=list)
    audio_bytes: int = 0
    audio_seconds: float = 0.0
    video_frames: int = 0
    video_bytes: int = 0

    def add_audio(self, nbytes: int, seconds: float) -> None:
        self.audio_bytes += nbytes
        self.audio_seconds += seconds


@dataclass(slots=True)
class TurnState:
    turns: list[UserTurn] = field(default_factory=list)
    answered: int = 0  # turns[answered:] still wait for (or are getting) their reply
    pending: Pending = field(default_factory=Pending)
    vad: EnergyVad = field(default_factory=EnergyVad)
    in_activity: bool = False  # between activityStart and activityEnd
    ignored_audio_seconds: float = 0.0  # audio outside any turn (silence, or outside activity markers)
    has_video: bool = False
    history: list[tuple[str, str]] = field(default_factory=list)  # seeded (role, text) turns
    instruction_updates: list[str] = field(default_factory=list)  # contextUpdate instructions, in order

    def copy(self) -> TurnState:
        # UserTurns are never changed after they are closed: sharing them between snapshots is safe.
        return TurnState(
            list(self.turns),
            self.answered,
            copy.deepcopy(self.pending),
            self.vad.copy(),
            self.in_activity,
            self.ignored_audio_seconds,
            self.has_video,
            list(self.history),
            list(self.instruction_updates),
        )

    def unanswered(self) -> UserTurn | None:
        return self.turns[self.answered] if self.answered < len(self.turns) else None


@dataclass(frozen=True, slots=True)
class Interrupt:
    """The user started speaking or sent content: a reply in progress must stop."""


@dataclass(frozen=True, slots=True)
class TurnClosed:
    turn: UserTurn


@dataclass(frozen=True, slots=True)
class ToolResults:
    results: tuple[rules.FunctionResult, ...]


Effect = Interrupt | TurnClosed | ToolResults


class TurnTaker:
    def __init__(self, config: SessionConfig, state: TurnState) -> None:
        self.config = config
        self.state = state

    def apply(self, message: rules.ClientMessage) -> list[Effect]:
        state = self.state
        match message:
            case rules.Audio():
                return self._audio(message)
            case rules.Video():
                state.pending.video_frames += 1
                state.pending.video_bytes += len(message.data)
                state.has_video = True
                return []
            case rules.Text():
                state.pending.texts.append(message.text)
                if state.in_activity:
                    return []  # part of the turn the activity markers delimit
                return self._close()
            case rules.ActivityStart():
                if state.in_activity:
                    raise Rejection(
                        "activityStart received while an activity is already open (no activityEnd)"
                    )
                state.in_activity = True
                return [Interrupt()]
            case rules.ActivityEnd():
                if not state.in_activity:
                    raise Rejection("activityEnd received without a preceding activityStart")
                state.in_activity = False
                return self._close()
            case rules.AudioStreamEnd():
                effects = self._vad_events(state.vad.flush())
                if state.vad.speaking:
                    state.vad.speaking = False
                    state.vad.silence_samples = 0
                    effects += self._close()
                return effects
            case rules.ClientContent():
                return self._client_content(message)
            case rules.ToolResponse():
                return [ToolResults(message.results)]
            case rules.ContextUpdate():
                if message.system_instruction is not None:
                    state.instruction_updates.append(message.system_instruction)
                return []
        raise AssertionError(f"unhandled message {message!r}")

    def _audio(self, audio: rules.Audio) -> list[Effect]:
        state = self.state
        if self.config.auto_detection:
            return self._vad_events(state.vad.feed(audio.data, audio.rate))
        if state.in_activity or self.config.all_input:
            state.pending.add_audio(len(audio.data), audio.seconds)
        else:
            state.ignored_audio_seconds += audio.seconds
        return []

    def _vad_events(self, events: list) -> list[Effect]:
        effects: list[Effect] = []
        for event in events:
            if isinstance(event, Segment):
                if event.in_turn or self.config.all_input:
                    self.state.pending.add_audio(event.nbytes, event.seconds)
                else:
                    self.state.ignored_audio_seconds += event.seconds
            elif isinstance(event, Onset):
                effects.append(Interrupt())
            elif isinstance(event, End):
                effects += self._close()
        return effects

    def _client_content(self, content: rules.ClientContent) -> list[Effect]:
        pending = self.state.pending
        if content.texts:
            pending.texts.append("".join(content.texts))
        for audio in content.audio:
            pending.add_audio(len(audio.data), audio.seconds)
        for image in content.images:
            pending.video_frames += 1
            pending.video_bytes += len(image.data)
            self.state.has_video = True
        effects: list[Effect] = [Interrupt()]  # clientContent interrupts a generation in progress
        if content.turn_complete:
            effects += self._close()
        return effects

    def _close(self) -> list[Effect]:
        state = self.state
        pending, state.pending = state.pending, Pending()
        state.vad.speaking = False  # a typed turn also ends any speech in progress
        state.vad.silence_samples = 0
        turn = UserTurn(
            number=len(state.turns) + 1,
            text="\n".join(t for t in pending.texts if t),
            audio_seconds=round(pending.audio_seconds, 6),
            audio_bytes=pending.audio_bytes,
            video_frames=pending.video_frames,
            video_bytes=pending.video_bytes,
        )
        state.turns.append(turn)
        return [TurnClosed(turn)]


def seed_history(state: TurnState, body: object) -> bool:
    """A ``clientContent`` of the initial history (``historyConfig``): its turns become history, never a
    turn to answer. True when it ends the history (``turnComplete``)."""
    if not isinstance(body, dict):
        raise Rejection("clientContent must be an object")
    turns = keys.get(body, "turns", [])
    if not isinstance(turns, list):
        raise Rejection("clientContent.turns must be a list of contents")
    for i, turn in enumerate(turns):
        parts = keys.get(turn, "parts", []) if isinstance(turn, dict) else None
        role = keys.get(turn, "role", "user") if isinstance(turn, dict) else None
        if not isinstance(parts, list) or role not in ("user", "model"):
            raise Rejection(f"clientContent.turns[{i}] must have role user or model and a parts list")
        text = "".join(str(keys.get(p, "text", "")) for p in parts if isinstance(p, dict))
        state.history.append((role, text))
    complete = keys.get(body, "turnComplete", False)
    if not isinstance(complete, bool):
        raise Rejection("clientContent.turnComplete must be a boolean")
    return complete
