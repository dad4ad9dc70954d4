"""CallPlan: the supervisor's join/leave/idle/drop/rejoin/backoff/give-up logic, driven with explicit times."""

from __future__ import annotations

from rholive.telegram.voicechat import CallPlan, Join, Leave, PlanOptions, Say, State
from rholive.telegram.voicechat import texts as say

G = -1001234567890  # a supergroup's chat id, as the Bot API and Telethon both mark it
H = -1009876543210


def plan(**kwargs: float) -> CallPlan:
    options = {"idle_leave_s": 60.0, "max_attempts": 3, "backoff_s": 2.0, "max_backoff_s": 5.0, **kwargs}
    return CallPlan(PlanOptions(**options))  # type: ignore[arg-type]


def said(effects: list, chat_id: int = G) -> list[str]:
    return [e.text for e in effects if isinstance(e, Say) and e.chat_id == chat_id]


def test_join_then_leave_on_request() -> None:
    p = plan()
    assert p.join_requested(G, 0.0) == [Join(G), Say(G, say.JOINING)]
    assert p.state(G) is State.JOINING
    assert said(p.joined(G, 1.0)) == ["joined"]
    assert p.leave_requested(G, 5.0) == [Leave(G)]
    assert p.state(G) is State.LEAVING
    assert said(p.left(G, 5.5)) == ["left: on request"]
    assert p.state(G) is State.IDLE and p.active() == []


def test_repeated_commands_are_answered_without_a_second_join() -> None:
    p = plan()
    p.join_requested(G, 0.0)
    assert p.join_requested(G, 0.1) == [Say(G, say.ALREADY_JOINING)]
    p.joined(G, 1.0)
    assert p.join_requested(G, 2.0) == [Say(G, say.ALREADY_JOINED)]
    assert p.leave_requested(H, 2.0) == [Say(H, say.NOT_IN_CALL)]
    p.leave_requested(G, 3.0)
    assert p.leave_requested(G, 3.1) == []  # already leaving: no second Leave
    assert p.join_requested(G, 3.2) == [Say(G, say.STILL_LEAVING)]


def test_idle_leave_exactly_after_the_configured_silence() -> None:
    p = plan(idle_leave_s=60.0)
    p.join_requested(G, 0.0)
    p.joined(G, 10.0)
    p.heard_speech(G, 30.0)
    assert p.next_deadline() == 90.0
    assert p.tick(89.999) == []
    assert p.tick(90.0) == [Leave(G)]
    assert said(p.left(G, 90.2)) == ["left: idle"]


def test_speech_postpones_the_idle_leave_and_old_speech_does_not_rewind_it() -> None:
    p = plan(idle_leave_s=60.0)
    p.join_requested(G, 0.0)
    p.joined(G, 0.0)
    p.heard_speech(G, 50.0)
    p.heard_speech(G, 40.0)  # arrives late: must not bring the deadline forward
    assert p.tick(60.0) == []
    assert p.next_deadline() == 110.0


def test_drop_rejoins_after_backoff_and_a_successful_join_resets_the_count() -> None:
    p = plan(backoff_s=2.0, max_backoff_s=5.0)
    p.join_requested(G, 0.0)
    p.joined(G, 1.0)
    effects = p.dropped(G, 10.0, "the voice chat ended")
    assert said(effects) == ["call dropped, rejoining (attempt 1 of 3): the voice chat ended"]
    assert p.state(G) is State.WAITING
    assert p.next_deadline() == 12.0
    assert p.tick(11.9) == []
    assert p.tick(12.0) == [Join(G)]
    assert said(p.joined(G, 13.0)) == ["joined"]
    said(p.dropped(G, 20.0, "x"))
    assert p.next_deadline() == 22.0  # attempt 1 again: the count was reset by the join


def test_backoff_doubles_up_to_the_cap_then_gives_up() -> None:
    p = plan(max_attempts=3, backoff_s=2.0, max_backoff_s=5.0)
    p.join_requested(G, 0.0)
    now, delays = 0.0, []
    for _ in range(3):
        effects = p.join_failed(G, now, "timeout", permanent=False)
        assert "rejoining" in said(effects)[0]
        delays.append(p.next_deadline() - now)  # type: ignore[operator]
        now = p.next_deadline()  # type: ignore[assignment]
        assert p.tick(now) == [Join(G)]
    assert delays == [2.0, 4.0, 5.0]
    effects = p.join_failed(G, now, "timeout", permanent=False)
    assert said(effects) == [say.gave_up(say.DROPPED, "timeout", 3)]
    assert p.state(G) is State.IDLE and p.next_deadline() is None


def test_permanent_join_errors_are_told_and_not_retried() -> None:
    p = plan()
    p.join_requested(G, 0.0)
    effects = p.join_failed(G, 1.0, say.NO_VOICE_CHAT, permanent=True)
    assert said(effects) == [f"could not join: {say.NO_VOICE_CHAT}"]
    assert p.state(G) is State.IDLE and p.tick(100.0) == []


def test_a_crashed_worker_rejoins_every_group_it_held_and_ends_a_pending_leave() -> None:
    p = plan()
    for chat in (G, H):
        p.join_requested(chat, 0.0)
        p.joined(chat, 1.0)
    p.leave_requested(H, 2.0)
    effects = p.worker_died(3.0, "the call worker was killed by SIGABRT")
    assert said(effects, G) == [
        "the call crashed, rejoining (attempt 1 of 3): the call worker was killed by SIGABRT"
    ]
    assert said(effects, H) == ["left: on request"]
    assert p.tick(5.0) == [Join(G)]


def test_leave_while_waiting_to_rejoin_cancels_the_rejoin() -> None:
    p = plan()
    p.join_requested(G, 0.0)
    p.joined(G, 1.0)
    p.dropped(G, 2.0, "network")
    assert p.leave_requested(G, 2.5) == [Say(G, "left: on request")]
    assert p.tick(100.0) == [] and p.state(G) is State.IDLE


def test_a_join_that_completes_after_leave_is_undone() -> None:
    p = plan()
    p.join_requested(G, 0.0)
    p.dropped(G, 0.5, "network")  # waiting to rejoin
    p.leave_requested(G, 0.6)
    assert p.joined(G, 0.7) == [Leave(G)]  # a stale join: leave again, say nothing


def test_status_line() -> None:
    p = plan()
    assert p.status(G) == say.NOT_IN_CALL
    p.join_requested(G, 0.0)
    p.joined(G, 0.0)
    assert p.status(G) == "joined"
    p.dropped(G, 1.0, "x")
    assert p.status(G) == "call dropped, rejoining (attempt 1 of 3)"
