"""Order lifecycle: create, transition, allocate, cancel, ship, deliver.

Every status change goes through ``order_transition``, which locks the order row, checks the
state machine and appends to the timeline, so the timeline is complete by construction.
Side effects (routing, webhooks) are signalled only after the transaction commits.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone

from channels.models import SalesChannel
from oms import signals
from oms.exceptions import DuplicateOrder, IllegalTransition
from oms.geo import region_for_province
from oms.models import (
    Merchant,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Product,
    Shipment,
    ShipmentStatus,
)
from oms.services.inventory import Allocation, stock_consume, stock_release, stock_reserve
from oms.state import HOLDS_STOCK, can_transition


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
    message: str = "",
    from_status: str = "",
    to_status: str = "",
    data: dict | None = None,
) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order,
        kind=kind,
        actor=actor,
        message=message[:500],
        from_status=from_status,
        to_status=to_status,
        data=data or {},
    )


def order_note(
    *, order: Order, actor: str, kind: str, message: str, data: dict | None = None
) -> OrderEvent:
    """Append a non-status entry (routing explanation, customer action, ...) to the timeline."""
    return _event(order, kind=kind, actor=actor, message=message, data=data)


@transaction.atomic
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
) -> Order:
    """Create an order with its lines and the first timeline entry; routing starts after commit.

    A second order with the same merchant, channel and external id raises ``DuplicateOrder``
    carrying the existing order's id, including when two requests race (the unique constraint
    decides, inside a savepoint so the caller's transaction stays usable).
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
    try:
        with transaction.atomic():
            order.save(force_insert=True)
    except IntegrityError:
        existing = (
            Order.objects.filter(merchant=merchant, channel=channel, external_id=external_id)
            .values_list("pk", flat=True)
            .first()
        )
        if existing is None:
            raise
        raise DuplicateOrder(
            f"Order {external_id!r} from channel {channel.code!r} exists already.",
            order_id=existing,
        ) from None
    created_lines = OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            product=line.product,
            quantity=line.quantity,
            unit_price=line.unit_price,
            line_total=line.unit_price * line.quantity,
        )
        for line in lines
    )
    _prime_prefetch_cache(order, lines=created_lines)
    _event(
        order,
        kind="created",
        actor=actor,
        to_status=OrderStatus.CREATED,
        message=f"Order received from {channel.name}.",
    )
    transaction.on_commit(partial(signals.order_created.send, sender=Order, order_id=order.pk))
    return order


def _prime_prefetch_cache(order: Order, *, lines: list[OrderLine]) -> None:
    """Give the caller the new order's lines (and no shipments yet) without another query.

    The same shape Django's ``prefetch_related`` leaves: querysets whose result cache is filled.
    """
    cache = {}
    for name, rows in (("lines", lines), ("shipments", [])):
        queryset = getattr(order, name).all()
        queryset._result_cache, queryset._prefetch_done = list(rows), True
        cache[name] = queryset
    order._prefetched_objects_cache = cache


def _lock(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


@transaction.atomic
def order_transition(
    *, order: Order, to_status: str, actor: str, reason: str = "", data: dict | None = None
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
        Shipment.objects.filter(order=locked, status=ShipmentStatus.PENDING).update(
            status=ShipmentStatus.CANCELLED
        )
    locked.status = to_status
    locked.status_reason = reason[:300]
    locked.save(update_fields=["status", "status_reason", "updated_at"])
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


@transaction.atomic
def order_allocate(
    *,
    order: Order,
    allocations: Sequence[Allocation],
    actor: str,
    reason: str,
    carrier_by_warehouse: dict[int, str] | None = None,
    data: dict | None = None,
) -> Order:
    """Reserve stock for a routing plan, open one shipment per warehouse and mark the order routed.

    Raises ``InsufficientStock`` (and changes nothing) when any part of the plan cannot be held.
    """
    locked = _lock(order)
    if not can_transition(locked.status, OrderStatus.ROUTED):
        raise IllegalTransition(
            f"An order that is {locked.status} cannot be routed.",
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


def order_cancel(*, order: Order, actor: str, reason: str = "") -> Order:
    """Cancel an order and release exactly what it had reserved."""
    return order_transition(
        order=order, to_status=OrderStatus.CANCELLED, actor=actor, reason=reason or "Cancelled."
    )


@transaction.atomic
def order_release(*, order: Order, actor: str) -> Order:
    """Hand a routed order to its warehouses for picking."""
    return order_transition(
        order=order,
        to_status=OrderStatus.RELEASED,
        actor=actor,
        reason="Released to the warehouse for picking.",
    )


@transaction.atomic
def order_ship(
    *, order: Order, actor: str, tracking_numbers: dict[int, str] | None = None
) -> Order:
    """Mark every pending shipment shipped; reserved stock leaves the warehouse."""
    locked = _lock(order)
    if not can_transition(locked.status, OrderStatus.SHIPPED):
        raise IllegalTransition(
            f"An order that is {locked.status} cannot be shipped.",
            from_status=locked.status,
            to_status=OrderStatus.SHIPPED,
        )
    stock_consume(order=locked)
    now = timezone.now()
    tracking = tracking_numbers or {}
    for shipment in Shipment.objects.filter(order=locked, status=ShipmentStatus.PENDING):
        shipment.status = ShipmentStatus.SHIPPED
        shipment.shipped_at = now
        shipment.tracking_number = tracking.get(shipment.warehouse_id, shipment.tracking_number)
        shipment.save(update_fields=["status", "shipped_at", "tracking_number"])
    return order_transition(
        order=locked,
        to_status=OrderStatus.SHIPPED,
        actor=actor,
        reason="Parcel handed to the carrier.",
    )


@transaction.atomic
def order_deliver(*, order: Order, actor: str) -> Order:
    locked = order_transition(
        order=order,
        to_status=OrderStatus.DELIVERED,
        actor=actor,
        reason="Delivered to the receiver.",
    )
    Shipment.objects.filter(order=locked, status=ShipmentStatus.SHIPPED).update(
        status=ShipmentStatus.DELIVERED, delivered_at=timezone.now()
    )
    return locked
