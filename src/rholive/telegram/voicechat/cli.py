"""The ``telegram`` command's voice chat flags → a `VoiceChatConfig` (or None: voice chats off)."""

from __future__ import annotations

from collections.abc import Mapping

from rholive.telegram.voicechat.plan import PlanOptions
from rholive.telegram.voicechat.speaker import MODES
from rholive.telegram.voicechat.supervisor import VoiceChatConfig


def voicechat_config(
    session: str | None,
    api_id: int | None,
    api_hash: str | None,
    idle_s: float,
    speakers: str,
    env: Mapping[str, str],
) -> VoiceChatConfig | None:
    """Flags win over ``RHOLIVE_TG_SESSION`` / ``RHOLIVE_TG_API_ID`` / ``RHOLIVE_TG_API_HASH``. No session:
    None. A session without the API id and hash (Telegram requires both for a user client) is an error whose
    message names the missing flags, never the values."""
    session = session or env.get("RHOLIVE_TG_SESSION") or None
    if speakers not in MODES:
        raise ValueError(f"--speakers must be one of {', '.join(MODES)}, not {speakers!r}")
    if idle_s <= 0:
        raise ValueError("--voicechat-idle must be a positive number of seconds")
    if session is None:
        return None
    raw_id = str(api_id) if api_id is not None else env.get("RHOLIVE_TG_API_ID", "")
    api_hash = api_hash or env.get("RHOLIVE_TG_API_HASH") or None
    missing = [
        name
        for name, value in (
            ("--api-id/RHOLIVE_TG_API_ID", raw_id),
            ("--api-hash/RHOLIVE_TG_API_HASH", api_hash),
        )
        if not value
    ]
    if missing:
        raise ValueError(f"a voice chat session needs {' and '.join(missing)} (from my.telegram.org)")
    if not raw_id.strip().isdigit():
        raise ValueError("the API id (--api-id/RHOLIVE_TG_API_ID) must be a number")
    assert api_hash is not None
    return VoiceChatConfig(
        session=session,
        api_id=int(raw_id),
        api_hash=api_hash,
        speakers=speakers,
        plan=PlanOptions(idle_leave_s=idle_s),
    )
