"""connectors.shiphero.token: the refresh-token exchange (POST /auth/refresh) and the per-process
token cache keyed by a SHA-256 of (base URL, refresh token), renewed ahead of expiry."""

import hashlib
import threading

import pytest
import responses

from connectors.errors import AuthenticationError, MalformedResponse
from connectors.shiphero import token
from connectors.transport import HttpClient
from tests.shiphero_answers import BASE, REFRESH_URL, stub_token, token_answer


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def http():
    client = HttpClient(BASE, max_retries=0, service="ShipHero")
    yield client
    client.close()


def test_request_token_sends_the_refresh_token_and_reads_expires_in(rsps, http):
    seen = stub_token(rsps, token_answer("tok-A", 2419200))
    minted = token.request_token(http, "refresh-123")
    assert seen == [{"refresh_token": "refresh-123"}]
    assert minted["access_token"] == "tok-A" and minted["expires_in"] == 2419200.0


@pytest.mark.parametrize("status", [401, 403, 400])
def test_a_refused_refresh_token_is_an_authentication_error(rsps, http, status):
    stub_token(rsps, (status, {"code": status, "message": "Invalid refresh token"}))
    with pytest.raises(AuthenticationError, match="refused the refresh token") as caught:
        token.request_token(http, "stale")
    assert "stale" not in str(caught.value)


@pytest.mark.parametrize(
    "answer, words",
    [
        ({"expires_in": 60}, "no access_token"),
        ({"access_token": "t", "expires_in": -5}, "invalid expires_in"),
        ({"access_token": "t", "expires_in": "soon"}, "invalid expires_in"),
    ],
)
def test_malformed_token_answers_name_the_field(rsps, http, answer, words):
    stub_token(rsps, answer)
    with pytest.raises(MalformedResponse, match=words):
        token.request_token(http, "r")


def test_no_expires_in_means_the_default_lifetime(rsps, http):
    stub_token(rsps, {"access_token": "t"})
    assert token.request_token(http, "r")["expires_in"] == token.DEFAULT_TOKEN_LIFETIME


def test_an_empty_refresh_token_is_refused_without_a_call(rsps, http):
    with pytest.raises(AuthenticationError, match="No ShipHero refresh token"):
        token.request_token(http, " ")
    assert len(rsps.calls) == 0


def test_cache_key_is_a_sha256_of_base_url_and_refresh_token():
    key = token.cache_key(BASE + "/", "secret-refresh")
    assert key == hashlib.sha256(f"{BASE}\0secret-refresh".encode()).hexdigest()
    assert "secret-refresh" not in key and key != token.cache_key(BASE, "other")


def test_shared_tokens_renew_ahead_of_expiry_and_invalidate(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(token, "_clock", lambda: now[0])
    cache = token.SharedTokens()
    minted = []

    def mint():
        minted.append(1)
        return {"access_token": f"t{len(minted)}", "expires_in": 100.0}

    assert cache.current("k", mint)["access_token"] == "t1"
    now[0] += 79  # before 80 % of the lifetime: cached
    assert cache.current("k", mint)["access_token"] == "t1"
    now[0] += 2  # past 80 %: minted again, before it expires
    assert cache.current("k", mint)["access_token"] == "t2"
    cache.invalidate("k", {"access_token": "t1"})  # an old token: the new one stays
    assert cache.current("k", mint)["access_token"] == "t2"
    cache.invalidate("k", {"access_token": "t2"})
    assert cache.current("k", mint)["access_token"] == "t3"
    assert "t3" not in repr(cache)


def test_one_mint_at_a_time_per_account():
    cache = token.SharedTokens()
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow_mint():
        calls.append(1)
        started.set()
        release.wait(5)
        return {"access_token": "only", "expires_in": 100.0}

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.current("k", slow_mint))) for _ in range(4)]
    for thread in threads:
        thread.start()
    started.wait(5)
    release.set()
    for thread in threads:
        thread.join(5)
    assert len(calls) == 1 and [r["access_token"] for r in results] == ["only"] * 4


def test_refresh_url_is_under_the_base_url():
    assert REFRESH_URL == BASE + token.REFRESH_PATH
