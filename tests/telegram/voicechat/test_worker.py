"""The call worker's pipe protocol and the voice chat flags, without Telegram (the fake CallClient)."""

from __future__ import annotations

import asyncio
import importlib.util
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rholive.emulator import Emulator
from rholive.live import Endpoint, LiveSession, SetupConfig
from rholive.telegram.logsafe import RedactingFilter
from rholive.telegram.voicechat import (
    NO_VOICE_CHAT,
    JoinError,
    VoiceChatConfig,
    Worker,
    WorkerProcess,
    describe_exit,
    voicechat_config,
)

FAKE = Path(__file__).parent.parent / "voicechat_fake_call.py"
G = -1001234567890
SESSION, API_HASH = "1BVtsOKABu-secret-session-" + "s" * 200, "feedfacefeedfacefeedfacefeedface"


def need(module: str) -> None:
    """The voicechat extra: skipped locally without it, a failure in CI (which installs it)."""
    if importlib.util.find_spec(module) is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{module} is missing: CI must run `uv sync --extra voicechat`")
        pytest.skip(f"{module} is an optional extra: run `uv sync --extra voicechat`")


def fake_config(**extra: object) -> dict[str, object]:
    return {
        "client_factory": f"{FAKE}:make_client",
        "client_options": {"groups": {str(G): "no_voice_chat"}, "marker": "/nonexistent"},
        "endpoint": {"base_url": "ws://127.0.0.1:9"},
        "session": SESSION,
        "api_hash": API_HASH,
        **extra,
    }


async def test_worker_answers_commands_reports_bad_ones_and_exits_when_the_bot_goes_away() -> None:
    need("ntgcalls")
    worker = await WorkerProcess.start(fake_config())
    assert (await worker.next_event()) == {"event": "ready"}
    worker.proc.stdin.write(b"not json\n")  # type: ignore[union-attr]
    worker.send({"cmd": "dance"})
    worker.send({"cmd": "join", "chat_id": G})
    worker.send({"cmd": "leave", "chat_id": -42})  # not in that call: told it is left
    worker.send({"cmd": "status"})
    events = [e for _ in range(5) if (e := await worker.next_event())]
    by_kind = {e.get("kind", e["event"]): e for e in events}  # the join answers on its own task: any order
    assert sorted(by_kind) == ["left", "no_voice_chat", "protocol", "status"]
    assert [e["message"] for e in events if e.get("kind") == "protocol"] == [
        "unreadable command",
        "unknown command 'dance'",
    ]
    assert by_kind["status"] == {"event": "status", "calls": []}
    assert by_kind["left"]["chat_id"] == -42
    assert by_kind["no_voice_chat"]["permanent"] is True and by_kind["no_voice_chat"]["chat_id"] == G
    worker.proc.stdin.close()  # type: ignore[union-attr]  # end of stdin: the bot process is gone
    assert await worker.next_event() is None
    assert await worker.wait() == 0


async def test_a_worker_whose_client_cannot_start_says_why_once_and_exits() -> None:
    worker = await WorkerProcess.start(fake_config(client_factory="rholive.no_such_module:make"))
    event = await worker.next_event()
    assert event is not None and event["event"] == "error" and event["chat_id"] is None
    assert event["permanent"] is True and "no_such_module" in event["message"]
    assert await worker.next_event() is None
    assert await worker.wait() == 3


def test_exit_descriptions() -> None:
    assert describe_exit(-6) == "the call worker was killed by SIGABRT"
    assert describe_exit(-11) == "the call worker was killed by SIGSEGV"
    assert describe_exit(3) == "the call worker exited with code 3"


def test_secrets_stay_out_of_reprs_and_argv() -> None:
    config = VoiceChatConfig(session=SESSION, api_id=2040777, api_hash=API_HASH)
    assert SESSION not in repr(config) and API_HASH not in repr(config) and "2040777" not in repr(config)
    assert set(config.secrets) == {SESSION, API_HASH, "2040777"}


def test_flags_win_over_env_and_no_session_means_voice_chats_off() -> None:
    env = {"RHOLIVE_TG_SESSION": SESSION, "RHOLIVE_TG_API_ID": "111", "RHOLIVE_TG_API_HASH": API_HASH}
    config = voicechat_config(None, 222, None, 120.0, "active", env)
    assert config is not None
    assert (config.session, config.api_id, config.api_hash) == (SESSION, 222, API_HASH)
    assert config.speakers == "active" and config.plan.idle_leave_s == 120.0
    assert voicechat_config(None, None, None, 300.0, "mix", {}) is None


@pytest.mark.parametrize(
    ("env", "needs"),
    [
        ({"RHOLIVE_TG_SESSION": SESSION}, "--api-id/RHOLIVE_TG_API_ID and --api-hash/RHOLIVE_TG_API_HASH"),
        ({"RHOLIVE_TG_SESSION": SESSION, "RHOLIVE_TG_API_ID": "1"}, "--api-hash/RHOLIVE_TG_API_HASH"),
        (
            {"RHOLIVE_TG_SESSION": SESSION, "RHOLIVE_TG_API_ID": "x", "RHOLIVE_TG_API_HASH": API_HASH},
            "a number",
        ),
    ],
)
def test_a_session_without_its_api_credentials_is_one_clear_error(env: dict[str, str], needs: str) -> None:
    with pytest.raises(ValueError) as info:
        voicechat_config(None, None, None, 300.0, "mix", env)
    assert needs in str(info.value)
    assert SESSION not in str(info.value) and API_HASH not in str(info.value)


