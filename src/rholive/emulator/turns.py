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
    seeding: bool = False  # historyConfig: clientContent is history until one has turnComplete

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
            self.seeding,
        )

    def unanswered(self) -> UserTurn | None:
        # turns given as history are never answered: step over them
        while self.answered < len(self.turns) and self.turns[self.answered].history:
            self.answered += 1
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


@dataclass(frozen=True, slots=True)
class ContextChanged:
    update: rules.ContextUpdate


@dataclass
class Context:
    """What the model is told besides the turns; contextUpdate replaces parts of it mid-session."""

    instruction: str = ""
    tools: dict[str, bool] = field(default_factory=dict)  # name -> NON_BLOCKING


Effect = Interrupt | TurnClosed | ToolResults | ContextChanged


class TurnTaker:
    def __init__(self, config: SessionConfig, state: TurnState, context: Context | None = None) -> None:
        self.config = config
        self.state = state
        self.context = context or Context(config.system_instruction, dict(config.tools))

    def apply(self, message: rules.ClientMessage) -> list[Effect]:
        state = self.state
        match message:
            case rules.Audio():
                return self._audio(message)
            case rules.Video():
                state.has_video = True
                if self.config.all_video or state.in_activity or state.vad.speaking:
                    state.pending.video_frames += 1
                    state.pending.video_bytes += len(message.data)
                return []  # else outside any activity, with turnCoverage TURN_INCLUDES_ONLY_ACTIVITY
            case rules.Text():
                if not message.text.strip():
                    return []  # blank text is no input: it opens no turn
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
                return [ContextChanged(message)]
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
        if self.state.seeding:
            return self._seed(content)
        if self.config.client_content == "history only":
            raise Rejection(
                f"{self.config.model} takes clientContent only as initial history: send typed turns as "
                "realtimeInput.text"
            )
        effects: list[Effect] = [Interrupt()]  # clientContent interrupts a generation in progress
        for item in content.turns:
            if item.role == "model":
                if self._pending_has_input():
                    self._close(history=True)  # the user's words before this model turn: context
                self._add(item)
                self._close(history=True, role="model")
            else:
                self._add(item)
        if content.turn_complete:
            effects += self._close()
        return effects

    def _seed(self, content: rules.ClientContent) -> list[Effect]:
        """Initial history: every turn is context, none is answered; turnComplete ends the seeding."""
        for item in content.turns:
            self._add(item)
            self._close(history=True, role=item.role)
        if content.turn_complete:
            self.state.seeding = False
        return []

    def _add(self, item: rules.Content) -> None:
        pending = self.state.pending
        pending.texts.extend(t for t in item.texts if t)  # kept apart: joined with newlines at the close
        for audio in item.audio:
            pending.add_audio(len(audio.data), audio.seconds)
        for image in item.images:
            pending.video_frames += 1
            pending.video_bytes += len(image.data)
            self.state.has_video = True

    def _pending_has_input(self) -> bool:
        pending = self.state.pending
        return bool(pending.texts or pending.audio_bytes or pending.video_frames)

    def _close(self, history: bool = False, role: str = "user") -> list[Effect]:
        state = self.state
        pending, state.pending = state.pending, Pending()
        if not history:
            state.vad.speaking = False  # a typed turn also ends any speech in progress
            state.vad.silence_samples = 0
        turn = UserTurn(
            number=len(state.turns) + 1,
            text="\n".join(t for t in pending.texts if t),
            audio_seconds=round(pending.audio_seconds, 6),
            audio_bytes=pending.audio_bytes,
            video_frames=pending.video_frames,
            video_bytes=pending.video_bytes,
            role=role,
            history=history,
            instruction=self.context.instruction,
            tools=tuple(self.context.tools),
        )
        state.turns.append(turn)
        return [] if history else [TurnClosed(turn)]
