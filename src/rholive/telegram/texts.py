"""Everything the bot says on its own (not the model's words): short, polite, one place to change them."""

from __future__ import annotations

CORRUPT_NOTE = "Sorry, I couldn't read that voice note — it seems damaged. Could you record it again?"
EMPTY_NOTE = "That voice note is empty — nothing to listen to. Could you record it again?"
DOWNLOAD_FAILED = "Sorry, I couldn't fetch that voice note from Telegram. Please send it again."
MODEL_FAILED = "Sorry, I can't reach the model right now. Please try again in a moment."
INTERNAL_ERROR = "Sorry, something went wrong on my side. Please try again."
CONTEXT_LOST = "I couldn't continue our earlier conversation, so we're starting a fresh one."
RESET_DONE = "Done — I've forgotten our conversation. Let's start fresh."
UNSUPPORTED = "I understand voice notes and text messages. Send me one of those!"


def too_long(seconds: float, limit: float) -> str:
    told = f"{seconds:.0f} s" if seconds else "too long"
    return f"That voice note is {told}; I can take up to {limit:.0f} s. Could you send a shorter one?"


def refused(chat_id: int) -> str:
    return (
        "This bot doesn't answer this chat yet.\n"
        f"Your chat id is {chat_id}. Its owner can allow this chat by starting it with:\n"
        f"rholive telegram --allow {chat_id}"
    )


def welcome(personas: list[str]) -> str:
    return (
        "Hi! Send me a voice note and I'll answer with one (and its transcript); text works too.\n"
        "Commands: /reset forgets our conversation, /voice on|off switches spoken answers, "
        f"/persona NAME changes who I am ({', '.join(personas)}).\n"
        "In a group: /join brings me into its voice chat, /leave takes me out, /call says where I am."
    )


def voice_usage(current: bool) -> str:
    return f"Spoken answers are {'on' if current else 'off'}. Use /voice on or /voice off."


def voice_set(on: bool) -> str:
    return "Spoken answers are on." if on else "Spoken answers are off: I'll answer voice notes in text."


def persona_list(names: list[str], current: str) -> str:
    return f"Current persona: {current}. Available: {', '.join(names)}. Use /persona NAME."


def persona_unknown(name: str, names: list[str]) -> str:
    return f"I don't know the persona {name!r}. Available: {', '.join(names)}."


def persona_set(name: str) -> str:
    return f"I'm now {name!r}. That starts a new conversation."
