"""Reading the model list from a real emulator over a real socket: every page, Live models kept, errors."""

from __future__ import annotations

import socket

import pytest

from rholive.emulator import Emulator, EmulatorOptions
from rholive.live import Endpoint, models
from rholive.live.listing import ListedModel, ListingError, list_models, live_model_names, live_models

KEY = "listing-client-key-9"


async def test_all_pages_are_read_and_the_filter_keeps_live_models() -> None:
    async with Emulator(EmulatorOptions(host="127.0.0.1", port=0, api_keys=[KEY])) as emu:
        endpoint = Endpoint(base_url=emu.url, api_key=KEY)
        listed = await list_models(endpoint, page_size=1)
        names = await live_model_names(endpoint)
    assert len(listed) > len(models.available())  # the non-Live models came too, page after page
    assert [m.name for m in live_models(listed)] == [entry.name for entry in models.available()]
    assert names == [entry.name for entry in models.available()]


async def test_a_refused_key_is_one_error_without_the_key() -> None:
    async with Emulator(EmulatorOptions(host="127.0.0.1", port=0, api_keys=[KEY])) as emu:
        endpoint = Endpoint(base_url=emu.url, api_key="not-the-key-31337")
        with pytest.raises(ListingError) as caught:
            await list_models(endpoint)
        assert await live_model_names(endpoint) is None
    assert "HTTP 403" in str(caught.value) and "not-the-key-31337" not in str(caught.value)


async def test_an_unreachable_server_is_one_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        with pytest.raises(ListingError, match="cannot read"):
            await list_models(Endpoint(base_url=f"http://127.0.0.1:{port}", api_key="k-unreachable-5"))


def test_live_means_bidi_generate_content() -> None:
    assert ListedModel("models/a", methods=("bidiGenerateContent",)).is_live
    assert not ListedModel("models/b", methods=("generateContent",)).is_live
