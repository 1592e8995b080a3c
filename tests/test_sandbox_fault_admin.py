"""The sandbox's FaultConfig admin (connectors/sandbox/admin.py): answer times and discrepancy
faults set and validated there; the injected-faults log listed."""

import json

import pytest
from django.urls import reverse

from connectors.sandbox import latency
from connectors.sandbox.control import account_setup, fault_setup
from connectors.sandbox.models import FaultConfig, InjectedFault

pytestmark = pytest.mark.django_db


@pytest.fixture
def wms_faults():
    account = account_setup.ensure_wms_account("acme-wms", "secret", customer_id=7, facility_id=3, user_login="acme")
    return fault_setup.configure_faults(wms_account=account, rate_500=0.1, seed=3)


def _form(config, **changes):
    data = {
        "om_account": config.om_account_id or "",
        "wms_account": config.wms_account_id or "",
        "rate_429": config.rate_429,
        "rate_500": config.rate_500,
        "timeout_rate": config.timeout_rate,
        "timeout_seconds": config.timeout_seconds,
        "malformed_rate": config.malformed_rate,
        "quota_per_second": "",
        "retry_after_seconds": config.retry_after_seconds,
        "latency": json.dumps(config.latency),
        "seed": config.seed,
        **{name: getattr(config, name) for name in fault_setup.DISCREPANCY_FIELDS if name != "drop_order_ids"},
        "drop_order_ids": json.dumps(config.drop_order_ids),
    }
    data.update(changes)
    return data


def test_answer_times_are_set_in_the_admin_and_listed(superuser, admin_client_for, wms_faults):
    admin = admin_client_for(superuser)
    url = reverse("admin:sandbox_faultconfig_change", args=[wms_faults.pk])
    response = admin.post(url, _form(wms_faults, latency='{"create": [250, 100], "read": [40, 0], "stock": [0, 0]}'))
    assert response.status_code == 302
    wms_faults.refresh_from_db()
    assert wms_faults.latency == {"create": [250, 100], "read": [40, 0]}  # [0, 0] is no latency
    assert wms_faults.rate_500 == 0.1  # the rest of the form kept
    assert latency.answer_time("wms", wms_faults.wms_account_id, wms_faults, "read") == 0.04
    listing = admin.get(reverse("admin:sandbox_faultconfig_changelist")).content.decode()
    assert "create 250±100, read 40±0" in listing


@pytest.mark.parametrize(
    "value, message",
    [
        ('{"write": [100, 0]}', "not an endpoint group of this service"),  # Order Manager's group
        ('{"create": [100, 200]}', "may not exceed the latency"),
        ('{"create": [40000, 0]}', "at most 30000 ms"),
        ('{"create": [-5, 0]}', "must not be negative"),
        ('{"create": 100}', "[latency_ms, jitter_ms]"),
    ],
)
def test_answer_times_out_of_bounds_are_refused_by_the_form(superuser, admin_client_for, wms_faults, value, message):
    url = reverse("admin:sandbox_faultconfig_change", args=[wms_faults.pk])
    response = admin_client_for(superuser).post(url, _form(wms_faults, latency=value))
    assert response.status_code == 200
    assert message in " ".join(response.context["adminform"].form.errors["latency"])
    assert FaultConfig.objects.get(pk=wms_faults.pk).latency == {}


@pytest.fixture
def om_faults():
    account = account_setup.ensure_om_account("acme@sandbox", "pw", warehouse_name="Main 3PL")
    return fault_setup.configure_faults(om_account=account, seed=3)


def test_discrepancy_faults_are_set_in_the_admin_and_listed(superuser, admin_client_for, om_faults):
    admin = admin_client_for(superuser)
    url = reverse("admin:sandbox_faultconfig_change", args=[om_faults.pk])
    form = _form(om_faults, tracking_drop_rate=0.25, drop_order_ids="[1001, 1002]")
    assert admin.post(url, form).status_code == 302
    om_faults.refresh_from_db()
    assert (om_faults.tracking_drop_rate, om_faults.drop_order_ids) == (0.25, [1001, 1002])
    listing = admin.get(reverse("admin:sandbox_faultconfig_changelist")).content.decode()
    assert "tracking 0.25, drop ids 1001, 1002" in listing
    InjectedFault.objects.create(config=om_faults, kind=InjectedFault.Kind.TRACKING_DROPPED, subject="1001")
    log = admin.get(reverse("admin:sandbox_injectedfault_changelist")).content.decode()
    assert "Tracking write dropped" in log and "1001" in log


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"stock_drift_rate": 1.5}, "stock_drift_rate", "between 0 and 1"),
        ({"drop_order_ids": '["SO-1"]'}, "drop_order_ids", "integers"),
    ],
)
def test_bad_discrepancy_faults_are_refused_by_the_form(
    superuser, admin_client_for, om_faults, changes, field, message
):
    url = reverse("admin:sandbox_faultconfig_change", args=[om_faults.pk])
    response = admin_client_for(superuser).post(url, _form(om_faults, **changes))
    assert response.status_code == 200
    assert message in " ".join(response.context["adminform"].form.errors[field])


def test_discrepancy_faults_are_refused_on_a_wms_account(superuser, admin_client_for, wms_faults):
    url = reverse("admin:sandbox_faultconfig_change", args=[wms_faults.pk])
    response = admin_client_for(superuser).post(url, _form(wms_faults, export_mark_loss_rate=0.5))
    assert response.status_code == 200
    assert "Order Manager's" in " ".join(response.context["adminform"].form.errors["export_mark_loss_rate"])
    assert FaultConfig.objects.get(pk=wms_faults.pk).export_mark_loss_rate == 0
