"""Stock bookkeeping: reserve (FEFO), release, consume, and bulk adjustments.

Concurrency: every function locks the batch rows it changes with ``SELECT ... FOR UPDATE`` in
primary-key order, so two orders taking the same SKUs in opposite line order queue behind each
other instead of deadlocking. The database CHECK ``0 <= reserved <= on_hand`` is the last line
of defence: even a bug here cannot oversell.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from oms.exceptions import InsufficientStock, StockBelowReserved
from oms.models import (
    InventoryBatch,
    Merchant,
    Order,
    OrderLine,
    Product,
    Reservation,
    ReservationStatus,
    Warehouse,
)
from oms.signals import stock_available, stock_changed
from oms.stored_text import message


@dataclass(frozen=True)
class Allocation:
    """``quantity`` units of order line ``line_id`` to be taken from warehouse ``warehouse_id``."""

    line_id: int
    warehouse_id: int
    quantity: int


def _fefo_key(batch: InventoryBatch) -> tuple:
    # First expiry first out; batches without expiry go last, ties by age (pk).
    return (batch.expiry_date is None, batch.expiry_date or date.max, batch.pk)


@transaction.atomic
def stock_reserve(
    *, order: Order, allocations: Sequence[Allocation], today: date | None = None
) -> list[Reservation]:
    """Hold stock for ``allocations``, picking batches first-expiry-first within each warehouse.

    All batches of every (SKU, warehouse) pair involved are locked in one query, ordered by
    primary key; the plan is then filled in memory. Expired batches are never picked. If any
    allocation cannot be filled, ``InsufficientStock`` lists every shortfall and nothing is held.
    """
    today = today or timezone.localdate()
    lines = {
        line.pk: line for line in OrderLine.objects.filter(order=order).select_related("product")
    }
    pairs = {(lines[a.line_id].product_id, a.warehouse_id) for a in allocations}
    pair_filter = Q()
    for product_id, warehouse_id in pairs:
        pair_filter |= Q(product_id=product_id, warehouse_id=warehouse_id)
    batches = list(
        InventoryBatch.objects.select_for_update()
        .filter(pair_filter)
        .filter(Q(expiry_date__isnull=True) | Q(expiry_date__gte=today))
        .order_by("pk")
    )
    by_pair: dict[tuple[int, int], list[InventoryBatch]] = defaultdict(list)
    for batch in sorted(batches, key=_fefo_key):
        by_pair[(batch.product_id, batch.warehouse_id)].append(batch)

    reservations: list[Reservation] = []
    shortfalls: list[dict] = []
    for allocation in sorted(allocations, key=lambda a: (a.line_id, a.warehouse_id)):
        line = lines[allocation.line_id]
        needed = allocation.quantity
        for batch in by_pair[(line.product_id, allocation.warehouse_id)]:
            take = min(needed, batch.on_hand - batch.reserved)
            if take <= 0:
                continue
            batch.reserved += take
            needed -= take
            reservations.append(Reservation(line=line, batch=batch, quantity=take))
            if needed == 0:
                break
        if needed:
            shortfalls.append(
                {
                    "sku": line.product.sku,
                    "warehouse_id": allocation.warehouse_id,
                    "requested": allocation.quantity,
                    "missing": needed,
                }
            )
    if shortfalls:
        short = message("oms.stock_short", skus=sorted({s["sku"] for s in shortfalls}))
        raise InsufficientStock(short.english, text=short, shortfalls=shortfalls)
    touched = {r.batch.pk: r.batch for r in reservations}
    InventoryBatch.objects.bulk_update(list(touched.values()), ["reserved"])
    stock_moved(merchant_id=order.merchant_id, product_ids=(b.product_id for b in touched.values()))
    return Reservation.objects.bulk_create(reservations)


def _lock_reservations(order: Order, status: str = ReservationStatus.ACTIVE) -> list[Reservation]:
    reservations = list(Reservation.objects.filter(line__order=order, status=status).order_by("pk"))
    batch_ids = sorted({r.batch_id for r in reservations})
    locked = InventoryBatch.objects.select_for_update().filter(pk__in=batch_ids).order_by("pk")
    batches = {b.pk: b for b in locked}
    for reservation in reservations:
        reservation.batch = batches[reservation.batch_id]
    return reservations


def stock_moved(*, merchant_id: int, product_ids: Iterable[int]) -> None:
    """Tell the apps above, after the commit, that stock of ``product_ids`` moved (any way).

    Called by every function here that changes ``on_hand`` or ``reserved``, so a cache of what
    can be promised (``routing.promise.atp``) never outlives the stock it describes.
    """
    products = sorted(set(product_ids))
    if not products:
        return
    transaction.on_commit(
        lambda: stock_changed.send(
            sender=InventoryBatch, merchant_id=merchant_id, product_ids=products
        )
    )


@transaction.atomic
def stock_announce(*, merchant_id: int, product_ids: Iterable[int]) -> None:
    """Tell the apps above, after the commit, that units of ``product_ids`` became available.

    Routing listens and tries the orders waiting for stock again (``needs_attention``).
    """
    products = sorted(set(product_ids))
    if not products:
        return
    transaction.on_commit(
        lambda: stock_available.send(
            sender=InventoryBatch, merchant_id=merchant_id, product_ids=products
        )
    )


def stock_release(*, order: Order) -> int:
    """Give back every active reservation of ``order``; returns the units released."""
    reservations = _lock_reservations(order)
    now = timezone.now()
    for reservation in reservations:
        reservation.batch.reserved -= reservation.quantity
        reservation.status = ReservationStatus.RELEASED
        reservation.closed_at = now
    InventoryBatch.objects.bulk_update({r.batch for r in reservations}, ["reserved"])
    Reservation.objects.bulk_update(reservations, ["status", "closed_at"])
    stock_moved(
        merchant_id=order.merchant_id, product_ids=(r.batch.product_id for r in reservations)
    )
    if reservations:
        stock_announce(
            merchant_id=order.merchant_id, product_ids=(r.batch.product_id for r in reservations)
        )
    return sum(r.quantity for r in reservations)


@transaction.atomic
def stock_consume(*, order: Order) -> int:
    """Ship what ``order`` holds: reserved units leave the batches' stock."""
    reservations = _lock_reservations(order)
    now = timezone.now()
    for reservation in reservations:
        reservation.batch.reserved -= reservation.quantity
        reservation.batch.on_hand -= reservation.quantity
        reservation.status = ReservationStatus.SHIPPED
        reservation.closed_at = now
    InventoryBatch.objects.bulk_update({r.batch for r in reservations}, ["reserved", "on_hand"])
    Reservation.objects.bulk_update(reservations, ["status", "closed_at"])
    stock_moved(
        merchant_id=order.merchant_id, product_ids=(r.batch.product_id for r in reservations)
    )
    return sum(r.quantity for r in reservations)


