"""From settings to a Live endpoint: the real service, a given base URL, or the embedded emulator."""

from __future__ import annotations

import ssl
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from rholive.config import Settings
from rholive.live import Endpoint, SetupRejected, is_model_refusal, live_model_names, model_refused


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """A context trusting ``--ca-file`` (e.g. the emulator's self-signed certificate), else the default."""
    return ca_context(settings.ca_file)


def ca_context(ca_file: Path | str | None) -> ssl.SSLContext | None:
    """A context trusting the certificates in `ca_file`; None (the system's trust store) without one."""
    if ca_file is None:
        return None
    if not Path(ca_file).is_file():
        raise FileNotFoundError(f"CA file not found: {ca_file}")
    return ssl.create_default_context(cafile=str(ca_file))


@asynccontextmanager
async def open_endpoint(settings: Settings, *, quiet: bool = False) -> AsyncIterator[Endpoint]:
    """Yield where to connect. With no key and no base URL, run the emulator in-process meanwhile.
    A setup refused for its model comes out as one ``ModelRefused`` line (see `model_refusals_explained`)."""
    key = settings.api_key.get_secret_value() if settings.api_key else None
    if not settings.uses_embedded_emulator:
        endpoint = Endpoint(
            base_url=settings.base_url,
            api_key=key,
            api_version=settings.api_version,
            ssl=ssl_context(settings),
        )
        async with model_refusals_explained(endpoint, settings.model):
            yield endpoint
        return
    from rholive.emulator import Emulator, EmulatorOptions

    async with Emulator(EmulatorOptions(host="127.0.0.1", port=0)) as emulator:
        if not quiet:
            print(
                f"rholive: no GEMINI_API_KEY and no --base-url: using the embedded emulator at {emulator.url}",
                file=sys.stderr,
            )
        endpoint = Endpoint(base_url=emulator.url, api_version=settings.api_version)
        async with model_refusals_explained(endpoint, settings.model):
            yield endpoint


@asynccontextmanager
async def model_refusals_explained(endpoint: Endpoint, model: str) -> AsyncIterator[None]:
    """A ``SetupRejected`` for the model becomes ``ModelRefused``: one line naming the Live models the
    endpoint lists now (the catalog's when the list cannot be read) and the flag to pick one. Never a retry."""
    try:
        yield
    except SetupRejected as exc:
        if not is_model_refusal(exc, model):
            raise
        raise model_refused(exc, model, await live_model_names(endpoint)) from None
