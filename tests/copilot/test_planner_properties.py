"""TurnPlanner invariants under random interleavings of speech, screen changes, replies and interruptions.

Two worlds. A well-behaved server (the emulator's and the service's rules): each closed turn gets a reply
(start, then finish); an activityStart during a reply cuts it (`interrupted`, sometimes followed by its
`turnComplete`), and what the service had already sent of the cut reply arrives while the cutting turn is
open. There the planner must also track the model exactly. A chaotic server sends reply events at random; there
only the wire invariants must hold.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from rholive.copilot.planner import (
    Action,
    BargeIn,
    CloseTurn,
    OpenTurn,
    PlannerConfig,
    SendFrame,
    TurnPlanner,
)

USER = ["open", "close", "speech", "frame", "tick"]
SERVER = ["progress", "deliver"]
CHAOS = ["started", "finished", "interrupted"]

Step = tuple[float, str, float]  # (seconds since the previous step, what happens, a parameter in [0, 1])


def steps(kinds: list[str]) -> st.SearchStrategy[list[Step]]:
    step = st.tuples(
        st.sampled_from([0.0, 0.05, 0.3, 0.7, 1.0, 2.5]),
        st.sampled_from(kinds),
        st.floats(0.0, 1.0),
    )
    return st.lists(step, max_size=80)


class Wire:
    """Checks what the planner returns, call by call, against the wire rules; remembers what it saw."""

    def __init__(self, config: PlannerConfig) -> None:
        self.config = config
        self.open: OpenTurn | None = None
        self.latest_frame: int | None = None
        self.frame_times: list[float] = []
        self.opens: list[OpenTurn] = []

    def check(self, actions: list[Action], t: float, *, streaming: bool | None = None) -> None:
        for i, action in enumerate(actions):
            if isinstance(action, BargeIn):
                following = actions[i + 1] if i + 1 < len(actions) else None
                assert isinstance(following, OpenTurn) and following.kind == "audio", actions
                assert following.who == action.who
            elif isinstance(action, OpenTurn):
                assert self.open is None, f"two turns open: {self.open} then {action}"
                barged = i > 0 and isinstance(actions[i - 1], BargeIn)
                if action.kind == "screen":
                    assert actions[i : i + 3] == [action, actions[i + 1], CloseTurn("screen", action.who)]
                    assert isinstance(actions[i + 1], SendFrame)
                    assert not barged
                if streaming is not None and action.kind == "audio":
                    assert barged == streaming, f"barge-in {barged}, reply streaming {streaming}"
                self.open = action
                self.opens.append(action)
            elif isinstance(action, SendFrame):
                assert self.open is not None, f"frame {action} outside a turn"
                assert action.frame_id == self.latest_frame, "only the latest frame goes on the wire"
                self.frame_times.append(t)
            else:
                assert self.open is not None and self.open.kind == action.kind
                assert self.open.who == action.who
                self.open = None

    def frames_respect_rate(self) -> bool:
        gaps = [b - a for a, b in zip(self.frame_times, self.frame_times[1:], strict=False)]
        return all(gap >= 1.0 / self.config.max_fps - 1e-9 for gap in gaps)


@dataclass
class Reply:
    number: int
    cut: bool = False  # an activityStart came while it was generated or on its way


@dataclass
class Server:
    """A well-behaved Live service: one reply per closed turn, cut by the next activityStart."""

    active: Reply | None = None  # the reply being generated (from the close of its turn to its turnComplete)
    phase: str = "pending"  # of `active`: pending (nothing sent yet) or streaming
    queue: deque[tuple[str, Reply, bool]] = field(default_factory=deque)  # (event, reply, before_close)
    replies: int = 0
    visible: Reply | None = None  # a reply the client saw start and not end, not cut

    def on_actions(self, actions: list[Action], tail: bool) -> None:
        for action in actions:
            if isinstance(action, OpenTurn):
                if self.visible is not None:
                    self.visible.cut = True
                    self.visible = None
                for i, (event, reply, _) in enumerate(self.queue):
                    if event == "started":  # sent before our activityStart: arrives during this turn
                        reply.cut = True
                        self.queue[i] = (event, reply, True)
                if self.active is not None:  # START_OF_ACTIVITY_INTERRUPTS
                    reply, self.active = self.active, None
                    reply.cut = True
                    self.queue.append(("interrupted", reply, False))
                    if tail:
                        self.queue.append(("finished", reply, False))
            elif isinstance(action, CloseTurn):
                assert self.active is None
                self.replies += 1
                self.active, self.phase = Reply(self.replies), "pending"

    def progress(self) -> None:
        if self.active is None:
            return
        if self.phase == "pending":
            self.queue.append(("started", self.active, False))
            self.phase = "streaming"
        else:
            self.queue.append(("finished", self.active, False))
            self.active = None

    def deliver(self, planner: TurnPlanner, t: float) -> list[Action]:
        if not self.queue:
            return []
        event, reply, _ = self.queue.popleft()
        if event == "started":
            if not reply.cut:
                self.visible = reply
            return planner.reply_started(t)
        if self.visible is reply:
            self.visible = None
        if event == "finished":
            return planner.reply_finished(t)
        return planner.interrupted(t)

    def must_deliver_before_close(self) -> bool:
        return any(before for _, _, before in self.queue)

    @property
    def quiet(self) -> bool:
        return self.active is None and not self.queue


def chaos_event(planner: TurnPlanner, kind: str, t: float) -> list[Action]:
    if kind == "started":
        return planner.reply_started(t)
    if kind == "finished":
        return planner.reply_finished(t)
    return planner.interrupted(t)


WELL_BEHAVED = PlannerConfig(
    max_fps=1.0, change_threshold=0.1, proactive_interval_s=2.0, quiet_s=0.5, reply_timeout_s=None
)


def user_step(planner: TurnPlanner, kind: str, x: float, t: float, frame_id: int) -> list[Action]:
    """One user-side input; `open`/`close` only where TurnStream would emit them."""
    who = "me" if x < 0.5 else "them"
    if kind == "open":
        return [] if planner.open_turn is not None else planner.audio_turn_open(who, t)
    if kind == "close":
        turn = planner.open_turn
        return [] if turn is None else planner.audio_turn_close(turn.who, t)
    if kind == "speech":
        return planner.speech_activity(who, t)
    if kind == "frame":
        return planner.frame_ready(t, frame_id, x * 0.3)
    if kind == "ask":
        return planner.ask_now(t)
    return planner.tick(t)


def run_well_behaved(
    script: list[Step], tail: bool, config: PlannerConfig = WELL_BEHAVED
) -> tuple[TurnPlanner, Wire, Server, float]:
    planner, wire, server = TurnPlanner(config), Wire(config), Server()
    t, frame_id = 0.0, 0

    def feed(actions: list[Action]) -> None:
        streaming = server.visible is not None
        wire.check(actions, t, streaming=streaming)
        for action in actions:
            if isinstance(action, OpenTurn) and action.kind == "screen":
                assert server.quiet, "a screen turn started while the model owes or streams a reply"
        server.on_actions(actions, tail)

    for dt, kind, x in script:
        t += dt
        if kind == "progress":
            server.progress()
        elif kind == "deliver":
            feed(server.deliver(planner, t))
        else:
            if kind == "close" and planner.open_turn is not None:
                while server.must_deliver_before_close():  # the cut reply's remains reach us first
                    feed(server.deliver(planner, t))
            if kind == "frame":
                frame_id += 1
                wire.latest_frame = frame_id
            feed(user_step(planner, kind, x, t, frame_id))
    # The end: the speaker stops, the server answers everything, time passes.
    if planner.open_turn is not None:
        while server.must_deliver_before_close():
            feed(server.deliver(planner, t))
        feed(planner.audio_turn_close(planner.open_turn.who, t))
    for _ in range(50):
        t += 1.0
        server.progress()
        while server.queue:
            feed(server.deliver(planner, t))
        feed(planner.tick(t))
        if server.quiet and not planner.busy:
            break
    return planner, wire, server, t


@settings(max_examples=400, deadline=None)
@given(script=steps([*USER, "ask", *SERVER, *SERVER]), tail=st.booleans())
def test_with_a_well_behaved_server_the_wire_and_the_model_state_stay_right(
    script: list[Step], tail: bool
) -> None:
    planner, wire, server, _ = run_well_behaved(script, tail)
    # Every turn closed, every reply ended, and the planner knows it: nothing owed, nothing pending.
    assert wire.open is None and planner.open_turn is None
    assert server.quiet
    assert planner.reply == "idle" and not planner.busy and planner.model_state == "listening"
    assert not planner.ask_pending or wire.latest_frame is None
    assert planner.stats.frames_sent == len(wire.frame_times)


@settings(max_examples=300, deadline=None)
@given(script=steps([*USER, *SERVER, *SERVER]), tail=st.booleans())
def test_without_ask_now_frames_respect_max_fps_and_changes_reach_the_model(
    script: list[Step], tail: bool
) -> None:
    planner, wire, _, t = run_well_behaved(script, tail)
    assert wire.frames_respect_rate()
    # After the quiet end, a significant unsent change has had its screen turn.
    planner.tick(t + 100.0)
    assert planner.unsent_change < WELL_BEHAVED.change_threshold


@settings(max_examples=400, deadline=None)
@given(script=steps([*USER, "ask", *CHAOS]), timeout=st.sampled_from([None, 3.0]))
def test_with_a_chaotic_server_the_wire_rules_still_hold(script: list[Step], timeout: float | None) -> None:
    config = PlannerConfig(
        max_fps=1.0, change_threshold=0.1, proactive_interval_s=2.0, quiet_s=0.5, reply_timeout_s=timeout
    )
    planner, wire = TurnPlanner(config), Wire(config)
    t, frame_id = 0.0, 0
    for dt, kind, x in script:
        t += dt
        if kind == "frame":
            frame_id += 1
            wire.latest_frame = frame_id
        if kind in CHAOS:
            actions = chaos_event(planner, kind, t)
        else:
            actions = user_step(planner, kind, x, t, frame_id)
        wire.check(actions, t)
        if any(isinstance(a, OpenTurn) and a.kind == "screen" for a in actions):
            assert planner.reply == "waiting"  # the screen turn is owed a reply
    if planner.open_turn is not None:
        wire.check(planner.audio_turn_close(planner.open_turn.who, t), t)
    assert wire.open is None and planner.open_turn is None


@settings(max_examples=300, deadline=None)
@given(script=steps([*USER, "ask", *CHAOS]))
def test_screen_turns_start_only_when_the_planner_saw_the_model_idle(script: list[Step]) -> None:
    planner, wire = TurnPlanner(WELL_BEHAVED), Wire(WELL_BEHAVED)
    t, frame_id = 0.0, 0
    for dt, kind, x in script:
        t += dt
        if kind == "frame":
            frame_id += 1
            wire.latest_frame = frame_id
        idle_before = planner.reply == "idle" and planner.open_turn is None
        streaming_before = planner.reply == "streaming" and planner.open_turn is None
        if kind in CHAOS:
            actions = chaos_event(planner, kind, t)
        else:
            actions = user_step(planner, kind, x, t, frame_id)
        wire.check(actions, t, streaming=streaming_before if kind == "open" else None)
        if any(isinstance(a, OpenTurn) and a.kind == "screen" for a in actions):
            assert idle_before or kind in ("finished", "interrupted")
