"""Voice chat media path offline: two ntgcalls instances call each other over loopback (no Telegram).

One side is our bridge (NTgCallsIO + VoiceChatBridge + a LiveSession on the embedded emulator with server
VAD); the other is a "user" in a child process (`loopback_peer.py`) that speaks PCM into the call and counts
the loud frames it hears. Needs the optional extra: ``uv sync --extra voicechat``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

ntgcalls = pytest.importorskip(
    "ntgcalls",
    reason="ntgcalls is an optional extra: run `uv sync --extra voicechat` to test the voice chat path",
)

from rholive.emulator import Emulator, EmulatorOptions  # noqa: E402
from rholive.emulator.brains import Action, Say, UserTurn  # noqa: E402
from rholive.live import Endpoint, LiveSession, SetupConfig  # noqa: E402
from rholive.live import events as ev  # noqa: E402
from rholive.live.wire import ActivityDetection  # noqa: E402
from rholive.telegram.voicechat import NTgCallsIO, VoiceChatBridge  # noqa: E402

from .. import voicechat_fake_call as fake_call  # noqa: E402  (after the ntgcalls check)

RATE = 48000
BOT_ID, USER_ID = 1, 2  # each side names the call by the other's id
LONG = "This is a long answer that keeps talking for quite a while so that the caller can interrupt it. " * 3


class LongBrain:
    def respond(self, turn: UserTurn, history: list[UserTurn]) -> list[Action]:
        return [Say(f"Turn {turn.number}. {LONG}")]

    def after_tool(self, name: str, args: dict, response: dict) -> list[Action]:
        return []


async def connect_loopback(bot: Any) -> fake_call.PeerProcess:
    """The user's end of the call (a child process), with the bridge's own NTgCallsIO setting the PCM streams."""

    async def bridge_sources(ntg: Any, peer: int) -> None:
        await NTgCallsIO(ntg, peer, rate=RATE).set_sources()

    return await fake_call.PeerProcess.call(bot, ids=(BOT_ID, USER_ID), set_sources=bridge_sources)


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(EmulatorOptions(brain=LongBrain(), reply_delay_s=1.5)) as emu:
        yield emu


async def test_audio_both_ways_through_the_bridge_with_barge_in(emulator: Emulator) -> None:
    bot_ntg = ntgcalls.NTgCalls()
    user = await connect_loopback(bot_ntg)

    seen: dict[str, asyncio.Event] = {"interrupted": asyncio.Event(), "turn2": asyncio.Event()}
    completes_after_interrupt = 0

    def on_event(event: ev.Event) -> None:
        nonlocal completes_after_interrupt
        if isinstance(event, ev.Interrupted):
            seen["interrupted"].set()
        elif isinstance(event, ev.TurnComplete) and seen["interrupted"].is_set():
            # the first ends the interrupted reply (interrupted ... turnComplete); the second, the answer
            completes_after_interrupt += 1
            if completes_after_interrupt == 2:
                seen["turn2"].set()

    config = SetupConfig(
        response_modality="AUDIO", activity_detection=ActivityDetection(silence_duration_ms=300)
    )
    session = LiveSession(Endpoint(base_url=emulator.url), config)
    try:
        async with session:
            bridge = VoiceChatBridge(NTgCallsIO(bot_ntg, USER_ID, rate=RATE), session, on_event=on_event)
            runner = asyncio.create_task(bridge.run())
            user.say(0.6)  # first question
            await asyncio.wait_for(user.heard_loud.wait(), 30)  # the reply reached the user through the call
            assert bridge.pacer.frames_sent > 0
            # The emulator streams a whole reply at once, so reply 1 is complete on the server and only
            # queued here. Question 2 ends (300 ms of silence), and question 3 starts during reply 2's delay:
            # the server interrupts reply 2, and the bridge must flush reply 1 still queued for playback.
            user.say(0.6, then_silence=0.6)
            user.say(0.6)
            await asyncio.wait_for(seen["interrupted"].wait(), 30)
            assert bridge.stats.interruptions == 1
            assert bridge.pacer.bytes_flushed > 0  # queued reply audio was dropped, not played
            await asyncio.wait_for(seen["turn2"].wait(), 60)  # the barge-in itself got answered
            await bridge.stop()
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
    finally:
        await user.stop()
        await bot_ntg.stop(USER_ID)
    turns_heard = emulator.conversations[0].turns
    assert len(turns_heard) == 3
    assert all(t.audio_seconds > 0.3 for t in turns_heard)  # real audio crossed the call into the model
    assert bridge.stats.frames_heard > 100
