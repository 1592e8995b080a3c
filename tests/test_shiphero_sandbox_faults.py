"""Fault and latency injection on the sandbox ShipHero API, over a real socket: 429, 500, slow
answers, malformed JSON, the token endpoint's opt-in, the answer time of a document's group."""

import time

import pytest

from connectors.sandbox import faults, latency
from connectors.sandbox.models import FaultConfig
from connectors.shiphero.sandbox import control
from tests.shiphero_sandbox_helpers import ShipHero, account

QUERY = "{ orders { complexity data(first: 1) { edges { node { id } } } } }"


@pytest.fixture
def setup(live_server, transactional_db):
    faults.reset()
    acme = account()
    shiphero = ShipHero(live_server)
    shiphero.refresh()
    yield acme, shiphero
    faults.reset()


def test_rates_at_zero_change_nothing(setup):
    acme, shiphero = setup
    control.configure_faults(acme, rate_429=0, rate_500=0, timeout_rate=0, malformed_rate=0)
    for _ in range(3):
        assert shiphero.gql(QUERY).json()["data"]["orders"]["complexity"] > 0


def test_an_injected_429_announces_its_wait_in_seconds(setup):
    acme, shiphero = setup
    control.configure_faults(acme, rate_429=1.0, retry_after_seconds=2.5)
    answer = shiphero.gql(QUERY)
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "3"
    assert answer.json()["errors"][0]["message"]


def test_an_injected_500_and_a_malformed_answer(setup):
    acme, shiphero = setup
    control.configure_faults(acme, rate_500=1.0)
    assert shiphero.gql(QUERY).status_code == 500
    control.configure_faults(acme, clear=True, malformed_rate=1.0)
    answer = shiphero.gql(QUERY)
    assert answer.status_code == 200
    with pytest.raises(ValueError):
        answer.json()


def test_a_timeout_fault_answers_late(setup):
    acme, shiphero = setup
    control.configure_faults(acme, timeout_rate=1.0, timeout_seconds=0.6)
    started = time.monotonic()
    assert shiphero.gql(QUERY).status_code == 200
    assert time.monotonic() - started >= 0.6


def test_the_quota_bucket_refuses_calls_over_the_rate(setup):
    acme, shiphero = setup
    control.configure_faults(acme, quota_per_second=1)
    statuses = [shiphero.gql(QUERY).status_code for _ in range(3)]
    assert statuses[0] == 200 and 429 in statuses


def test_the_token_endpoint_gets_faults_only_when_asked(setup):
    acme, shiphero = setup
    control.configure_faults(acme, rate_500=1.0)
    assert shiphero.refresh().status_code == 200
    control.configure_faults(acme, apply_to_token_endpoint=True)
    assert shiphero.refresh().status_code == 500


def test_answer_times_follow_the_documents_group(setup):
    acme, shiphero = setup
    control.configure_faults(acme, latency={"create": [500, 0]})
    started = time.monotonic()
    shiphero.gql(QUERY)
    assert time.monotonic() - started < 0.4
    started = time.monotonic()
    shiphero.create(acme, "OM-L")
    assert time.monotonic() - started >= 0.5


def test_a_shiphero_fault_row_names_its_side_and_groups():
    config = FaultConfig(shiphero_account_id=1)
    assert config.side == "shiphero"
    assert latency.validate_latency("shiphero", {"stock": [10, 5]}) == {"stock": [10, 5]}
    with pytest.raises(ValueError):
        latency.validate_latency("shiphero", {"write": [10, 0]})


def test_a_fault_row_belongs_to_exactly_one_account(transactional_db):
    from django.db import IntegrityError, transaction

    from connectors.sandbox.control import account_setup

    acme = account()
    wms = account_setup.ensure_wms_account("acme-wms", "secret", customer_id=7, facility_id=3, user_login="acme")
    with pytest.raises(IntegrityError), transaction.atomic():
        FaultConfig.objects.create(shiphero_account=acme, wms_account=wms)
    with pytest.raises(IntegrityError), transaction.atomic():
        FaultConfig.objects.create()
    assert FaultConfig.objects.create(shiphero_account=acme).side == "shiphero"
    with pytest.raises(ValueError, match="exactly one"):
        control.fault_setup.configure_faults(shiphero_account=acme, wms_account=wms)
