"""A setup the service refused because of the model: recognised, and said in one line.

The service closes with 1008 and "models/X is not found for API version V, or is not supported for
bidiGenerateContent..."; the close reason is cut at 123 bytes, so a long name can push the tail out: the
model's name at the start counts as much as the words. Other 1008s (a refused key or token, a resumption
handle that expired) are not about the model and stay as they are. Pure: no I/O.
"""

from __future__ import annotations

from rholive.live import models
from rholive.live.errors import LiveError, SetupRejected

POLICY = 1008
_MODEL_WORDS = ("not found", "not supported")
_OTHER_CAUSES = ("resumption", "resumed", "api key", "token")
_NAME_PREFIX = 24  # enough of a name to recognise it even when the reason is cut inside it


class ModelRefused(LiveError):
    """The endpoint refused the chosen model; the message is the whole line to show."""


def is_model_refusal(exc: SetupRejected, model: str) -> bool:
    if exc.http or exc.code != POLICY:
        return False
    entry = models.lookup(model)
    if entry is not None and not entry.available:
        return True
    reason = exc.reason.lower()
    if any(cause in reason for cause in _OTHER_CAUSES):
        return False
    name = models.full_name(model).lower()
    named = name[:_NAME_PREFIX] in reason or name.removeprefix("models/")[:_NAME_PREFIX] in reason
    return named or any(words in reason for words in _MODEL_WORDS)


def refusal_why(exc: SetupRejected, model: str) -> str:
    """The catalog's word when it knows the model is gone ("shut down on 2025-12-09 ..."), else the server's."""
    entry = models.lookup(model)
    if entry is not None and not entry.available:
        return entry.status_text()
    return f"the service refused it ({exc.reason.strip() or 'close code 1008'})"


def model_refused(exc: SetupRejected, model: str, live_models: list[str] | None) -> ModelRefused:
    """The error to raise instead of ``exc``; ``live_models`` from the endpoint's list (None: the catalog)."""
    return ModelRefused(models.refused_line(model, refusal_why(exc, model), live_models))
