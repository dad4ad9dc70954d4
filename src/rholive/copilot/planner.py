"""The copilot's turn planner: when a screen frame goes on the wire, and when the screen gets a turn of its own.

A pure state machine (the sans-I/O style of the gates): the runtime reports what happened with explicit
timestamps in seconds on one monotonic clock and performs the actions it gets back, in order. No clock, no
asyncio, no I/O. A timestamp earlier than one already seen is taken as the latest seen (no crash on jitter).

Wire model (the seed's invariants):
- Every frame goes inside a turn, between its activityStart and activityEnd; never a frame after a turn's
  activityEnd until the next activityStart. Never two turns open at once.
- Audio turns are the segmenter's (through `TurnStream`, which already gives the wire to one speaker at a
  time). The runtime sends their activityStart/activityEnd itself; `OpenTurn("audio")`/`CloseTurn("audio")`
  tell it where the frames of that turn may go.
- A screen turn (the seed's "video-only turn") is `OpenTurn("screen")`, `SendFrame(latest)`,
  `CloseTurn("screen")`, always returned together: the runtime sends activityStart, the frame, activityEnd.
- A new turn never starts while a reply streams unless someone barges in: an audio turn opening while a reply
  streams is preceded by `BargeIn(who)` (the runtime flushes playback and withdraws the streaming answer);
  screen turns never start while a reply streams or while the model owes a reply to our last turn.

Inputs, each returning `list[Action]` in wire order:
- `audio_turn_open(who, t)` → `[BargeIn?, OpenTurn("audio", who), SendFrame(latest)?]`: the frame when the
  screen changed since the last frame sent (and the frame interval allows), or when "ask now" is pending.
- `audio_turn_close(who, t)` → `[SendFrame(latest)?, CloseTurn("audio", who)]`: a frame still unsent because of
  the rate limit goes out just before the close when the interval has passed meanwhile.
- `frame_ready(t, frame_id, changed_fraction)`: a frame the FrameGate passed. Inside an audio turn it is sent
  (at most `max_fps`); otherwise it is remembered as the latest unsent frame and its change accumulates
  toward a screen turn. A newer frame replacing an unsent one is counted in `stats.frames_superseded`.
- `reply_started(t)`, `reply_finished(t)` (turnComplete), `interrupted(t)` (serverContent.interrupted).
- `ask_now(t)`: a screen turn (hotkey) as soon as no turn is open and the model is idle, with the latest frame
  seen even if unchanged (exempt from the frame rate limit). If an audio turn opens first, the latest frame
  goes inside it instead and the request is satisfied. With no frame seen yet, it waits for the first one.
- `tick(t)`: call a few times a second. Sends a rate-limited frame of an open audio turn once the interval has
  passed; gives up waiting for a reply after `reply_timeout_s`; and starts a proactive screen turn when the
  accumulated change since the last frame sent is >= `change_threshold`, no turn is open, the model is idle,
  nobody spoke in the last `quiet_s`, `proactive_interval_s` passed since the last screen turn and
  `1 / max_fps` since the last frame.
- `speech_activity(who, t)`: optional; someone is speaking before their turn is confirmed (keeps the screen
  quiet meanwhile).

The model's state follows the server. A closed turn is owed a reply ("waiting"); `reply_started` (the first
content of a reply: text, audio or its transcript) means it streams; `reply_finished` or `interrupted` then
ends it. An audio turn opening while a reply is streamed or owed makes the service cut that reply
(START_OF_ACTIVITY_INTERRUPTS): the planner takes it as withdrawn at once. What the service still sends for a
cut reply (`interrupted` … `turnComplete`) must not end the wait for the reply the new turn is owed: each cut
is owed one `turnComplete` of its own, and while waiting an `interrupted` or such a `turnComplete` is stale
(counted in `stats.stale_ends`). Any other `turnComplete` while waiting is the owed reply ending with no
content: the model chose silence (proactive audio may; counted in `stats.silent_replies`). This assumes the
service sends what it had of a cut reply before it answers the turn that cut it (it processes our messages in
order); a reply that never comes is given up after `reply_timeout_s`. Audio turns that break the one-speaker
rule (open while open, close of a turn not open) raise ValueError: that is a bug upstream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TurnKind = Literal["audio", "screen"]
ModelState = Literal["listening", "thinking"]
SCREEN = "screen"  # the `who` of screen turns

# Why a turn opened (OpenTurn.reason).
SPEECH = "speech"
PROACTIVE = "proactive"
ASKED = "ask_now"


@dataclass(frozen=True, slots=True)
class OpenTurn:
    kind: TurnKind
    who: str
    reason: str = ""  # SPEECH | PROACTIVE | ASKED


@dataclass(frozen=True, slots=True)
class SendFrame:
    frame_id: int


@dataclass(frozen=True, slots=True)
class CloseTurn:
    kind: TurnKind
    who: str


@dataclass(frozen=True, slots=True)
class BargeIn:
    who: str


Action = OpenTurn | SendFrame | CloseTurn | BargeIn


@dataclass(frozen=True)
class PlannerConfig:
    max_fps: float = 1.0  # frames on the wire per second, at most (ask-now frames excepted)
    change_threshold: float = 0.02  # accumulated changed fraction that makes a proactive screen turn
    proactive_interval_s: float = 10.0  # at least this long between two screen turns
    quiet_s: float = 1.5  # nobody spoke for this long before a screen turn
    reply_timeout_s: float | None = 30.0  # stop waiting for a reply that never starts; None: wait forever

    def __post_init__(self) -> None:
        if self.max_fps <= 0:
            raise ValueError(f"max_fps must be > 0, got {self.max_fps}")
        if not 0 < self.change_threshold <= 1:
            raise ValueError(f"change_threshold must be in (0, 1], got {self.change_threshold}")
        for name in ("proactive_interval_s", "quiet_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.reply_timeout_s is not None and self.reply_timeout_s <= 0:
            raise ValueError(f"reply_timeout_s must be > 0 or None, got {self.reply_timeout_s}")


@dataclass
class PlannerStats:
    frames_sent: int = 0
    frames_superseded: int = 0  # a newer frame arrived before this one could be sent
    screen_turns: int = 0  # proactive
    asked_turns: int = 0  # ask-now screen turns
    barge_ins: int = 0
    reply_timeouts: int = 0
    stale_ends: int = 0  # reply ends that came while waiting for a reply to start (of a cut reply)
    silent_replies: int = 0  # turns the model answered with a bare turnComplete (it chose to say nothing)


ReplyState = Literal["idle", "waiting", "streaming"]


class TurnPlanner:
    def __init__(self, config: PlannerConfig | None = None) -> None:
        self.config = config or PlannerConfig()
        self.stats = PlannerStats()
        self._t = float("-inf")
        self._open: OpenTurn | None = None  # only ever an audio turn between calls
        self._reply: ReplyState = "idle"
        self._waiting_since = 0.0
        self._cuts_unended = 0  # replies our activityStart cut whose own turnComplete has not come yet
        self._latest: int | None = None  # latest frame seen
        self._latest_sent = True  # ... and whether it went on the wire
        self._change = 0.0  # accumulated changed fraction of frames seen since the last frame sent
        self._last_frame_t: float | None = None
        self._last_screen_turn_t: float | None = None
        self._last_speech_t: float | None = None
        self._ask_pending = False

    # ------------------------------------------------------------------ state for the UI and the runtime

    @property
    def open_turn(self) -> OpenTurn | None:
        return self._open

    @property
    def reply(self) -> ReplyState:
        """What the model is doing: idle, waiting (owes a reply to our last turn) or streaming one."""
        return self._reply

    @property
    def busy(self) -> bool:
        """A turn is open or the model owes or streams a reply: no screen turn could start now."""
        return self._open is not None or self._reply != "idle"

    @property
    def model_state(self) -> ModelState:
        """`thinking` while the model owes or streams a reply and nobody is speaking, else `listening`."""
        return "thinking" if self._open is None and self._reply != "idle" else "listening"

    @property
    def ask_pending(self) -> bool:
        return self._ask_pending

    @property
    def unsent_change(self) -> float:
        """Changed fraction accumulated by frames seen since the last frame sent (0 when the model saw the
        latest screen): what a proactive screen turn compares with `change_threshold`."""
        return 0.0 if self._latest_sent else self._change

    # ------------------------------------------------------------------ speech

    def speech_activity(self, who: str, t: float) -> list[Action]:
        self._last_speech_t = self._now(t)
        return []

    def audio_turn_open(self, who: str, t: float) -> list[Action]:
        t = self._now(t)
        if self._open is not None:
            raise ValueError(f"{who}: audio turn opened while {self._open.who}'s turn is still open")
        out: list[Action] = []
        if self._reply == "streaming":
            out.append(BargeIn(who))
            self.stats.barge_ins += 1
        if self._reply != "idle":
            self._cuts_unended += 1
        self._reply = "idle"  # the service cuts a reply in progress at activityStart
        self._last_speech_t = t
        self._open = OpenTurn("audio", who, SPEECH)
        out.append(self._open)
        if self._ask_pending and self._latest is not None:
            self._ask_pending = False
            out.append(self._send(t))
        elif self._frame_due(t):
            out.append(self._send(t))
        return out

    def audio_turn_close(self, who: str, t: float) -> list[Action]:
        t = self._now(t)
        if self._open is None or self._open.who != who:
            raise ValueError(f"{who}: audio turn closed but it is not the open turn")
        out: list[Action] = []
        if self._frame_due(t):
            out.append(self._send(t))
        out.append(CloseTurn("audio", who))
        self._open = None
        self._last_speech_t = t
        self._await_reply(t)
        return out

    # ------------------------------------------------------------------ screen

    def frame_ready(self, t: float, frame_id: int, changed_fraction: float) -> list[Action]:
        t = self._now(t)
        if not self._latest_sent:
            self.stats.frames_superseded += 1
        self._latest, self._latest_sent = frame_id, False
        self._change += max(0.0, changed_fraction)
        if self._open is not None:
            return [self._send(t)] if self._frame_due(t) else []
        return self._maybe_ask(t)

    def ask_now(self, t: float) -> list[Action]:
        t = self._now(t)
        self._ask_pending = True
        return self._maybe_ask(t)

    def tick(self, t: float) -> list[Action]:
        t = self._now(t)
        if self._open is not None:
            return [self._send(t)] if self._frame_due(t) else []
        timeout = self.config.reply_timeout_s
        if self._reply == "waiting" and timeout is not None and t - self._waiting_since >= timeout:
            self._reply = "idle"
            self.stats.reply_timeouts += 1
        out = self._maybe_ask(t)
        if out or not self._proactive_due(t):
            return out
        self.stats.screen_turns += 1
        return self._screen_turn(t, PROACTIVE)

    # ------------------------------------------------------------------ the model

    def reply_started(self, t: float) -> list[Action]:
        self._now(t)
        if self._open is None:  # during an audio turn it is the tail of a reply our activityStart cuts
            self._reply = "streaming"
            self._cuts_unended = 0  # the owed reply started: what cut replies had to send came before it
        return []

    def reply_finished(self, t: float) -> list[Action]:
        return self._reply_ended(t, turn_complete=True)

    def interrupted(self, t: float) -> list[Action]:
        return self._reply_ended(t, turn_complete=False)

    # ------------------------------------------------------------------ internals

    def _reply_ended(self, t: float, turn_complete: bool) -> list[Action]:
        t = self._now(t)
        if self._reply == "streaming":
            self._reply = "idle"
        elif turn_complete and self._cuts_unended:
            self._cuts_unended -= 1  # the end of a reply that was cut, not of the one owed
            self.stats.stale_ends += self._reply == "waiting"
        elif self._reply == "waiting":
            if turn_complete:  # the owed reply, ended without content: the model chose to say nothing
                self._reply = "idle"
                self.stats.silent_replies += 1
            else:
                self.stats.stale_ends += 1  # a cut reply's `interrupted`
        return self._maybe_ask(t)

    def _now(self, t: float) -> float:
        self._t = max(self._t, t)
        return self._t

    def _frame_due(self, t: float) -> bool:
        """An unsent frame may go on the wire now (a turn is open, checked by the caller)."""
        if self._latest_sent or self._latest is None:
            return False
        return self._last_frame_t is None or t - self._last_frame_t >= 1.0 / self.config.max_fps

    def _proactive_due(self, t: float) -> bool:
        config = self.config
        if self._reply != "idle" or self._change < config.change_threshold or not self._frame_due(t):
            return False
        if self._last_speech_t is not None and t - self._last_speech_t < config.quiet_s:
            return False
        last = self._last_screen_turn_t
        return last is None or t - last >= config.proactive_interval_s

    def _maybe_ask(self, t: float) -> list[Action]:
        if not self._ask_pending or self._latest is None or self.busy:
            return []
        self._ask_pending = False
        self.stats.asked_turns += 1
        return self._screen_turn(t, ASKED)

    def _screen_turn(self, t: float, reason: str) -> list[Action]:
        self._last_screen_turn_t = t
        self._await_reply(t)
        return [OpenTurn("screen", SCREEN, reason), self._send(t), CloseTurn("screen", SCREEN)]

    def _send(self, t: float) -> SendFrame:
        assert self._latest is not None
        self._latest_sent = True
        self._change = 0.0
        self._last_frame_t = t
        self.stats.frames_sent += 1
        return SendFrame(self._latest)

    def _await_reply(self, t: float) -> None:
        self._reply = "waiting"
        self._waiting_since = t
