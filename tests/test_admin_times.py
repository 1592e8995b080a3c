"""tenants.admin_times and hub/formats: every time on tenant data in the tenant's zone, with the zone named."""

import datetime

import pytest
from django.urls import reverse
from django.utils import formats

from hub.admin.orders import OrderRecordAdmin
from tests import factories

pytestmark = pytest.mark.django_db

MOMENT = datetime.datetime(2026, 12, 7, 17, 0, tzinfo=datetime.UTC)


@pytest.fixture
def admin(superuser, admin_client_for):
    return admin_client_for(superuser)


def order_in(zone: str, number: str):
    connection = factories.OrderManagerConnectionFactory(warehouse__tenant__time_zone=zone)
    order = factories.OrderRecordFactory(connection=connection, order_number=number)
    type(order).objects.filter(pk=order.pk).update(created_at=MOMENT, updated_at=MOMENT)
    return order


def test_the_hub_writes_one_format_with_the_zone():
    assert formats.date_format(MOMENT, "DATETIME_FORMAT") == "2026-12-07 17:00 UTC"


def test_a_list_shows_each_row_in_its_own_tenants_zone(admin):
    order_in("America/New_York", "NY-1")
    order_in("Europe/Berlin", "BER-1")
    page = admin.get(reverse("admin:hub_orderrecord_changelist")).content.decode()
    assert "2026-12-07 12:00\u00a0EST" in page
    assert "2026-12-07 18:00\u00a0CET" in page
    assert "17:00 UTC" not in page


def test_a_zoned_column_still_sorts_by_the_stored_moment(admin):
    early, late = order_in("Europe/Berlin", "EARLY"), order_in("America/Los_Angeles", "LATE")
    type(late).objects.filter(pk=late.pk).update(created_at=MOMENT + datetime.timedelta(hours=1))
    column = OrderRecordAdmin.list_display.index("created_at") + 1
    page = admin.get(reverse("admin:hub_orderrecord_changelist") + f"?o={column}").content.decode()
    # 18:00 CET (17:00 UTC) comes before 10:00 PST (18:00 UTC): sorted by the moment, not the text.
    assert "2026-12-07 18:00\u00a0CET" in page and "2026-12-07 10:00\u00a0PST" in page
    assert page.index(early.order_number) < page.index(late.order_number)


def test_a_change_page_shows_its_times_in_the_tenants_zone(admin):
    order = order_in("Asia/Tokyo", "TYO-1")
    page = admin.get(reverse("admin:hub_orderrecord_change", args=[order.pk])).content.decode()
    assert "2026-12-08 02:00 JST" in page


def test_the_connection_page_reads_its_start_date_in_the_tenants_zone(admin):
    connection = factories.OrderManagerConnectionFactory(warehouse__tenant__time_zone="America/Chicago")
    type(connection).objects.filter(pk=connection.pk).update(start_from=MOMENT)
    page = admin.get(reverse("admin:tenants_ordermanagerconnection_change", args=[connection.pk])).content.decode()
    assert 'value="11:00"' in page  # 17:00 UTC is 11:00 in Chicago (the start-from time input)


def test_the_inventory_time_and_its_zone_are_edited_together_on_the_connection_page(admin):
    connection = factories.OrderManagerConnectionFactory(warehouse__tenant__time_zone="America/New_York")
    url = reverse("admin:tenants_ordermanagerconnection_change", args=[connection.pk])
    form = admin.get(url).context["adminform"].form
    assert form["time_zone"].value() == "America/New_York"
    data = _form_data(form)
    data.update({"time_zone": "Europe/Lisbon", "inventory_time": "22:30"})
    response = admin.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    connection.refresh_from_db()
    assert connection.warehouse.tenant.time_zone == "Europe/Lisbon"
    assert connection.inventory_time == datetime.time(22, 30)


def test_the_tenant_page_points_to_the_connection_for_its_zone(admin):
    connection = factories.OrderManagerConnectionFactory()
    tenant = connection.warehouse.tenant
    response = admin.get(reverse("admin:tenants_tenant_change", args=[tenant.pk]))
    page = response.content.decode()
    assert 'name="time_zone"' not in page
    assert reverse("admin:tenants_ordermanagerconnection_change", args=[connection.pk]) in page


def test_a_job_states_lease_is_shown_in_the_tenants_zone(admin):
    state = factories.JobStateFactory(connection__warehouse__tenant__time_zone="Europe/Berlin")
    far = datetime.datetime(2099, 1, 1, 12, 0, tzinfo=datetime.UTC)
    type(state).objects.filter(pk=state.pk).update(lease_expires_at=far)
    page = admin.get(reverse("admin:hub_jobstate_change", args=[state.pk])).content.decode()
    assert "2099-01-01 13:00 CET" in page


def _form_data(form) -> dict:
    """What the browser posts back for an unchanged admin form (split date-times as two inputs)."""
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        widget = field.widget
        if hasattr(widget, "widgets"):  # SplitDateTimeWidget
            for index, part in enumerate(widget.decompress(value)):
                data[f"{name}_{index}"] = "" if part is None else str(part)
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = str(value)
    return data
