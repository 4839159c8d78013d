"""Reads of the customer master: the merge window and the orders that can ship together.

The window is measured on when the OMS received the orders (``created_at``), the same clock the
checkout's merge-check reads: channels report their own placing times, some only as a date and
some from skewed clocks, and the question is whether the earlier order has left for the
warehouse yet, which only our clock answers.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from customers.matching import Observation, normalize_address
from customers.models import Customer
from customers.services import customer_lookup, rules_for
from oms.models import Merchant, Order, OrderStatus

DEFAULT_WINDOW_MINUTES = 30
# Orders that have not been handed to a warehouse yet: their fulfilment can still be re-planned.
MERGEABLE = (OrderStatus.CREATED, OrderStatus.ROUTED)
# Every merge re-plans the whole fulfilment; a buyer placing dozens of orders at once (a reseller,
# a script) ships in several parcels rather than having one growing plan re-reserved each time.
MAX_ORDERS_TOGETHER = 8


def merge_window_minutes(merchant: Merchant) -> int:
    """The merchant's merge window in minutes; 0 means orders are never merged."""
    _rules, row = rules_for(merchant)
    return row.merge_window_minutes if row else DEFAULT_WINDOW_MINUTES


def orders_in_merge_window(
    *, merchant: Merchant, customer: Customer, at: datetime, minutes: int
) -> QuerySet[Order]:
    """The customer's orders received within ``minutes`` of ``at`` that have not left yet.

    Group-buying orders are left out: they ship bundled per pickup point, not per customer.
    """
    window = timedelta(minutes=minutes)
    return (
        Order.objects.filter(
            merchant=merchant,
            customer=customer,
            status__in=MERGEABLE,
            created_at__gte=at - window,
            created_at__lte=at + window,
        )
        .exclude(channel_info__group_order_type__gt="")
        .select_related("channel")
        .order_by("created_at", "pk")
    )


def address_key(raw: str) -> str:
    """A delivery address in canonical form: "浙江省杭州市…" and "浙江 杭州 …" agree.

    An address the normaliser cannot structure (no street, no room) falls back to its text
    without spaces, so two such addresses agree only when they read the same.
    """
    normalized = normalize_address(raw)
    if normalized.place or normalized.room:
        return normalized.canonical
    return "raw:" + "".join(raw.split())


def delivery_address_key(order: Order) -> str:
    return address_key(
        " ".join(
            part
            for part in (order.province, order.city, order.district, order.address_line)
            if part
        )
    )


def merge_companions(order: Order) -> list[Order]:
    """The other orders that can ship together with ``order``, earliest first.

    A companion has the same merchant and unified customer, was received within the merchant's
    merge window of ``order``, is created or routed (not released, shipped or cancelled), has
    the same normalised delivery address and currency, and is not a group-buying order (those
    are bundled per pickup point). An order already merged brings all the orders it ships with,
    or none of them when one has been released to a warehouse or the rest fails the rules: a
    shared shipment is re-planned whole or left alone. Empty when merging is off (window 0),
    the order has no customer, it is a group-buying order itself, or more than
    ``MAX_ORDERS_TOGETHER`` orders would ship together.
    """
    if not order.customer_id or _group_buy(order):
        return []
    minutes = merge_window_minutes(order.merchant)
    if minutes <= 0:
        return []
    address = delivery_address_key(order)
    customer = order.customer
    assert customer is not None  # customer_id checked above
    candidates = [
        other
        for other in orders_in_merge_window(
            merchant=order.merchant, customer=customer, at=order.created_at, minutes=minutes
        )
        .exclude(pk=order.pk)
        .filter(currency=order.currency)
        if delivery_address_key(other) == address
    ]
    eligible = {other.pk: other for other in candidates}
    merged_ids = {other.consolidation_id for other in candidates if other.consolidation_id}
    if merged_ids:
        siblings = (
            Order.objects.filter(consolidation_id__in=merged_ids)
            .exclude(status=OrderStatus.CANCELLED)
            .exclude(pk=order.pk)
            .values_list("pk", "consolidation_id")
        )
        broken = {cid for pk, cid in siblings if pk not in eligible}
        candidates = [other for other in candidates if other.consolidation_id not in broken]
    if len(candidates) + 1 > MAX_ORDERS_TOGETHER:
        return []
    return candidates


def _group_buy(order: Order) -> bool:
    return Order.objects.filter(pk=order.pk, channel_info__group_order_type__gt="").exists()


@dataclass(frozen=True)
class MergeCheck:
    """Whether a buyer's next order can ship with one they placed within the merge window."""

    mergeable: bool
    customer: int | None
    window_minutes: int
    orders: list[Order] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def merge_check(
    *,
    merchant: Merchant,
    phone: str,
    name: str,
    address: str,
    device_id: str = "",
    account_id: str = "",
    channel: str = "",
    at: datetime | None = None,
) -> MergeCheck:
    """Before payment: the buyer's orders in the merge window to the same address, not yet
    released (the rules ``merge_companions`` applies when the order arrives). Read-only: the
    buyer is resolved with the same matcher as orders (``customer_lookup``), nothing is stored.
    """
    at = at or timezone.now()
    window = merge_window_minutes(merchant)
    customer, decision = customer_lookup(
        merchant=merchant,
        observation=Observation(
            record_id="merge-check",
            channel=channel,
            channel_account_id=account_id,
            device_id=device_id,
            phone=phone,
            receiver_name=name,
            address=address,
            created_at=at,
        ),
    )
    reasons = list(decision.reasons)
    if customer is None or window <= 0:
        return MergeCheck(False, customer.pk if customer else None, window, [], reasons)
    key = address_key(address)
    orders = [
        order
        for order in orders_in_merge_window(
            merchant=merchant, customer=customer, at=at, minutes=window
        )
        if delivery_address_key(order) == key
    ]
    return MergeCheck(bool(orders), customer.pk, window, orders, reasons)
