"""Tenant isolation of the whole admin, checked generically.

Every ModelAdmin registered in `django.contrib.admin.site` that uses `TenantScopedAdminMixin` is
exercised here, including the ones added after this file was written: with rows of two tenants
(Alpha and Bravo) made by the factories below, a staff member of Alpha must see only Alpha's rows,
be refused Bravo's change and delete pages, get no Bravo choices in foreign-key fields or list
filters, and be unable to point a row at Bravo's data by editing the POST. A superuser sees both.

A newly registered scoped model needs one entry in `ROW_FACTORIES`; the test says so when it is
missing. A registered model that holds tenant data but lacks the mixin fails
`test_every_admin_of_tenant_data_is_scoped`.
"""

import itertools

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.forms import ModelChoiceField
from django.urls import reverse
from django.utils import timezone

from hub.models import (
    Alert,
    Finding,
    InventoryLine,
    Job,
    JobState,
    OrderEvent,
    OrderRecord,
    SyncRun,
    WebhookDelivery,
    WebhookEndpoint,
)
from tenants.mappings import CarrierMapping, ConnectionRules, ItemFilter, ShipMethodMapping, SkuAlias
from tenants.models import OrderManagerConnection, Tenant, TenantMembership, Warehouse
from tenants.scoping import TenantScopedAdminMixin, _tenant_path_of
from tests import factories

pytestmark = pytest.mark.django_db

ALPHA, BRAVO = "Alpha Logistics", "Bravo Freight"
# Every row made for Bravo carries this word where a name is shown, so a leak shows in the HTML.
BRAVO_MARK = "Bravo"


_numbers = itertools.count(1)


def _connection(tenant):
    return factories.OrderManagerConnectionFactory(
        warehouse__tenant=tenant,
        warehouse__name=f"{tenant.name} Reno {next(_numbers)}",
        warehouse_name=f"{tenant.name} OM",
    )


# How to make one row of each scoped model for a given tenant. Add an entry for every new
# tenant-scoped admin model.
def _webhook_endpoint(tenant):
    warehouse = factories.WarehouseFactory(tenant=tenant, name=f"{tenant.name} Hooks {next(_numbers)}")
    return factories.WebhookEndpointFactory(warehouse=warehouse)


ROW_FACTORIES = {
    Tenant: lambda tenant: tenant,
    TenantMembership: lambda tenant: factories.TenantMembershipFactory(tenant=tenant),
    Warehouse: lambda tenant: factories.WarehouseFactory(tenant=tenant, name=f"{tenant.name} Sparks"),
    OrderManagerConnection: _connection,
    SyncRun: lambda tenant: factories.SyncRunFactory(connection=_connection(tenant)),
    OrderRecord: lambda tenant: factories.OrderRecordFactory(
        connection=_connection(tenant),
        sales_channel=f"{tenant.name} shop",
        ship_to=f"{tenant.name} customer",
    ),
    OrderEvent: lambda tenant: factories.OrderEventFactory(
        order__connection=_connection(tenant),
        order__ship_to=f"{tenant.name} customer",
    ),
    InventoryLine: lambda tenant: factories.InventoryLineFactory(
        run__connection=_connection(tenant),
        sku=f"{tenant.name.split()[0].upper()}-SKU",
    ),
    JobState: lambda tenant: factories.JobStateFactory(connection=_connection(tenant), job=Job.ORDER_DOWNLOAD),
    ConnectionRules: lambda tenant: factories.ConnectionRulesFactory(connection=_connection(tenant)),
    SkuAlias: lambda tenant: factories.SkuAliasFactory(connection=_connection(tenant)),
    ShipMethodMapping: lambda tenant: factories.ShipMethodMappingFactory(connection=_connection(tenant)),
    CarrierMapping: lambda tenant: factories.CarrierMappingFactory(connection=_connection(tenant)),
    ItemFilter: lambda tenant: factories.ItemFilterFactory(connection=_connection(tenant)),
    Alert: lambda tenant: factories.AlertFactory(connection=_connection(tenant), message=f"{tenant.name} alert"),
    WebhookEndpoint: lambda tenant: _webhook_endpoint(tenant),
    WebhookDelivery: lambda tenant: WebhookDelivery.objects.create(
        endpoint=_webhook_endpoint(tenant),
        tpl_id="1",
        wms_event_id=str(next(_numbers)),
        event_type=f"{tenant.name.split()[0]}Event",
        received_at=timezone.now(),
    ),
    Finding: lambda tenant: factories.FindingFactory(connection=_connection(tenant), subject=f"{tenant.name} finding"),
}

