"""/join, /leave and crash isolation end to end: aiogram polls the fake Bot API, the call runs in a real child
worker process, its MTProto side is the fake `CallClient` of voicechat_fake_call.py with a real ntgcalls
loopback media path behind it, and the reply comes from the real emulator over sockets.

Needs the optional extra (``uv sync --extra voicechat``).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest

if importlib.util.find_spec("ntgcalls") is None:
    if os.environ.get("CI", "").lower() == "true":
        raise ImportError("ntgcalls is missing: CI must run `uv sync --extra voicechat`")
    pytest.skip("ntgcalls is an optional extra: run `uv sync --extra voicechat`", allow_module_level=True)

from rholive.config import Settings
from rholive.emulator import Emulator
from rholive.telegram import run_bot
from rholive.telegram.voicechat import PlanOptions, VoiceChatConfig
from rholive.telegram.voicechat import texts as say

from ..conftest import FAST, TOKEN, Note
from ..fake_bot_api import FakeBotAPI

GROUP, OTHER_GROUP, STRANGERS, ALICE = -1001234567890, -1005550001111, -1007770002222, 1001
FAKE = Path(__file__).parent.parent / "voicechat_fake_call.py"
SESSION = "1ApWapzMBu4FakeTelethonSessionStringForTestsOnly" + "x" * 300
API_ID, API_HASH = 2040777, "0123456789abcdeffedcba9876543210"
WAIT_S = 90.0


def voicechat(
    tmp_path: Path, groups: dict[int, str], max_attempts: int = 2, **options: object
) -> VoiceChatConfig:
    return VoiceChatConfig(
        session=SESSION,
        api_id=API_ID,
        api_hash=API_HASH,
        client_factory=f"{FAKE}:make_client",
        client_options={
            "groups": {str(k): v for k, v in groups.items()},
            "marker": str(tmp_path / "once"),
            **options,
        },
        plan=PlanOptions(backoff_s=0.1, max_attempts=max_attempts),
    )


def told(fake: FakeBotAPI, chat_id: int) -> list[str]:
    return [c.text or "" for c in fake.sent(chat_id, "sendMessage")]


async def test_join_talks_through_the_call_rejoins_after_a_drop_and_leaves(
    make_bot: Callable, fake: FakeBotAPI, emulator: Emulator, tmp_path: Path
) -> None:
    config = voicechat(tmp_path, {GROUP: "drop_after_reply"})
    async with make_bot(allow=[GROUP], voicechat=config) as bot:
        fake.push_text(GROUP, "/join")
        await fake.wait_for(lambda: told(fake, GROUP).count(say.JOINED) == 1, WAIT_S)
        # The participant asked a question; the drop only comes once it heard the model's answer in the call.
        await fake.wait_for(lambda: len(told(fake, GROUP)) >= 3, WAIT_S)
        await fake.wait_for(lambda: told(fake, GROUP).count(say.JOINED) == 2, WAIT_S)
        fake.push_text(GROUP, "/call")
        await fake.wait_for(lambda: told(fake, GROUP).count(say.JOINED) == 3, WAIT_S)
        fake.push_text(GROUP, "/leave")
        await fake.wait_for(lambda: "left: on request" in told(fake, GROUP), WAIT_S)
        starts = bot.voicechats.worker_starts

    assert told(fake, GROUP) == [
        say.JOINING,
        "joined",
        "call dropped, rejoining (attempt 1 of 2): the test participant heard 20 loud frames",
        "joined",
        "joined",  # the /call status line
        "left: on request",
    ]
    assert starts == 1  # a drop is handled inside the worker: no new process
    first = emulator.conversations[0].turns
    assert (
        first and first[0].audio_seconds > 0.3
    )  # the participant's question crossed the call into the model


@pytest.mark.parametrize(("crash", "signal_name"), [("abort", "SIGABRT"), ("segfault", "SIGSEGV")])
async def test_a_crashing_call_worker_does_not_take_the_voice_note_bot_down(
    make_bot: Callable,
    fake: FakeBotAPI,
    note: Note,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    crash: str,
    signal_name: str,
) -> None:
    config = voicechat(tmp_path, {GROUP: "crash_on_reply"}, crash=crash)
    crashed = f"the call crashed, rejoining (attempt 1 of 2): the call worker was killed by {signal_name}"

    async with make_bot(allow=[GROUP, ALICE], voicechat=config) as bot:
        fake.push_text(GROUP, "/join")
        await fake.wait_for(lambda: crashed in told(fake, GROUP), WAIT_S)
        fake.push_voice(ALICE, note.ogg, duration=round(note.seconds))  # the bot still answers notes
        await fake.wait_for(lambda: bool(fake.sent(ALICE, "sendVoice")), WAIT_S)
        await fake.wait_for(lambda: told(fake, GROUP).count(say.JOINED) == 2, WAIT_S)  # a new worker
        fake.push_text(GROUP, "/leave")
        await fake.wait_for(lambda: "left: on request" in told(fake, GROUP), WAIT_S)
        exits, starts = list(bot.voicechats.exits), bot.voicechats.worker_starts

    assert told(fake, GROUP) == [say.JOINING, "joined", crashed, "joined", "left: on request"]
    assert len(exits) == 1 and exits[0] < 0 and starts == 2
    out, err = capfd.readouterr()  # the parent's and the child worker's output alike
    for secret in (SESSION, API_HASH, str(API_ID)):
        assert secret not in out and secret not in err


async def test_join_errors_and_misuse_get_clear_answers(
    make_bot: Callable, fake: FakeBotAPI, tmp_path: Path
) -> None:
    config = voicechat(tmp_path, {GROUP: "no_voice_chat", OTHER_GROUP: "not_member"})
    async with make_bot(allow=[GROUP, OTHER_GROUP, ALICE], voicechat=config) as bot:
        fake.push_text(GROUP, "/leave")
        fake.push_text(GROUP, "/join")
        fake.push_text(OTHER_GROUP, "/join")
        fake.push_text(ALICE, "/join")
        fake.push_text(STRANGERS, "/join")  # not on the allow-list: refused like any other message
        await fake.wait_for(
            lambda: (
                len(told(fake, GROUP)) == 3
                and len(told(fake, OTHER_GROUP)) == 2
                and told(fake, ALICE)
                and told(fake, STRANGERS)
            ),
            WAIT_S,
        )
        starts = bot.voicechats.worker_starts
    assert told(fake, GROUP) == [say.NOT_IN_CALL, say.JOINING, f"could not join: {say.NO_VOICE_CHAT}"]
    assert told(fake, OTHER_GROUP) == [say.JOINING, f"could not join: {say.NOT_MEMBER}"]
    assert told(fake, ALICE) == [say.NOT_A_GROUP]
    assert f"--allow {STRANGERS}" in told(fake, STRANGERS)[0]
    assert starts == 1  # both failed joins went through one worker


async def test_without_a_user_account_join_says_how_to_set_it_up(
    make_bot: Callable, fake: FakeBotAPI
) -> None:
    async with make_bot(allow=[GROUP]) as bot:
        fake.push_text(GROUP, "/join")
        await fake.wait_for(lambda: bool(told(fake, GROUP)))
        fake.push_text(GROUP, "hello")  # and the bot goes on answering
        await fake.wait_for(lambda: len(told(fake, GROUP)) == 2)
        assert bot.voicechats.__class__.__name__ == "VoiceChatsOff"
    assert told(fake, GROUP)[0] == say.NOT_SET_UP


async def test_the_userbot_leaves_by_itself_when_nobody_speaks(
    make_bot: Callable, fake: FakeBotAPI, tmp_path: Path
) -> None:
    config = voicechat(tmp_path, {GROUP: "ok"})
    config.plan = PlanOptions(idle_leave_s=2.0)
    config.speakers = "active"  # following the active speaker: the one participant is heard all the same
    async with make_bot(allow=[GROUP], voicechat=config) as bot:
        fake.push_text(GROUP, "/join")
        # The participant speaks 0.6 s right after the join, then is silent: 2 s later the userbot leaves.
        await fake.wait_for(lambda: "left: idle" in told(fake, GROUP), WAIT_S)
        plan, events = bot.voicechats.plan, bot.voicechats.events
    assert told(fake, GROUP) == [say.JOINING, "joined", "left: idle"]
    assert events["speech"] >= 1  # the participant's question was heard as speech before the silence
    assert plan.groups == {}  # the plan forgot the group once it left


async def test_run_bot_redacts_the_user_account_secrets_from_every_log_line(
    fake: FakeBotAPI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = Settings(api_key=None, data_dir=tmp_path)
    config = voicechat(tmp_path, {GROUP: "no_voice_chat"})
    task = asyncio.create_task(
        run_bot(settings, TOKEN, fake.url, [GROUP], pacing=FAST, db_path=tmp_path / "c.db", voicechat=config)
    )
    try:
        fake.push_text(GROUP, "/join")
        await fake.wait_for(lambda: len(told(fake, GROUP)) == 2, WAIT_S)
        # what a careless library could log while the bot runs
        logging.getLogger("telethon.network").debug("session %s api %s/%s", SESSION, API_ID, API_HASH)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert told(fake, GROUP)[1] == f"could not join: {say.NO_VOICE_CHAT}"
    assert "session [redacted] api [redacted]/[redacted]" in caplog.text
    for secret in (SESSION, API_HASH, str(API_ID)):
        assert secret not in caplog.text


async def test_two_groups_joining_at_once_both_get_a_call_that_hears_them(
    make_bot: Callable, fake: FakeBotAPI, emulator: Emulator, tmp_path: Path
) -> None:
    """Joins at the same moment are what a new worker gets after a crash (it rejoins every call). The worker
    sets calls up one at a time: two negotiating at once double-free inside ntgcalls."""
    config = voicechat(tmp_path, {GROUP: "ok", OTHER_GROUP: "ok"})
    groups = (GROUP, OTHER_GROUP)

    def heard_in_calls() -> int:
        return sum(any(t.audio_seconds > 0.3 for t in c.turns) for c in emulator.conversations)

    async with make_bot(allow=list(groups), voicechat=config) as bot:
        for group in groups:
            fake.push_text(group, "/join")
        await fake.wait_for(lambda: all("joined" in told(fake, g) for g in groups), WAIT_S)
        await fake.wait_for(lambda: heard_in_calls() == 2, WAIT_S)  # each participant's question got through
        for group in groups:
            fake.push_text(group, "/leave")
        await fake.wait_for(lambda: all("left: on request" in told(fake, g) for g in groups), WAIT_S)
        starts = bot.voicechats.worker_starts
    for group in groups:
        assert told(fake, group) == [say.JOINING, "joined", "left: on request"]
    assert starts == 1  # no crash: one worker held both calls
