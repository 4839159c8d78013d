"""Channel price lists from a spreadsheet: one row per price list, SKU and start of validity.

A row sets the price of a SKU on one of the merchant's price lists from ``valid_from`` (a date,
midnight in the merchant's time zone; empty: always) to ``valid_to`` (exclusive; empty: open).
The price with the same list, SKU and start is updated, else one is added; each change is in
the price's history with the file's name. Run it with ``oms.services.tabular.tabular_import``.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from channels.models import ChannelPrice, ChannelPriceList
from oms.models import Merchant, Product
from oms.services.tabular import (
    NON_COLUMN,
    Column,
    PlannedRow,
    TabularImporter,
    parse_day,
    parse_money,
)

PRICE_COLUMNS = (
    Column("merchant", gettext_lazy("merchant"), required=False),
    Column("price_list", gettext_lazy("price list"), aliases=("list", "价格表")),
    Column("sku", gettext_lazy("SKU")),
    Column("price", gettext_lazy("price"), aliases=("价格",)),
    Column("valid_from", gettext_lazy("valid from"), aliases=("from",), required=False),
    Column("valid_to", gettext_lazy("valid to"), aliases=("to", "until"), required=False),
)


@dataclass(frozen=True)
class PriceChange:
    price_list: ChannelPriceList
    product: Product
    price: Decimal
    valid_from: datetime | None
    valid_to: datetime | None
    existing_id: int | None  # the price row this one replaces, if any


@transaction.atomic
def channel_prices_set(*, changes: list[PriceChange], reason: str = "") -> list[ChannelPrice]:
    """Update the listed price rows (locked in primary-key order) and add the new ones."""
    ids = sorted(c.existing_id for c in changes if c.existing_id is not None)
    locked = {p.pk: p for p in ChannelPrice.objects.select_for_update().filter(pk__in=ids)}
    saved: list[ChannelPrice] = []
    for change in changes:
        row = locked.get(change.existing_id) if change.existing_id is not None else None
        if row is None:
            row = ChannelPrice(price_list=change.price_list, product=change.product)
        row.price = change.price
        row.valid_from = change.valid_from
        row.valid_to = change.valid_to
        if reason:
            row._change_reason = reason  # type: ignore[attr-defined]
        row.save()
        saved.append(row)
    return saved


class ChannelPriceImport(TabularImporter):
    """Prices on ``merchant``'s channel price lists; ``source`` goes into the history."""

    columns = PRICE_COLUMNS
    verbose_name = gettext_lazy("channel prices")

    def __init__(self, *, merchant: Merchant, source: str = "") -> None:
        self.merchant = merchant
        self.source = source

    def _moment(self, text: str) -> datetime:
        return datetime.combine(parse_day(text), time.min, tzinfo=self.merchant.tzinfo)

    def plan(self, rows: list[PlannedRow]) -> None:
        lists = {
            pl.name: pl
            for pl in ChannelPriceList.objects.filter(
                merchant=self.merchant, name__in={r.values.get("price_list", "") for r in rows}
            )
        }
        products = {
            p.sku: p
            for p in Product.objects.filter(
                merchant=self.merchant, sku__in={r.values.get("sku", "") for r in rows}
            )
        }
        existing: dict[tuple[int, int, datetime | None], list[ChannelPrice]] = defaultdict(list)
        for price in ChannelPrice.objects.filter(
            price_list__in=lists.values(), product__in=products.values()
        ).order_by("pk"):
            existing[(price.price_list_id, price.product_id, price.valid_from)].append(price)
        seen: dict[tuple, list[PlannedRow]] = defaultdict(list)
        for row in rows:
            self._plan_row(row, lists, products, existing)
            values = row.values
            seen[(values.get("price_list"), values.get("sku"), values.get("valid_from"))].append(
                row
            )
        for same in seen.values():
            if len(same) > 1:
                numbers = ", ".join(str(row.number) for row in same)
                for row in same:
                    row.refuse(
                        NON_COLUMN,
                        _("Price list, SKU and start repeat in rows %(rows)s; give each once.")
                        % {"rows": numbers},
                    )

    def _plan_row(self, row, lists, products, existing) -> None:
        values = row.values
        merchant_code = values.get("merchant", "")
        if merchant_code and merchant_code != self.merchant.code:
            row.refuse(
                "merchant",
                _("This row is for merchant %(other)r; the import is for %(merchant)s.")
                % {"other": merchant_code, "merchant": self.merchant.code},
            )
        price_list = lists.get(values.get("price_list", ""))
        if price_list is None:
            row.refuse(
                "price_list",
                _("Merchant %(merchant)s has no price list %(name)r.")
                % {"merchant": self.merchant.code, "name": values.get("price_list", "")},
            )
        product = products.get(values.get("sku", ""))
        if product is None:
            row.refuse(
                "sku",
                _("Merchant %(merchant)s has no SKU %(sku)r.")
                % {"merchant": self.merchant.code, "sku": values.get("sku", "")},
            )
        price = valid_from = valid_to = None
        try:
            price = parse_money(values.get("price", ""))
        except ValueError as error:
            row.refuse("price", str(error))
        for key in ("valid_from", "valid_to"):
            if values.get(key):
                try:
                    moment = self._moment(values[key])
                except ValueError as error:
                    row.refuse(key, str(error))
                    continue
                if key == "valid_from":
                    valid_from = moment
                else:
                    valid_to = moment
        if valid_from and valid_to and valid_to <= valid_from:
            row.refuse("valid_to", _("The end of validity must come after its start."))
        if price_list is None or product is None or price is None or not row.ok:
            return
        matches = existing.get((price_list.pk, product.pk, valid_from), [])
        if len(matches) > 1:
            row.refuse(
                NON_COLUMN,
                _(
                    "This list has %(n)d prices of this SKU with this start; correct them in "
                    "admin first."
                )
                % {"n": len(matches)},
            )
            return
        current = matches[0] if matches else None
        row.is_new = current is None
        if current is not None:
            row.before = {
                "price": str(current.price),
                "valid_to": self._day(current.valid_to),
            }
        row.after = {
            "merchant": self.merchant.code,
            "price": str(price),
            "valid_to": self._day(valid_to),
        }
        row.change = PriceChange(
            price_list=price_list,
            product=product,
            price=price,
            valid_from=valid_from,
            valid_to=valid_to,
            existing_id=current.pk if current else None,
        )

    def _day(self, moment: datetime | None) -> str:
        return moment.astimezone(self.merchant.tzinfo).date().isoformat() if moment else ""

    def apply(self, rows: list[PlannedRow]) -> None:
        reason = _("Price list import: %(file)s") % {"file": self.source or "-"}
        channel_prices_set(changes=[row.change for row in rows], reason=reason)
