"""Fault injection: each fault at rate 1.0 and 0, on both sides; the quota bucket; repeatable seeds."""

import base64
import json
import time

import pytest

from connectors.sandbox import faults
from connectors.sandbox.control import account_setup, fault_setup, seeding
from tests.sandbox_helpers import om_install_token

OM = "/sandbox/order-manager"
WMS = "/sandbox/warehouse-manager"


@pytest.fixture
def accounts(db):
    om = account_setup.ensure_om_account("acme@sandbox", "pw", warehouse_name="Main 3PL")
    wms = account_setup.ensure_wms_account("acme-wms", "secret", customer_id=7, facility_id=3, user_login="acme")
    seeding.seed(om, wms, orders=3, skus=3, seed=5)
    return om, wms


def _om_token(client):
    return om_install_token(client, "acme@sandbox", "pw")


def _wms_token(client):
    return client.post(
        f"{WMS}/AuthServer/api/Token",
        json.dumps({"grant_type": "client_credentials", "user_login": "acme"}),
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"acme-wms:secret").decode(),
    )


@pytest.fixture
def call(client, accounts):
    """call("om"|"wms") -> response of one authenticated list call on that side."""
    om_token = _om_token(client).json()["access_token"]
    wms_token = _wms_token(client).json()["access_token"]

    def do(side):
        if side == "om":
            return client.get(f"{OM}/v1.1/orders", HTTP_AUTHORIZATION=f"Bearer {om_token}")
        return client.get(f"{WMS}/orders", HTTP_AUTHORIZATION=f"Bearer {wms_token}")

    return do


def _configure(accounts, side, **values):
    om, wms = accounts
    return fault_setup.configure_faults(**({"om_account": om} if side == "om" else {"wms_account": wms}), **values)


@pytest.mark.parametrize("side", ["om", "wms"])
def test_rate_zero_changes_nothing(call, accounts, side):
    _configure(accounts, side, rate_429=0, rate_500=0, timeout_rate=0, malformed_rate=0)
    for _ in range(5):
        response = call(side)
        assert response.status_code == 200
        response.json()


def test_rate_429_on_order_manager_announces_the_wait_in_milliseconds(call, accounts):
    _configure(accounts, "om", rate_429=1.0, retry_after_seconds=2.5)
    response = call("om")
    assert response.status_code == 429
    assert response["x-skubana-quota-retryAfter"] == "2500"
    assert not response.has_header("Retry-After")


def test_rate_429_on_the_wms_uses_retry_after_seconds(call, accounts):
    _configure(accounts, "wms", rate_429=1.0, retry_after_seconds=2.5)
    response = call("wms")
    assert response.status_code == 429 and response["Retry-After"] == "3"


@pytest.mark.parametrize("side", ["om", "wms"])
def test_rate_500(call, accounts, side):
    _configure(accounts, side, rate_500=1.0)
    assert call(side).status_code == 500


def test_wms_500_is_plain_text_like_the_real_one(call, accounts):
    _configure(accounts, "wms", rate_500=1.0)
    response = call("wms")
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize("side", ["om", "wms"])
def test_timeout_sleeps_then_answers(call, accounts, side):
    _configure(accounts, side, timeout_rate=1.0, timeout_seconds=0.3)
    started = time.monotonic()
    response = call(side)
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200


@pytest.mark.parametrize("side", ["om", "wms"])
def test_malformed_answers_are_truncated_json(call, accounts, side):
    _configure(accounts, side, malformed_rate=1.0)
    response = call(side)
    assert response.status_code == 200 and "json" in response["Content-Type"]
    with pytest.raises(ValueError):
        json.loads(response.content)