SCOPED_ADMINS = sorted(
    (
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, TenantScopedAdminMixin)
    ),
    key=lambda pair: pair[0]._meta.label,
)
SCOPED_MODELS = [model for model, _ in SCOPED_ADMINS]


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def tenant_lookup(model, tenant) -> dict:
    path = _tenant_path_of(model)
    assert path is not None, f"{model._meta.label} has no foreign-key path to Tenant"
    return {"pk": tenant.pk} if path == "" else {path: tenant}


@pytest.fixture
def world(db):
    """Both tenants, one row of every scoped model for each, and Alpha's staff member."""
    missing = [m._meta.label for m in SCOPED_MODELS if m not in ROW_FACTORIES]
    assert not missing, (
        f"Tenant-scoped admin models without a factory in tests/test_admin_isolation.py ROW_FACTORIES: {missing}. "
        "Add one so their admin pages are covered by the isolation tests."
    )
    alpha = factories.TenantFactory(name=ALPHA, slug="alpha")
    bravo = factories.TenantFactory(name=BRAVO, slug="bravo")
    rows = {tenant: {model: make(tenant) for model, make in ROW_FACTORIES.items()} for tenant in (alpha, bravo)}
    staff = factories.tenant_staff(alpha, username="alpha-staff")
    return {"alpha": alpha, "bravo": bravo, "rows": rows, "staff": staff}


@pytest.fixture
def staff_client(world, admin_client_for):
    return admin_client_for(world["staff"])


def test_the_generic_checks_cover_the_known_admins():
    # Guards the parametrisation below against silently running over nothing.
    assert {Tenant, Warehouse, OrderManagerConnection, TenantMembership} <= set(SCOPED_MODELS)


def test_every_admin_of_tenant_data_is_scoped():
    unscoped = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if _tenant_path_of(model) is not None and not isinstance(model_admin, TenantScopedAdminMixin)
    ]
    assert not unscoped, f"Admins of tenant data without TenantScopedAdminMixin: {unscoped}"


def test_tenant_path_reaches_tenants_through_any_foreign_key_chain():
    assert _tenant_path_of(Tenant) == ""
    assert _tenant_path_of(OrderManagerConnection) == "warehouse__tenant"
    assert _tenant_path_of(OrderEvent) == "order__connection__warehouse__tenant"
    assert _tenant_path_of(InventoryLine) == "run__connection__warehouse__tenant"
    assert _tenant_path_of(Permission) is None


def test_foreign_key_choices_of_any_tenant_model_are_scoped(world, rf):
    # OrderEvent.order was not scoped when paths were a hard-coded list of the tenants app's models.
    class EventAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
        tenant_path = "order__connection__warehouse__tenant"

    request = rf.get("/")
    request.user = world["staff"]
    field = EventAdmin(OrderEvent, admin.site).formfield_for_foreignkey(OrderEvent._meta.get_field("order"), request)
    assert world["rows"][world["alpha"]][OrderEvent].order in field.queryset
    assert not field.queryset.filter(connection__warehouse__tenant=world["bravo"]).exists()


def _access(client, model):
    """The changelist response of `model` for this client, following a redirect to a default filter."""
    return client.get(url(model, "changelist"), follow=True)


