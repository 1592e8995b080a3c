"""tenants.alias_csv: SKU aliases to and from CSV with a row-by-row report."""

import csv
import io

import pytest

from tenants.alias_csv import CsvRejected, export_aliases, import_aliases
from tenants.mappings import SkuAlias
from tests import factories

pytestmark = pytest.mark.django_db

GOOD_AND_BAD = (
    "\ufeffWMS_SKU, om_sku ,note\r\n"  # BOM, any column order, case and spaces ignored, extra column
    "W-1,RED,new\r\n"
    "W-2,KEEP,unchanged\r\n"
    "W-3,MOVE,changed\r\n"
    ",EMPTYWMS,\r\n"
    "W-4,,empty om\r\n"
    f"W-5,{'L' * 201},too long\r\n"
    "W-6,NUL\x00SKU,nul\r\n"
    "W-7, SPACED ,spaces\r\n"
    "\r\n"
    "W-8,RED,duplicate\r\n"
    '"W,9","QUOTED,SKU",quoted\r\n'
)


def aliases(connection) -> dict:
    return dict(SkuAlias.objects.filter(connection=connection).values_list("om_sku", "wms_sku"))


def test_import_reports_every_row_and_applies_the_good_ones():
    connection = factories.OrderManagerConnectionFactory()
    other = factories.SkuAliasFactory(om_sku="RED", wms_sku="ELSEWHERE")  # another connection's alias
    factories.SkuAliasFactory(connection=connection, om_sku="KEEP", wms_sku="W-2")
    factories.SkuAliasFactory(connection=connection, om_sku="MOVE", wms_sku="OLD")
    factories.SkuAliasFactory(connection=connection, om_sku="UNTOUCHED", wms_sku="W-0")

    report = import_aliases(connection, GOOD_AND_BAD.encode())
    outcomes = [(r.line, r.om_sku[:10], r.outcome) for r in report.rows]
    assert outcomes == [
        (2, "RED", "created"),
        (3, "KEEP", "unchanged"),
        (4, "MOVE", "changed"),
        (5, "EMPTYWMS", "rejected"),
        (6, "", "rejected"),
        (7, "L" * 10, "rejected"),
        (8, "NUL\\0SKU", "rejected"),
        (9, " SPACED ", "rejected"),
        (11, "RED", "rejected"),
        (12, "QUOTED,SKU", "created"),
    ]
    details = {r.line: r.detail for r in report.rows}
    assert details[4] == "was OLD"
    assert details[5] == "WMS SKU: The SKU is empty."
    assert details[6] == "Order Manager SKU: The SKU is empty."
    assert "longer than 200" in details[7] and "NUL" in details[8] and "spaces" in details[9]
    assert details[11] == "Duplicate: this Order Manager SKU is already on line 2 (that line is used)."
    assert report.summary == "created 2, changed 1, unchanged 1, rejected 6."
    assert aliases(connection) == {"RED": "W-1", "KEEP": "W-2", "MOVE": "W-3", "UNTOUCHED": "W-0", "QUOTED,SKU": "W,9"}
    other.refresh_from_db()
    assert other.wms_sku == "ELSEWHERE"


def test_a_dry_run_reports_without_writing():
    connection = factories.OrderManagerConnectionFactory()
    report = import_aliases(connection, b"om_sku,wms_sku\nA,B\n", dry_run=True)
    assert [r.outcome for r in report.rows] == ["created"] and report.summary.startswith(
        "Dry run, nothing written: created 1,"
    )
    assert aliases(connection) == {}


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty"),
        (b"sku,target\nA,B\n", r"must name the columns om_sku and wms_sku \(missing: om_sku, wms_sku\)"),
        ("om_sku,wms_sku\nÄ,B\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_an_unreadable_file_is_rejected_whole(data, reason):
    connection = factories.OrderManagerConnectionFactory()
    with pytest.raises(CsvRejected, match=reason):
        import_aliases(connection, data)
    assert aliases(connection) == {}


def test_export_then_import_round_trips():
    source, target = factories.OrderManagerConnectionFactory(), factories.OrderManagerConnectionFactory()
    for om, wms in (("B", "W-2"), ("A", "W-1"), ('Q"uote,d', "=W3"), ("Ünï", "W 4")):
        factories.SkuAliasFactory(connection=source, om_sku=om, wms_sku=wms)
    text = export_aliases(source)
    assert text.splitlines()[:3] == ["om_sku,wms_sku", "A,W-1", "B,W-2"]
    first = import_aliases(target, text.encode())
    assert {r.outcome for r in first.rows} == {"created"}
    assert aliases(target) == aliases(source)
    again = import_aliases(source, text.encode())
    assert {r.outcome for r in again.rows} == {"unchanged"} and len(again.rows) == 4


FORMULAS = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "'=quoted", "'plain", "''"]


def test_export_writes_formulas_as_text_and_import_reads_them_back():
    """A cell starting like a formula is exported with a leading apostrophe (a spreadsheet shows it
    as text instead of running it); import drops it again, so the aliases round-trip exactly."""
    source, target = factories.OrderManagerConnectionFactory(), factories.OrderManagerConnectionFactory()
    for number, value in enumerate(FORMULAS):
        factories.SkuAliasFactory(connection=source, om_sku=f"OM-{number}", wms_sku=value)
    factories.SkuAliasFactory(connection=source, om_sku="=OM", wms_sku="W-1")
    text = export_aliases(source)
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row][2:]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))], cells
    assert {"'=OM", "''=quoted", "''plain", "'''"} <= set(cells)
    report = import_aliases(target, text.encode())
    assert {r.outcome for r in report.rows} == {"created"}, [(r.om_sku, r.detail) for r in report.rows]
    assert aliases(target) == aliases(source)


def test_a_hand_written_apostrophe_before_ordinary_text_is_kept():
    connection = factories.OrderManagerConnectionFactory()
    import_aliases(connection, b"om_sku,wms_sku\r\n'A,'=B\r\n")
    assert aliases(connection) == {"'A": "=B"}