@pytest.mark.parametrize("side", ["om", "wms"])
def test_quota_is_a_real_token_bucket(call, accounts, side, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(faults, "monotonic", lambda: now[0])  # time stands still unless moved
    _configure(accounts, side, quota_per_second=3)
    assert [call(side).status_code for _ in range(3)] == [200, 200, 200]
    limited = call(side)
    assert limited.status_code == 429
    if side == "om":
        assert limited["x-skubana-quota-retryAfter"] == "334"  # a third of a second, in milliseconds
    else:
        assert limited["Retry-After"] == "1"
    now[0] += 0.34  # one token back
    assert [call(side).status_code for _ in range(2)] == [200, 429]


def test_quota_really_refills_with_time(call, accounts):
    _configure(accounts, "om", quota_per_second=5)
    statuses = [call("om").status_code for _ in range(15)]
    assert statuses[:5] == [200] * 5 and 429 in statuses
    time.sleep(0.25)
    assert call("om").status_code == 200


def test_quota_zero_turns_it_off(call, accounts):
    _configure(accounts, "om", quota_per_second=1)
    _configure(accounts, "om", quota_per_second=0)
    assert [call("om").status_code for _ in range(4)] == [200] * 4


def test_faults_are_per_account(client, call, accounts):
    _configure(accounts, "om", rate_500=1.0)
    assert call("om").status_code == 500
    assert call("wms").status_code == 200
    account_setup.ensure_om_account("globex@sandbox", "pw2", warehouse_name="W")
    token = om_install_token(client, "globex@sandbox", "pw2")
    other = client.get(f"{OM}/v1/warehouses", HTTP_AUTHORIZATION=f"Bearer {token.json()['access_token']}")
    assert other.status_code == 200


def test_token_endpoints_are_spared_unless_asked(client, accounts):
    _configure(accounts, "om", rate_500=1.0)
    _configure(accounts, "wms", rate_500=1.0)
    assert _om_token(client).status_code == 200 and _wms_token(client).status_code == 200
    _configure(accounts, "om", apply_to_token_endpoint=True)
    _configure(accounts, "wms", apply_to_token_endpoint=True)
    assert _om_token(client).status_code == 500 and _wms_token(client).status_code == 500


def test_the_same_seed_gives_the_same_faults(call, accounts):
    def run():
        _configure(accounts, "om", rate_500=0.5, seed=1234)
        return [call("om").status_code for _ in range(12)]

    first, second = run(), run()
    assert first == second and {200, 500} <= set(first)
    _configure(accounts, "om", seed=99)
    assert [call("om").status_code for _ in range(12)] != first


def test_unauthenticated_calls_get_401_not_faults(client, accounts):
    _configure(accounts, "om", rate_500=1.0)
    assert client.get(f"{OM}/v1.1/orders").status_code == 401


def test_token_bucket_arithmetic():
    now = [0.0]
    bucket = faults.TokenBucket(2, clock=lambda: now[0])
    assert [bucket.take() for _ in range(2)] == [0.0, 0.0]
    assert bucket.take() == pytest.approx(0.5)
    now[0] = 0.5
    assert bucket.take() == 0.0


def test_configure_faults_validates(accounts):
    om, _ = accounts
    with pytest.raises(ValueError):
        fault_setup.configure_faults(om_account=om, rate_500=1.5)
    with pytest.raises(ValueError):
        fault_setup.configure_faults(om_account=om, bogus=1)
    with pytest.raises(ValueError):
        fault_setup.configure_faults(rate_500=0.1)
    with pytest.raises(ValueError):
        fault_setup.configure_faults(om_account=om, latency={"create": [100, 0]})  # a WMS group
    with pytest.raises(ValueError):
        fault_setup.configure_faults(om_account=om, jitter_ms=10)  # a jitter of no latency


def test_configure_faults_sets_answer_times_per_group_and_keeps_the_others(accounts):
    _, wms = accounts
    fault_setup.configure_faults(wms_account=wms, latency={"create": [250, 100], "read": [50, 0]})
    config = fault_setup.configure_faults(
        wms_account=wms, latency_ms=80, jitter_ms=20, latency_groups=["read", "write"]
    )
    assert config.latency == {"create": [250, 100], "read": [80, 20]}  # "write" is Order Manager's: skipped
    config = fault_setup.configure_faults(wms_account=wms, latency_ms=0, latency_groups=["create"])
    assert fault_setup.fault_settings(config)["latency"] == {"read": [80, 20]}