@dataclass(frozen=True)
class StockChange:
    """Set (``on_hand``) or move (``delta``) the stock of one batch, found or created by key."""

    warehouse: Warehouse
    product: Product
    batch_number: str
    on_hand: int | None = None
    delta: int | None = None
    expiry_date: date | None = None


@transaction.atomic
def stock_bulk_update(
    *, merchant: Merchant, changes: Iterable[StockChange], reason: str = ""
) -> list[InventoryBatch]:
    """Apply stock counts or movements to many batches at once, all or nothing.

    Existing batches are locked in primary-key order; missing ones are created. A change that
    would leave fewer units on hand than are reserved raises ``StockBelowReserved`` and nothing
    is written: a recount never silently takes stock from orders already promised it. Each
    batch's history records the change, with ``reason`` (a stock count's file name) if given.
    """
    changes = list(changes)
    # One lookup by the key's three columns rather than an OR per change, which a stock-count
    # file of thousands of rows would make too deep for the database (SQLite stops at 1,000).
    # It may lock a few batches more than the changes name (same warehouses, SKUs and numbers).
    keys = {(c.warehouse.pk, c.product.pk, c.batch_number) for c in changes}
    existing = {
        (b.warehouse_id, b.product_id, b.batch_number): b
        for b in InventoryBatch.objects.select_for_update()
        .filter(
            warehouse_id__in={k[0] for k in keys},
            product_id__in={k[1] for k in keys},
            batch_number__in={k[2] for k in keys},
        )
        .order_by("pk")
    }
    problems: list[dict] = []
    results: list[InventoryBatch] = []
    grown: set[int] = set()  # products of which more units are on hand now
    for index, change in enumerate(changes):
        key = (change.warehouse.pk, change.product.pk, change.batch_number)
        batch = existing.get(key)
        if batch is None:
            batch = InventoryBatch(
                warehouse=change.warehouse,
                product=change.product,
                batch_number=change.batch_number,
                expiry_date=change.expiry_date,
            )
            existing[key] = batch
        new_on_hand = (
            change.on_hand if change.on_hand is not None else batch.on_hand + (change.delta or 0)
        )
        if new_on_hand < batch.reserved or new_on_hand < 0:
            problems.append(
                {
                    "index": index,
                    "sku": change.product.sku,
                    "warehouse": change.warehouse.code,
                    "batch_number": change.batch_number,
                    "reserved": batch.reserved,
                    "requested_on_hand": new_on_hand,
                }
            )
            continue
        results.append(batch)
        expiry = change.expiry_date if change.expiry_date is not None else batch.expiry_date
        if batch.pk is not None and (new_on_hand, expiry) == (batch.on_hand, batch.expiry_date):
            continue  # a recount that finds what the books say: nothing to write or audit
        if new_on_hand > batch.on_hand:
            grown.add(batch.product_id)
        batch.on_hand = new_on_hand
        batch.expiry_date = expiry
        if reason:
            batch._change_reason = reason
        batch.save()
    if problems:
        raise StockBelowReserved(
            "Stock cannot go below what is reserved for orders (or below zero).", items=problems
        )
    stock_moved(merchant_id=merchant.pk, product_ids=(batch.product_id for batch in results))
    stock_announce(merchant_id=merchant.pk, product_ids=grown)
    return results
