"""tenants.scoping and archived tenants: hidden from every scoped list and its filters unless the list's
"archived" filter asks for them; never offered as a foreign-key choice; their rows view-only.
(Isolation between tenants is tests/test_admin_isolation.py's.)"""

import pytest
from django.urls import reverse
from django.utils import timezone

from hub.models import Alert, OrderRecord, SyncRun
from tenants.mappings import SkuAlias
from tenants.models import OrderManagerConnection, Tenant, Warehouse
from tests import factories

pytestmark = pytest.mark.django_db


def url(model, view="changelist", *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def archive(tenant):
    Tenant.objects.filter(pk=tenant.pk).update(archived_at=timezone.now())
    tenant.refresh_from_db()


def filter_choices(response) -> dict[str, list[str]]:
    cl = response.context["cl"]
    return {str(spec.title): [str(c.get("display", "")) for c in spec.choices(cl)] for spec in cl.filter_specs}


@pytest.fixture
def world():
    served = factories.OrderManagerConnectionFactory(warehouse__tenant__name="Served Co", warehouse__name="Reno")
    gone = factories.OrderManagerConnectionFactory(warehouse__tenant__name="Archived Co", warehouse__name="Sparks")
    rows = {}
    for connection in (served, gone):
        rows[connection] = {
            OrderRecord: factories.OrderRecordFactory(connection=connection),
            SyncRun: factories.SyncRunFactory(connection=connection),
            Alert: factories.AlertFactory(connection=connection),
            SkuAlias: factories.SkuAliasFactory(connection=connection),
        }
    archive(gone.warehouse.tenant)
    return {"served": served, "gone": gone, "rows": rows}


@pytest.fixture
def su(superuser, admin_client_for):
    return admin_client_for(superuser)


def test_order_records_list_and_its_filters_leave_the_archived_tenant_out(su, world):
    served, gone = world["served"], world["gone"]
    response = su.get(url(OrderRecord))
    assert {o.pk for o in response.context["cl"].result_list} == {world["rows"][served][OrderRecord].pk}
    choices = filter_choices(response)
    assert "Served Co" in choices["tenant"] and "Archived Co" not in choices["tenant"]
    assert str(served) in choices["connection"] and str(gone) not in choices["connection"]
    assert choices["tenant archived"] == ["No", "Yes", "All"]
    assert "Archived Co" not in response.content.decode()

    # Under the archived filter its audit is there to read, and its tenant and connection offered.
    response = su.get(url(OrderRecord) + "?archived=yes")
    assert {o.pk for o in response.context["cl"].result_list} == {world["rows"][gone][OrderRecord].pk}
    choices = filter_choices(response)
    assert choices["tenant"][1:] == ["Archived Co"] and choices["connection"][1:] == [str(gone)]
    response = su.get(url(OrderRecord) + f"?archived=all&connection__warehouse__tenant__id__exact={gone.tenant.pk}")
    assert {o.pk for o in response.context["cl"].result_list} == {world["rows"][gone][OrderRecord].pk}
    order_page = su.get(url(OrderRecord, "change", world["rows"][gone][OrderRecord].pk))
    assert order_page.status_code == 200


@pytest.mark.parametrize("model", [SyncRun, Alert, SkuAlias], ids=lambda m: m._meta.label)
def test_every_scoped_list_hides_the_archived_tenants_rows_by_default(su, world, model):
    served, gone = world["served"], world["gone"]
    shown = {o.pk for o in su.get(url(model)).context["cl"].result_list}
    assert world["rows"][served][model].pk in shown and world["rows"][gone][model].pk not in shown
    shown = {o.pk for o in su.get(url(model) + "?archived=yes").context["cl"].result_list}
    assert shown == {world["rows"][gone][model].pk}


def test_related_filters_follow_the_archived_filter(su, world):
    # Django shows a related filter only when it has two choices or more.
    also = factories.SkuAliasFactory(connection__warehouse__tenant__name="Also Served").connection
    factories.SkuAliasFactory(connection__warehouse__tenant=world["gone"].tenant)
    assert filter_choices(su.get(url(Warehouse)))["tenant"][1:] == ["Also Served", "Served Co"]
    assert filter_choices(su.get(url(Warehouse) + "?archived=all"))["tenant"][1:] == [
        "Also Served",
        "Archived Co",
        "Served Co",
    ]
    assert set(filter_choices(su.get(url(SkuAlias)))["connection"][1:]) == {str(world["served"]), str(also)}


def test_the_archived_filter_shows_only_while_an_archived_tenant_is_in_sight(su, world, admin_client_for):
    staff = admin_client_for(factories.tenant_staff(world["served"].warehouse.tenant))
    assert "tenant archived" not in filter_choices(staff.get(url(OrderRecord)))
    assert "archived" not in filter_choices(staff.get(url(Tenant)))
    assert filter_choices(su.get(url(Tenant)))["archived"] == ["No", "Yes", "All"]
    Tenant.objects.update(archived_at=None)
    assert "archived" not in filter_choices(su.get(url(Tenant)))


def test_forms_never_offer_an_archived_tenant_or_its_rows(su, world):
    form = su.get(url(Warehouse, "add")).context["adminform"].form
    assert set(form.fields["tenant"].queryset) == {world["served"].warehouse.tenant}
    form = su.get(url(SkuAlias, "add")).context["adminform"].form
    assert set(form.fields["connection"].queryset) == {world["served"]}


def test_an_archived_tenants_rows_are_view_only(su, world):
    gone = world["gone"]
    for model, obj in [
        (OrderManagerConnection, gone),
        (Warehouse, gone.warehouse),
        (SkuAlias, world["rows"][gone][SkuAlias]),
    ]:
        page = su.get(url(model, "change", obj.pk))
        assert page.status_code == 200 and not page.context["has_change_permission"], model
        assert su.get(url(model, "delete", obj.pk)).status_code == 403, model
    served_page = su.get(url(OrderManagerConnection, "change", world["served"].pk))
    assert served_page.context["has_change_permission"]
    # The tenant's own page is not one of its rows: it stays editable (set it inactive, then unarchive).
    assert su.get(url(Tenant, "change", gone.tenant.pk)).context["has_change_permission"]
