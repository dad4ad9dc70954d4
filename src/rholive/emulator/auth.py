"""API keys and ephemeral tokens, checked like the service does. Secrets never enter a message or a log.

A refused credential raises ``Refused`` with a reason that names the problem but never the secret; the
WebSocket layer closes with 1008 and that reason, the REST layer answers with ``status`` and a Google-style
error body.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rholive.live import keys

TOKEN_PREFIX = "auth_tokens/"
DEFAULT_EXPIRE_S = 30 * 60
DEFAULT_NEW_SESSION_S = 60
MAX_EXPIRE_S = 20 * 3600


class Refused(Exception):
    def __init__(self, reason: str, status: int = 401) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(slots=True)
class Token:
    name: str
    expire_at: float
    new_session_until: float
    uses_left: int | None  # None: no limit (uses=0 at creation)
    locked_setup: dict[str, Any] | None
    field_mask: list[str] | None

    def __repr__(self) -> str:  # the name IS the secret
        return f"Token(uses_left={self.uses_left}, locked={self.locked_setup is not None})"


@dataclass(frozen=True, slots=True)
class Credential:
    """Who is connecting: an API key holder (token None), a token holder, or nobody in embedded mode."""

    token: Token | None = None


def _timestamp(value: Any, field_name: str) -> float:
    if not isinstance(value, str):
        raise Refused(f"{field_name} must be an RFC 3339 timestamp string", 400)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Refused(f"{field_name} is not a valid RFC 3339 timestamp", 400) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


class Auth:
    def __init__(self, api_keys: list[str], clock: Callable[[], float]) -> None:
        self._keys = [k.encode() for k in api_keys if k]
        self._tokens: dict[str, Token] = {}
        self._clock = clock

    @property
    def keys_required(self) -> bool:
        return bool(self._keys)

    def _key_matches(self, key: str) -> bool:
        given = key.encode()
        return any(hmac.compare_digest(given, k) for k in self._keys)

    def check_key(self, headers: Mapping[str, str], query: Mapping[str, str]) -> None:
        """A key from ``x-goog-api-key`` or ``?key=``, when keys are configured."""
        if not self._keys:
            return
        key = headers.get("x-goog-api-key") or query.get("key")
        if not key:
            raise Refused(
                "Missing API key: pass it in the x-goog-api-key header or the key query parameter", 401
            )
        if not self._key_matches(key):
            raise Refused("API key not valid. Please pass a valid API key.", 403)

    def identify(self, headers: Mapping[str, str], query: Mapping[str, str], constrained: bool) -> Credential:
        """Check the credential of a WebSocket upgrade (uses are only consumed by ``admit``)."""
        authorization = headers.get("Authorization", "")
        name = authorization[len("Token ") :].strip() if authorization.startswith("Token ") else None
        name = name or query.get("access_token")
        if name is None:
            self.check_key(headers, query)
            return Credential()
        if not constrained:
            raise Refused("Ephemeral tokens are only accepted on the BidiGenerateContentConstrained endpoint")
        token = self._tokens.get(name)
        if token is None:
            raise Refused("Ephemeral token not valid (unknown token)")
        if self._clock() >= token.expire_at:
            raise Refused("Ephemeral token expired (expireTime has passed)")
        return Credential(token)

    def admit(self, credential: Credential, resuming: bool) -> None:
        """Start a session: a new session needs a use left and the newSessionExpireTime window."""
        token = credential.token
        if token is None or resuming:
            return  # resuming a session does not count as a use
        if self._clock() >= token.new_session_until:
            raise Refused(
                "Ephemeral token can no longer start new sessions (newSessionExpireTime has passed)"
            )
        if token.uses_left is not None:
            if token.uses_left <= 0:
                raise Refused("Ephemeral token has no uses left")
            token.uses_left -= 1

    def mint(self, body: Any) -> dict[str, Any]:
        """``POST /{version}/auth_tokens``: a new token from the request body (key already checked)."""
        if not isinstance(body, dict):
            raise Refused("The request body must be a JSON object", 400)
        now = self._clock()
        expire = keys.get(body, "expireTime")
        expire_at = now + DEFAULT_EXPIRE_S if expire is None else _timestamp(expire, "expireTime")
        if expire_at <= now:
            raise Refused("expireTime must be in the future", 400)
        if expire_at > now + MAX_EXPIRE_S:
            raise Refused("expireTime must be at most 20 hours from now", 400)
        window = keys.get(body, "newSessionExpireTime")
        new_until = (
            now + DEFAULT_NEW_SESSION_S if window is None else _timestamp(window, "newSessionExpireTime")
        )
        new_until = min(new_until, expire_at)
        uses = keys.get(body, "uses", 1)
        try:
            uses = int(uses)
        except (TypeError, ValueError):
            raise Refused("uses must be an integer", 400) from None
        if uses < 0:
            raise Refused("uses must not be negative", 400)
        locked = keys.get(body, "bidiGenerateContentSetup")
        if locked is not None and not isinstance(locked, dict):
            raise Refused("bidiGenerateContentSetup must be an object", 400)
        if isinstance(keys.get(locked, "setup"), dict):
            locked = keys.get(locked, "setup")  # the BidiGenerateContent message form, unwrapped
        mask = keys.get(body, "fieldMask")
        if isinstance(mask, str):
            mask = [m.strip() for m in mask.split(",") if m.strip()]
        elif mask is not None and not (isinstance(mask, list) and all(isinstance(m, str) for m in mask)):
            raise Refused("fieldMask must be a comma-separated string of field paths", 400)
        name = TOKEN_PREFIX + secrets.token_urlsafe(24)
        self._tokens[name] = Token(name, expire_at, new_until, uses or None, locked, mask or None)
        answer: dict[str, Any] = {
            "name": name,
            "expireTime": iso(expire_at),
            "newSessionExpireTime": iso(new_until),
            "uses": uses,
        }
        if locked is not None:
            answer["bidiGenerateContentSetup"] = locked
        return answer


def _canonical_top(obj: dict[str, Any]) -> dict[str, Any]:
    """camelCase keys on the first two levels (user data such as tool schemas lies deeper)."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if isinstance(value, dict):
            value = {keys.canonical(k): v for k, v in value.items()}
        out[keys.canonical(key)] = value
    return out


def apply_locked_setup(client: dict[str, Any], token: Token) -> dict[str, Any]:
    """The client's setup with the token's locked fields forced in (all of them, or those in fieldMask)."""
    if token.locked_setup is None:
        return client
    merged = _canonical_top(client)
    locked = _canonical_top(token.locked_setup)
    paths = token.field_mask or list(locked)
    for path in paths:
        head, _, tail = (keys.canonical(p) for p in path.partition("."))
        if not tail:
            if head in locked:
                merged[head] = locked[head]
            else:
                merged.pop(head, None)
            continue
        source = locked.get(head)
        target = merged.setdefault(head, {})
        if not isinstance(target, dict):
            target = merged[head] = {}
        if isinstance(source, dict) and tail in source:
            target[tail] = source[tail]
        else:
            target.pop(tail, None)
    return merged
