import pytest

from rholive.live import Endpoint

PATH = "/ws/google.ai.generativelanguage.{v}.GenerativeService.{m}"


@pytest.mark.parametrize(
    ("base", "scheme"), [("ws://h:1", "ws"), ("http://h:1", "ws"), ("wss://h:1", "wss"), ("https://h:1", "wss")]
)
@pytest.mark.parametrize("version", ["v1", "v1beta", "v1alpha"])
def test_url_for_every_scheme_and_version(base: str, scheme: str, version: str) -> None:
    ep = Endpoint(base_url=base, api_key="k-secret", api_version=version)
    assert ep.url() == f"{scheme}://h:1" + PATH.format(v=version, m="BidiGenerateContent")
    assert ep.headers() == {"x-goog-api-key": "k-secret"}


def test_default_is_the_real_service_and_the_key_is_never_in_the_url() -> None:
    ep = Endpoint(api_key="k-secret")
    assert ep.url().startswith("wss://generativelanguage.googleapis.com/ws/")
    assert "k-secret" not in ep.url() and ep.is_google


def test_ephemeral_token_uses_the_constrained_endpoint_and_a_token_header() -> None:
    ep = Endpoint(base_url="https://h", ephemeral_token="auth_tokens/abc", api_version="v1alpha")
    assert ep.url().endswith("v1alpha.GenerativeService.BidiGenerateContentConstrained")
    assert ep.headers() == {"Authorization": "Token auth_tokens/abc"}
    assert "abc" not in ep.url()


def test_repr_hides_secrets() -> None:
    text = repr(Endpoint(base_url="ws://h", api_key="k-secret", ephemeral_token="auth_tokens/t-secret"))
    assert "k-secret" not in text and "t-secret" not in text


def test_bad_scheme_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="ws://, wss://"):
        Endpoint(base_url="ftp://h")
