"""Canonical order input and the reader every adapter uses to walk a native payload.

Pure: no Django import. An adapter is ``parse(payload: object) -> CanonicalOrder``; it raises
``PayloadError`` with every problem found, keyed by the dotted path of the native field
(``"sku_order_list.1.item_num"``), so the channel is told exactly what to fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_MONEY = Decimal("9999999999.99")
MAX_QUANTITY = 100_000
MAX_LINES = 500


class PayloadError(Exception):
    """The payload cannot become an order; ``errors`` maps field paths to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class CanonicalLine:
    sku: str
    quantity: int
    reported_unit_price: Decimal | None = None  # what the channel charged per unit, if it says
    is_gift: bool = False
    campaign_code: str = ""
    external_line_id: str = ""


@dataclass(frozen=True)
class CanonicalAddress:
    receiver_name: str
    receiver_phone: str
    province: str
    city: str
    address_line: str
    district: str = ""
    postal_code: str = ""


@dataclass(frozen=True)
class Buyer:
    """Who bought (may differ from the receiver): what identifies them to the customer master."""

    phone: str = ""
    device_id: str = ""
    account_id: str = ""
    name: str = ""


@dataclass(frozen=True)
class GroupBuy:
    order_type: str  # leader_proxy | member_direct | store_pickup
    leader_id: str
    leader_name: str = ""
    pickup_point_id: str = ""
    pickup_point_name: str = ""
    activity_id: str = ""


@dataclass(frozen=True)
class CanonicalOrder:
    external_id: str
    placed_at: datetime
    lines: tuple[CanonicalLine, ...]
    address: CanonicalAddress
    buyer: Buyer = field(default_factory=Buyer)
    currency: str = "CNY"
    shipping_fee: Decimal = Decimal("0")
    reported_total: Decimal | None = None
    promised_at: datetime | None = None
    group_buy: GroupBuy | None = None
    remark: str = ""


_MISSING = object()


class Reader:
    """Typed access to a JSON object that collects errors instead of raising at the first one."""

    def __init__(self, data: object, path: str = "", errors: dict[str, list[str]] | None = None):
        self.data = data
        self.path = path
        self.errors: dict[str, list[str]] = {} if errors is None else errors

    # --- plumbing ---------------------------------------------------------------------------
    def _at(self, key: str | int) -> str:
        return f"{self.path}.{key}" if self.path else str(key)

    def error(self, key: str | int, message: str) -> None:
        self.errors.setdefault(self._at(key), []).append(message)

    def _raw(self, key: str, required: bool) -> object:
        if not isinstance(self.data, dict):
            return _MISSING
        value = self.data.get(key, _MISSING)
        if value is None or value == "":
            value = _MISSING
        if value is _MISSING and required:
            self.error(key, "This field is required.")
        return value

    def check(self) -> None:
        if self.errors:
            raise PayloadError(self.errors)

    # --- structure --------------------------------------------------------------------------
    def obj(self, key: str, *, required: bool = True) -> Reader:
        value = self._raw(key, required)
        if value is not _MISSING and not isinstance(value, dict):
            self.error(key, "Expected an object.")
            value = _MISSING
        return Reader(value if value is not _MISSING else None, self._at(key), self.errors)

    def items(self, key: str, *, required: bool = True) -> Iterator[Reader]:
        value = self._raw(key, required)
        if value is _MISSING:
            if required:
                return
            return
        if not isinstance(value, list):
            self.error(key, "Expected a list.")
            return
        if required and not value:
            self.error(key, "At least one item is required.")
            return
        if len(value) > MAX_LINES:
            self.error(key, f"At most {MAX_LINES} items.")
            return
        sub = Reader(value, self._at(key), self.errors)
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                sub.error(index, "Expected an object.")
                continue
            yield Reader(item, sub._at(index), self.errors)

    @property
    def present(self) -> bool:
        return isinstance(self.data, dict)

    # --- scalars ----------------------------------------------------------------------------
    def text(self, key: str, *, required: bool = True, max_length: int = 300) -> str:
        value = self._raw(key, required)
        if value is _MISSING:
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int):
            self.error(key, "Expected a string.")
            return ""
        text = str(value).strip()
        if len(text) > max_length:
            self.error(key, f"At most {max_length} characters.")
            return ""
        if required and not text:
            self.error(key, "This field is required.")
        return text

    def integer(self, key: str, *, required: bool = True, minimum: int = 0, maximum: int) -> int:
        value = self._raw(key, required)
        if value is _MISSING:
            return 0
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value.strip())
        if isinstance(value, Decimal) and value == value.to_integral_value():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(key, "Expected a whole number.")
            return 0
        if not minimum <= value <= maximum:
            self.error(key, f"Must be between {minimum} and {maximum}.")
            return 0
        return value

    def boolean(self, key: str) -> bool:
        value = self._raw(key, False)
        if value is _MISSING:
            return False
        if isinstance(value, bool):
            return value
        if value in (0, 1, "0", "1", "true", "false"):
            return value in (1, "1", "true")
        self.error(key, "Expected true or false.")
        return False

    def fen(self, key: str, *, required: bool = True) -> Decimal | None:
        """Money as whole fen (分, 1/100 yuan), returned in yuan."""
        value = self._raw(key, required)
        if value is _MISSING:
            return None
        number = self.integer(key, required=required, maximum=int(MAX_MONEY * 100))
        if self._at(key) in self.errors:
            return None
        return (Decimal(number) / 100).quantize(CENT)

    def yuan(self, key: str, *, required: bool = True) -> Decimal | None:
        """Money in yuan as a decimal string ("5999.00") or a JSON number with <= 2 decimals."""
        value = self._raw(key, required)
        if value is _MISSING:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            self.error(key, 'Expected an amount in yuan, e.g. "5999.00".')
            return None
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            self.error(key, 'Expected an amount in yuan, e.g. "5999.00".')
            return None
        if not amount.is_finite() or amount < 0 or amount > MAX_MONEY:
            self.error(key, "Must be an amount between 0 and 9999999999.99.")
            return None
        if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
            self.error(key, "At most 2 decimal places.")
            return None
        return amount.quantize(CENT)

    def epoch(self, key: str, *, required: bool = True, millis: bool = False) -> datetime | None:
        """A Unix timestamp in seconds (or milliseconds)."""
        value = self._raw(key, required)
        if value is _MISSING:
            return None
        number = self.integer(key, required=required, maximum=10**13 if millis else 10**10)
        if self._at(key) in self.errors:
            return None
        if number < (946_684_800_000 if millis else 946_684_800):  # before 2000: a unit mix-up
            self.error(
                key, f"Expected a Unix timestamp in {'milliseconds' if millis else 'seconds'}."
            )
            return None
        return datetime.fromtimestamp(number / 1000 if millis else number, tz=UTC)

    def local_time(self, key: str, fmt: str, *, required: bool = True) -> datetime | None:
        """A China local time written as ``fmt`` (e.g. ``%Y-%m-%d %H:%M:%S``, ``%Y%m%d%H%M%S``)."""
        value = self.text(key, required=required, max_length=40)
        if not value:
            return None
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=CHINA)
        except ValueError:
            self.error(
                key, f"Expected a time like {datetime(2026, 11, 25, 14, 3, 11).strftime(fmt)}."
            )
            return None

    def iso_time(self, key: str, *, required: bool = True) -> datetime | None:
        """An ISO 8601 time; without an offset it is China local time."""
        value = self.text(key, required=required, max_length=40)
        if not value:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            self.error(key, "Expected an ISO 8601 time, e.g. 2026-11-25T14:03:11+08:00.")
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)

    def local_date(
        self, key: str, *, required: bool = True, end_of_day: bool = False
    ) -> datetime | None:
        """A date ``YYYY-MM-DD`` in China, as its start (or end) instant."""
        value = self.text(key, required=required, max_length=10)
        if not value:
            return None
        try:
            day = date.fromisoformat(value)
        except ValueError:
            self.error(key, "Expected a date like 2026-11-25.")
            return None
        return datetime.combine(day, time(23, 59, 59) if end_of_day else time(0), tzinfo=CHINA)


