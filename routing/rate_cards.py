"""Rate-card import from CSV: a preview with per-row errors, then all rows or none.

``rate_card_preview(merchant=..., text=...)`` parses and checks every row without writing and
says for each valid row whether it adds a lane, changes one or leaves it as it is.
``rate_card_apply`` writes the rows in one transaction, and only when the preview has no error:
otherwise it raises ``RateCardInvalid`` carrying the preview, and nothing is written. Rows are
matched on (service, origin province, destination province or zone), so importing the same file
twice changes nothing. ``manage.py import_rate_cards`` calls these; the admin's spreadsheet
import (CSV or XLSX, ``RateCardImport`` under ``oms.services.tabular``) checks each row with the
same ``_parse_row`` and writes with the same ``rate_lines_write``.

Columns (header row, any order; ``first_weight_kg`` and ``on_time_rate`` may be left out):
``carrier`` and ``service`` (codes of a carrier service set up in admin), ``origin_province``
(empty: any origin), ``destination_province`` or ``zone`` (1-5, exactly one of them),
``first_weight_kg`` (default 1), ``first_price`` and ``additional_per_kg`` (CNY),
``transit_hours``, ``on_time_rate`` (0-1, default 0.97). Provinces may be written '浙江省',
'浙江' or 'Zhejiang'.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from oms.exceptions import DomainError
from oms.geo import province_key
from oms.models import Merchant
from oms.services.tabular import NON_COLUMN, Column, PlannedRow, TabularImporter
from routing.models import CarrierRate, CarrierService

REQUIRED = (
    "carrier",
    "service",
    "first_price",
    "additional_per_kg",
    "transit_hours",
)
KNOWN = (
    *REQUIRED,
    "origin_province",
    "destination_province",
    "zone",
    "first_weight_kg",
    "on_time_rate",
)
MAX_ROWS = 20_000


@dataclass(frozen=True)
class RowError:
    """What is wrong with one row (``line`` counts the header as line 1; 0: the whole file)."""

    line: int
    field: str
    message: str


@dataclass(frozen=True)
class RateRow:
    """One valid row, ready to write; ``action`` is "add", "change" or "same"."""

    line: int
    service: CarrierService
    origin_province: str
    destination_province: str
    zone: int | None
    first_weight_kg: Decimal
    first_price: Decimal
    additional_per_kg: Decimal
    transit_hours: float
    on_time_rate: float
    action: str = "add"

    @property
    def key(self) -> tuple[int, str, str, int | None]:
        return (self.service.pk, self.origin_province, self.destination_province, self.zone)


@dataclass(frozen=True)
class RateCardPreview:
    rows: tuple[RateRow, ...]
    errors: tuple[RowError, ...]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors


class RateCardInvalid(DomainError):
    """The file has errors; nothing was written."""

    code = "rate_card_invalid"
    http_status = 422

    def __init__(self, preview: RateCardPreview) -> None:
        super().__init__(
            _("The rate card has %(n)d errors; nothing was imported.") % {"n": len(preview.errors)}
        )
        self.preview = preview


def _decimal(raw: str, name: str, line: int, errors: list[RowError]) -> Decimal | None:
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        errors.append(RowError(line, name, _("Not a number: %(v)s.") % {"v": raw}))
        return None
    if not value.is_finite() or value < 0:
        errors.append(RowError(line, name, _("Must be zero or more.")))
        return None
    return value


def _province(raw: str, name: str, line: int, errors: list[RowError]) -> str | None:
    text = raw.strip()
    if not text:
        return ""
    key = province_key(text)
    if not key:
        errors.append(RowError(line, name, _("Unknown province: %(v)s.") % {"v": text}))
        return None
    return key


def _parse_row(
    line: int, raw: dict[str, str], services: dict[tuple[str, str], CarrierService]
) -> tuple[RateRow | None, list[RowError]]:
    errors: list[RowError] = []
    get = {name: (raw.get(name) or "").strip() for name in KNOWN}
    for name in REQUIRED:
        if not get[name]:
            errors.append(RowError(line, name, _("This column is required.")))
    if errors:
        return None, errors
    service = services.get((get["carrier"], get["service"]))
    if service is None:
        errors.append(
            RowError(
                line,
                "service",
                _("No carrier service %(c)s/%(s)s; set it up in admin first.")
                % {"c": get["carrier"], "s": get["service"]},
            )
        )
    origin = _province(get["origin_province"], "origin_province", line, errors)
    destination = _province(get["destination_province"], "destination_province", line, errors)
    zone: int | None = None
    if get["zone"]:
        try:
            zone = int(get["zone"])
        except ValueError:
            zone = -1
        if not 1 <= zone <= 5:
            errors.append(RowError(line, "zone", _("A zone is 1, 2, 3, 4 or 5.")))
    if bool(get["destination_province"]) == bool(get["zone"]):
        errors.append(
            RowError(line, "zone", _("Give either a destination province or a zone, not both."))
        )
    first_weight = _decimal(get["first_weight_kg"] or "1", "first_weight_kg", line, errors)
    first_price = _decimal(get["first_price"], "first_price", line, errors)
    per_kg = _decimal(get["additional_per_kg"], "additional_per_kg", line, errors)
    hours = _decimal(get["transit_hours"], "transit_hours", line, errors)
    on_time = _decimal(get["on_time_rate"] or "0.97", "on_time_rate", line, errors)
    if on_time is not None and on_time > 1:
        errors.append(RowError(line, "on_time_rate", _("An on-time rate is between 0 and 1.")))
    for name, amount in (("first_price", first_price), ("additional_per_kg", per_kg)):
        if amount is not None and amount != amount.quantize(Decimal("0.01")):
            errors.append(RowError(line, name, _("An amount has at most 2 decimals (fen).")))
    if first_weight is not None and first_weight <= 0:
        errors.append(RowError(line, "first_weight_kg", _("The first weight must be positive.")))
    if errors:
        return None, errors
    assert service is not None and origin is not None and destination is not None
    assert first_weight is not None and first_price is not None and per_kg is not None
    assert hours is not None and on_time is not None
    return (
        RateRow(
            line=line,
            service=service,
            origin_province=origin,
            destination_province=destination,
            zone=zone,
            first_weight_kg=first_weight,
            first_price=first_price,
            additional_per_kg=per_kg,
            transit_hours=float(hours),
            on_time_rate=float(on_time),
        ),
        [],
    )


def _same(existing: CarrierRate, row: RateRow) -> bool:
    return (
        existing.first_weight_kg == row.first_weight_kg
        and existing.first_price == row.first_price
        and existing.additional_per_kg == row.additional_per_kg
        and existing.transit_hours == row.transit_hours
        and existing.on_time_rate == row.on_time_rate
    )


def rate_card_preview(*, merchant: Merchant, text: str) -> RateCardPreview:
    """Check every row of the CSV ``text`` against the merchant's services; write nothing."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        return RateCardPreview(
            (),
            (RowError(0, "header", _("Missing columns: %(c)s.") % {"c": ", ".join(missing)}),),
        )
    if "destination_province" not in header and "zone" not in header:
        return RateCardPreview(
            (), (RowError(0, "header", _("Give a destination_province or a zone column.")),)
        )
    services = {
        (s.carrier.code, s.code): s
        for s in CarrierService.objects.filter(carrier__merchant=merchant).select_related("carrier")
    }
    rows: list[RateRow] = []
    errors: list[RowError] = []
    seen: dict[tuple[int, str, str, int | None], int] = {}
    for index, raw in enumerate(reader, start=2):
        if index - 1 > MAX_ROWS:
            errors.append(RowError(index, "", _("More than %(n)d rows.") % {"n": MAX_ROWS}))
            break
        if not any((value or "").strip() for value in raw.values() if isinstance(value, str)):
            continue  # a blank line
        row, row_errors = _parse_row(index, raw, services)
        errors += row_errors
        if row is None:
            continue
        if row.key in seen:
            errors.append(
                RowError(
                    index,
                    "destination_province",
                    _("The same lane as line %(n)d.") % {"n": seen[row.key]},
                )
            )
            continue
        seen[row.key] = index
        rows.append(row)
    existing = {
        (r.service_id, r.origin_province, r.destination_province, r.zone): r
        for r in CarrierRate.objects.filter(service__in=list(services.values()))
    }
    marked = []
    counts = {"add": 0, "change": 0, "same": 0}
    for row in rows:
        found = existing.get(row.key)
        action = "add" if found is None else "same" if _same(found, row) else "change"
        counts[action] += 1
        marked.append(
            RateRow(**{**row.__dict__, "action": action})  # frozen: a marked copy
        )
    return RateCardPreview(tuple(marked), tuple(errors), counts)


