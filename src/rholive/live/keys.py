"""Reading Live JSON that may use either key spelling and either base64 alphabet.

The official SDK mixes snake_case and camelCase, and sends URL-safe base64; the service accepts both, so both
our client and our emulator read every key in both spellings and decode both alphabets. User data (tool call
arguments, tool responses) is never rewritten: only the keys we look up are matched in two spellings.
"""

from __future__ import annotations

import base64
import binascii
import re
from functools import lru_cache
from typing import Any

_CAMEL_BOUNDARY = re.compile(r"(?<!^)(?=[A-Z])")


@lru_cache(maxsize=512)
def snake(camel: str) -> str:
    """``lastConsumedClientMessageIndex`` -> ``last_consumed_client_message_index``."""
    # cached: the parser asks for the same few dozen keys on every frame
    return _CAMEL_BOUNDARY.sub("_", camel).lower()


def get(obj: Any, camel: str, default: Any = None) -> Any:
    """``obj[camel]`` or ``obj[snake(camel)]``; ``default`` when obj is not a dict or has neither."""
    if not isinstance(obj, dict):
        return default
    if camel in obj:
        return obj[camel]
    return obj.get(snake(camel), default)


def has(obj: Any, camel: str) -> bool:
    return isinstance(obj, dict) and (camel in obj or snake(camel) in obj)


def canonical(key: str) -> str:
    """The camelCase spelling of a key given in either spelling."""
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def b64decode_any(data: str) -> bytes:
    """Decode standard or URL-safe base64, with or without padding. Raises ValueError when invalid."""
    if not isinstance(data, str):
        raise ValueError("base64 data must be a string")
    try:  # the common case, padded standard base64, without the copies below
        return binascii.a2b_base64(data, strict_mode=True)
    except (binascii.Error, ValueError):
        pass
    cleaned = data.strip().replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"invalid base64 ({exc})") from None
