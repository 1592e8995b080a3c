"""connectors.transport.oauth: the one bearer-token helper (fetch, cache, renewal, one retry on a 401)
and authlib's authorization-code exchange sent through HttpClient over a real socket."""

from __future__ import annotations

import base64
import threading
import time
from urllib.parse import parse_qsl

import pytest
from authlib.oauth2.rfc6749 import OAuth2Token

from connectors.errors import AuthenticationError, NotFound, ServerError
from connectors.transport import BearerToken, authorization_code_grant, basic_authorization, oauth
from tests.http_servers import make_client, scripted_server


class Fetcher:
    """A token endpoint stand-in: hands out tok-1, tok-2, ... and counts the fetches."""

    def __init__(self, expires_in: float | None = 3600, error: Exception | None = None) -> None:
        self.count = 0
        self.expires_in = expires_in
        self.error = error

    def __call__(self) -> OAuth2Token:
        if self.error is not None:
            raise self.error
        self.count += 1
        answer = {"access_token": f"tok-{self.count}", "token_type": "Bearer"}
        if self.expires_in is not None:
            answer["expires_in"] = self.expires_in
        return OAuth2Token(answer)


class Service:
    """A protected call: refuses the tokens in ``refused`` with 401, records the Authorization it got."""

    def __init__(self, refused=(), status: int = 401) -> None:
        self.refused = set(refused)
        self.status = status
        self.seen: list[str] = []

    def __call__(self, headers: dict[str, str]) -> str:
        self.seen.append(headers["Authorization"])
        if headers["Authorization"].removeprefix("Bearer ") in self.refused:
            raise AuthenticationError("refused", status=self.status, method="GET", path="/x")
        return "ok"


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(oauth, "_clock", lambda: now[0])
    return now


def test_the_token_is_fetched_once_and_sent_as_a_bearer():
    fetch, service = Fetcher(), Service()
    token = BearerToken(fetch)
    assert token.send(service) == "ok" and token.send(service) == "ok"
    assert fetch.count == 1
    assert service.seen == ["Bearer tok-1", "Bearer tok-1"]


def test_the_token_is_renewed_after_80_percent_of_its_life(clock):
    fetch, service = Fetcher(expires_in=1000), Service()
    token = BearerToken(fetch)
    token.send(service)
    clock[0] += 790
    token.send(service)
    assert fetch.count == 1
    clock[0] += 20  # past 80 % of expires_in: renewed before it can expire mid-run
    token.send(service)
    assert fetch.count == 2 and service.seen[-1] == "Bearer tok-2"


def test_a_token_without_expires_in_lives_the_default_lifetime(clock):
    fetch = Fetcher(expires_in=None)
    token = BearerToken(fetch, default_lifetime=100)
    token.current()
    clock[0] += 79
    token.current()
    assert fetch.count == 1
    clock[0] += 2
    token.current()
    assert fetch.count == 2


def test_a_401_drops_the_token_and_retries_once_with_a_fresh_one():
    fetch, service = Fetcher(), Service(refused={"tok-1"})
    assert BearerToken(fetch).send(service) == "ok"
    assert fetch.count == 2
    assert service.seen == ["Bearer tok-1", "Bearer tok-2"]


def test_a_second_401_is_an_authentication_error_in_the_callers_words():
    fetch, service = Fetcher(), Service(refused={"tok-1", "tok-2", "tok-3"})

    def rejected(exc):
        return AuthenticationError(f"the WMS did not accept it (HTTP {exc.status})", status=exc.status)

    with pytest.raises(AuthenticationError, match=r"did not accept it \(HTTP 401\)") as info:
        BearerToken(fetch).send(service, rejected=rejected)
    assert info.value.status == 401
    assert fetch.count == 2 and len(service.seen) == 2, "re-authenticates once, not forever"


def test_a_403_is_not_retried():
    fetch, service = Fetcher(), Service(refused={"tok-1"}, status=403)
    with pytest.raises(AuthenticationError) as info:
        BearerToken(fetch).send(service)
    assert info.value.status == 403 and fetch.count == 1 and len(service.seen) == 1


