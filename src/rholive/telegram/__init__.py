"""Telegram: voice notes to a bot (aiogram 3) answered by one Live session per chat.

Group voice chats live in the ``voicechat`` package (optional extra). The names below are loaded on first
use (PEP 562), so the call worker child process, which imports ``rholive.telegram.voicechat.worker``, does
not pay for importing aiogram (seconds on a loaded machine) that it never uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rholive.lazy import lazy_attributes

if TYPE_CHECKING:
    from rholive.telegram.chats import ChatOptions, Timing
    from rholive.telegram.pacing import PacingOptions
    from rholive.telegram.run import BotTokenRefused, VoiceNoteBot, run_bot

_WHERE = {
    "BotTokenRefused": "run",
    "ChatOptions": "chats",
    "PacingOptions": "pacing",
    "Timing": "chats",
    "VoiceNoteBot": "run",
    "run_bot": "run",
}

__all__ = [
    "BotTokenRefused",
    "ChatOptions",
    "PacingOptions",
    "Timing",
    "VoiceNoteBot",
    "run_bot",
]


__getattr__ = lazy_attributes(__name__, _WHERE)
