"""Admin pages stay fast on big tables: with 20,000 orders (and as many events, across more
connections) the order list, the dashboard and an order page run the same, small number of
queries as with a handful. Rows are bulk-created (no factory per row) to keep the test quick."""

import datetime
import random

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hub.models import Job, JobState, OrderEvent, OrderRecord, SyncRun
from tests import factories

pytestmark = pytest.mark.django_db

BIG = 20_000
STATUSES = [s for s, _ in OrderRecord.Status.choices]


def queries(client, url) -> int:
    client.get(url)  # warm per-process caches (content types, sessions) so only the page counts
    with CaptureQueriesContext(db_connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def fill(connections, count: int, start: int) -> None:
    """`count` orders spread over `connections` and statuses, each with one "sent to WMS" event in the last 14 days."""
    rng = random.Random(start)
    now = timezone.now()
    orders = OrderRecord.objects.bulk_create(
        [
            OrderRecord(
                connection=connections[n % len(connections)],
                om_order_id=start + n,
                order_number=f"BIG-{start + n:07d}",
                status=STATUSES[n % len(STATUSES)],
                lines=[{"sku": f"SKU-{n % 50}", "quantity": 1}],
                tracking_numbers=[f"1Z{n:08d}"] if n % 3 == 0 else [],
            )
            for n in range(count)
        ],
        batch_size=2000,
    )
    if orders[0].pk is None:
        orders = list(OrderRecord.objects.filter(om_order_id__gte=start, om_order_id__lt=start + count))
    OrderEvent.objects.bulk_create(
        [
            OrderEvent(
                order=order,
                kind=OrderEvent.Kind.SENT_TO_WMS,
                at=now - datetime.timedelta(minutes=rng.randint(0, 13 * 24 * 60)),
            )
            for order in orders
        ],
        batch_size=2000,
    )


def test_order_list_dashboard_and_order_page_do_not_grow_with_20000_orders(superuser, admin_client_for):
    tenant = factories.TenantFactory()
    first = factories.OrderManagerConnectionFactory(warehouse__tenant=tenant)
    staff = factories.tenant_staff(tenant)
    fill([first], 20, start=1)
    order = OrderRecord.objects.filter(connection=first).first()
    for kind in (OrderEvent.Kind.DOWNLOADED, OrderEvent.Kind.EXPORTED):
        factories.OrderEventFactory(order=order, kind=kind, run=factories.SyncRunFactory(connection=first))
    JobState.objects.filter(connection=first, job=Job.ORDER_DOWNLOAD).update(last_run=SyncRun.objects.first())

    su, st = admin_client_for(superuser), admin_client_for(staff)
    pages = {
        "order list": reverse("admin:hub_orderrecord_changelist"),
        "order list, filtered": reverse("admin:hub_orderrecord_changelist")
        + f"?connection__id__exact={first.pk}&status__exact=error",
        "dashboard": reverse("admin:index"),
        "order page": reverse("admin:hub_orderrecord_change", args=[order.pk]),
    }
    few = {
        (who, name): queries(client, url) for who, client in (("su", su), ("staff", st)) for name, url in pages.items()
    }

    more = [factories.OrderManagerConnectionFactory(warehouse__tenant=tenant) for _ in range(4)]
    more += [factories.OrderManagerConnectionFactory() for _ in range(3)]  # other tenants
    for connection in more:
        run = factories.SyncRunFactory(connection=connection, calls=[{"method": "GET", "path": "/x"}] * 50)
        JobState.objects.filter(connection=connection).update(last_run=run)
    fill([first, *more], BIG, start=100_000)
    assert OrderRecord.objects.count() >= BIG

    many = {
        (who, name): queries(client, url) for who, client in (("su", su), ("staff", st)) for name, url in pages.items()
    }

    assert many == few
    assert max(many.values()) <= 15, many
    html = su.get(pages["dashboard"]).content.decode()
    assert html.count('class="hub-row') == 1 + len(more)
