"""Build group-buying pick waves: read the eligible orders, merge them with the core, write.

Which orders: group-buy orders of the merchant (a ``ChannelOrder`` with a group order type)
that are routed or released (stock is held, nothing has shipped), placed at or before the
cut-off and in no pick list yet. Cancelled, shipped and not-yet-routed orders never are.

What is merged: everything that travels to one pickup point from one warehouse. A leader's proxy
orders, members' direct orders and store-pickup orders of the same point go into one pick list;
its distribution list keeps them apart (proxy orders under the leader, store pickups flagged).
The warehouse of an order is that of its pending shipment. An order routing split over several
warehouses is not merged (two deliveries to the point are not one crate): it stays unassigned,
ships as ordinary parcels and is counted in ``WaveBuildResult.split_skipped``.

One wave per warehouse per build. The whole build is one transaction. An order is in a wave
when it has a ``GroupBuyAssignment``, whose primary key is the order: the database refuses a
second claim. On PostgreSQL the eligible channel-order rows are read ``FOR UPDATE SKIP LOCKED``,
so a concurrent build skips what this one holds and takes the rest. In the one window that
leaves (the other build committed between this one's snapshot and its lock), the assignment
insert hits the key; the attempt is rolled back to its savepoint and redone on a fresh snapshot,
up to ``ATTEMPTS`` times, then ``WaveConflict``. Order rows are not locked, so a cancel can land
while (or after) the wave is built; the printed lists flag such orders for the packer.

Cost at 3,000 orders: three reads (no model instances), the pure merge, then one INSERT per
table: waves, pick lists, assignments, lines, timeline events. The last three are written from
plain tuples by ``_insert`` (``COPY`` on PostgreSQL, multi-row INSERT elsewhere): building and
preparing a model instance per row cost more than the SQL, and COPY is about 3x faster than
INSERT at these sizes (bench/RESULTS-groupbuy.md). Each order's timeline entry is bulk-inserted
here rather than through ``order_note`` (one INSERT per order: 3,000 round trips).
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import (
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.utils import timezone

from channels.groupbuy.core import ORDER_TYPES, GroupOrder, Line, SkuInfo, Wave, merge
from channels.groupbuy.exceptions import WaveConflict
from channels.models import (
    ChannelOrder,
    GroupBuyAssignment,
    PickList,
    PickListLine,
    PickWave,
    PickWaveStatus,
)
from oms.models import (
    Merchant,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Product,
    Shipment,
    ShipmentStatus,
    Warehouse,
)

ELIGIBLE_STATUSES = (OrderStatus.ROUTED, OrderStatus.RELEASED)
ATTEMPTS = 3
BATCH_SIZE = 2000
EVENT_KIND = "groupbuy_wave"


@dataclass
class WaveBuildResult:
    waves: list[PickWave]
    order_count: int = 0
    split_skipped: int = 0
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Read:
    orders: list[GroupOrder]
    catalogue: dict[str, SkuInfo]
    split_skipped: int


_HEADER_FIELDS = (
    "order_id",
    "order__external_id",
    "group_order_type",
    "group_leader_id",
    "group_leader_name",
    "pickup_point_id",
    "pickup_point_name",
    "order__receiver_name",
    "customer__display_name",
    "buyer_phone_masked",
)


_FROM_SHIPMENT = object()


def _read(queryset: QuerySet, *, lock: bool, warehouse_id: object = _FROM_SHIPMENT) -> _Read:
    """Group-buy orders of ``queryset`` (channel orders) with their lines, as core records.

    The warehouse is that of each order's pending shipment, or ``warehouse_id`` when given
    (a built wave's, possibly None: its orders may have shipped since).
    """
    if warehouse_id is _FROM_SHIPMENT:
        queryset = queryset.annotate(
            pending=FilteredRelation(
                "order__shipments", condition=Q(order__shipments__status=ShipmentStatus.PENDING)
            ),
            warehouse=F("pending__warehouse_id"),
        )
    else:
        queryset = queryset.annotate(warehouse=Value(warehouse_id, IntegerField()))
    features = connection.features
    if lock and features.has_select_for_update_skip_locked:
        queryset = queryset.select_for_update(
            skip_locked=True, of=("self",) if features.has_select_for_update_of else ()
        )
    headers: dict[int, tuple] = {}
    split: set[int] = set()
    for row in queryset.order_by().values_list(*_HEADER_FIELDS, "warehouse"):
        seen = headers.get(row[0])
        if seen is not None and seen[10] != row[10]:
            split.add(row[0])
        headers[row[0]] = row
    for order_id in split:
        del headers[order_id]
    lines: dict[int, list[Line]] = {order_id: [] for order_id in headers}
    rows = _lines_of(list(headers))
    products = {
        pk: SkuInfo(sku, name, category, "", pk)
        for pk, sku, name, category in Product.objects.filter(
            pk__in={row[1] for row in rows}
        ).values_list("pk", "sku", "name", "category")
    }
    for order_id, product_id, quantity in rows:
        lines[order_id].append(Line(products[product_id].sku, quantity))
    orders = [
        GroupOrder(
            order_id,
            external_id,
            point_id,
            point_name,
            leader_id,
            leader_name,
            order_type,
            (customer_name or "") if order_type == "leader_proxy" else receiver_name,
            phone,
            tuple(lines[order_id]),
            warehouse_id,
        )
        for (
            order_id,
            external_id,
            order_type,
            leader_id,
            leader_name,
            point_id,
            point_name,
            receiver_name,
            customer_name,
            phone,
            warehouse_id,
        ) in headers.values()
    ]
    return _Read(orders, {info.sku: info for info in products.values()}, len(split))


def _lines_of(order_ids: list[int]) -> list[tuple[int, int, int]]:
    """(order id, product id, quantity) of the orders' lines.

    On PostgreSQL one ``= ANY(array)`` parameter: the ORM's ``__in`` prepares each of 3,000 ids
    one by one, which cost more than the query. Elsewhere ``__in`` in chunks.
    """
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        meta = OrderLine._meta
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote(meta.get_field('order').column)}, "
                f"{quote(meta.get_field('product').column)}, {quote('quantity')} "
                f"FROM {quote(meta.db_table)} WHERE {quote(meta.get_field('order').column)} "
                "= ANY(%s)",
                [order_ids],
            )
            return cursor.fetchall()
    rows: list[tuple[int, int, int]] = []
    for start in range(0, len(order_ids), 5000):  # IN lists stay under backend limits
        rows += OrderLine.objects.filter(order_id__in=order_ids[start : start + 5000]).values_list(
            "order_id", "product_id", "quantity"
        )
    return rows


def eligible_orders(
    *, merchant: Merchant, warehouse: Warehouse | None = None, cutoff: datetime | None = None
) -> QuerySet:
    """Channel orders a wave build would take now (see the module docstring)."""
    queryset = ChannelOrder.objects.filter(
        order__merchant=merchant,
        group_order_type__in=ORDER_TYPES,
        order__status__in=ELIGIBLE_STATUSES,
        order__placed_at__lte=cutoff or timezone.now(),
    )
    queryset = queryset.exclude(
        Exists(GroupBuyAssignment.objects.filter(order_id=OuterRef("order_id")))
    )
    if warehouse is not None:
        pending = Shipment.objects.filter(
            order_id=OuterRef("order_id"), status=ShipmentStatus.PENDING
        )
        queryset = queryset.filter(Exists(pending.filter(warehouse=warehouse))).exclude(
            Exists(pending.exclude(warehouse=warehouse))
        )
    return queryset


@transaction.atomic
def groupbuy_wave_build(
    *,
    merchant: Merchant,
    warehouse: Warehouse | None = None,
    cutoff: datetime | None = None,
    actor: str,
) -> WaveBuildResult:
    """Merge the eligible group-buy orders into one pick wave per warehouse and write it.

    Idempotent: a second run finds the orders assigned and builds nothing (no empty waves).
    Raises ``WaveConflict`` (and writes nothing) if concurrent builds keep claiming its orders.
    """
    started = time.perf_counter()
    cutoff = cutoff or timezone.now()
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction.atomic():
                read_started = time.perf_counter()
                read = _read(
                    eligible_orders(merchant=merchant, warehouse=warehouse, cutoff=cutoff),
                    lock=True,
                )
                read_done = time.perf_counter()
                plans = merge(read.orders, read.catalogue)
                merged = time.perf_counter()
                waves = (
                    _write(merchant=merchant, plans=plans, cutoff=cutoff, actor=actor)
                    if plans
                    else []
                )
            break
        except IntegrityError:
            if attempt == ATTEMPTS:
                raise WaveConflict(
                    "Other wave builds kept claiming these orders; nothing was written.",
                    attempts=attempt,
                ) from None
    result = WaveBuildResult(
        waves=waves, order_count=len(read.orders), split_skipped=read.split_skipped
    )
    done = time.perf_counter()
    result.timings_ms = {
        "read": (read_done - read_started) * 1000,
        "merge": (merged - read_done) * 1000,
        "write": (done - merged) * 1000,
        "total": (done - started) * 1000,
    }
    if result.waves:
        PickWave.objects.filter(pk__in=[w.pk for w in result.waves]).update(
            duration_ms=round(result.timings_ms["total"], 2)
        )
        for wave in result.waves:
            wave.duration_ms = round(result.timings_ms["total"], 2)
    return result


def _write(
    *, merchant: Merchant, plans: tuple[Wave, ...], cutoff: datetime, actor: str
) -> list[PickWave]:
    waves = PickWave.objects.bulk_create(
        PickWave(
            merchant=merchant,
            warehouse_id=plan.warehouse_id,
            cutoff=cutoff,
            status=PickWaveStatus.OPEN,
            order_count=plan.order_count,
            pickup_point_count=len(plan.groups),
            sku_count=len(plan.lines),
            unit_count=plan.unit_count,
            created_by=actor[:120],
        )
        for plan in plans
    )
    pick_lists = PickList.objects.bulk_create(
        [
            PickList(
                wave=wave,
                position=position,
                pickup_point_id=group.pickup_point_id,
                pickup_point_name=group.pickup_point_name[:120],
                leader_id=group.leader_id,
                leader_name=group.leader_name,
                order_count=group.order_count,
                unit_count=group.unit_count,
                leader_proxy_count=group.orders_by_type.get("leader_proxy", 0),
                member_direct_count=group.orders_by_type.get("member_direct", 0),
                store_pickup_count=group.orders_by_type.get("store_pickup", 0),
            )
            for wave, plan in zip(waves, plans, strict=True)
            for position, group in enumerate(plan.groups)
        ],
        batch_size=BATCH_SIZE,
    )
    groups = [group for plan in plans for group in plan.groups]
    _insert(
        GroupBuyAssignment,
        ["order", "pick_list"],
        [
            (order_id, pick_list.pk)
            for pick_list, group in zip(pick_lists, groups, strict=True)
            for order_id in group.order_ids
        ],
    )
    _insert(
        PickListLine,
        ["pick_list", "position", "product", "sku", "name", "quantity", "order_count"],
        [
            (
                pick_list.pk,
                position,
                line.product_id,
                line.sku,
                line.name[:200],
                line.quantity,
                line.orders,
            )
            for pick_list, group in zip(pick_lists, groups, strict=True)
            for position, line in enumerate(group.lines)
        ],
    )
    at = connection.ops.adapt_datetimefield_value(timezone.now())
    by = actor[:120]
    _insert(
        OrderEvent,
        ["order", "at", "kind", "actor", "from_status", "to_status", "message", "data"],
        [
            (
                order_id,
                at,
                EVENT_KIND,
                by,
                "",
                "",
                message,
                data,
            )
            for pick_list, group in zip(pick_lists, groups, strict=True)
            for message, data in [
                (
                    f"In pick wave #{pick_list.wave_id}, pick list of pickup point "
                    f"{group.pickup_point_name} ({group.pickup_point_id}).",
                    f'{{"wave_id": {pick_list.wave_id}, "pick_list_id": {pick_list.pk}}}',
                )
            ]
            for order_id in group.order_ids
        ],
    )
    return waves


def _insert(model, fields: list[str], rows: list[tuple]) -> None:
    """Write plain tuples to ``model``'s table: ``COPY`` on PostgreSQL, else multi-row INSERT.

    The same rows ``bulk_create`` would write, without building and preparing a model instance
    per row. Values must already be in database form (ids, str, int, datetimes, JSON text) and
    not None (CSV cannot tell NULL from an empty string once everything is quoted).
    """
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            buffer = io.StringIO()
            csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
            buffer.seek(0)
            with connection.wrap_database_errors:  # a duplicate key is an IntegrityError
                cursor.cursor.copy_expert(
                    f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)", buffer
                )
            return
        row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
        for start in range(0, len(rows), BATCH_SIZE):
            chunk = rows[start : start + BATCH_SIZE]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_sql] * len(chunk))}",
                [value for row in chunk for value in row],
            )


def wave_plan(*, wave: PickWave) -> Wave | None:
    """Re-merge the orders of a built wave for printing: the same lists the build wrote."""
    read = _read(
        ChannelOrder.objects.filter(order__groupbuy_assignment__pick_list__wave=wave),
        lock=False,
        warehouse_id=wave.warehouse_id,
    )
    plans = merge(read.orders, read.catalogue)
    return plans[0] if plans else None


@transaction.atomic
def pick_wave_mark(*, wave: PickWave, status: str) -> PickWave:
    """Move a wave forward: open -> printed -> picked (never back)."""
    order: list[str] = [PickWaveStatus.OPEN, PickWaveStatus.PRINTED, PickWaveStatus.PICKED]
    locked = PickWave.objects.select_for_update().get(pk=wave.pk)
    if order.index(status) > order.index(locked.status):
        locked.status = status
        locked.save(update_fields=["status"])
    return locked
