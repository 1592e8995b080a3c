"""connectors.shiphero.calls: one GraphQL call with its token (shared, re-minted once on a 401),
its credits (a code-30 answer waits the announced time, measured on a fake clock) and its errors."""

import json

import pytest
import responses

from connectors.errors import AuthenticationError, MalformedResponse, RateLimited, RequestRejected, ServerError
from connectors.shiphero import operations as ops
from connectors.shiphero import token as sh_token
from connectors.shiphero.calls import THROTTLE_RETRIES, GraphQLSession
from connectors.shiphero.credits import CreditBucket
from connectors.transport import HttpClient
from tests.shiphero_answers import BASE, envelope, error, stub_graphql, stub_token, throttled, token_answer


class FakeTime:
    def __init__(self):
        self.now, self.slept = 0.0, []

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def fake():
    return FakeTime()


@pytest.fixture
def session(fake):
    http = HttpClient(BASE, max_retries=1, backoff_factor=0, service="ShipHero")
    tokens = sh_token.SharedTokens()
    bucket = CreditBucket(capacity=1000, refill_per_second=50, clock=lambda: fake.now, sleep=fake.sleep)
    yield GraphQLSession(http, key="account-key", refresh_token="refresh-1", bucket=bucket, tokens=tokens)
    http.close()


QUOTA = envelope("user_quota", None) | {
    "data": {"user_quota": {"credits_remaining": 5, "max_available": 10, "increment_rate": 1}}
}
ACCOUNT_ORDERS = {"OrdersByReference": [envelope("orders", {"edges": []}, complexity=11)]}


def test_sends_the_document_variables_and_bearer_token(rsps, session):
    tokens = stub_token(rsps, token_answer("tok-1"))
    seen = stub_graphql(rsps, ACCOUNT_ORDERS)
    root = session.execute(ops.ORDERS_BY_REFERENCE, {"partner_order_id": "OM-1"}, action="look up")
    assert root["complexity"] == 11
    [call] = seen
    assert call["payload"] == {
        "query": ops.ORDERS_BY_REFERENCE.text,
        "variables": {"partner_order_id": "OM-1"},
        "operationName": "OrdersByReference",
    }
    assert call["headers"]["Authorization"] == "Bearer tok-1"
    assert tokens == [{"refresh_token": "refresh-1"}]
    assert session.bucket.estimate("OrdersByReference") == 11


def test_the_token_is_shared_and_a_401_mints_once_more(rsps, session):
    tokens = stub_token(rsps, token_answer("old"), token_answer("new"))
    answers = iter(
        [(401, {"message": "Token expired"}), envelope("orders", {"edges": []}), envelope("orders", {"edges": []})]
    )
    seen = stub_graphql(rsps, lambda payload, request: next(answers))
    session.execute(ops.ORDERS_BY_REFERENCE, {}, action="look up")
    session.execute(ops.ORDERS_BY_REFERENCE, {}, action="look up")
    assert [c["headers"]["Authorization"] for c in seen] == ["Bearer old", "Bearer new", "Bearer new"]
    assert len(tokens) == 2


def test_a_second_401_is_an_authentication_error(rsps, session):
    stub_token(rsps, token_answer("a"), token_answer("b"))
    stub_graphql(rsps, {"OrdersByReference": [(401, {"message": "nope"})]})
    with pytest.raises(AuthenticationError, match="did not accept this warehouse's token while trying to look up"):
        session.execute(ops.ORDERS_BY_REFERENCE, {}, action="look up")


def test_a_throttled_answer_waits_the_announced_time_then_succeeds(rsps, session, fake):
    stub_token(rsps)
    seen = stub_graphql(
        rsps, {"OrdersByReference": [throttled(wait="12 seconds", required=400), envelope("orders", {"edges": []})]}
    )
    session.execute(ops.ORDERS_BY_REFERENCE, {}, action="look up")
    assert len(seen) == 2
    assert fake.slept == [pytest.approx(12.0)], "slept exactly what ShipHero announced, once"


def test_throttled_again_and_again_is_rate_limited(rsps, session, fake):
    stub_token(rsps)
    seen = stub_graphql(rsps, {"OrdersByReference": [throttled(wait="2 seconds", required=10)]})
    with pytest.raises(RateLimited) as caught:
        session.execute(ops.ORDERS_BY_REFERENCE, {}, action="look up")
    assert len(seen) == THROTTLE_RETRIES + 1 and caught.value.retry_after == 2.0


