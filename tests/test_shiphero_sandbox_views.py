"""The sandbox ShipHero endpoints over a real socket: auth/refresh and token expiry, the 401s, a
document the schema refuses, bodies that are not GraphQL requests."""

import pytest

from connectors.sandbox.models import ShipHeroToken
from connectors.shiphero.sandbox import control
from tests.shiphero_sandbox_helpers import ShipHero, account

QUERY = "{ account { request_id complexity data { id email is_3pl warehouses { id identifier } } } }"


@pytest.fixture
def shiphero(live_server, transactional_db):
    account()
    return ShipHero(live_server)


def test_refresh_gives_an_access_token_that_expires_in_28_days(shiphero):
    answer = shiphero.refresh()
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 2419200
    assert body["scope"] == "openid profile offline_access" and body["access_token"]
    data = shiphero.gql(QUERY).json()["data"]["account"]["data"]
    assert data["email"] == "dev@acme.example" and data["warehouses"][0]["identifier"] == "Primary"


def test_an_unknown_refresh_token_is_refused_as_auth0_refuses_it(shiphero):
    answer = shiphero.refresh("not-the-token")
    assert answer.status_code == 403
    assert answer.json() == {"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."}


def test_a_refresh_body_without_the_token_is_a_bad_request(shiphero):
    answer = shiphero.session.post(f"{shiphero.base}/auth/refresh", json={"username": "x"}, timeout=5)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"


def test_an_expired_token_gets_401_and_a_refresh_gets_a_working_one(shiphero):
    shiphero.refresh()
    control.expire_tokens(control.ShipHeroAccount.objects.get())
    refused = shiphero.gql(QUERY)
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "Bearer"
    assert refused.json()["errors"][0]["code"] == 401 and "data" not in refused.json()
    shiphero.refresh()
    assert shiphero.gql(QUERY).status_code == 200
    assert ShipHeroToken.objects.count() == 2


@pytest.mark.parametrize("token", ["", "made-up"])
def test_no_token_or_an_unknown_one_gets_401(shiphero, token):
    answer = shiphero.session.post(
        f"{shiphero.base}/graphql", json={"query": QUERY}, headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert answer.status_code == 401 and answer.json()["errors"][0]["message"]


def test_a_document_the_schema_refuses_gets_the_graphql_validation_error_and_no_data(shiphero):
    answer = shiphero.gql("{ orders { data(first: 1) { edges { node { id no_such_field } } } } }")
    assert answer.status_code == 400
    body = answer.json()
    assert "data" not in body
    assert body["errors"][0]["message"] == "Cannot query field 'no_such_field' on type 'Order'."
    assert body["errors"][0]["locations"]


def test_a_missing_required_argument_and_a_syntax_error_are_refused_too(shiphero):
    missing = shiphero.gql('mutation { order_cancel(data: {reason: "x"}) { request_id } }')
    assert missing.status_code == 400 and "order_id" in missing.json()["errors"][0]["message"]
    broken = shiphero.gql("{ orders { ")
    assert broken.status_code == 400 and broken.json()["errors"][0]["message"].startswith("Syntax Error")


def test_a_variable_of_the_wrong_type_is_refused_before_execution(shiphero):
    answer = shiphero.gql("query($id: String!) { order(id: $id) { request_id } }", {"id": 5})
    assert answer.status_code == 400 and "$id" in answer.json()["errors"][0]["message"]


def test_get_and_bodies_that_are_not_graphql_requests_are_refused(shiphero):
    shiphero.refresh()
    headers = {"Authorization": f"Bearer {shiphero.token}"}
    assert shiphero.session.get(f"{shiphero.base}/graphql", headers=headers, timeout=5).status_code == 405
    not_json = shiphero.session.post(f"{shiphero.base}/graphql", data="query", headers=headers, timeout=5)
    assert not_json.status_code == 400
    no_query = shiphero.session.post(f"{shiphero.base}/graphql", json={"variables": {}}, headers=headers, timeout=5)
    assert no_query.status_code == 400 and no_query.json()["errors"][0]["message"] == "Must provide query string."
