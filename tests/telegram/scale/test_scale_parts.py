"""The Redis mode's parts against a real redis-server, the fake Bot API and the real emulator, in one process:
leases and claims, idempotency, the shared allowlist, state and send limits, Redis going away and back."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiogram.types import Update

from rholive.emulator import Emulator
from rholive.telegram import PacingOptions, texts
from rholive.telegram.pacing import _ChatLane
from rholive.telegram.scale import scripts
from rholive.telegram.scale.conn import RedisLink
from rholive.telegram.scale.front import Front, ensure_group
from rholive.telegram.scale.keys import GROUP
from rholive.telegram.scale.lease import Lease
from rholive.telegram.scale.pacer import SharedPacer

from ..conftest import TOKEN, Note
from ..fake_bot_api import FakeBotAPI
from .conftest import KEYS, RedisServer
from .helpers import running, until

ALICE, BOB, STRANGER = 1001, 1002, 5550123


def _update(update_id: int, chat_id: int, message_id: int, text: str) -> Update:
    return Update.model_validate(
        {
            "update_id": update_id,
            "message": {
                "message_id": message_id,
                "date": 0,
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "T"},
                "text": text,
            },
        }
    )


async def test_a_lease_is_one_holders_until_it_expires(
    redis_server: RedisServer, rclient: aioredis.Redis
) -> None:
    link = RedisLink(redis_server.url)
    try:
        first, second = Lease(link, "k", 30.0, owner="a"), Lease(link, "k", 30.0, owner="b")
        assert await first.take()
        assert await first.take()  # a retried take (its reply was lost) is still ours
        assert not await second.take()
        await second.release()  # compare-and-delete: not second's to free
        assert await rclient.get("k") == first.token.encode()
        await rclient.pexpire("k", 1)  # the holder stopped renewing: the lease runs out
        await until(lambda: _gone(rclient, "k"))
        assert await second.take()
        assert not await first.renew()  # the old holder learns it lost it
        await first.release()
        assert await rclient.get("k") == second.token.encode()
    finally:
        await link.close()


async def _gone(client: aioredis.Redis, key: str) -> bool:
    return not await client.exists(key)


async def test_a_dead_workers_note_is_claimed_after_its_lease_and_answered(
    redis_server: RedisServer, rclient: aioredis.Redis, fake: FakeBotAPI, emulator: Emulator, tmp_path: Path
) -> None:
    async with running(redis_server.url, fake.url, tmp_path, front=True, work=False, allow=[ALICE]):
        asked = fake.push_text(ALICE, "are you there?")
        await until(lambda: _length(rclient, KEYS.work, 1))
        # a worker read the entry, took the chat's lease and died (no renewals, no acknowledgement)
        await rclient.xreadgroup(GROUP, "dead-worker", {KEYS.work: ">"}, count=1)
        await rclient.set(KEYS.lease(ALICE), "dead-worker/1", px=1000)
        async with running(
            redis_server.url,
            fake.url,
            tmp_path,
            front=False,
            work=True,
            emulator_url=emulator.url,
            lease_s=1.0,
        ) as worker:
            await fake.wait_for(lambda: fake.sent(ALICE))
            stats = (await worker.finish()).stats  # type: ignore[union-attr]
    [reply] = fake.replies(ALICE)
    assert (reply.reply_to, reply.text) == (asked, "Turn 1: I heard are you there?.")
    assert stats.claimed == 1 and stats.answered == 1
    assert (await rclient.xpending(KEYS.work, GROUP))["pending"] == 0


async def _length(client: aioredis.Redis, key: str, n: int) -> bool:
    return await client.xlen(key) >= n


async def test_an_update_is_queued_once_and_never_answered_twice(
    redis_server: RedisServer, rclient: aioredis.Redis, fake: FakeBotAPI, emulator: Emulator, tmp_path: Path
) -> None:
    link = RedisLink(redis_server.url)
    front = Front(link, KEYS, bot=None)  # type: ignore[arg-type]
    try:
        await ensure_group(link, KEYS)
        await rclient.sadd(KEYS.allow, ALICE)
        first, second, third = (_update(90 + i, ALICE, 500 + i, f"word {i}") for i in range(3))
        await front.enqueue(first)
        await front.enqueue(first)  # handed over twice (a retried getUpdates, a second front)
        await front.enqueue(second)
        await front.enqueue(third)
        assert (front.enqueued, front.duplicates) == (3, 1)
        # a worker sent the second update's reply, recorded it, and died before taking the note off
        await rclient.set(KEYS.answered(91), "1")
    finally:
        await link.close()
    async with running(
        redis_server.url, fake.url, tmp_path, front=False, work=True, emulator_url=emulator.url
    ) as worker:
        await fake.wait_for(lambda: len(fake.sent(ALICE)) == 2)
        stats = (await worker.finish()).stats  # type: ignore[union-attr]
    assert [r.reply_to for r in fake.replies(ALICE)] == [500, 502]
    assert [r.text for r in fake.replies(ALICE)] == ["Turn 1: I heard word 0.", "Turn 2: I heard word 2."]
    assert (stats.answered, stats.skipped) == (2, 1)
    assert await rclient.xlen(KEYS.notes(ALICE)) == 0  # every note taken off once answered
    assert len(stats.record_s) == 2


async def test_the_fronts_allowlist_holds_for_every_worker_and_a_refusal_is_said_once(
    redis_server: RedisServer, fake: FakeBotAPI, emulator: Emulator, tmp_path: Path
) -> None:
    url = redis_server.url
    async with (
        running(url, fake.url, tmp_path, front=True, work=False, allow=[ALICE]),
        running(url, fake.url, tmp_path, front=False, work=True, emulator_url=emulator.url),
        running(url, fake.url, tmp_path, front=False, work=True, emulator_url=emulator.url),
    ):
        for i in range(3):
            fake.push_text(STRANGER, f"let me in {i}")
        asked = fake.push_text(ALICE, "hello")
        await fake.wait_for(lambda: fake.sent(ALICE) and fake.sent(STRANGER))
        fake.push_text(ALICE, "still here")
        await fake.wait_for(lambda: len(fake.sent(ALICE)) == 2)  # after every stranger note was handled
    [refusal] = fake.replies(STRANGER)
    assert f"--allow {STRANGER}" in (refusal.text or "")
    assert fake.replies(ALICE)[0].reply_to == asked
    assert [t.text for c in emulator.conversations for t in c.turns] == ["hello", "still here"]


async def test_state_and_the_conversation_follow_the_chat_to_another_worker(
    redis_server: RedisServer, fake: FakeBotAPI, emulator: Emulator, note: Note, tmp_path: Path
) -> None:
    url = redis_server.url
    async with running(url, fake.url, tmp_path, front=True, work=False, allow=[ALICE]):
        async with running(url, fake.url, tmp_path, front=False, work=True, emulator_url=emulator.url):
            fake.push_text(ALICE, "/voice off")
            fake.push_text(ALICE, "remember apples")
            await fake.wait_for(lambda: len(fake.sent(ALICE)) == 2)
        async with running(url, fake.url, tmp_path, front=False, work=True, emulator_url=emulator.url):
            fake.push_voice(ALICE, note.ogg, duration=2)
            await fake.wait_for(lambda: len(fake.sent(ALICE)) == 3)
    replies = fake.replies(ALICE)
    assert replies[0].text == texts.voice_set(False)
    assert replies[2].method == "sendMessage"  # voice off, set through the first worker
    assert (replies[2].text or "").startswith("Turn 2: I heard")  # the same conversation, resumed


async def test_send_limits_hold_across_workers(redis_server: RedisServer, rclient: aioredis.Redis) -> None:
    one, two = RedisLink(redis_server.url), RedisLink(redis_server.url)
    try:
        spaced = PacingOptions(per_chat_interval_s=60.0, global_rate=0.0)
        first, second = SharedPacer(one, KEYS, spaced), SharedPacer(two, KEYS, spaced)
        await first._admit(ALICE, _ChatLane())
        keys = [KEYS.pace_global, KEYS.pace_chat(ALICE)]
        # the second worker must wait out the first one's spacing for this chat, not for another chat
        assert 0 < int(await two.script(scripts.PACE, keys, [0, 60_000])) <= 60_000  # type: ignore[call-overload]
        await second._admit(BOB, _ChatLane())
        await first._hold(BOB, _ChatLane(), 30.0)  # a 429 for BOB seen by the first worker
        keys = [KEYS.pace_global, KEYS.pace_chat(BOB)]
        assert int(await two.script(scripts.PACE, keys, [0, 0])) > 0  # type: ignore[call-overload]
        # a worker that stalled past a chat's lease sends nothing more to it: the next holder answers
        await rclient.set(KEYS.lease(ALICE), "the-next-holder/1")
        first.hold(ALICE, "the-stalled-one/1")
        with pytest.raises(asyncio.CancelledError):
            await first._admit(ALICE, _ChatLane())
        first.hold(ALICE, "the-next-holder/1")
        assert (
            int(
                await one.script(
                    scripts.PACE,
                    [*keys[:1], KEYS.pace_chat(9), KEYS.lease(ALICE)],
                    [0, 0, "the-next-holder/1"],
                )
            )
            == 0
        )  # type: ignore[call-overload]
        assert first.fenced == 1
        # the global bucket: a rate of 1 per second is one send, shared, until it refills
        glob = [KEYS.pace_global, KEYS.pace_chat(7)]
        assert int(await one.script(scripts.PACE, glob, [1, 0])) == 0  # type: ignore[call-overload]
        assert 0 < int(await two.script(scripts.PACE, glob, [1, 0])) <= 1000  # type: ignore[call-overload]
    finally:
        await one.close()
        await two.close()


async def test_redis_away_is_one_line_and_no_update_is_lost(
    redis_server: RedisServer,
    fake: FakeBotAPI,
    emulator: Emulator,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="rholive.telegram")
    url = redis_server.url
    async with (
        running(url, fake.url, tmp_path, front=True, work=False, allow=[ALICE]),
        running(url, fake.url, tmp_path, front=False, work=True, emulator_url=emulator.url),
    ):
        fake.push_text(ALICE, "first")
        await fake.wait_for(lambda: fake.sent(ALICE))
        await redis_server.stop()
        asked = fake.push_text(ALICE, "while Redis is away")
        # the worker's reads fail, and the front's link is used only to put an update on the stream: its
        # line says it got the update from getUpdates and could not put it there
        await until(lambda: _logged(caplog, "is unreachable", 2))
        assert [u["message"]["message_id"] for u in fake.pending_updates()] == [asked]  # not confirmed
        await redis_server.start()
        await fake.wait_for(lambda: len(fake.sent(ALICE)) == 2)
    assert fake.replies(ALICE)[1].reply_to == asked
    lines = [r.getMessage() for r in caplog.records]
    assert (
        sum("is unreachable" in line for line in lines) == 2
    )  # one line per Redis connection, not per retry
    assert sum("reachable again" in line for line in lines) == 2
    assert all(TOKEN not in line for line in lines)


async def _logged(caplog: pytest.LogCaptureFixture, text: str, n: int) -> bool:
    return sum(text in r.getMessage() for r in caplog.records) >= n


async def test_a_webhook_front_queues_only_what_telegram_sent(
    redis_server: RedisServer, fake: FakeBotAPI, emulator: Emulator, tmp_path: Path
) -> None:
    import aiohttp

    from .conftest import _free_port

    port = _free_port()
    hook = f"http://127.0.0.1:{port}/telegram/hook"
    async with (
        running(
            redis_server.url,
            fake.url,
            tmp_path,
            front=True,
            work=True,
            emulator_url=emulator.url,
            allow=[ALICE],
            webhook=hook,
            listen=f"127.0.0.1:{port}",
        ),
        aiohttp.ClientSession() as http,
    ):
        await fake.wait_for(lambda: bool(fake.webhook))
        assert fake.webhook["url"] == hook
        body = _update(7, ALICE, 321, "over the hook").model_dump(mode="json", exclude_none=True)
        secret = {"X-Telegram-Bot-Api-Secret-Token": fake.webhook["secret_token"]}
        forged = {"X-Telegram-Bot-Api-Secret-Token": "guess"}
        async with http.post(hook, json=body, headers=forged) as refused:
            assert refused.status == 403
        async with http.post(hook, json=body, headers=secret) as accepted:
            assert accepted.status == 200
        await fake.wait_for(lambda: fake.sent(ALICE))
    [reply] = fake.replies(ALICE)
    assert (reply.reply_to, reply.text) == (321, "Turn 1: I heard over the hook.")
    assert fake.polls == 0  # a webhook front never long-polls


class _Calls:
    """This process's voice chat supervisor as the coordinator sees it: commands in, a state out (the real
    one needs a Telegram user account and Telegram's servers)."""

    def __init__(self) -> None:
        self.commands: list[tuple[int, str]] = []

    def submit(self, chat_id: int, command: str) -> None:
        self.commands.append((chat_id, command))

    def state(self, chat_id: int) -> str:
        joined = [c for c, cmd in self.commands if c == chat_id and cmd in ("join", "leave")]
        return "joined" if joined and self.commands[-1][1] != "leave" else "idle"


