"""The real py-tgcalls/Telethon `CallClient`, the parts that run offline: our handlers driven through
py-tgcalls' own update dispatch, and the raw PCM stream descriptions it hands to ntgcalls.

What needs Telegram's servers (connecting the account, phone.joinGroupCall, the transport) is not here: it
cannot run offline.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

if importlib.util.find_spec("pytgcalls") is None:
    if os.environ.get("CI", "").lower() == "true":
        raise ImportError("py-tgcalls is missing: CI must run `uv sync --extra voicechat`")
    pytest.skip("py-tgcalls is an optional extra: run `uv sync --extra voicechat`", allow_module_level=True)

import ntgcalls
from pytgcalls.methods.utilities.stream_params import StreamParams
from pytgcalls.types import ChatUpdate
from telethon import TelegramClient
from telethon.sessions import StringSession

from rholive.telegram.voicechat import PyTgCallsClient

G, OTHER = -1001234567890, -1005550001111
PCM = b"\x10\x00" * 480


def attached() -> tuple[PyTgCallsClient, object, list, list]:
    client = PyTgCallsClient("", 1, "0" * 32)
    frames: list = []
    drops: list = []
    client.on_frames(lambda chat, batch: frames.append((chat, batch)))
    client.on_dropped(lambda chat, reason: drops.append((chat, reason)))
    calls = client.attach(TelegramClient(StringSession(), 1, "0" * 32))  # never connected
    client._joined.add(G)  # as after a successful join
    return client, calls, frames, drops


def raw(ssrc: int) -> ntgcalls.Frame:
    return ntgcalls.Frame(ssrc, PCM, ntgcalls.FrameData())


async def test_incoming_frames_of_a_joined_call_reach_us_per_ssrc() -> None:
    _client, calls, frames, _drops = attached()
    playback, capture = ntgcalls.StreamMode.PLAYBACK, ntgcalls.StreamMode.CAPTURE
    mic = ntgcalls.StreamDevice.MICROPHONE
    await calls._handle_stream_frame(G, playback, mic, [raw(7), raw(9)])  # type: ignore[attr-defined]
    await calls._handle_stream_frame(G, capture, mic, [raw(7)])  # type: ignore[attr-defined]  # our own
    await calls._handle_stream_frame(OTHER, playback, mic, [raw(7)])  # type: ignore[attr-defined]
    assert frames == [(G, [(7, PCM), (9, PCM)])]


async def test_telegram_ending_the_call_is_one_drop_with_a_reason() -> None:
    _client, calls, _frames, drops = attached()
    await calls._handle_mtproto_updates(ChatUpdate(G, ChatUpdate.Status.CLOSED_VOICE_CHAT))  # type: ignore[attr-defined]
    await calls._handle_mtproto_updates(ChatUpdate(G, ChatUpdate.Status.KICKED))  # type: ignore[attr-defined]
    await calls._handle_mtproto_updates(ChatUpdate(OTHER, ChatUpdate.Status.KICKED))  # type: ignore[attr-defined]
    assert drops == [(G, "the voice chat ended")]  # once: the call is gone after the first


async def test_the_streams_are_raw_external_pcm_at_our_rate() -> None:
    client = PyTgCallsClient("", 1, "0" * 32, rate=48000, channels=1)
    play, record = client.streams()
    for description in (
        await StreamParams.get_stream_params(play),
        await StreamParams.get_record_params(record),
    ):
        mic = description.microphone
        assert mic is not None and description.camera is None and description.screen is None
        assert (mic.media_source, mic.sample_rate, mic.channel_count) == (
            ntgcalls.MediaSource.EXTERNAL,
            48000,
            1,
        )
