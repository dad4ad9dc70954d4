"""An answered turn is never sent again, whatever the order of turnComplete, the resumption update and the
close: a close that falls between turnComplete and the update must not make the resumed model answer twice."""

from __future__ import annotations

import pytest

from rholive.emulator import Emulator
from rholive.emulator.connection import Connection
from rholive.live import Endpoint, LiveSession, SessionOptions, SetupConfig
from rholive.live import events as ev

from .conftest import Events, emulator_options

FAST_RETRY = SessionOptions(backoff_initial_s=0.05, backoff_max_s=0.2)


@pytest.fixture
def no_update_after_an_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test hook: the emulator sends the resumption update of setup, none after an answer, so the close that
    the test makes after turnComplete comes before any update naming the answered turn."""
    original = Connection._resumption_update

    def only_at_setup(self: Connection) -> None:
        if self.conversation is not None and self.conversation.state.answered == 0:
            original(self)

    monkeypatch.setattr(Connection, "_resumption_update", only_at_setup)


@pytest.mark.usefixtures("no_update_after_an_answer")
async def test_a_close_between_turn_complete_and_the_update_does_not_answer_the_turn_twice() -> None:
    async with Emulator(emulator_options()) as emu:
        async with LiveSession(Endpoint(emu.url), SetupConfig(), options=FAST_RETRY) as session:
            seen = Events(session)
            await session.send_turn("turn 1")
            await seen.until(lambda s: s.count(ev.AnswerComplete) == 1)
            emu.conversations[0].live.abort()  # after turnComplete, before any update naming turn 1
            await seen.until(lambda s: s.count(ev.Resumed) == 1)
            await session.send_turn("turn 2")
            await seen.until(lambda s: s.count(ev.AnswerComplete) == 2)
    assert seen.of(ev.Resumed) == [ev.Resumed(replayed=0)]
    replies = seen.replies()
    assert len(replies) == 2 and replies[0] == "reply 1: turn 1" and replies[1].endswith(": turn 2")
