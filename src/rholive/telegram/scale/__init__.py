"""Telegram past one machine: a front puts updates on a Redis stream, workers answer them.

- `front`: long polling (or a webhook) → one Redis transaction per update: the note onto its chat's stream,
  the chat's id onto the shared work stream (a consumer group).
- `worker`: reads the work stream, takes a chat's lease, answers the chat's notes oldest first, records each
  update as answered, acknowledges. A dead worker's entries are claimed by another once its lease expired.
- `state`: per-chat state (persona, voice, resumption handle, the conversation) as Redis hashes with expiry.
- `pacer`: Telegram's global and per-chat send limits, counted in Redis for all workers together.
- `calls`: group voice chats, each held by one worker through a lease.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rholive.lazy import lazy_attributes

if TYPE_CHECKING:
    from rholive.telegram.scale.run import ScaleOptions, run_scaled

# loaded on first use (PEP 562): `rholive telegram` without --redis never imports the Redis client
__all__ = ["ScaleOptions", "run_scaled"]

__getattr__ = lazy_attributes(__name__, {"ScaleOptions": "run", "run_scaled": "run"})