@transaction.atomic
def rate_card_apply(*, merchant: Merchant, text: str) -> RateCardPreview:
    """Write every row of the CSV ``text``, or none: raises ``RateCardInvalid`` on any error."""
    preview = rate_card_preview(merchant=merchant, text=text)
    if not preview.valid:
        raise RateCardInvalid(preview)
    rate_lines_write(row for row in preview.rows if row.action != "same")
    return preview


def rate_lines_write(rows: Iterable[RateRow], *, reason: str = "") -> int:
    """Add or update the rate-card lines (matched on service, origin and destination)."""
    written = 0
    for row in rows:
        line = CarrierRate.objects.filter(
            service=row.service,
            origin_province=row.origin_province,
            destination_province=row.destination_province,
            zone=row.zone,
        ).first() or CarrierRate(
            service=row.service,
            origin_province=row.origin_province,
            destination_province=row.destination_province,
            zone=row.zone,
        )
        line.first_weight_kg = row.first_weight_kg
        line.first_price = row.first_price
        line.additional_per_kg = row.additional_per_kg
        line.transit_hours = row.transit_hours
        line.on_time_rate = row.on_time_rate
        if reason:
            line._change_reason = reason  # type: ignore[attr-defined]
        line.save()
        written += 1
    return written


RATE_COLUMNS = (
    Column("merchant", gettext_lazy("merchant"), required=False),
    Column("carrier", gettext_lazy("carrier"), aliases=("承运商代码",)),
    Column("service", gettext_lazy("service"), aliases=("服务代码",)),
    Column("origin_province", gettext_lazy("origin province"), aliases=("from",), required=False),
    Column(
        "destination_province",
        gettext_lazy("destination province"),
        aliases=("to", "destination"),
        required=False,
    ),
    Column("zone", gettext_lazy("zone"), required=False),
    Column("first_weight_kg", gettext_lazy("first weight (kg)"), required=False),
    Column("first_price", gettext_lazy("first weight price (¥)"), aliases=("首重价格",)),
    Column("additional_per_kg", gettext_lazy("each additional kg (¥)"), aliases=("续重价格",)),
    Column("transit_hours", gettext_lazy("transit hours")),
    Column("on_time_rate", gettext_lazy("on-time rate"), required=False),
)


