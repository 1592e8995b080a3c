"""connectors.order_manager.install at the client seam (``responses``): the authorize URL, the exchange's wire
form, and a clear error for each refusal."""

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from connectors.order_manager.install import InstallError, authorize_url, exchange_code

TOKEN_URL = "https://app.example.test/oauth/token"


def test_authorize_url_has_the_documented_parameters():
    url = authorize_url(
        "https://app.skubana.com/oauth/authorize",
        app_key="k",
        redirect_uri="https://hub/cb",
        state="s1",
        scopes=["READ_ORDERS", "write_orders"],
    )
    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == ("app.skubana.com", "/oauth/authorize")
    assert "scope=read_orders+write_orders" in parts.query  # lower-case, "+"-joined as skubanaAccess does
    assert parse_qs(parts.query) == {
        "client_id": ["k"],
        "scope": ["read_orders write_orders"],
        "redirect_uri": ["https://hub/cb"],
        "response_type": ["code"],
        "state": ["s1"],
    }


def exchange(**kw):
    return exchange_code(TOKEN_URL, app_key="app", app_secret="sec", code="c0de", redirect_uri="https://hub/cb", **kw)


def test_exchange_posts_the_code_with_basic_app_credentials():
    with responses.RequestsMock() as rsps:
        rsps.add("POST", TOKEN_URL, json={"access_token": "tok", "token_type": "bearer", "scope": "read_orders"})
        grant = exchange()
        request = rsps.calls[0].request
    assert (grant.access_token, grant.token_type, grant.scope) == ("tok", "bearer", "read_orders")
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"app:sec").decode()
    assert parse_qs(request.body) == {
        "grant_type": ["authorization_code"],
        "code": ["c0de"],
        "redirect_uri": ["https://hub/cb"],
    }
    assert "c0de" not in request.url  # the one-time code stays out of URLs


@pytest.mark.parametrize(
    "status, body, wanted",
    [
        (
            400,
            {"error": "invalid_grant", "error_description": "Invalid authorization code"},
            "already used or has expired",
        ),
        (401, {"error": "invalid_client", "error_description": "Bad credentials"}, "refused the hub's app credentials"),
        (400, {"error": "unsupported_grant_type"}, "refused the code exchange (HTTP 400, unsupported_grant_type"),
    ],
)
def test_each_refusal_has_a_clear_message(status, body, wanted):
    with responses.RequestsMock() as rsps:
        rsps.add("POST", TOKEN_URL, status=status, json=body)
        with pytest.raises(InstallError) as info:
            exchange()
    assert wanted in str(info.value) and "sec" not in str(info.value)
    assert info.value.oauth_error == body["error"]


@pytest.mark.parametrize("body", [{"token_type": "bearer"}, {"access_token": "t", "token_type": "mac"}, ["x"]])
def test_an_answer_without_a_bearer_token_names_the_field(body):
    with responses.RequestsMock() as rsps:
        rsps.add("POST", TOKEN_URL, json=body)
        with pytest.raises(InstallError, match="POST /oauth/token"):
            exchange()


def test_missing_app_credentials_or_code_fail_before_any_call():
    with pytest.raises(InstallError, match="HUB_OM_APP_KEY"):
        exchange_code(TOKEN_URL, app_key="", app_secret="", code="c", redirect_uri="r")
    with pytest.raises(InstallError, match="without a code"):
        exchange_code(TOKEN_URL, app_key="a", app_secret="s", code="", redirect_uri="r")