def test_a_stored_token_is_sent_as_is_and_a_401_is_final():
    service = Service(refused={"app-token"})
    token = BearerToken.stored("app-token")
    assert token.configured and not token.renewable
    with pytest.raises(AuthenticationError, match="reconnect"):
        token.send(service, rejected=lambda exc: AuthenticationError("reconnect", status=exc.status))
    assert service.seen == ["Bearer app-token"], "one call: nothing could renew a stored token"
    # rejected answering None keeps the service's own error (Order Manager's 403: a missing scope)
    with pytest.raises(AuthenticationError, match="^refused$"):
        token.send(Service(refused={"app-token"}, status=403), rejected=lambda exc: None)


def test_a_stored_token_never_expires(clock):
    token = BearerToken.stored("app-token")
    clock[0] += 10**9
    assert token.current()["access_token"] == "app-token"


def test_an_empty_stored_token_is_not_configured():
    token = BearerToken.stored("")
    assert not token.configured
    with pytest.raises(AuthenticationError):
        token.renew()


def test_a_refused_token_request_propagates_unchanged():
    refusal = AuthenticationError("the token endpoint refused the client", status=401)
    with pytest.raises(AuthenticationError) as info:
        BearerToken(Fetcher(error=refusal)).send(Service(), rejected=lambda exc: AuthenticationError("reworded"))
    assert info.value is refusal


def test_one_fetch_for_many_threads():
    def slow_fetch():
        time.sleep(0.1)  # long enough for every thread to ask while the first fetch is under way
        return OAuth2Token({"access_token": "tok", "expires_in": 3600})

    calls = []
    token = BearerToken(lambda: calls.append(1) or slow_fetch())
    threads = [threading.Thread(target=token.current) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1


def test_dropping_a_token_another_thread_already_renewed_keeps_the_new_one():
    token = BearerToken(Fetcher())
    old = token.current()
    new = token.renew()
    token.drop(old)
    assert token.current() is new


def test_the_repr_never_shows_the_token():
    token = BearerToken(Fetcher())
    token.current()
    assert "tok-1" not in repr(token)


def test_basic_authorization_is_utf8():
    assert basic_authorization("cid", "s3cret") == "Basic " + base64.b64encode(b"cid:s3cret").decode()
    # authlib's own client_secret_basic encodes latin-1 and raises on this secret
    assert base64.b64decode(basic_authorization("cid", "sé✓").removeprefix("Basic ")) == "cid:sé✓".encode()


# -- the authorization-code exchange (authlib's OAuth2Client over HttpClient) --------------------
def test_the_code_exchange_posts_a_form_with_basic_client_credentials():
    with scripted_server() as server:
        server.script = [(200, {}, b'{"access_token": "tok", "token_type": "bearer"}')]
        records: list = []
        answer = authorization_code_grant(
            make_client(server.url, records),
            server.url + "/oauth/token",
            client_id="app",
            client_secret="sec",
            code="c0de",
            redirect_uri="https://hub/cb",
        )
    assert answer.status_code == 200 and answer.json()["access_token"] == "tok"
    [request] = server.requests
    assert (request["method"], request["path"]) == ("POST", "/oauth/token")
    assert request["headers"]["Authorization"] == "Basic " + base64.b64encode(b"app:sec").decode()
    assert request["headers"]["Accept"] == "application/json"
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert sorted(parse_qsl(request["body"].decode())) == [
        ("code", "c0de"),
        ("grant_type", "authorization_code"),
        ("redirect_uri", "https://hub/cb"),
    ]
    assert [(r.path, r.status) for r in records] == [("/oauth/token", 200)]


def test_the_code_exchange_is_not_resent_after_a_5xx_and_names_unwanted_statuses():
    with scripted_server() as server:
        server.script = [(503, {}, b"{}")] * 3
        http = make_client(server.url)
        exchange = dict(client_id="a", client_secret="s", code="c", redirect_uri="r")
        with pytest.raises(ServerError):
            authorization_code_grant(http, server.url + "/oauth/token", **exchange)
        assert len(server.requests) == 1, "a code is single-use: a lost answer is not re-sent"
        server.script = [(404, {}, b"{}")]
        with pytest.raises(NotFound):
            authorization_code_grant(http, server.url + "/oauth/token", ok_statuses=(200, 400), **exchange)
