"""Telegram: voice notes to a bot (aiogram 3) answered by one Live session per chat.

Group voice chats live in ``voicechat.py`` (optional extra) and share nothing here but the settings.
"""

from rholive.telegram.chats import ChatOptions, Timing
from rholive.telegram.pacing import PacingOptions
from rholive.telegram.personas import Persona, default_personas
from rholive.telegram.run import BotTokenRefused, VoiceNoteBot, run_bot

__all__ = [
    "BotTokenRefused",
    "ChatOptions",
    "PacingOptions",
    "Persona",
    "Timing",
    "VoiceNoteBot",
    "default_personas",
    "run_bot",
]
