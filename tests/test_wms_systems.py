"""connectors.wms: the warehouse-system seam — the registry, 3PL Warehouse Manager's body, and a
system that lacks a capability, seen by the rule of "may this job run", the admin and the clients."""

import pytest
from django.urls import reverse
from django.utils import timezone

from connectors.warehouse_manager.client import WarehouseManagerClient
from connectors.warehouse_manager.system import SYSTEM as THREEPL
from connectors.wms import systems
from connectors.wms.base import Address, Capability, Line, Route, WarehouseClient, WmsSystem
from hub.engine import eligibility
from hub.models import Job, JobState
from tenants import clients
from tests.factories import OrderManagerConnectionFactory


class NoCancelSystem(WmsSystem):
    """A warehouse system that sends orders and reports shipments and stock but cannot cancel."""

    key = "no_cancel"
    label = "No-Cancel WMS"
    capabilities = frozenset({Capability.ORDER_SEND, Capability.SHIPMENT_PICKUP, Capability.INVENTORY_PICKUP})

    def order_body(self, **fields):
        return {"ref": fields["reference"]}

    def with_lines(self, body, lines):
        return {**body, "lines": [(line.sku, line.quantity) for line in lines]}

    def with_route(self, body, route):
        return {**body, "carrier": route.carrier}


@pytest.fixture
def no_cancel(monkeypatch):
    monkeypatch.setitem(systems.SYSTEMS, NoCancelSystem.key, NoCancelSystem())
    connection = OrderManagerConnectionFactory()
    connection.warehouse.wms_system = NoCancelSystem.key
    connection.warehouse.save()
    return connection


def test_an_unknown_system_fails_loudly_naming_the_known_ones():
    with pytest.raises(LookupError, match="Unknown warehouse system 'nope'; known: 3pl_warehouse_manager"):
        systems.system_of("nope")


def test_3pl_warehouse_manager_declares_every_capability_and_its_client_is_the_seams():
    assert THREEPL.capabilities == frozenset(Capability)
    assert issubclass(WarehouseManagerClient, WarehouseClient) and WarehouseManagerClient.system is THREEPL
    assert systems.system_of(systems.DEFAULT) is THREEPL


def test_3pl_body_changes_only_through_the_system():
    body = THREEPL.order_body(
        reference="SO-1",
        om_order_id=42,
        ship_to=Address(name="Ada", city="Springfield", phone=""),
        lines=[Line("A", 2)],
        route=None,
    )
    assert body == {
        "referenceNum": "SO-1",
        "poNum": "42",
        "shipTo": {"name": "Ada", "city": "Springfield"},
        "orderItems": [{"itemIdentifier": {"sku": "A"}, "qty": 2}],
    }
    routed = THREEPL.with_route(THREEPL.with_lines(body, [Line("B", 1)]), Route("UPS", "Ground", "UPGN"))
    assert routed["orderItems"] == [{"itemIdentifier": {"sku": "B"}, "qty": 1}]
    assert routed["routingInfo"] == {"carrier": "UPS", "mode": "Ground", "scacCode": "UPGN"}
    assert body["orderItems"] == [{"itemIdentifier": {"sku": "A"}, "qty": 2}]  # the original is not changed


@pytest.mark.django_db
def test_a_job_the_system_cannot_do_is_refused_and_never_scheduled(no_cancel):
    reason = eligibility.blocked_reason(no_cancel, Job.CANCEL_DOWNLOAD)
    assert reason == "No-Cancel WMS does not support Cancel Order in WMS, which Order Cancel Download needs."
    assert eligibility.blocked_reason(no_cancel, Job.ORDER_DOWNLOAD) == ""
    states = {job: JobState.objects.get_or_create(connection=no_cancel, job=job)[0] for job in Job}
    eligible = set(JobState.objects.filter(eligibility.schedulable_q(timezone.now())).values_list("job", flat=True))
    assert Job.CANCEL_DOWNLOAD not in eligible and Job.ORDER_DOWNLOAD in eligible
    assert states


@pytest.mark.django_db
def test_the_admin_offers_only_the_jobs_the_system_supports(no_cancel, superuser, admin_client_for):
    html = (
        admin_client_for(superuser)
        .get(reverse("admin:tenants_ordermanagerconnection_change", args=[no_cancel.pk]))
        .content.decode()
    )
    assert 'name="order_download_enabled"' in html
    assert 'name="cancel_download_enabled"' not in html and 'name="cancel_download_interval"' not in html


@pytest.mark.django_db
def test_a_system_without_a_client_fails_loudly_when_a_run_asks_for_one(no_cancel):
    with pytest.raises(LookupError, match="No client is configured for the warehouse system No-Cancel WMS"):
        clients.warehouse(no_cancel)
