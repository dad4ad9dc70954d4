"""The service's failures, played on demand (EmulatorOptions fault fields), seen by a raw client."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
import websockets

from rholive.emulator import Emulator
from rholive.emulator.faults import CHAOS_KINDS, ChaosDraws

from .helpers import Client, dig, path, setup_message, text_turn, texts

RESUMABLE = setup_message(sessionResumption={})
LONG = "one two three four five six seven eight nine ten"  # echoed in several streamed parts
ECHO = f'You said: "{LONG}".'


def resuming(handle: str) -> dict[str, Any]:
    return setup_message(sessionResumption={"handle": handle})


def handle_in(messages: list[dict[str, Any]]) -> str:
    return [
        dig(m, "sessionResumptionUpdate", "newHandle") for m in messages if "sessionResumptionUpdate" in m
    ][-1]


async def setup_with_handle(client: Client, message: dict[str, Any] = RESUMABLE) -> str:
    await client.setup(message)
    return handle_in(await client.until_key("sessionResumptionUpdate"))


async def consumed(client: Client) -> None:
    """Returns once the emulator read everything sent before: it answers a ping only after that."""
    await (await client.ws.ping())


async def test_stall_after_n_answers_nothing_to_that_turn_then_a_resume_gets_it(connect, emulator) -> None:
    emulator.options.stall_after = 2
    async with connect() as client:
        await client.setup(RESUMABLE)
        await client.send(text_turn("one"))
        await client.turn()
        handle = handle_in(await client.until_key("sessionResumptionUpdate"))
        await client.send(text_turn("two"))
        await client.send(text_turn("three"))  # a stalled connection answers nothing more
        await consumed(client)  # the socket is alive: the ping is answered
        conversation = emulator.conversations[0]
        assert ("stall", 2) in conversation.faulted and conversation.state.answered == 1
    async with connect() as again:  # what a watchdog does: resume, resend the turn
        await again.setup(resuming(handle))
        await again.send(text_turn("two"))
        assert texts(await again.turn()) == 'You said: "two".'


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (1007, "Invalid session resumption handle: session not found"),
        (1008, "Session resumption handle not found or expired"),
    ],
)
async def test_refuse_resume_refuses_the_first_resume_then_resumes(connect, emulator, code, reason) -> None:
    emulator.options.refuse_resume = code
    async with connect() as client:
        handle = await setup_with_handle(client)
    async with connect() as refused:
        await refused.send(resuming(handle))
        assert await refused.closed() == (code, reason)
    async with connect() as again:  # faults_once (the default): the next resume works
        await again.setup(resuming(handle))


async def test_refuse_resume_without_faults_once_refuses_every_resume(connect, emulator) -> None:
    emulator.options.refuse_resume, emulator.options.faults_once = 1008, False
    async with connect() as client:
        handle = await setup_with_handle(client)
    for _ in range(2):
        async with connect() as refused:
            await refused.send(resuming(handle))
            assert (await refused.closed())[0] == 1008
    async with connect() as fresh:  # a fresh session is never refused
        await fresh.setup(RESUMABLE)


async def test_split_turn_complete_ends_the_turn_mid_sentence_then_the_rest(connect, emulator) -> None:
    emulator.options.split_turn_complete = True
    async with connect() as client:
        await client.setup()
        await client.send(text_turn(LONG))
        early = await client.until_key("serverContent", "turnComplete")
        rest = await client.turn()
    assert "usageMetadata" not in early[-1]
    assert texts(early) and texts(rest) and texts(early) + texts(rest) == ECHO
    assert dig(rest[-1], "serverContent", "turnComplete")  # the second turnComplete ends the answer


async def test_drop_mid_answer_aborts_once_then_the_resumed_turn_is_answered(connect, emulator) -> None:
    emulator.options.drop_mid_answer = True
    async with connect() as client:
        handle = await setup_with_handle(client)
        await client.send(text_turn(LONG))
        assert await client.closed() == (None, "")  # no close frame: 1006
        heard = texts(client.received)
    assert heard and heard != ECHO and ECHO.startswith(heard)
    async with connect() as again:
        await again.setup(resuming(handle))
        await again.send(text_turn(LONG))
        assert texts(await again.turn()) == ECHO


@pytest.mark.parametrize("flag", [False, True])
async def test_unresumable_while_generating_sends_updates_without_handle(connect, emulator, flag) -> None:
    emulator.options.unresumable_while_generating = flag
    async with connect() as client:
        await setup_with_handle(client)
        await client.send(text_turn(LONG))
        answer = await client.turn()
    mid = [m["sessionResumptionUpdate"] for m in answer if "sessionResumptionUpdate" in m]
    assert mid == ([{"resumable": False}] if flag else [])
    assert texts(answer) == ECHO


async def chaos_run(rate: float, seed: int, connections: int) -> list[tuple[int, str]]:
    """Connections that set up (every other one resuming the first) and leave: what chaos drew."""
    async with Emulator(chaos_rate=rate, chaos_seed=seed) as emulator:
        handle = None
        for number in range(connections):
            async with websockets.connect(emulator.url + path(), max_size=None) as ws:
                client = Client(ws)
                await client.send(resuming(handle) if handle and number % 2 else RESUMABLE)
                with contextlib.suppress(websockets.ConnectionClosed):  # a refused resume
                    await client.until_key("setupComplete")
                    if handle is None:
                        handle = handle_in(await client.until_key("sessionResumptionUpdate"))
        return list(emulator.injected)


async def test_chaos_draws_the_same_failures_for_the_same_seed() -> None:
    first = await chaos_run(0.5, 7, 40)
    assert first == await chaos_run(0.5, 7, 40)
    assert first != await chaos_run(0.5, 8, 40)
    assert 0 < len(first) < 40
    assert {kind for _, kind in first} <= {*CHAOS_KINDS, "refuse_resume"}


async def test_chaos_refuses_only_resumes() -> None:
    injected = await chaos_run(1.0, 3, 60)
    refused = [number for number, kind in injected if kind == "refuse_resume"]
    assert refused and all(number % 2 == 0 for number in refused)  # connection numbers start at 1


def seed_drawing(kind: str) -> int:
    """A seed whose first draw (rate 1, a fresh connection) is ``kind``: found by drawing like the emulator
    does, so the test does not hang on one seed's sequence."""
    for seed in range(1000):
        chaos = ChaosDraws(1.0, seed).draw(1, resuming=False)
        if chaos is not None and chaos.kind == kind:
            return seed
    raise AssertionError(f"no seed draws {kind}")


async def test_chaos_goaway_is_followed_by_1011() -> None:
    async with Emulator(chaos_rate=1.0, chaos_seed=seed_drawing("goaway")) as emulator:
        async with websockets.connect(emulator.url + path(), max_size=None) as ws:
            client = Client(ws)
            await client.setup()
            for word in "abcdef":
                await client.send({"realtimeInput": {"text": word}})
            closed = await client.closed()
    assert dig(next(m for m in client.received if "goAway" in m), "goAway", "timeLeft") == "1s"
    assert closed == (1011, "Deadline expired")
    assert emulator.injected == [(1, "goaway")]


async def test_split_turn_complete_splits_the_answer_not_the_thinking_filler(connect, emulator) -> None:
    emulator.options.split_turn_complete = True
    async with connect() as client:
        await client.setup(setup_message(model="models/gemini-3.8-live-extended-thinking"))
        await client.send(text_turn(LONG))
        filler = await client.until_key("serverContent", "turnComplete")
        early = await client.until_key("serverContent", "turnComplete")
        rest = await client.turn()
    assert dig(filler[-1], "serverContent", "interactionStatus") == "IN_PROGRESS"
    assert texts(early) + texts(rest) == ECHO and texts(early) and texts(rest)
