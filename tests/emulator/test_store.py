"""Memory stays bounded: conversations expire with their handles, and only so many are kept."""

from __future__ import annotations

import pytest

from rholive.emulator import EmulatorOptions
from rholive.emulator.conversation import HANDLES_KEPT

from .helpers import dig, setup_message

CAP = 20
SESSIONS = 3000
RESUMABLE = setup_message(sessionResumption={})


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


CLOCK = Clock()


@pytest.fixture
def options() -> EmulatorOptions:
    CLOCK.now = 1_000_000.0
    return EmulatorOptions(max_conversations=CAP, clock=CLOCK)


async def session_handle(connect) -> str:
    async with connect() as client:
        await client.setup(RESUMABLE)
        return dig(
            (await client.until_key("sessionResumptionUpdate"))[-1], "sessionResumptionUpdate", "newHandle"
        )


async def test_thousands_of_sessions_keep_at_most_the_cap(connect, emulator) -> None:
    oldest = await session_handle(connect)
    for _ in range(SESSIONS):
        async with connect() as client:
            await client.setup()
        assert len(emulator.store.conversations) <= CAP
    assert emulator.store.handle_count <= CAP * HANDLES_KEPT
    async with connect() as client:  # the oldest was forgotten, with its handle
        await client.send(setup_message(sessionResumption={"handle": oldest}))
        assert await client.closed() == (1008, "Session resumption handle not found or expired")


async def test_a_live_conversation_is_never_forgotten(connect, emulator) -> None:
    async with connect() as live:
        await live.setup(RESUMABLE)
        for _ in range(CAP + 5):
            async with connect() as client:
                await client.setup()
        assert emulator.conversations[0].id == "conv-1"


async def test_a_handle_expires_after_two_hours_with_its_conversation(connect, emulator) -> None:
    kept, expired = await session_handle(connect), await session_handle(connect)
    CLOCK.now += 7199
    async with connect() as client:  # still valid: a resume refreshes the conversation
        await client.setup(setup_message(sessionResumption={"handle": kept}))
    CLOCK.now += 2
    async with connect() as client:
        await client.send(setup_message(sessionResumption={"handle": expired}))
        assert await client.closed() == (1008, "Session resumption handle not found or expired")
    async with connect() as client:  # a new session forgets the idle conversation whose handles expired
        await client.setup()
    assert [c.id for c in emulator.conversations] == ["conv-1", "conv-3"]