async def test_a_call_is_held_by_one_worker_and_rejoined_by_another_when_it_dies(
    redis_server: RedisServer, rclient: aioredis.Redis
) -> None:
    from rholive.telegram.scale.calls import CallCoordinator

    group = -100200
    one_link, two_link = RedisLink(redis_server.url), RedisLink(redis_server.url)
    one_calls, two_calls = _Calls(), _Calls()
    one = CallCoordinator(one_link, KEYS, one_calls, enabled=True, lease_s=30.0)
    two = CallCoordinator(two_link, KEYS, two_calls, enabled=True, lease_s=30.0)
    try:
        await one.command(group, "join")
        await two.tick_once()
        assert one_calls.commands == [(group, "join")] and two_calls.commands == []
        await two.command(group, "call")  # the status asked through another worker reaches the holder
        await one.tick_once()
        assert one_calls.commands[-1] == (group, "call") and two_calls.commands == []
        # the holder dies: no renewals; its lease runs out
        one.held[group].stop_renewing()
        await rclient.pexpire(KEYS.call_lease(group), 1)
        await until(lambda: _gone(rclient, KEYS.call_lease(group)))
        await two.tick_once()
        assert two_calls.commands == [(group, "join")] and two.rejoins == 1
        await one.command(group, "leave")  # through the old worker: passed to the new holder
        await two.tick_once()
        assert two_calls.commands[-1] == (group, "leave")
        assert await rclient.hlen(KEYS.calls) == 0 and not await rclient.exists(KEYS.call_lease(group))
    finally:
        await one_link.close()
        await two_link.close()
