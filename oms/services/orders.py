"""Order lifecycle: create, transition, allocate, merge, cancel, ship, deliver.

Every status change goes through ``order_transition``, which locks the order row, checks the
state machine and appends to the timeline, so the timeline is complete by construction.
Side effects (routing, webhooks) are signalled only after the transaction commits.

Orders merged into one fulfilment (``Consolidation``) share their shipments: releasing,
shipping or delivering one moves the others that ship with it too, while cancelling one gives
back only its own stock and leaves the shipment to the orders still in it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Q, prefetch_related_objects
from django.utils import timezone

from oms import fastpaths, signals
from oms.exceptions import DuplicateOrder, IllegalTransition
from oms.geo import region_for_province
from oms.models import (
    Consolidation,
    InventoryBatch,
    Merchant,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Product,
    Reservation,
    ReservationStatus,
    SalesChannel,
    Shipment,
    ShipmentStatus,
)
from oms.services.inventory import Allocation, stock_consume, stock_release, stock_reserve
from oms.state import HOLDS_STOCK, can_transition
from oms.stored_text import Message, message, split


@dataclass(frozen=True)
class LineInput:
    product: Product
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class AddressInput:
    receiver_name: str
    receiver_phone: str
    province: str
    city: str
    address_line: str
    district: str = ""
    postal_code: str = ""


def _event(
    order: Order,
    *,
    kind: str,
    actor: str,
    message: "str | Message" = "",
    from_status: str = "",
    to_status: str = "",
    data: dict | None = None,
) -> OrderEvent:
    """One timeline entry; a ``Message`` is stored as its code (said when shown) and English."""
    english, text = split(message)
    data = dict(data or {})
    if text is not None:
        data["text"] = text
    return OrderEvent.objects.create(
        order=order,
        kind=kind,
        actor=actor,
        message=english[:500],
        from_status=from_status,
        to_status=to_status,
        data=data,
    )


def order_note(
    *, order: Order, actor: str, kind: str, message: "str | Message", data: dict | None = None
) -> OrderEvent:
    """Append a non-status entry (routing explanation, customer action, ...) to the timeline."""
    return _event(order, kind=kind, actor=actor, message=message, data=data)


def order_create(
    *,
    merchant: Merchant,
    channel: SalesChannel,
    external_id: str,
    lines: Sequence[LineInput],
    address: AddressInput,
    actor: str,
    placed_at: datetime | None = None,
    promised_at: datetime | None = None,
    shipping_fee: Decimal = Decimal("0"),
    discount_total: Decimal = Decimal("0"),
    currency: str | None = None,
    idempotency_key: str = "",
) -> Order:
    """Create an order with its lines and the first timeline entry; routing starts after commit.

    A second order with the same merchant, channel and external id raises ``DuplicateOrder``
    carrying the existing order's id, including when two requests race (the unique constraint
    decides, inside a savepoint so the caller's transaction stays usable). The request's
    ``Idempotency-Key``, if any, is written on the first timeline entry in the same statement,
    so a retry after a crash can tell its own order from someone else's duplicate
    (``order_created_under_key``).
    """
    subtotal = sum((line.unit_price * line.quantity for line in lines), Decimal("0"))
    order = Order(
        merchant=merchant,
        channel=channel,
        external_id=external_id,
        receiver_name=address.receiver_name,
        receiver_phone=address.receiver_phone,
        province=address.province,
        city=address.city,
        district=address.district,
        address_line=address.address_line,
        postal_code=address.postal_code,
        region=region_for_province(address.province),
        currency=currency or merchant.currency,
        subtotal=subtotal,
        shipping_fee=shipping_fee,
        discount_total=discount_total,
        total=max(subtotal + shipping_fee - discount_total, Decimal("0")),
        placed_at=placed_at or timezone.now(),
        promised_at=promised_at,
    )
    order_lines = [
        OrderLine(
            order=order,
            product=line.product,
            sku=line.product.sku,
            name=line.product.name,
            quantity=line.quantity,
            unit_price=line.unit_price,
            line_total=line.unit_price * line.quantity,
        )
        for line in lines
    ]
    event = OrderEvent(
        order=order,
        kind="created",
        actor=actor,
        to_status=OrderStatus.CREATED,
        message=f"Order received from {channel.name}."[:500],
        data={
            "text": message("order.created", channel=channel.name).stored(),
            **({"idempotency_key": idempotency_key} if idempotency_key else {}),
        },
    )
    connection = transaction.get_connection()
    fast = fastpaths.enabled()
    # Inside a caller's transaction a savepoint keeps it usable after a duplicate; on its own a
    # duplicate just rolls this transaction back, so the savepoint's two round trips are saved.
    nested = connection.in_atomic_block
    try:
        with transaction.atomic():
            if fast and connection.vendor == "postgresql" and order_lines:
                try:
                    with transaction.atomic(savepoint=nested):
                        fastpaths.insert_order_in_one_statement(
                            connection, order, order_lines, event
                        )
                except IntegrityError as exc:
                    if fastpaths.violated_constraint(exc) == ORDER_UNIQUE:
                        raise _OrderExists from exc
                    raise
            else:
                try:
                    with transaction.atomic(savepoint=nested):
                        order.save(force_insert=True)
                except IntegrityError as exc:
                    raise _OrderExists from exc
                order_lines = OrderLine.objects.bulk_create(order_lines)
                event.save(force_insert=True)
            # The caller gets the lines (and no shipments yet) as written, before routing
            # starts on commit.
            if fast:
                fastpaths.attach_new_order_rows(order, lines=order_lines)
            else:
                prefetch_related_objects([order], "lines", "shipments")
            transaction.on_commit(
                partial(
                    signals.order_created.send,
                    sender=Order,
                    order_id=order.pk,
                    merchant_id=order.merchant_id,
                )
            )
    except _OrderExists as exists:
        existing = (
            Order.objects.filter(merchant=merchant, channel=channel, external_id=external_id)
            .values_list("pk", flat=True)
            .first()
        )
        if existing is None:
            cause = exists.__cause__
            assert cause is not None  # raised from the IntegrityError of the insert
            raise cause from None
        raise DuplicateOrder(
            f"Order {external_id!r} from channel {channel.code!r} exists already.",
            order_id=existing,
        ) from None
    return order


def order_created_under_key(*, order_id: int, idempotency_key: str) -> bool:
    """Whether the order was created by a request carrying ``idempotency_key``."""
    return OrderEvent.objects.filter(
        order_id=order_id, kind="created", data__idempotency_key=idempotency_key
    ).exists()


class _OrderExists(Exception):
    """The order row's insert hit the unique (merchant, channel, external id)."""


