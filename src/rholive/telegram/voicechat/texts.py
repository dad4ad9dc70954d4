"""What the bot says in a group about its voice chat presence: one place to change the wording.

The status words the issue names ("joined", "left: idle", "call dropped, rejoining") start the lines, so a
user (and a test) can rely on them.
"""

from __future__ import annotations

JOINING = "joining the voice chat…"
JOINED = "joined"
ALREADY_JOINED = "joined (already in this voice chat)"
ALREADY_JOINING = "already joining this voice chat"
STILL_LEAVING = "still leaving the voice chat; try /join again in a moment"
NOT_IN_CALL = "not in a voice chat here; use /join"
NOT_SET_UP = (
    "Voice chats are not set up for this bot: start it with --voicechat-session (a Telethon session string "
    "of a user account that is a member of this group) and --api-id/--api-hash."
)
NOT_A_GROUP = "Voice chats exist in groups only: add me and the user account to a group, then /join there."
NO_VOICE_CHAT = "no voice chat is running in this group: start one, then /join"
NOT_MEMBER = "the user account is not a member of this group: add it, then /join"
BAD_SESSION = "the user account's session is not valid (log in again and pass a new --voicechat-session)"


def left(reason: str) -> str:
    return f"left: {reason}"


DROPPED = "call dropped"
CRASHED = "the call crashed"


def rejoining(what: str, detail: str, attempt: int, limit: int) -> str:
    """``what`` is DROPPED or CRASHED; ``detail`` says why."""
    return f"{what}, rejoining (attempt {attempt} of {limit}): {detail}"


def gave_up(what: str, detail: str, limit: int) -> str:
    return f"{what}: {detail}; gave up rejoining after {limit} attempts. Use /join to try again."


def join_failed(message: str) -> str:
    return f"could not join: {message}"


def status(state: str, attempts: int, limit: int) -> str:
    if state == "waiting":
        return f"call dropped, rejoining (attempt {attempts} of {limit})"
    return state