# Limits of the canonical order (the columns it lands in); checked for every adapter's output.
_LIMITS = {
    "external_id": 64,
    "receiver_name": 80,
    "receiver_phone": 32,
    "province": 40,
    "city": 60,
    "district": 60,
    "address_line": 300,
    "postal_code": 12,
    "sku": 64,
    "campaign_code": 60,
}


def validate_canonical(order: CanonicalOrder) -> CanonicalOrder:
    """Check what every canonical order must satisfy, whatever its channel."""
    errors: dict[str, list[str]] = {}

    def limit(name: str, value: str, path: str) -> None:
        if len(value) > _LIMITS[name]:
            errors.setdefault(path, []).append(f"At most {_LIMITS[name]} characters.")

    limit("external_id", order.external_id, "external_id")
    for name in (
        "receiver_name",
        "receiver_phone",
        "province",
        "city",
        "district",
        "address_line",
        "postal_code",
    ):
        limit(name, getattr(order.address, name), f"address.{name}")
    for name in ("receiver_name", "receiver_phone", "province", "city", "address_line"):
        if not getattr(order.address, name):
            errors.setdefault(f"address.{name}", []).append("This field is required.")
    if not order.external_id:
        errors.setdefault("external_id", []).append("This field is required.")
    if not order.lines:
        errors.setdefault("lines", []).append("At least one line is required.")
    if not any(not line.is_gift for line in order.lines):
        errors.setdefault("lines", []).append(
            "An order needs at least one line that is not a gift."
        )
    for index, line in enumerate(order.lines):
        limit("sku", line.sku, f"lines.{index}.sku")
        limit("campaign_code", line.campaign_code, f"lines.{index}.campaign_code")
        if not 1 <= line.quantity <= MAX_QUANTITY:
            errors.setdefault(f"lines.{index}.quantity", []).append(
                f"Must be between 1 and {MAX_QUANTITY}."
            )
    if errors:
        raise PayloadError(errors)
    return order
