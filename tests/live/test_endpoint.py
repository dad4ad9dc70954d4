"""Endpoint: URL building for every scheme, version and credential; no secret in URLs or reprs."""

from __future__ import annotations

import logging
import ssl

import pytest

from rholive.live import Endpoint
from rholive.live.endpoint import RedactingLogger

KEY = "AIza-key-that-must-stay-secret"
TOKEN = "auth_tokens/token-that-must-stay-secret"
PATH = "/ws/google.ai.generativelanguage.{v}.GenerativeService.BidiGenerateContent"


@pytest.mark.parametrize(
    ("base", "root"),
    [
        ("ws://127.0.0.1:8080", "ws://127.0.0.1:8080"),
        ("wss://live.example:443/", "wss://live.example:443"),
        ("http://localhost:9000", "ws://localhost:9000"),
        ("https://localhost:9000", "wss://localhost:9000"),
        ("HTTPS://proxy.example/prefix/", "wss://proxy.example/prefix"),
        (None, "wss://generativelanguage.googleapis.com"),
    ],
)
@pytest.mark.parametrize("version", ["v1", "v1beta", "v1alpha"])
def test_url_for_every_scheme_and_version(base: str | None, root: str, version: str) -> None:
    endpoint = Endpoint(base, api_key=KEY, api_version=version)
    assert endpoint.url() == root + PATH.format(v=version)
    assert endpoint.headers() == {"x-goog-api-key": KEY}
    assert KEY not in endpoint.url()


def test_default_version_is_v1beta_and_v1alpha_for_tokens() -> None:
    assert Endpoint("ws://h:1").url().endswith(PATH.format(v="v1beta"))
    assert Endpoint("ws://h:1", api_key=KEY).url().endswith(PATH.format(v="v1beta"))
    assert (
        Endpoint("ws://h:1", ephemeral_token=TOKEN).url().endswith(PATH.format(v="v1alpha") + "Constrained")
    )


@pytest.mark.parametrize("version", ["v1", "v1beta", "v1alpha"])
def test_ephemeral_token_uses_the_constrained_method_and_an_authorization_header(version: str) -> None:
    endpoint = Endpoint("https://h:2", ephemeral_token=TOKEN, api_version=version)
    assert endpoint.url() == "wss://h:2" + PATH.format(v=version) + "Constrained"
    assert endpoint.headers() == {"Authorization": f"Token {TOKEN}"}
    assert TOKEN not in endpoint.url()


def test_no_credential_means_no_header() -> None:
    assert Endpoint("ws://h:1").headers() == {}


@pytest.mark.parametrize("endpoint", [Endpoint("ws://h:1", api_key=KEY), Endpoint(ephemeral_token=TOKEN)])
def test_repr_and_str_show_no_secret(endpoint: Endpoint) -> None:
    for text in (repr(endpoint), str(endpoint), f"{endpoint}"):
        assert KEY not in text and TOKEN not in text and "secret" not in text
    (secret,) = endpoint.secrets()
    assert endpoint.redact(f"refused {secret}!") == "refused ***!"


def test_http_root_for_rest_calls() -> None:
    assert Endpoint("ws://h:1").http_root == "http://h:1"
    assert Endpoint("https://h:1/p").http_root == "https://h:1/p"


def test_ssl_context_only_for_secure_urls() -> None:
    context = ssl.create_default_context()
    assert Endpoint("https://h:1", ssl=context).ssl_for_connect() is context
    assert Endpoint("ws://h:1", ssl=context).ssl_for_connect() is None


@pytest.mark.parametrize("base_url", [None, "wss://h:1", "https://h:1/prefix"])
def test_a_secure_url_without_a_context_verifies_with_the_system_store(base_url: str | None) -> None:
    """websockets refuses ssl=None for wss://: the real service's default path must get a context."""
    context = Endpoint(base_url).ssl_for_connect()
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"base_url": "ftp://h:1"}, "must look like"),
        ({"base_url": "h:1"}, "must look like"),
        ({"base_url": f"wss://h:1/?key={KEY}"}, "must not carry a query"),
        ({"base_url": f"wss://user:{KEY}@h:1"}, "credentials"),
        ({"api_version": "beta"}, "invalid API version"),
        ({"api_key": KEY, "ephemeral_token": TOKEN}, "either"),
    ],
)
def test_bad_endpoints_fail_at_once_without_echoing_secrets(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        Endpoint(**kwargs)
    assert KEY not in str(caught.value) and TOKEN not in str(caught.value)


def test_redacting_logger_hides_header_values(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    adapter = RedactingLogger(logging.getLogger("test.ws"), Endpoint("ws://h:1", api_key=KEY))
    adapter.debug("> %s: %s", "x-goog-api-key", KEY)
    assert caplog.messages == ["> x-goog-api-key: ***"]
