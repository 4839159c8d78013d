"""All-or-nothing import of a table (CSV or spreadsheet rows): check every row, preview, apply.

An importer (a subclass of ``TabularImporter``) knows one kind of table: its columns, how a row
becomes a planned change of this merchant's data, and the service that applies the changes.
``tabular_import`` runs it: every row is checked, and the changes are applied only when no row
has an issue, in one transaction. A preview (``dry_run``) applies them too and rolls back, so
what the preview shows is what the same file would do (the database's own checks included).

Stock counts (``oms.services.stock_import``) and channel price lists
(``channels.price_import``) are importers; a carrier rate card would be one more.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

NON_COLUMN = "__all__"  # an issue about the row as a whole (Django's NON_FIELD_ERRORS)


@dataclass(frozen=True)
class Column:
    """One column of the table: its key, its header as shown, and the other headers accepted.

    Headers are matched without regard to case, spaces, ``-`` or ``_``, so "On hand",
    "on_hand" and "ON-HAND" are one column; the translated label is accepted too.
    """

    key: str
    label: Any  # a lazy translation
    aliases: tuple[str, ...] = ()
    required: bool = True


@dataclass
class PlannedRow:
    """One row of the file: its number as staff count (the header is row 1), what it says,
    what it will change (``before`` -> ``after``, by column key), and its issues."""

    number: int
    values: dict[str, str]
    before: dict[str, str] = field(default_factory=dict)
    after: dict[str, str] = field(default_factory=dict)
    is_new: bool = False
    issues: dict[str, list[str]] = field(default_factory=dict)
    change: Any = None  # what the importer's ``apply`` needs for this row

    def refuse(self, column: str, message: str) -> None:
        self.issues.setdefault(column, []).append(message)

    @property
    def ok(self) -> bool:
        return not self.issues


@dataclass
class ImportReport:
    columns: Sequence[Column]
    rows: list[PlannedRow]
    problems: list[str] = field(default_factory=list)  # about the file as a whole
    applied: bool = False

    @property
    def refused_rows(self) -> list[PlannedRow]:
        return [row for row in self.rows if not row.ok]

    @property
    def ok(self) -> bool:
        return not self.problems and not self.refused_rows


class RowsRefused(Exception):
    """Raised by an importer's ``apply`` when the service it calls refuses some rows (a count
    below what is reserved, found under the lock); ``issues`` maps a row number to its issues."""

    def __init__(self, issues: Mapping[int, Mapping[str, list[str]]]) -> None:
        super().__init__("rows refused")
        self.issues = issues


def _header_key(text: Any) -> str:
    return "".join(ch for ch in str(text or "").casefold() if ch not in " _-")


class TabularImporter:
    """One kind of table. Subclasses set ``columns`` and implement ``plan`` and ``apply``."""

    columns: ClassVar[Sequence[Column]] = ()
    verbose_name: ClassVar[Any] = gettext_lazy("table")

    def header_map(self, headers: Sequence[Any]) -> tuple[dict[str, str], list[str]]:
        """Map the file's headers to column keys; return it and the problems with the headers."""
        known: dict[str, str] = {}
        for column in self.columns:
            labels = []
            for language, _name in settings.LANGUAGES:
                with translation.override(language):
                    labels.append(str(column.label))
            for name in (column.key, *labels, *column.aliases):
                known[_header_key(name)] = column.key
        mapping: dict[str, str] = {}
        for header in headers:
            key = known.get(_header_key(header))
            if key is not None and key not in mapping.values():
                mapping[str(header)] = key
        missing = [
            str(column.label)
            for column in self.columns
            if column.required and column.key not in mapping.values()
        ]
        problems = []
        if missing:
            problems.append(
                _("Missing columns: %(columns)s. Expected columns: %(expected)s.")
                % {
                    "columns": ", ".join(missing),
                    "expected": ", ".join(str(c.label) for c in self.columns),
                }
            )
        return mapping, problems

    def plan(self, rows: list[PlannedRow]) -> None:
        """Check every row, set its ``change``, ``before`` and ``after``, or its issues."""
        raise NotImplementedError

    def apply(self, rows: list[PlannedRow]) -> None:
        """Apply the rows' changes through the domain's services; raise ``RowsRefused``."""
        raise NotImplementedError


def tabular_import(
    *,
    importer: TabularImporter,
    headers: Sequence[Any],
    data: Iterable[Sequence[Any]],
    dry_run: bool,
) -> ImportReport:
    """Check every row of a table and apply it all, or nothing.

    Rows are numbered as a spreadsheet shows them (the header is row 1). Blank rows are
    skipped. Everything runs in one transaction: if any row has an issue, or this is a
    preview, it is rolled back, and the side effects services defer to the commit
    (``transaction.on_commit``) never happen.
    """
    mapping, problems = importer.header_map(headers)
    rows: list[PlannedRow] = []
    for offset, values in enumerate(data):
        cells = {
            mapping[str(header)]: _cell_text(value)
            for header, value in zip(headers, values, strict=False)
            if str(header) in mapping
        }
        if not any(cells.values()):
            continue
        rows.append(PlannedRow(number=offset + 2, values=cells))
    report = ImportReport(columns=importer.columns, rows=rows, problems=problems)
    if problems:
        return report
    if not rows:
        report.problems.append(_("The file has no rows to import."))
        return report
    with transaction.atomic():
        importer.plan(rows)
        if report.ok:
            try:
                with transaction.atomic():
                    importer.apply(rows)
            except RowsRefused as refused:
                by_number = {row.number: row for row in rows}
                for number, issues in refused.issues.items():
                    for column, messages in issues.items():
                        for message in messages:
                            by_number[number].refuse(column, message)
        report.applied = report.ok and not dry_run
        if not report.applied:
            transaction.set_rollback(True)
    return report


def _cell_text(value: Any) -> str:
    """A cell as text: spreadsheets give numbers, dates and datetimes; CSV gives text."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# --- cell parsers shared by importers: each returns the value or raises ValueError(message) ---


def parse_count(text: str) -> int:
    """A whole number of units, 0 or more ("12", "12.0" from a spreadsheet)."""
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise ValueError(_("%(value)r is not a whole number.") % {"value": text}) from None
    if number != number.to_integral_value():
        raise ValueError(_("%(value)r is not a whole number.") % {"value": text})
    if number < 0:
        raise ValueError(_("%(value)r is below 0.") % {"value": text})
    return int(number)


def parse_money(text: str) -> Decimal:
    """An amount of 0 or more with at most 2 decimals (fen)."""
    try:
        amount = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise ValueError(_("%(value)r is not an amount.") % {"value": text}) from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(_("%(value)r is not an amount of 0 or more.") % {"value": text})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(_("%(value)r has more than 2 decimals.") % {"value": text})
    return amount.quantize(Decimal("0.01"))


def parse_day(text: str) -> date:
    """A date written YYYY-MM-DD (a spreadsheet's date cell arrives as one)."""
    try:
        day = parse_date(text[:10]) if len(text) >= 10 else None
    except ValueError:
        day = None
    if day is None or text[10:].strip(" T0:"):
        raise ValueError(_("%(value)r is not a date (YYYY-MM-DD).") % {"value": text})
    return day
