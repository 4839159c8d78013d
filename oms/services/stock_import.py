"""Stock counts from a spreadsheet: one row per warehouse, SKU and batch, the units counted.

A count sets ``on_hand`` (it is what the warehouse holds, not a movement). Rows are checked
against one merchant's warehouses and SKUs: a code of another merchant is unknown here. The
counts go through ``stock_bulk_update`` like the API's, so a count below what is reserved is
refused, waiting orders are retried when units arrive (``stock_available``), and each batch's
history records the change with the file's name. Run it with ``tabular_import``.
"""

from collections import defaultdict
from datetime import date
from typing import cast

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from oms.exceptions import StockBelowReserved
from oms.models import InventoryBatch, Merchant, Product, Warehouse
from oms.services.inventory import StockChange, stock_bulk_update
from oms.services.tabular import (
    NON_COLUMN,
    Column,
    PlannedRow,
    RowsRefused,
    TabularImporter,
    parse_count,
    parse_day,
)

STOCK_COLUMNS = (
    Column("merchant", gettext_lazy("merchant"), required=False),
    Column("warehouse", gettext_lazy("warehouse code"), aliases=("warehouse", "仓库", "仓库代码")),
    Column("sku", gettext_lazy("SKU")),
    Column("batch", gettext_lazy("batch"), aliases=("batch number", "lot", "批号", "批次号")),
    Column(
        "expiry_date", gettext_lazy("expiry date"), aliases=("expiry", "有效期"), required=False
    ),
    Column(
        "on_hand",
        gettext_lazy("on hand"),
        aliases=("quantity", "count", "qty", "数量", "在库数量", "库存"),
    ),
)


class StockCountImport(TabularImporter):
    """Counts of ``merchant``'s stock; ``source`` (the file's name) goes into the history."""

    columns = STOCK_COLUMNS
    verbose_name = gettext_lazy("stock counts")

    def __init__(self, *, merchant: Merchant, source: str = "") -> None:
        self.merchant = merchant
        self.source = source

    def plan(self, rows: list[PlannedRow]) -> None:
        codes = {row.values.get("warehouse", "") for row in rows}
        skus = {row.values.get("sku", "") for row in rows}
        warehouses = {
            w.code: w for w in Warehouse.objects.filter(merchant=self.merchant, code__in=codes)
        }
        products = {p.sku: p for p in Product.objects.filter(merchant=self.merchant, sku__in=skus)}
        existing = {
            (b.warehouse_id, b.product_id, b.batch_number): b
            for b in InventoryBatch.objects.filter(
                warehouse__in=warehouses.values(), product__in=products.values()
            )
        }
        seen: dict[tuple[str, str, str], list[PlannedRow]] = defaultdict(list)
        for row in rows:
            self._plan_row(row, warehouses, products, existing)
            key = (row.values.get("warehouse", ""), row.values.get("sku", ""))
            seen[(*key, row.values.get("batch", ""))].append(row)
        for same in seen.values():
            if len(same) > 1:
                numbers = ", ".join(str(row.number) for row in same)
                for row in same:
                    row.refuse(
                        NON_COLUMN,
                        _("Warehouse, SKU and batch repeat in rows %(rows)s; count each once.")
                        % {"rows": numbers},
                    )

    def _plan_row(
        self,
        row: PlannedRow,
        warehouses: dict[str, Warehouse],
        products: dict[str, Product],
        existing: dict[tuple[int, int, str], InventoryBatch],
    ) -> None:
        values = row.values
        merchant_code = values.get("merchant", "")
        if merchant_code and merchant_code != self.merchant.code:
            row.refuse(
                "merchant",
                _("This row is for merchant %(other)r; the import is for %(merchant)s.")
                % {"other": merchant_code, "merchant": self.merchant.code},
            )
        warehouse = warehouses.get(values.get("warehouse", ""))
        if warehouse is None:
            row.refuse(
                "warehouse",
                _("Merchant %(merchant)s has no warehouse %(code)r.")
                % {"merchant": self.merchant.code, "code": values.get("warehouse", "")},
            )
        product = products.get(values.get("sku", ""))
        if product is None:
            row.refuse(
                "sku",
                _("Merchant %(merchant)s has no SKU %(sku)r.")
                % {"merchant": self.merchant.code, "sku": values.get("sku", "")},
            )
        batch_number = values.get("batch", "")
        if not batch_number:
            row.refuse("batch", _("A batch number is required."))
        elif len(batch_number) > InventoryBatch._meta.get_field("batch_number").max_length:  # type: ignore[operator]
            row.refuse("batch", _("The batch number is longer than 64 characters."))
        on_hand: int | None = None
        try:
            on_hand = parse_count(values.get("on_hand", ""))
        except ValueError as error:
            row.refuse("on_hand", str(error))
        expiry: date | None = None
        if values.get("expiry_date"):
            try:
                expiry = parse_day(values["expiry_date"])
            except ValueError as error:
                row.refuse("expiry_date", str(error))
        if warehouse is None or product is None or on_hand is None or not row.ok:
            return
        batch = existing.get((warehouse.pk, product.pk, batch_number))
        row.is_new = batch is None
        if batch is not None:
            if on_hand < batch.reserved:
                row.refuse(
                    "on_hand",
                    _(
                        "%(reserved)d units of this batch are reserved for orders; the count "
                        "cannot be lower."
                    )
                    % {"reserved": batch.reserved},
                )
                return
            row.before = {
                "expiry_date": batch.expiry_date.isoformat() if batch.expiry_date else "",
                "on_hand": str(batch.on_hand),
            }
        kept_expiry = expiry or (batch.expiry_date if batch is not None else None)
        row.after = {
            "merchant": self.merchant.code,
            "expiry_date": kept_expiry.isoformat() if kept_expiry else "",
            "on_hand": str(on_hand),
        }
        row.change = StockChange(
            warehouse=warehouse,
            product=product,
            batch_number=batch_number,
            on_hand=on_hand,
            expiry_date=expiry,
        )

    def apply(self, rows: list[PlannedRow]) -> None:
        reason = _("Stock count import: %(file)s") % {"file": self.source or "-"}
        try:
            stock_bulk_update(
                merchant=self.merchant, changes=[row.change for row in rows], reason=reason
            )
        except StockBelowReserved as refused:
            issues: dict[int, dict[str, list[str]]] = {}
            for item in cast(list[dict], refused.details.get("items", [])):
                issues[rows[item["index"]].number] = {
                    "on_hand": [
                        _(
                            "%(reserved)d units of this batch are reserved for orders; the "
                            "count cannot be lower."
                        )
                        % {"reserved": item["reserved"]}
                    ]
                }
            raise RowsRefused(issues) from refused
