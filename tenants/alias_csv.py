"""SKU aliases of one connection to and from CSV (Python's csv module), with a row-by-row report.

Format: a header row naming the columns `om_sku` and `wms_sku` (any order, case ignored, other
columns ignored), then one alias per row; UTF-8 (a spreadsheet's byte-order mark is fine).

`import_aliases(connection, data, dry_run=False) -> ImportReport` creates the aliases that are
new and changes those whose WMS SKU differs; it never deletes. Each row gets an outcome:
created, changed, unchanged or rejected with the reason (empty SKU, NUL byte, longer than 200
characters, surrounding spaces, the same Order Manager SKU given on an earlier row of the file).
A file that cannot be read at all (not UTF-8, no header, too many rows) raises `CsvRejected`.
The writes are one transaction; a dry run reports without writing.
`export_aliases(connection) -> str` writes every alias in that format, so export then import
changes nothing.

Spreadsheets run a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return as a
formula (OWASP "CSV injection"); an alias typed by one tenant user must not run in another
operator's spreadsheet. Export writes such a value with a leading apostrophe (shown as text, not
run) and doubles an apostrophe that leads a value; import drops one apostrophe before any of
those, so the round trip is exact.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from .mappings import SkuAlias, validate_sku

COLUMNS = ("om_sku", "wms_sku")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
MAX_ROWS = 50_000
MAX_BYTES = 10 * 1024 * 1024


class CsvRejected(ValueError):
    """The whole file is unusable; the message says why."""


@dataclass
class RowResult:
    line: int  # the row's line number in the file (the header is line 1)
    om_sku: str
    wms_sku: str
    outcome: str  # created, changed, unchanged, rejected
    detail: str = ""


@dataclass
class ImportReport:
    rows: list[RowResult] = field(default_factory=list)
    dry_run: bool = False

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    @property
    def summary(self) -> str:
        prefix = "Dry run, nothing written: " if self.dry_run else ""
        return (
            f"{prefix}created {self.count('created')}, changed {self.count('changed')}, "
            f"unchanged {self.count('unchanged')}, rejected {self.count('rejected')}."
        )


def _problem(value: str) -> str:
    try:
        validate_sku(value)
    except ValidationError as exc:
        return exc.messages[0]
    return ""


def read_rows(data: bytes) -> list[tuple[int, str, str]]:
    """(line number, om_sku, wms_sku) per non-blank data row; raises CsvRejected for an unreadable file."""
    if len(data) > MAX_BYTES:
        raise CsvRejected(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvRejected(f"The file is not UTF-8 text (byte {exc.start}); save it as “CSV UTF-8”.") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise CsvRejected("The file is empty.")
        names = [h.strip().lower() for h in header]
        missing = [c for c in COLUMNS if c not in names]
        if missing:
            raise CsvRejected(
                f"The header row must name the columns om_sku and wms_sku (missing: {', '.join(missing)})."
            )
        om_at, wms_at = names.index("om_sku"), names.index("wms_sku")
        rows = []
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(rows) >= MAX_ROWS:
                raise CsvRejected(f"The file has more than {MAX_ROWS} rows; split it.")
            pick = lambda i: values[i] if i < len(values) else ""  # noqa: E731,B023 (used at once)
            rows.append((reader.line_num, unescape(pick(om_at)), unescape(pick(wms_at))))
    except csv.Error as exc:
        raise CsvRejected(f"The file is not valid CSV (line {reader.line_num}): {exc}") from None
    return rows


def import_aliases(connection, data: bytes, *, dry_run: bool = False) -> ImportReport:
    rows = read_rows(data)
    existing = {a.om_sku: a for a in SkuAlias.objects.filter(connection=connection)}
    report = ImportReport(dry_run=dry_run)
    first_line: dict[str, int] = {}
    to_create, to_update = [], []
    for line, om_sku, wms_sku in rows:
        shown_om, shown_wms = om_sku.replace("\x00", "\\0")[:210], wms_sku.replace("\x00", "\\0")[:210]
        problem = _problem(om_sku)
        problem = f"Order Manager SKU: {problem}" if problem else ""
        if not problem and _problem(wms_sku):
            problem = f"WMS SKU: {_problem(wms_sku)}"
        if not problem and om_sku in first_line:
            problem = f"Duplicate: this Order Manager SKU is already on line {first_line[om_sku]} (that line is used)."
        if problem:
            report.rows.append(RowResult(line, shown_om, shown_wms, "rejected", problem))
            continue
        first_line[om_sku] = line
        alias = existing.get(om_sku)
        if alias is None:
            to_create.append(SkuAlias(connection=connection, om_sku=om_sku, wms_sku=wms_sku))
            report.rows.append(RowResult(line, om_sku, wms_sku, "created"))
        elif alias.wms_sku != wms_sku:
            report.rows.append(RowResult(line, om_sku, wms_sku, "changed", f"was {alias.wms_sku}"))
            alias.wms_sku = wms_sku
            to_update.append(alias)
        else:
            report.rows.append(RowResult(line, om_sku, wms_sku, "unchanged"))
    if not dry_run:
        with transaction.atomic():
            SkuAlias.objects.bulk_create(to_create, batch_size=1000)
            SkuAlias.objects.bulk_update(to_update, ["wms_sku"], batch_size=1000)
    return report


def escape(value: str) -> str:
    """`value` as a cell a spreadsheet shows as text: a leading apostrophe before a formula start."""
    return ESCAPE + value if value.startswith((*FORMULA_START, ESCAPE)) else value


def unescape(value: str) -> str:
    """The inverse of `escape`: one apostrophe dropped before a formula start or an apostrophe."""
    if value.startswith(ESCAPE) and value[1:].startswith((*FORMULA_START, ESCAPE)):
        return value[1:]
    return value


def export_aliases(connection) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for om_sku, wms_sku in (
        SkuAlias.objects.filter(connection=connection).order_by("om_sku").values_list("om_sku", "wms_sku")
    ):
        writer.writerow([escape(om_sku), escape(wms_sku)])
    return out.getvalue()