def _number(value: Decimal | float) -> str:
    """A number as the export writes it and the preview compares it: "8", "8.5", "0.97"."""
    text = format(Decimal(str(value)).normalize(), "f")
    return text


def line_values(line: CarrierRate | RateRow) -> dict[str, str]:
    """The columns of a rate-card line that an import changes, as text."""
    return {
        "first_weight_kg": _number(line.first_weight_kg),
        "first_price": _number(line.first_price),
        "additional_per_kg": _number(line.additional_per_kg),
        "transit_hours": _number(line.transit_hours),
        "on_time_rate": _number(line.on_time_rate),
    }


class RateCardImport(TabularImporter):
    """Rate-card lines of ``merchant``'s carrier services; ``source`` goes into the history."""

    columns = RATE_COLUMNS
    verbose_name = gettext_lazy("rate card")

    def __init__(self, *, merchant: Merchant, source: str = "") -> None:
        self.merchant = merchant
        self.source = source

    def plan(self, rows: list[PlannedRow]) -> None:
        services = {
            (s.carrier.code, s.code): s
            for s in CarrierService.objects.filter(carrier__merchant=self.merchant).select_related(
                "carrier"
            )
        }
        existing = {
            (r.service_id, r.origin_province, r.destination_province, r.zone): r
            for r in CarrierRate.objects.filter(service__in=list(services.values()))
        }
        seen: dict[tuple[int, str, str, int | None], int] = {}
        for row in rows:
            merchant_code = row.values.get("merchant", "")
            if merchant_code and merchant_code != self.merchant.code:
                row.refuse(
                    "merchant",
                    _("This row is for merchant %(other)r; the import is for %(merchant)s.")
                    % {"other": merchant_code, "merchant": self.merchant.code},
                )
            parsed, errors = _parse_row(row.number, row.values, services)
            for error in errors:
                row.refuse(error.field if error.field in _KEYS else NON_COLUMN, error.message)
            if parsed is None or not row.ok:
                continue
            if parsed.key in seen:
                row.refuse(NON_COLUMN, _("The same lane as row %(n)d.") % {"n": seen[parsed.key]})
                continue
            seen[parsed.key] = row.number
            current = existing.get(parsed.key)
            row.is_new = current is None
            if current is not None:
                row.before = line_values(current)
            row.after = {"merchant": self.merchant.code, **line_values(parsed)}
            row.change = parsed

    def apply(self, rows: list[PlannedRow]) -> None:
        reason = _("Rate card import: %(file)s") % {"file": self.source or "-"}
        rate_lines_write((row.change for row in rows), reason=reason)


_KEYS = {column.key for column in RATE_COLUMNS}
