"""The bot's small parts on their own: voice-note splitting, text splitting, the store, log redaction, pacing."""

from __future__ import annotations

import asyncio
import io
import logging

import av
import numpy as np
import pytest
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import SendMessage

from rholive.telegram.logsafe import REDACTED, install_redaction, remove_redaction
from rholive.telegram.pacing import Pacer, PacingOptions
from rholive.telegram.replies import encode_voice_notes, split_text
from rholive.telegram.store import ChatStore

from .conftest import TOKEN


def tone(seconds: float, rate: int = 24000, silent_at: float | None = None) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    wave = np.sin(2 * np.pi * 330 * t) * 12000 * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    if silent_at is not None:
        a = int(silent_at * rate)
        wave[a : a + rate // 5] = 0
    return wave.astype("<i2").tobytes()


def test_short_reply_is_one_voice_note() -> None:
    [note] = encode_voice_notes(tone(1.0))
    with av.open(io.BytesIO(note.ogg)) as container:
        assert container.format.name == "ogg"
        assert container.streams.audio[0].codec_context.name == "opus"
        assert container.streams.audio[0].codec_context.channels == 1
    assert note.seconds == pytest.approx(1.0)


def test_large_reply_is_split_into_notes_under_the_limit_at_a_quiet_moment() -> None:
    pcm = tone(12.0, silent_at=5.9)
    whole = encode_voice_notes(pcm)[0].ogg
    limit = len(whole) * 6 // 10  # forces two notes
    notes = encode_voice_notes(pcm, max_bytes=limit)
    assert len(notes) == 2
    assert all(len(n.ogg) <= limit for n in notes)
    assert sum(n.seconds for n in notes) == pytest.approx(12.0)
    assert 5.9 <= notes[0].seconds <= 6.1  # cut inside the silence, not at the exact middle


def test_split_text_keeps_words_and_limits() -> None:
    text = " ".join(f"word{i}" for i in range(400))
    pieces = split_text(text, 100)
    assert all(len(p) <= 100 for p in pieces)
    assert " ".join(pieces) == text
    assert split_text("x" * 250, 100) == ["x" * 100, "x" * 100, "x" * 50]
    assert split_text("   ") == []


def test_store_round_trip(tmp_path) -> None:
    path = tmp_path / "sub" / "chats.sqlite3"
    store = ChatStore(path)
    assert store.get(7).handle is None and store.get(7).voice is True
    store.set_handle(7, "h1")
    store.set_voice(7, False)
    store.set_persona(7, "tutor")
    store.set_handle(8, "other")
    store.close()
    again = ChatStore(path)
    state = again.get(7)
    assert (state.handle, state.voice, state.persona) == ("h1", False, "tutor")
    again.set_handle(7, None)
    assert again.get(7).handle is None and again.get(8).handle == "other"


def test_redaction_hides_token_key_and_token_shapes_in_messages_args_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    redactor = install_redaction([TOKEN, "AIzaSecretKey123"])
    try:
        log = logging.getLogger("aiohttp.client")
        log.debug("POST https://api.telegram.org/bot%s/getUpdates", TOKEN)
        logging.getLogger("rholive").info("key=%s other=%s", "AIzaSecretKey123", "987654321:" + "Z" * 35)
        try:
            raise RuntimeError(f"cannot reach https://api.telegram.org/file/bot{TOKEN}/voice/1.oga")
        except RuntimeError:
            logging.getLogger("aiogram.event").exception("download failed")
    finally:
        remove_redaction(redactor)
    text = caplog.text
    assert TOKEN not in text and "AIzaSecretKey123" not in text and "Z" * 35 not in text
    assert text.count(REDACTED) >= 4
    assert "getUpdates" in text and "download failed" in text


async def test_pacer_honours_retry_after_in_order() -> None:
    pacer = Pacer(PacingOptions(per_chat_interval_s=0.0, global_rate=0.0))
    log: list[str] = []
    failures = iter([True, False])

    async def flaky() -> str:
        log.append("flaky")
        if next(failures):
            raise TelegramRetryAfter(SendMessage(chat_id=1, text="x"), "Too Many Requests", retry_after=0)
        return "sent"

    async def later() -> str:
        log.append("later")
        return "ok"

    first = asyncio.create_task(pacer.send(1, flaky))  # tasks start in creation order: first takes the lane
    second = asyncio.create_task(pacer.send(1, later))
    assert await first == "sent" and await second == "ok"
    assert log == ["flaky", "flaky", "later"]
    assert len(pacer.retries) == 1


async def test_pacer_gives_up_after_max_retries() -> None:
    pacer = Pacer(PacingOptions(per_chat_interval_s=0.0, global_rate=0.0, max_retries=2))
    calls = 0

    async def always_limited() -> None:
        nonlocal calls
        calls += 1
        raise TelegramRetryAfter(SendMessage(chat_id=1, text="x"), "Too Many Requests", retry_after=0)

    with pytest.raises(TelegramRetryAfter):
        await pacer.send(1, always_limited)
    assert calls == 3
