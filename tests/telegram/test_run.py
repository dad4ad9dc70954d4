"""`run_bot` as the CLI calls it: embedded emulator, the fake Bot API, DEBUG logging — and no secret in any log."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import pytest

from rholive.config import Settings
from rholive.live import Endpoint
from rholive.telegram import BotTokenRefused, VoiceNoteBot, run_bot

from .conftest import FAST, TOKEN, Note
from .fake_bot_api import FakeBotAPI

ALICE, STRANGER = 1001, 777


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_run_bot_answers_through_the_embedded_emulator_and_never_logs_the_token(
    fake: FakeBotAPI,
    note: Note,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = Settings(api_key=None, base_url=None, data_dir=tmp_path)  # no key: the embedded emulator
    task = asyncio.create_task(
        run_bot(settings, TOKEN, fake.url, [ALICE], pacing=FAST, db_path=tmp_path / "chats.sqlite3")
    )
    try:
        fake.push_voice(ALICE, note.ogg, duration=2)
        fake.push_text(STRANGER, "let me in")
        await fake.wait_for(lambda: fake.sent(ALICE, "sendVoice") and fake.sent(STRANGER))
        # what aiohttp/aiogram would log about a request: the URL carries the token
        logging.getLogger("aiohttp.client").debug("POST %s/bot%s/sendVoice", fake.url, TOKEN)
    finally:
        await _stop(task)

    assert "file-1" in fake.downloads[0]
    assert f"--allow {STRANGER}" in (fake.replies(STRANGER)[0].text or "")
    out, err = capsys.readouterr()
    assert "embedded emulator" in err
    assert "sendVoice" in caplog.text and "[redacted]" in caplog.text
    for text in (caplog.text, out, err):
        assert TOKEN not in text
        assert TOKEN.split(":")[1] not in text
    assert not logging.getLogger().handlers or all(
        not any(type(f).__name__ == "RedactingFilter" for f in h.filters)
        for h in logging.getLogger().handlers
    )  # run_bot takes its filter away when it ends


async def test_run_bot_without_allow_says_it_answers_nobody(
    fake: FakeBotAPI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(api_key=None, data_dir=tmp_path)
    task = asyncio.create_task(run_bot(settings, TOKEN, fake.url, [], pacing=FAST))
    try:
        fake.push_text(ALICE, "hello")
        await fake.wait_for(lambda: fake.sent(ALICE))
    finally:
        await _stop(task)
    assert "answers nobody" in capsys.readouterr().err
    assert f"--allow {ALICE}" in (fake.replies(ALICE)[0].text or "")
    assert (tmp_path / "telegram.sqlite3").is_file()  # per-chat state lives under the data directory


async def test_a_refused_token_is_one_clear_error_without_the_token(fake: FakeBotAPI, tmp_path: Path) -> None:
    wrong = "987654321:AAWrongTokenWrongTokenWrongToken_xyz"
    bot = VoiceNoteBot(
        Settings(api_key=None, data_dir=tmp_path),
        Endpoint(base_url="ws://127.0.0.1:9"),
        wrong,
        api_url=fake.url,
    )
    with pytest.raises(BotTokenRefused) as info:
        await bot.start()
    assert wrong not in str(info.value) and "--bot-token" in str(info.value)
