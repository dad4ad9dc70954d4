"""The stall watchdog and the reconnect policy are pure: fed events and explicit timestamps."""

from __future__ import annotations

import random

from rholive.live import SessionOptions
from rholive.live.reconnect import ReconnectPolicy
from rholive.live.watchdog import StallWatchdog, Verdict


def test_nothing_owed_is_never_a_stall() -> None:
    dog = StallWatchdog(8.0)
    assert dog.deadline() is None and dog.check(1000.0) is Verdict.OK


def test_a_turn_with_no_content_within_the_timeout_stalls_then_gives_up_on_the_second() -> None:
    dog = StallWatchdog(8.0)
    dog.turn_sent(100.0)
    assert dog.deadline() == 108.0 and dog.check(107.9) is Verdict.OK
    assert dog.check(108.0) is Verdict.RECONNECT
    assert dog.deadline() is None  # no deadline between connections
    dog.connection_opened(110.0)
    dog.turn_sent(110.5, new=False)  # the replay sends it once more: same turn
    assert dog.check(118.5) is Verdict.GIVE_UP
    assert not dog.owed and dog.check(500.0) is Verdict.OK


def test_progress_moves_the_deadline_and_an_answer_end_clears_it() -> None:
    dog = StallWatchdog(8.0)
    dog.turn_sent(0.0)
    dog.progress(5.0, answer_piece=True)
    assert dog.deadline() == 13.0 and dog.streaming and dog.in_progress
    dog.answer_ended()
    assert dog.deadline() is None and not dog.in_progress


def test_in_progress_after_turn_complete_with_nothing_after_it_stalls() -> None:
    """A turnComplete with interactionStatus IN_PROGRESS is progress, not the end (no answer_ended)."""
    dog = StallWatchdog(8.0)
    dog.turn_sent(0.0)
    dog.progress(2.0, answer_piece=True)  # the filler
    dog.progress(3.0)  # turnComplete + IN_PROGRESS
    assert dog.check(11.0) is Verdict.RECONNECT


def test_a_tool_call_waits_for_the_application_not_the_server() -> None:
    dog = StallWatchdog(8.0)
    dog.turn_sent(0.0)
    dog.progress(1.0)
    dog.tool_call()
    assert dog.deadline() is None and dog.check(600.0) is Verdict.OK
    dog.client_replied(600.0)
    assert dog.deadline() == 608.0


def test_a_new_turn_starts_its_own_count_and_a_lost_connection_reports_a_cut_answer() -> None:
    dog = StallWatchdog(1.0)
    dog.turn_sent(0.0)
    assert dog.check(1.0) is Verdict.RECONNECT
    dog.connection_opened(2.0)
    dog.turn_sent(2.0, new=True)  # another turn: not a second stall of the first
    assert dog.check(3.0) is Verdict.RECONNECT
    dog.connection_opened(4.0)
    dog.progress(4.5, answer_piece=True)
    assert dog.connection_ended() is True and dog.owed and not dog.streaming
    assert dog.connection_ended() is False


def test_a_good_connection_resets_the_failures_and_drops_cost_no_backoff() -> None:
    policy = ReconnectPolicy(SessionOptions(max_reconnect_attempts=3))
    for t in range(20):  # 20 drops, each followed by a good connection
        policy.connection_ended(float(t))
        assert policy.delay_s() == 0.0 and not policy.gives_up
        policy.connected()
    assert policy.failures == 0


def test_failed_connects_back_off_and_give_up_saying_for_how_long() -> None:
    options = SessionOptions(max_reconnect_attempts=3, backoff_initial_s=1.0, backoff_jitter=0.0)
    policy = ReconnectPolicy(options)
    policy.connection_ended(100.0)
    delays = []
    while not policy.gives_up:
        delays.append(policy.delay_s(random.Random(0)))
        policy.connect_failed()
    assert delays == [0.0, 1.0, 2.0]
    reason = policy.give_up_reason(107.0, "cannot connect")
    assert reason.startswith("gave up after 3 failed reconnection attempt(s) over 7.0 s")
    assert reason.endswith("last: cannot connect")


def test_the_outage_starts_when_the_last_good_connection_ended() -> None:
    policy = ReconnectPolicy(SessionOptions())
    policy.connection_ended(10.0)
    policy.connect_failed()
    policy.connection_ended(12.0)  # a second end in the same outage does not move its start
    assert policy.outage_s(15.0) == 5.0
    policy.connected()
    assert policy.outage_s(15.0) == 0.0