def test_the_cli_refuses_a_session_without_api_credentials_without_echoing_it() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RHOLIVE_TG_")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rholive.cli",
            "telegram",
            "--bot-token",
            "1:x",
            "--voicechat-session",
            SESSION,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 2
    assert "--api-id" in result.stderr and "Traceback" not in result.stderr
    assert SESSION not in result.stdout + result.stderr


async def test_the_real_client_refuses_a_malformed_session_before_touching_the_network() -> None:
    """The one piece of the MTProto path that runs offline: py-tgcalls + Telethon load in the worker, and a
    session string Telethon cannot parse is one clear, permanent error that does not echo the string."""
    need("pytgcalls")
    worker = await WorkerProcess.start(
        {"session": SESSION, "api_id": 2040777, "api_hash": API_HASH, "endpoint": {}}
    )  # no client_factory: the real PyTgCallsClient
    event = await worker.next_event()
    assert event is not None and event["event"] == "error" and event["chat_id"] is None
    assert event["kind"] == "session" and event["permanent"] is True
    assert "session is not valid" in event["message"] and SESSION not in event["message"]
    assert await worker.wait() == 3


async def test_the_workers_live_session_trusts_the_bots_ca_file(tmp_path: Path) -> None:
    async with Emulator(tls=True, tls_dir=str(tmp_path)) as emu:
        config = VoiceChatConfig(session=SESSION, api_id=1, api_hash=API_HASH)
        config = config.with_defaults("models/x", None, None, ca_file=str(emu.cert_path))
        endpoint = Endpoint(base_url=emu.url, api_key="k")
        worker = Worker(config.worker_config(endpoint), sys.stdout.buffer, RedactingFilter([]))
        async with LiveSession(worker._endpoint(), SetupConfig()) as session:  # wss, checked against the file
            assert session is not None
        without = Worker(
            VoiceChatConfig(session=SESSION, api_id=1, api_hash=API_HASH).worker_config(endpoint),
            sys.stdout.buffer,
            RedactingFilter([]),
        )
        assert without._endpoint().ssl is None  # no CA given: the system's trust store


class OverlapProbe:
    """A `CallClient` (loaded by path, like the fake) whose joins give way to the event loop a few times and
    then fail: it records the most joins that were in progress at once."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.probe = config["client_options"]["probe"]

    async def start(self) -> None:
        return None

    async def join(self, chat_id: int) -> None:
        p = self.probe
        p["active"] += 1
        p["most"] = max(p["most"], p["active"])
        for _ in range(5):
            await asyncio.sleep(0)  # a real join awaits the network here: any other join could run meanwhile
        p["active"] -= 1
        p["left"] -= 1
        if p["left"] == 0:
            p["all_tried"].set()  # the worker answers this join before the test's task runs again
        raise JoinError(NO_VOICE_CHAT, "no voice chat")

    async def leave(self, chat_id: int) -> None:
        return None

    def on_frames(self, callback: object) -> None:
        return None

    def on_dropped(self, callback: object) -> None:
        return None

    async def stop(self) -> None:
        return None


async def test_joins_asked_at_the_same_moment_are_set_up_one_at_a_time() -> None:
    """ntgcalls cannot negotiate two calls of one process at once (see the worker's `_setting_up`), and a
    new worker after a crash is asked to rejoin every call at once."""
    probe = {"active": 0, "most": 0, "left": 3, "all_tried": asyncio.Event()}
    config = {"client_factory": f"{__file__}:OverlapProbe", "client_options": {"probe": probe}}
    out = io.BytesIO()
    commands = asyncio.StreamReader()
    for chat_id in (G, G - 1, G - 2):
        commands.feed_data(json.dumps({"cmd": "join", "chat_id": chat_id}).encode() + b"\n")
    worker = Worker(config, out, RedactingFilter([]))
    serving = asyncio.create_task(worker.serve(commands))
    await asyncio.wait_for(probe["all_tried"].wait(), 30)
    commands.feed_eof()
    assert await serving == 0
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert sorted(e.get("chat_id") or 0 for e in events if e["event"] == "error") == [G - 2, G - 1, G]
    assert probe["most"] == 1


def test_the_cli_refuses_to_answer_telegram_users_from_the_emulator_unless_asked() -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("GEMINI_API_KEY", "RHOLIVE_API_KEY", "RHOLIVE_BASE_URL")
    }
    env = {k: v for k, v in env.items() if not k.startswith("RHOLIVE_TG_")}
    command = [sys.executable, "-m", "rholive.cli", "telegram", "--bot-token", "1:x"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "--emulator" in result.stderr and "GEMINI_API_KEY" in result.stderr
