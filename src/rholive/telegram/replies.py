"""Turning a model answer into Telegram messages: OGG/Opus voice notes (split when large) and text.

The transcript rides as the first voice note's caption when it fits (1024 characters), otherwise it follows as
text messages (4096 characters each). Every send goes through the chat's `Pacer`.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from dataclasses import dataclass

import numpy as np
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, ReplyParameters

from rholive.audio import encode_ogg_opus
from rholive.telegram.pacing import Pacer

OUTPUT_RATE = 24000
MAX_VOICE_BYTES = 1_000_000  # Telegram shows larger OGG files as documents, not playable voice notes
CAPTION_LIMIT = 1024
TEXT_LIMIT = 4096
_SPLIT_SEARCH_S = 1.0  # look this far either side of an even split for a quiet place to cut
_FRAME_S = 0.02


@dataclass(slots=True)
class Reply:
    audio: bytes = b""  # 16-bit mono PCM at `rate`
    transcript: str = ""
    rate: int = OUTPUT_RATE


@dataclass(frozen=True, slots=True)
class VoiceNote:
    ogg: bytes
    seconds: float


def encode_voice_notes(
    pcm: bytes, rate: int = OUTPUT_RATE, max_bytes: int = MAX_VOICE_BYTES
) -> list[VoiceNote]:
    """One OGG/Opus voice note, or several of at most ``max_bytes`` each, cut at quiet moments."""
    whole = encode_ogg_opus(pcm, rate)
    if len(whole) <= max_bytes or len(pcm) < rate * 2:
        return [VoiceNote(whole, len(pcm) / 2 / rate)]
    pieces = math.ceil(len(whole) / max_bytes)
    notes: list[VoiceNote] = []
    for part in _split_pcm(pcm, rate, pieces):
        notes.extend(encode_voice_notes(part, rate, max_bytes))
    return notes


def _split_pcm(pcm: bytes, rate: int, pieces: int) -> list[bytes]:
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2")
    frame = max(1, int(rate * _FRAME_S))
    cuts = [0]
    for k in range(1, pieces):
        ideal = len(samples) * k // pieces
        cuts.append(_quietest(samples, ideal, int(rate * _SPLIT_SEARCH_S), frame, cuts[-1]))
    cuts.append(len(samples))
    return [samples[a:b].tobytes() for a, b in itertools.pairwise(cuts) if b > a]


def _quietest(samples: np.ndarray, around: int, reach: int, frame: int, after: int) -> int:
    """Start of the lowest-energy frame within ``reach`` samples of ``around`` (and past ``after``)."""
    lo = max(after + frame, around - reach)
    hi = min(len(samples) - frame, around + reach)
    if hi <= lo:
        return around
    window = samples[lo : hi + frame].astype(np.float64) ** 2
    starts = range(0, hi - lo, frame)
    energies = [window[s : s + frame].sum() for s in starts]
    return lo + starts[int(np.argmin(energies))]


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at whitespace where possible."""
    text = text.strip()
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


def _quote(message_id: int | None) -> ReplyParameters | None:
    # answer "in reply to" the note it answers; still send if that message was deleted meanwhile
    if message_id is None:
        return None
    return ReplyParameters(message_id=message_id, allow_sending_without_reply=True)


async def send_text(bot: Bot, pacer: Pacer, chat_id: int, text: str, reply_to: int | None = None) -> None:
    for i, piece in enumerate(split_text(text)):
        target = reply_to if i == 0 else None
        await pacer.send(
            chat_id, lambda p=piece, t=target: bot.send_message(chat_id, p, reply_parameters=_quote(t))
        )


async def send_reply(
    bot: Bot, pacer: Pacer, chat_id: int, reply: Reply, *, voice: bool, reply_to: int | None = None
) -> int:
    """Send ``reply``; returns how many voice notes went out. An answer with nothing in it is said so."""
    transcript = reply.transcript.strip()
    if not reply.audio and not transcript:
        await send_text(bot, pacer, chat_id, "(The model gave no answer.)", reply_to)
        return 0
    if not reply.audio or (not voice and transcript):
        await send_text(bot, pacer, chat_id, transcript, reply_to)
        return 0
    notes = await asyncio.to_thread(encode_voice_notes, reply.audio, reply.rate)
    caption = transcript if 0 < len(transcript) <= CAPTION_LIMIT else None
    for i, note in enumerate(notes):
        first = i == 0
        try:
            await pacer.send(
                chat_id,
                lambda n=note, c=(caption if first else None), t=(reply_to if first else None): (
                    bot.send_voice(
                        chat_id,
                        BufferedInputFile(n.ogg, filename="reply.ogg"),
                        caption=c,
                        duration=max(1, math.ceil(n.seconds)),
                        reply_parameters=_quote(t),
                    )
                ),
            )
        except TelegramBadRequest as exc:
            # the user's privacy settings refuse voice messages: they still get the words
            if "VOICE_MESSAGES_FORBIDDEN" not in str(exc) or not first:
                raise
            await send_text(bot, pacer, chat_id, transcript or "(The answer was spoken only.)", reply_to)
            return 0
    if transcript and caption is None:
        await send_text(bot, pacer, chat_id, transcript)
    return len(notes)
