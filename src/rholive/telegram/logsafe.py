"""Keep the bot token and the API key out of every log line.

aiogram and aiohttp can log request URLs, and Bot API URLs carry the token (``/bot<token>/method``). A
`RedactingFilter` on every handler of the root logger rewrites each record — message, arguments, traceback —
replacing the known secrets, and anything shaped like a bot token, by ``[redacted]``. It sits on handlers
(not loggers) because a logger's filters do not see records propagated from child loggers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

REDACTED = "[redacted]"
# A Bot API token: the bot's numeric id, a colon, ~35 URL-safe characters.
_TOKEN_SHAPE = re.compile(r"\b\d{3,}:[A-Za-z0-9_-]{20,}")


class RedactingFilter(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return _TOKEN_SHAPE.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what we can, still redacted
            message = f"{record.msg} {record.args}"
        record.msg, record.args = self.redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def install_redaction(secrets: Iterable[str], logger: logging.Logger | None = None) -> RedactingFilter:
    """Put one `RedactingFilter` on every handler of ``logger`` (default: root); adds a stderr handler when
    there is none, so nothing reaches Python's last-resort handler unfiltered. Returns the filter."""
    target = logger or logging.getLogger()
    redactor = RedactingFilter(secrets)
    if not target.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        target.addHandler(handler)
    for handler in target.handlers:
        handler.addFilter(redactor)
    return redactor


def remove_redaction(redactor: RedactingFilter, logger: logging.Logger | None = None) -> None:
    for handler in (logger or logging.getLogger()).handlers:
        handler.removeFilter(redactor)
