"""Resumption where the server does not report lastConsumedClientMessageIndex (the Gemini Developer API refuses
`transparent` in the SDK): the replay cut falls at the last completed turn, and nothing is lost or doubled."""

from __future__ import annotations

from rholive.emulator import Emulator, EmulatorOptions
from rholive.live import Endpoint, LiveSession, SetupConfig, wire
from rholive.live import events as ev
from rholive.live.replay import ReplayBuffer

from .conftest import Events
from .lead_support import NumberingBrain


def test_the_next_turn_already_streaming_survives_an_update_without_index() -> None:
    replay = ReplayBuffer()
    for message in (wire.activity_start(), wire.realtime_audio(b"\0\0"), wire.activity_end()):
        replay.record(wire.encode(message))
    next_turn = [wire.encode(wire.activity_start()), wire.encode(wire.realtime_audio(b"\1\1"))]
    for text in next_turn:
        replay.record(text)  # the user speaks again while the first reply still streams
    replay.turn_complete()  # the first turn's turnComplete arrives now
    replay.update("handle-1", True, None)
    assert replay.restart(fresh=False) == next_turn


def test_the_google_host_gets_no_transparent_flag_and_others_do() -> None:
    google = LiveSession(Endpoint(api_key="k"), SetupConfig())
    local = LiveSession(Endpoint(base_url="ws://127.0.0.1:9"), SetupConfig())
    assert not google.config.transparent_resumption
    assert "transparent" not in wire.encode(wire.setup(google.config))
    assert local.config.transparent_resumption


async def test_go_away_resume_without_index_loses_and_doubles_nothing() -> None:
    options = EmulatorOptions(
        brain=NumberingBrain(),
        words_per_part=2,
        connection_lifetime_s=1.0,
        goaway_notice_s=0.6,
        reply_delay_s=0.15,
    )
    async with Emulator(options) as emu:
        config = SetupConfig(transparent_resumption=False)
        async with LiveSession(Endpoint(base_url=emu.url), config) as session:
            seen = Events(session)
            for i in range(1, 11):
                await session.send_turn(f"turn {i}")
                await seen.until(lambda t, i=i: len(t.replies()) >= i, within=20)
        assert all(e.last_consumed_index is None for e in seen.of(ev.ResumptionUpdate))
        assert seen.count(ev.GoAway) >= 2 and seen.count(ev.Resumed) >= 2
        assert [t.text for t in emu.conversations[0].turns] == [f"turn {i}" for i in range(1, 11)]
        assert seen.replies() == [f"answer {i}: turn {i} ok" for i in range(1, 11)]