def test_graphql_errors_raise_their_type_unless_asked_for(rsps, session):
    stub_token(rsps)
    stub_graphql(rsps, {"CreateOrder": [error("Invalid sku", code=3)]})
    with pytest.raises(RequestRejected, match="Invalid sku"):
        session.execute(ops.CREATE_ORDER, {"data": {"shipping_address": {}}}, action="create order")
    root, problems = session.execute(
        ops.CREATE_ORDER, {"data": {"shipping_address": {}}}, action="create order", with_problems=True
    )
    assert root is None and problems[0].code == 3


def test_a_400_with_graphql_errors_is_a_rejection(rsps, session):
    stub_token(rsps)
    stub_graphql(rsps, {"OrdersByReference": [(400, {"errors": [{"message": "Syntax Error", "locations": []}]})]})
    with pytest.raises(RequestRejected, match="schema may have changed"):
        session.execute(ops.ORDERS_BY_REFERENCE, {}, action="look up")


def test_an_answer_without_its_root_is_malformed(rsps, session):
    stub_token(rsps)
    stub_graphql(rsps, {"OrdersByReference": [{"data": {}}]})
    with pytest.raises(MalformedResponse, match="no orders object"):
        session.execute(ops.ORDERS_BY_REFERENCE, {}, action="look up")


def test_queries_are_retried_on_5xx_but_mutations_are_not(rsps, session):
    stub_token(rsps)
    seen = stub_graphql(rsps, lambda payload, request: (503, {"message": "busy"}))
    with pytest.raises(ServerError):
        session.execute(ops.ORDERS_BY_REFERENCE, {}, action="look up")
    assert len(seen) == 2  # max_retries=1: sent again
    seen.clear()
    with pytest.raises(ServerError):
        session.execute(ops.CREATE_ORDER, {"data": {"shipping_address": {}}}, action="create order")
    assert len(seen) == 1, "a mutation whose answer was lost is never sent twice"


def cut_short_then(rsps, good: dict) -> list[str]:
    """POST /graphql answers a JSON body cut in half once, then `good`; returns the operations sent."""
    sent: list[str] = []

    def callback(request):
        sent.append(json.loads(request.body)["operationName"])
        body = json.dumps(good)
        return 200, {"Content-Type": "application/json"}, body[: len(body) // 2] if len(sent) == 1 else body

    rsps.add_callback(responses.POST, f"{BASE}/graphql", callback=callback)
    return sent


def test_a_query_answered_with_cut_short_json_is_asked_once_more_and_a_mutation_never(rsps, session):
    """A query is idempotent: an answer that is not JSON (cut short on the way, as a lost answer)
    is asked for once more, so a long paged read is not lost to one bad page; a second bad answer
    is the error. A mutation's unreadable answer is never resent (the jobs look the order up)."""
    stub_token(rsps)
    sent = cut_short_then(rsps, envelope("orders", {"edges": []}, complexity=11))
    root = session.execute(ops.ORDERS_BY_REFERENCE, {"partner_order_id": "OM-1"}, action="look up")
    assert root["complexity"] == 11 and sent == ["OrdersByReference", "OrdersByReference"]

    rsps.reset()
    stub_token(rsps)
    sent = cut_short_then(rsps, envelope("order_create", {"order": None}))
    with pytest.raises(MalformedResponse, match="invalid JSON"):
        session.execute(ops.CREATE_ORDER, {"data": {"shipping_address": {}}}, action="create order")
    assert sent == ["CreateOrder"], "a mutation whose answer was unreadable is never sent twice"


def test_a_query_answered_with_cut_short_json_twice_is_malformed(rsps, session):
    stub_token(rsps)
    seen = []

    def callback(request):
        seen.append(1)
        return 200, {"Content-Type": "application/json"}, '{"data": {"orders": {"edg'

    rsps.add_callback(responses.POST, f"{BASE}/graphql", callback=callback)
    with pytest.raises(MalformedResponse, match="invalid JSON"):
        session.execute(ops.ORDERS_BY_REFERENCE, {}, action="look up")
    assert len(seen) == 2
