"""hub.admin.mappings: the mappings admins, CSV import/export pages and the connection's mappings page."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from hub.admin.mappings import CarrierMappingForm
from tenants.mappings import SkuAlias
from tests import factories

pytestmark = pytest.mark.django_db

IMPORT_URL = reverse("admin:tenants_skualias_import")
EXPORT_URL = reverse("admin:tenants_skualias_export")


@pytest.fixture
def mine(db):
    return factories.OrderManagerConnectionFactory(warehouse__tenant__name="Acme")


@pytest.fixture
def theirs(db):
    return factories.OrderManagerConnectionFactory(warehouse__tenant__name="Other")


@pytest.fixture
def staff(mine, admin_client_for):
    return admin_client_for(factories.tenant_staff(mine.warehouse.tenant))


def upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("aliases.csv", text.encode(), content_type="text/csv")


def test_import_page_shows_each_rows_outcome(mine, staff):
    factories.SkuAliasFactory(connection=mine, om_sku="OLD", wms_sku="W-0")
    page = staff.get(IMPORT_URL)
    assert page.status_code == 200
    response = staff.post(
        IMPORT_URL, {"connection": mine.pk, "file": upload("om_sku,wms_sku\nNEW,W-1\nOLD,W-2\n,W-3\nNEW,W-4\n")}
    )
    assert response.status_code == 200
    report = response.context["report"]
    assert [(r.line, r.outcome) for r in report.rows] == [
        (2, "created"),
        (3, "changed"),
        (4, "rejected"),
        (5, "rejected"),
    ]
    html = response.content.decode()
    assert html.count('class="import-rejected"') == 2 and "was W-0" in html and "already on line 2" in html
    assert "created 1, changed 1, unchanged 0, rejected 2." in html
    assert dict(SkuAlias.objects.values_list("om_sku", "wms_sku")) == {"NEW": "W-1", "OLD": "W-2"}


def test_import_refuses_another_tenants_connection_and_an_unreadable_file(mine, theirs, staff):
    response = staff.post(IMPORT_URL, {"connection": theirs.pk, "file": upload("om_sku,wms_sku\nA,B\n")})
    assert response.context["form"].errors["connection"] and not SkuAlias.objects.exists()
    response = staff.post(IMPORT_URL, {"connection": mine.pk, "file": upload("sku\nA\n")})
    assert "must name the columns" in response.context["error"] and not SkuAlias.objects.exists()


def test_export_is_a_csv_of_one_own_connection(mine, theirs, staff):
    factories.SkuAliasFactory(connection=mine, om_sku="A", wms_sku="W-1")
    factories.SkuAliasFactory(connection=theirs, om_sku="B", wms_sku="W-2")
    response = staff.get(EXPORT_URL, {"connection": mine.pk})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.content.decode() == "om_sku,wms_sku\r\nA,W-1\r\n"
    assert staff.get(EXPORT_URL, {"connection": theirs.pk}).status_code == 404
    assert staff.get(EXPORT_URL).status_code == 404
    listing = staff.get(reverse("admin:tenants_skualias_changelist"), {"connection__id__exact": mine.pk})
    assert f"{EXPORT_URL}?connection={mine.pk}" in listing.content.decode()


def test_the_connection_page_links_to_its_mappings_and_shows_the_rules(mine, theirs, staff):
    factories.ConnectionRulesFactory(connection=mine, inventory_buffer=4, reject_unmapped_ship_methods=True)
    factories.ShipMethodMappingFactory(connection=mine, ship_method="DHL / Express", wms_carrier="", wms_mode="")
    factories.SkuAliasFactory(connection=mine)
    url = reverse("admin:tenants_ordermanagerconnection_mappings", args=[mine.pk])
    assert url in staff.get(reverse("admin:tenants_ordermanagerconnection_change", args=[mine.pk])).content.decode()
    response = staff.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "yes: held until mapped" in html and "1 not mapped yet" in html
    assert f"connection__id__exact={mine.pk}&amp;mapped=no" in html
    assert staff.get(reverse("admin:tenants_ordermanagerconnection_mappings", args=[theirs.pk])).status_code in (
        302,
        404,
    )
    unmapped = staff.get(
        reverse("admin:tenants_shipmethodmapping_changelist"), {"connection__id__exact": mine.pk, "mapped": "no"}
    )
    assert [m.ship_method for m in unmapped.context["cl"].result_list] == ["DHL / Express"]


def test_a_connection_without_rules_offers_to_set_them(mine, staff):
    html = staff.get(reverse("admin:tenants_ordermanagerconnection_mappings", args=[mine.pk])).content.decode()
    assert "Rules (defaults)" in html and f"{reverse('admin:tenants_connectionrules_add')}?connection={mine.pk}" in html


def test_carrier_mapping_form_accepts_only_order_manager_carriers(mine):
    good = CarrierMappingForm({"connection": mine.pk, "wms_carrier": "BOBF", "om_carrier": "ESTES_EXPRESS_LINES"})
    assert good.is_valid(), good.errors
    bad = CarrierMappingForm({"connection": mine.pk, "wms_carrier": "BOBF", "om_carrier": "BOBS_FREIGHT"})
    assert not bad.is_valid() and "om_carrier" in bad.errors


def test_item_filter_and_ship_method_validation(mine):
    from django.core.exceptions import ValidationError

    from tenants.mappings import ItemFilter, ShipMethodMapping

    with pytest.raises(ValidationError, match="trailing"):
        ItemFilter(connection=mine, sku="A*B").full_clean()
    with pytest.raises(ValidationError, match="every SKU"):
        ItemFilter(connection=mine, sku="*").full_clean()
    with pytest.raises(ValidationError, match="NUL"):
        ItemFilter(connection=mine, sku="A\x00").full_clean()
    with pytest.raises(ValidationError, match="needs its carrier"):
        ShipMethodMapping(connection=mine, ship_method="UPS / Ground", wms_mode="Ground").full_clean()
    method = ShipMethodMapping(connection=mine, ship_method="  ups  /   Ground ")
    method.save()
    assert method.key == "UPS / GROUND" and not method.is_mapped
