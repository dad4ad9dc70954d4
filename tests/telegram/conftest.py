"""Fixtures: the fake Bot API, the real emulator, espeak-ng voice notes, and a bot wired to both."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rholive.audio.codec import decode_pcm16, duration_s, encode_ogg_opus
from rholive.config import Settings
from rholive.emulator import Emulator, EmulatorOptions
from rholive.emulator.brains import Action, Say, UserTurn
from rholive.live import Endpoint
from rholive.telegram import ChatOptions, PacingOptions, VoiceNoteBot

from .fake_bot_api import FakeBotAPI

TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijklmn"


@dataclass(frozen=True)
class Note:
    ogg: bytes
    seconds: float  # duration of the 16 kHz PCM the note decodes to (what the model should receive)


def _espeak() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("espeak-ng is not installed (CI must install it)")
        pytest.skip("espeak-ng is not installed")
    return exe


@pytest.fixture(scope="session")
def make_note(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Note]:
    """An OGG/Opus voice note of espeak-ng saying ``text`` (cached per text)."""
    cache: dict[str, Note] = {}
    folder = tmp_path_factory.mktemp("notes")

    def make(text: str) -> Note:
        if text not in cache:
            wav = folder / f"{len(cache)}.wav"
            subprocess.run([_espeak(), "-w", str(wav), text], check=True, capture_output=True)
            pcm = decode_pcm16(wav, 16000)
            ogg = encode_ogg_opus(pcm, 16000)
            cache[text] = Note(ogg, duration_s(decode_pcm16(ogg, 16000), 16000))
        return cache[text]

    return make


@pytest.fixture
def note(make_note: Callable[[str], Note]) -> Note:
    return make_note("Hello, what is the weather like today?")


class HeardBrain:
    """Answers with what it received, so tests do not depend on the echo brain's wording."""

    def respond(self, turn: UserTurn, history: list[UserTurn]) -> list[Action]:
        heard = turn.text or f"{turn.audio_seconds:.2f} seconds of audio"
        return [Say(f"Turn {turn.number}: I heard {heard}.")]

    def after_tool(self, name: str, args: dict, response: dict) -> list[Action]:
        return [Say(f"{name} answered.")]


def emulator_with(**kwargs: Any) -> EmulatorOptions:
    return EmulatorOptions(brain=HeardBrain(), **kwargs)


@pytest.fixture
def emulator_options() -> EmulatorOptions:
    return emulator_with()


@pytest.fixture
async def emulator(emulator_options: EmulatorOptions) -> AsyncIterator[Emulator]:
    async with Emulator(emulator_options) as emu:
        yield emu


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(TOKEN) as api:
        yield api


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(api_key=None, data_dir=tmp_path / "data")


FAST = PacingOptions(per_chat_interval_s=0.0, global_rate=0.0)


@pytest.fixture
def make_bot(
    fake: FakeBotAPI, emulator: Emulator, settings: Settings, tmp_path: Path
) -> Callable[..., VoiceNoteBot]:
    """``async with make_bot(allow=[...], **kwargs) as bot`` — a bot polling the fake, answering via the emulator."""

    def make(allow: list[int] = (), endpoint: Endpoint | None = None, **kwargs: Any) -> VoiceNoteBot:
        kwargs.setdefault("pacing", FAST)
        kwargs.setdefault("db_path", tmp_path / "chats.sqlite3")
        kwargs.setdefault("options", ChatOptions(turn_timeout_s=30.0))
        return VoiceNoteBot(
            settings,
            endpoint or Endpoint(base_url=emulator.url),
            TOKEN,
            api_url=fake.url,
            allow=allow,
            polling_timeout=1,
            **kwargs,
        )

    return make
