"""Redis key names, all under one prefix per bot (two bots can share a Redis database)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

GROUP = "workers"  # the consumer group on the work stream


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str

    @classmethod
    def for_token(cls, bot_token: str) -> Keys:
        # the part before the colon is the bot's public user id, not the secret
        return cls(f"rholive:tg:{bot_token.split(':', 1)[0]}:")

    @property
    def work(self) -> str:
        """Stream of chat ids: "this chat has a note to answer"; read through the consumer group."""
        return self.prefix + "work"

    @property
    def allow(self) -> str:
        return self.prefix + "allow"

    @property
    def pace_global(self) -> str:
        return self.prefix + "pace:global"

    @property
    def calls(self) -> str:
        """Hash of the group voice chats that should be joined (chat id → 1)."""
        return self.prefix + "calls"

    def notes(self, chat_id: int) -> str:
        """Stream of one chat's unanswered updates, oldest first."""
        return f"{self.prefix}chat:{chat_id}:notes"

    def lease(self, chat_id: int) -> str:
        return f"{self.prefix}chat:{chat_id}:lease"

    def state(self, chat_id: int) -> str:
        return f"{self.prefix}chat:{chat_id}:state"

    def refused(self, chat_id: int) -> str:
        return f"{self.prefix}chat:{chat_id}:refused"

    def pace_chat(self, chat_id: int) -> str:
        return f"{self.prefix}chat:{chat_id}:pace"

    def seen(self, update_id: int) -> str:
        return f"{self.prefix}update:{update_id}:seen"

    def answered(self, update_id: int) -> str:
        return f"{self.prefix}update:{update_id}:answered"

    def call_lease(self, chat_id: int) -> str:
        return f"{self.prefix}call:{chat_id}:lease"

    def call_inbox(self, chat_id: int) -> str:
        return f"{self.prefix}call:{chat_id}:inbox"


def where(url: str) -> str:
    """HOST:PORT/N of a redis:// URL, for messages: never the password."""
    parts = urlsplit(url)
    db = parts.path.lstrip("/") or "0"
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}/{db}"