ORDER_UNIQUE = "order_external_id_unique_per_channel"


def _lock(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


@transaction.atomic
def order_transition(
    *,
    order: Order,
    to_status: str,
    actor: str,
    reason: "str | Message" = "",
    data: dict | None = None,
) -> Order:
    """Move an order to ``to_status`` if the state machine allows it, and record why.

    Leaving a state that holds stock for one that does not (cancel, back to routing) releases
    the reservations in the same transaction, so stock can never stay held by a dead order.
    """
    locked = _lock(order)
    from_status = locked.status
    if not can_transition(from_status, to_status):
        raise IllegalTransition(
            f"An order that is {from_status} cannot become {to_status}.",
            from_status=from_status,
            to_status=to_status,
        )
    if (
        from_status in HOLDS_STOCK
        and to_status not in HOLDS_STOCK
        and to_status != OrderStatus.SHIPPED
    ):
        stock_release(order=locked)
        _close_shipments(locked)
    fields = ["status", "status_reason", "updated_at"]
    if locked.consolidation_id and to_status in (OrderStatus.CREATED, OrderStatus.NEEDS_ATTENTION):
        # Routed again, it is planned afresh (and merged again if the rules still hold).
        locked.consolidation = None
        fields.append("consolidation")
    locked.status = to_status
    locked.status_reason = split(reason)[0][:300]
    locked.save(update_fields=fields)
    _event(
        locked,
        kind="status",
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        message=reason,
        data=data,
    )
    transaction.on_commit(
        partial(
            signals.order_status_changed.send,
            sender=Order,
            order_id=locked.pk,
            from_status=from_status,
            to_status=to_status,
        )
    )
    order.status, order.status_reason = locked.status, locked.status_reason
    return locked


def _close_shipments(order: Order) -> None:
    """Cancel the order's pending shipments, once its stock has been given back.

    A merged shipment that still carries stock of another order of its fulfilment passes to
    the earliest such order instead, so cancelling one merged order never stops the others.
    """
    for shipment in Shipment.objects.filter(order=order, status=ShipmentStatus.PENDING):
        heir = None
        if shipment.consolidation_id:
            heir = (
                Order.objects.filter(
                    consolidation_id=shipment.consolidation_id,
                    status__in=HOLDS_STOCK,
                    lines__reservations__status=ReservationStatus.ACTIVE,
                    lines__reservations__batch__warehouse_id=shipment.warehouse_id,
                )
                .exclude(pk=order.pk)
                .order_by("created_at", "pk")
                .first()
            )
        if heir is not None:
            shipment.order = heir
            shipment.save(update_fields=["order"])
        else:
            shipment.status = ShipmentStatus.CANCELLED
            shipment.save(update_fields=["status"])


@transaction.atomic
def order_allocate(
    *,
    order: Order,
    allocations: Sequence[Allocation],
    actor: str,
    reason: "str | Message",
    carrier_by_warehouse: dict[int, str] | None = None,
    data: dict | None = None,
) -> Order:
    """Reserve stock for a routing plan, open one shipment per warehouse and mark the order routed.

    Raises ``InsufficientStock`` (and changes nothing) when any part of the plan cannot be held.
    """
    locked = _lock(order)
    if not can_transition(locked.status, OrderStatus.ROUTED):
        refused = message("oms.cannot_route", status=locked.status)
        raise IllegalTransition(
            refused.english,
            text=refused,
            from_status=locked.status,
            to_status=OrderStatus.ROUTED,
        )
    stock_reserve(order=locked, allocations=allocations)
    carriers = carrier_by_warehouse or {}
    Shipment.objects.bulk_create(
        Shipment(order=locked, warehouse_id=warehouse_id, carrier=carriers.get(warehouse_id, ""))
        for warehouse_id in sorted({a.warehouse_id for a in allocations})
    )
    return order_transition(
        order=locked, to_status=OrderStatus.ROUTED, actor=actor, reason=reason, data=data
    )


MERGEABLE = (OrderStatus.CREATED, OrderStatus.ROUTED)


@transaction.atomic
def orders_consolidate(
    *,
    order: Order,
    companions: Sequence[Order],
    allocations: Sequence[Allocation],
    actor: str,
    routing_reason: "str | Message",
    merge_reason: "str | Message",
    rule: dict | None = None,
    carrier_by_warehouse: dict[int, str] | None = None,
    data: dict | None = None,
) -> Consolidation:
    """Fulfil ``order`` and its ``companions`` as one: one plan, one shipment per warehouse.

    ``allocations`` cover the lines of all the orders. In one transaction: the orders are
    locked in primary-key order, then every batch they hold or the plan takes (one query, in
    primary-key order, as ``stock_reserve`` does); companions already routed give back their
    reservations and pending shipments, the combined plan is reserved line by line, one
    shipment per warehouse is opened for the earliest order on behalf of all, every order gets
    a timeline entry naming the others and why, and the ones not yet routed become routed.
    ``InsufficientStock`` or ``IllegalTransition`` (an order moved on meanwhile, or the set no
    longer holds together) rolls all of it back, so no reservation is ever lost or doubled.
    A companion already merged must come with every live order of its fulfilment; the
    existing record is then extended instead of a second one being opened.
    """
    ids = sorted({order.pk, *(companion.pk for companion in companions)})
    locked = {o.pk: o for o in Order.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    trigger = locked[order.pk]
    if not can_transition(trigger.status, OrderStatus.ROUTED):
        refused = message("oms.cannot_route", status=trigger.status)
        raise IllegalTransition(
            refused.english,
            text=refused,
            from_status=trigger.status,
            to_status=OrderStatus.ROUTED,
        )
    for other in locked.values():
        if other.pk == trigger.pk:
            continue
        if other.status not in MERGEABLE:
            refused = message(
                "oms.companion_moved_on", other=other.pk, status=other.status, order=trigger.pk
            )
            raise IllegalTransition(
                refused.english,
                text=refused,
                from_status=other.status,
                to_status=OrderStatus.ROUTED,
            )
        if not trigger.customer_id or other.customer_id != trigger.customer_id:
            refused = message("oms.companion_other_customer", other=other.pk, order=trigger.pk)
            raise IllegalTransition(
                refused.english,
                text=refused,
                from_status=other.status,
                to_status=OrderStatus.ROUTED,
            )
    merged_before = sorted({o.consolidation_id for o in locked.values() if o.consolidation_id})
    left_out = (
        Order.objects.filter(consolidation_id__in=merged_before)
        .exclude(pk__in=ids)
        .exclude(status=OrderStatus.CANCELLED)
        .values_list("pk", flat=True)
    )
    if left_out:
        refused = message("oms.companions_left_out", orders=[f"#{pk}" for pk in left_out])
        raise IllegalTransition(
            refused.english,
            text=refused,
            from_status=trigger.status,
            to_status=OrderStatus.ROUTED,
        )

    lines = {line.pk: line for line in OrderLine.objects.filter(order_id__in=ids)}
    pair_filter = Q(
        pk__in=Reservation.objects.filter(
            line__order_id__in=ids, status=ReservationStatus.ACTIVE
        ).values("batch_id")
    )
    for allocation in allocations:
        line = lines[allocation.line_id]
        pair_filter |= Q(product_id=line.product_id, warehouse_id=allocation.warehouse_id)
    list(InventoryBatch.objects.select_for_update().filter(pair_filter).order_by("pk"))

    for other in locked.values():
        if other.status == OrderStatus.ROUTED:
            stock_release(order=other)
    Shipment.objects.filter(
        Q(order_id__in=ids) | Q(consolidation_id__in=merged_before),
        status=ShipmentStatus.PENDING,
    ).update(status=ShipmentStatus.CANCELLED)
    for order_id in ids:
        own = [a for a in allocations if lines[a.line_id].order_id == order_id]
        if own:
            stock_reserve(order=locked[order_id], allocations=own)

    earliest = min(locked.values(), key=lambda o: (o.created_at, o.pk))
    merge_english = split(merge_reason)[0]
    merge = {
        "at": timezone.now().isoformat(),
        "order": trigger.pk,
        "orders": ids,
        "reason": merge_english,
        **(data or {}),
    }
    if merged_before:
        consolidation = Consolidation.objects.select_for_update().get(pk=merged_before[0])
        consolidation.reason = merge_english
        consolidation.data = {
            **consolidation.data,
            **(rule or {}),
            "orders": ids,
            "merges": [*consolidation.data.get("merges", []), merge],
        }
        consolidation.save(update_fields=["reason", "data"])
    else:
        consolidation = Consolidation.objects.create(
            merchant_id=trigger.merchant_id,
            customer_id=trigger.customer_id,
            reason=merge_english,
            data={**(rule or {}), "orders": ids, "merges": [merge]},
        )
    carriers = carrier_by_warehouse or {}
    Shipment.objects.bulk_create(
        Shipment(
            order=earliest,
            consolidation=consolidation,
            warehouse_id=warehouse_id,
            carrier=carriers.get(warehouse_id, ""),
        )
        for warehouse_id in sorted({a.warehouse_id for a in allocations})
    )
    Order.objects.filter(pk__in=ids).update(consolidation=consolidation, updated_at=timezone.now())
    event_data = {"consolidation": consolidation.pk, "orders": ids, **(data or {})}
    for order_id in ids:
        locked[order_id].consolidation = consolidation
        _merged_entry(
            locked[order_id],
            others=[f"#{pk}" for pk in ids if pk != order_id],
            actor=actor,
            merge_reason=merge_reason,
            routing_reason=routing_reason,
            data=event_data,
        )
    order.status, order.consolidation = locked[order.pk].status, consolidation
    return consolidation


def _merged_entry(
    member: Order,
    *,
    others: list[str],
    actor: str,
    merge_reason: "str | Message",
    routing_reason: "str | Message",
    data: dict,
) -> None:
    """One merged order's timeline entry naming the others; routed now, or its reason replaced.

    An order routed before keeps its status: the reason it shows becomes the merge (written on
    the entry too, so it is said in the viewer's language).
    """
    named = f"order{'s' if len(others) > 1 else ''} {', '.join(others)}"
    merge_english, merge_text = split(merge_reason)
    merged_data = dict(data)
    ships_with = None
    if member.status == OrderStatus.ROUTED:
        ships_with = message(
            "order.ships_with",
            english=f"Ships with {named} as one merged fulfilment.",
            orders=others,
        )
        merged_data["status_reason"] = {
            "english": ships_with.english[:300],
            "text": ships_with.stored(),
        }
    _event(
        member,
        kind="merged",
        actor=actor,
        message=message(
            "order.merged",
            english=f"Merged with {named}: {merge_english}",
            orders=others,
            reason={"msg": merge_text} if merge_text else merge_english,
        ),
        data=merged_data,
    )
    if ships_with is not None:
        member.status_reason = ships_with.english[:300]
        Order.objects.filter(pk=member.pk).update(status_reason=member.status_reason)
    else:
        order_transition(
            order=member,
            to_status=OrderStatus.ROUTED,
            actor=actor,
            reason=routing_reason,
            data=data,
        )


def order_cancel(*, order: Order, actor: str, reason: str = "") -> Order:
    """Cancel an order and release exactly what it had reserved."""
    return order_transition(
        order=order,
        to_status=OrderStatus.CANCELLED,
        actor=actor,
        reason=reason or message("order.cancelled"),
    )


def _shipping_together(order: Order, status: str) -> list[Order]:
    """``order`` first, then the orders of its merged fulfilment that are in ``status``.

    All of them are locked in primary-key order, so two staff moving two orders of the same
    fulfilment queue instead of deadlocking.
    """
    consolidation_id = (
        Order.objects.filter(pk=order.pk).values_list("consolidation_id", flat=True).first()
    )
    if not consolidation_id:
        return [order]
    group = list(
        Order.objects.select_for_update()
        .filter(Q(pk=order.pk) | Q(consolidation_id=consolidation_id, status=status))
        .order_by("pk")
    )
    return [order] + [member for member in group if member.pk != order.pk]


def _together(code: str, order: Order, member: Order) -> Message:
    """The reason of a move, naming the order it ships with when that is another one."""
    return message(code, together=None if member.pk == order.pk else order.pk)


@transaction.atomic
def order_release(*, order: Order, actor: str) -> Order:
    """Hand a routed order (and the orders merged with it) to its warehouses for picking."""
    released = order
    for member in _shipping_together(order, OrderStatus.ROUTED):
        done = order_transition(
            order=member,
            to_status=OrderStatus.RELEASED,
            actor=actor,
            reason=_together("order.released", order, member),
        )
        if member is order:
            released = done
    return released


def _ship(
    order: Order,
    *,
    actor: str,
    tracking: dict[int, str],
    reason: Message,
    carriers: dict[int, str] | None = None,
) -> Order:
    locked = _lock(order)
    if not can_transition(locked.status, OrderStatus.SHIPPED):
        raise IllegalTransition(
            f"An order that is {locked.status} cannot be shipped.",
            from_status=locked.status,
            to_status=OrderStatus.SHIPPED,
        )
    stock_consume(order=locked)
    now = timezone.now()
    for shipment in Shipment.objects.filter(order=locked, status=ShipmentStatus.PENDING):
        shipment.status = ShipmentStatus.SHIPPED
        shipment.shipped_at = now
        shipment.tracking_number = tracking.get(shipment.warehouse_id, shipment.tracking_number)
        shipment.carrier = (carriers or {}).get(shipment.warehouse_id, shipment.carrier)
        shipment.save(update_fields=["status", "shipped_at", "tracking_number", "carrier"])
    return order_transition(order=order, to_status=OrderStatus.SHIPPED, actor=actor, reason=reason)


@transaction.atomic
def order_ship(
    *,
    order: Order,
    actor: str,
    tracking_numbers: dict[int, str] | None = None,
    carriers: dict[int, str] | None = None,
) -> Order:
    """Mark every pending shipment shipped; reserved stock leaves the warehouse.

    ``tracking_numbers`` and ``carriers`` are keyed by warehouse id (one parcel per warehouse).
    The orders merged with it ship too: their goods are in the same parcels.
    """
    shipped = order
    for member in _shipping_together(order, OrderStatus.RELEASED):
        done = _ship(
            member,
            actor=actor,
            tracking=tracking_numbers or {},
            carriers=carriers,
            reason=_together("order.shipped", order, member),
        )
        if member is order:
            shipped = done
    return shipped


@transaction.atomic
def order_deliver(*, order: Order, actor: str) -> Order:
    delivered = order
    for member in _shipping_together(order, OrderStatus.SHIPPED):
        locked = order_transition(
            order=member,
            to_status=OrderStatus.DELIVERED,
            actor=actor,
            reason=_together("order.delivered", order, member),
        )
        Shipment.objects.filter(order=locked, status=ShipmentStatus.SHIPPED).update(
            status=ShipmentStatus.DELIVERED, delivered_at=timezone.now()
        )
        if member is order:
            delivered = locked
    return delivered