@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m._meta.label)
def test_changelist_lists_only_own_rows_and_filters_only_own_names(world, staff_client, model):
    alpha_row, bravo_row = world["rows"][world["alpha"]][model], world["rows"][world["bravo"]][model]
    response = _access(staff_client, model)
    if response.status_code == 403:
        pytest.skip(f"{model._meta.label} is not shown to tenant staff at all")
    assert response.status_code == 200
    listed = {obj.pk for obj in response.context["cl"].result_list}
    assert alpha_row.pk in listed
    assert bravo_row.pk not in listed
    shown = response.context["cl"].queryset
    assert not shown.filter(**tenant_lookup(model, world["bravo"])).exists()
    html = response.content.decode()
    assert BRAVO_MARK not in html, f"{model._meta.label} changelist shows Bravo's data"
    choices = [
        str(choice.get("display", ""))  # a range filter yields its form, not a display
        for spec in response.context["cl"].filter_specs
        for choice in spec.choices(response.context["cl"])
    ]
    assert not [c for c in choices if BRAVO_MARK in c], choices


@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m._meta.label)
def test_other_tenants_change_history_and_delete_pages_are_refused(world, staff_client, model):
    bravo_row = world["rows"][world["bravo"]][model]
    for view in ("change", "history", "delete"):
        response = staff_client.get(url(model, view, bravo_row.pk))
        assert response.status_code in (302, 403, 404), (view, response.status_code)
        if response.status_code == 302:
            assert response["Location"] == reverse("admin:index"), (view, response["Location"])
    staff_client.post(url(model, "delete", bravo_row.pk), {"post": "yes"})
    assert model.objects.filter(pk=bravo_row.pk).exists()


@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m._meta.label)
def test_own_forms_offer_no_other_tenants_choices(world, staff_client, model):
    alpha_row = world["rows"][world["alpha"]][model]
    pages = [url(model, "change", alpha_row.pk), url(model, "add")]
    seen = 0
    for page in pages:
        response = staff_client.get(page)
        if response.status_code in (302, 403):
            continue  # no such permission for tenant staff: nothing to offer
        assert response.status_code == 200, (page, response.status_code)
        seen += 1
        assert BRAVO_MARK not in response.content.decode(), f"{page} shows Bravo's data"
        forms = [response.context["adminform"].form]
        for inline in response.context.get("inline_admin_formsets") or []:
            forms += [*inline.formset.forms, inline.formset.empty_form]
        for form in forms:
            for name, field in form.fields.items():
                if not isinstance(field, ModelChoiceField) or name == form._meta.model._meta.pk.name:
                    continue  # an inline row's hidden id offers nothing (tampering: see the inline test)
                related = field.queryset.model
                if _tenant_path_of(related) is None:
                    continue
                leaked = field.queryset.filter(**tenant_lookup(related, world["bravo"]))
                assert not leaked.exists(), f"{page}: field {name} offers {list(leaked)}"
    if model is not TenantMembership:
        assert seen, f"tenant staff can open neither the change nor the add page of {model._meta.label}"


def _scoped_foreign_keys(form):
    return {
        name: field.queryset.model
        for name, field in form.fields.items()
        if isinstance(field, ModelChoiceField) and _tenant_path_of(field.queryset.model) is not None
    }


@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m._meta.label)
def test_posting_a_row_onto_the_other_tenant_is_refused(world, django_app, model):
    alpha, bravo = world["alpha"], world["bravo"]
    alpha_row = world["rows"][alpha][model]
    page = django_app.get(url(model, "change", alpha_row.pk), user=world["staff"], expect_errors=True)
    if page.status_code != 200 or not page.context["has_change_permission"]:
        pytest.skip(f"{model._meta.label} change page is not editable by tenant staff")
    fields = _scoped_foreign_keys(page.context["adminform"].form)
    form_id = f"{model._meta.model_name}_form"
    if not fields:
        pytest.skip(f"{model._meta.label} form has no editable key to tenant data")

    # Control: the page as served saves, so a refusal below is about the tampered key alone.
    saved = page.forms[form_id].submit("_save")
    errors = saved.context["adminform"].form.errors if saved.status_code == 200 else None
    assert saved.status_code == 302, f"{model._meta.label}: saving Alpha's own page unchanged failed: {errors}"

    for name, related in fields.items():
        target = world["rows"][bravo].get(related) or related.objects.filter(**tenant_lookup(related, bravo)).first()
        assert target is not None, f"no Bravo {related._meta.label} to point {name} at"
        form = django_app.get(url(model, "change", alpha_row.pk), user=world["staff"]).forms[form_id]
        form[name].force_value(str(target.pk))
        response = form.submit("_save", expect_errors=True)
        assert response.status_code in (200, 403), f"{model._meta.label}.{name} pointed at Bravo was accepted"
        fresh = model.objects.get(pk=alpha_row.pk)
        assert model.objects.filter(pk=fresh.pk, **tenant_lookup(model, alpha)).exists()
        assert getattr(fresh, model._meta.get_field(name).attname) == getattr(
            alpha_row, model._meta.get_field(name).attname
        )


@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m._meta.label)
def test_superuser_sees_both_tenants(world, superuser, admin_client_for, model):
    client = admin_client_for(superuser)
    response = _access(client, model)
    assert response.status_code == 200
    listed = {obj.pk for obj in response.context["cl"].result_list}
    assert {world["rows"][world["alpha"]][model].pk, world["rows"][world["bravo"]][model].pk} <= listed
    for tenant in ("alpha", "bravo"):
        row = world["rows"][world[tenant]][model]
        assert client.get(url(model, "change", row.pk)).status_code == 200


def test_tenant_staff_cannot_delete_or_add_tenants(world, staff_client):
    alpha = world["alpha"]
    assert staff_client.get(url(Tenant, "delete", alpha.pk)).status_code == 403
    assert staff_client.post(url(Tenant, "delete", alpha.pk), {"post": "yes"}).status_code == 403
    assert Tenant.objects.filter(pk=alpha.pk).exists()
    assert staff_client.get(url(Tenant, "add")).status_code == 403


def test_tenant_staff_have_no_auth_or_django_q_admin(world, staff_client):
    staff = world["staff"]
    perms = staff.get_all_permissions()
    assert perms, "tenant staff should hold the tenants and hub permissions"
    assert not [p for p in perms if p.split(".")[0] in ("auth", "django_q")]
    index = staff_client.get(reverse("admin:index"))
    assert index.status_code == 200
    apps = {app["app_label"] for app in index.context["app_list"]}
    assert "tenants" in apps
    assert not apps & {"auth", "django_q"}
    html = index.content.decode()
    for name in ("Users", "Groups", "Successful tasks", "Failed tasks", "Scheduled tasks"):
        assert f">{name}<" not in html, name
    for path in (reverse("admin:auth_user_changelist"), reverse("admin:auth_group_changelist")):
        assert staff_client.get(path).status_code == 403
    q_models = [m for m in admin.site._registry if m._meta.app_label == "django_q"]
    assert q_models, "django_q's admin is expected to be registered"
    for model in q_models:
        assert staff_client.get(url(model, "changelist")).status_code == 403, model._meta.label


def test_an_inline_row_cannot_be_pointed_at_the_other_tenants_row(world, django_app):
    # The tenant page's warehouse inline carries each row's id in a hidden field; editing it to a
    # Bravo warehouse must not reach that warehouse.
    bravo_warehouse = world["rows"][world["bravo"]][Warehouse]
    page = django_app.get(url(Tenant, "change", world["alpha"].pk), user=world["staff"])
    form = page.forms["tenant_form"]
    assert form["warehouses-0-id"].value  # the inline is there
    form["warehouses-0-id"].force_value(str(bravo_warehouse.pk))
    form["warehouses-0-name"] = "Taken over"
    form.submit("_save", expect_errors=True)
    bravo_warehouse.refresh_from_db()
    assert bravo_warehouse.name != "Taken over" and bravo_warehouse.tenant == world["bravo"]
    assert not Warehouse.objects.filter(tenant=world["bravo"], name="Taken over").exists()
