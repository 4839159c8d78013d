"""What-if: replay the last N real orders with a draft profile, the profile in force and the
nearest-warehouse rule, in arrival order against the stock of the time.

Nothing is written. ``replay_worlds`` rebuilds, per merchant, the network as it was when the
first replayed order arrived (``routing.engine.replay.World``):

- stock: what is available now (on hand minus reserved) plus what the orders since then took
  (their reservations still held or shipped; released ones are back in stock already). Stock
  received after the first order is counted from the start (no receipts ledger exists);
- parcels per warehouse already sent on the first order's local day before it arrived, and the
  units per SKU that day had asked for (the scarcity bid price's outlook);
- each order's promise window as the channel set it (promised_at minus placed_at), which is
  what the live router saw when it routed the order on arrival;
- warehouse status, lanes and live signals as they are now (no history of them is kept).

The replay then routes the orders one by one in arrival order, drawing stock down. Each order
is routed alone: the live router's merging of a customer's orders into one fulfilment is not
replayed. Building the
worlds costs most of a run and does not depend on the draft, so they are cached per process with
the active profile's and the nearest rule's figures (``_WORLDS``), keyed by the scope, N and a
fingerprint of the rows they were built from (newest order and reservation, stock sums,
warehouse statuses, profiles), and kept ``CACHE_SECONDS`` at most (signals and lanes).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from datetime import datetime
from threading import Lock

from django.db.models import Count, F, Max, Q, Sum
from django.utils import timezone

from oms.localcache import LocalCache
from oms.models import (
    InventoryBatch,
    Merchant,
    Order,
    OrderLine,
    OrderStatus,
    Reservation,
    ReservationStatus,
    Shipment,
    Warehouse,
)
from routing import context
from routing.engine.problem import Profile, Temperature, Weights
from routing.engine.replay import (
    Arrival,
    StartBatch,
    Tally,
    World,
    nearest_policy,
    profile_policy,
    replay,
)
from routing.models import RoutingProfile

CACHE_SECONDS = 120
DEFAULT_WINDOW_HOURS = 48.0
ROW_KEYS = ("draft", "active", "nearest")


@dataclass(frozen=True)
class MerchantWorld:
    """One merchant's replay: the world, the profile in force and the two fixed rows."""

    merchant_id: int
    world: World
    active: RoutingProfile | None
    active_engine: Profile
    active_tally: Tally
    nearest_tally: Tally


@dataclass(frozen=True)
class Worlds:
    merchants: tuple[MerchantWorld, ...]
    orders: int
    first_at: datetime | None
    last_at: datetime | None
    built_at: datetime


class _WorldCache(LocalCache[Worlds]):
    """Per-process, ``CACHE_SECONDS`` a key; emptied with the other local caches."""

    def get(self, key: Hashable, load: Callable[[], Worlds], *, keep_none: bool = True) -> Worlds:
        now = time.monotonic()
        with _LOCK:
            entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        value = load()
        with _LOCK:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (now + CACHE_SECONDS, value)
        return value


_WORLDS = _WorldCache("what-if worlds", max_entries=16)
_LOCK = Lock()


def _fingerprint(merchant_id: int | None) -> tuple:
    """What the cached worlds were built from; any change makes a new key."""
    scope = Q(merchant_id=merchant_id) if merchant_id else Q()
    wscope = Q(warehouse__merchant_id=merchant_id) if merchant_id else Q()
    orders = Order.objects.filter(scope).aggregate(newest=Max("id"))
    stock = InventoryBatch.objects.filter(wscope).aggregate(
        n=Count("id"), on_hand=Sum("on_hand"), reserved=Sum("reserved"), at=Max("updated_at")
    )
    warehouses = Warehouse.objects.filter(scope).aggregate(
        n=Count("id"), at=Max("status_changed_at")
    )
    profiles = RoutingProfile.objects.aggregate(n=Count("id"), at=Max("updated_at"))
    reservations = Reservation.objects.aggregate(newest=Max("id"))
    return (
        orders["newest"],
        tuple(stock.values()),
        tuple(warehouses.values()),
        tuple(profiles.values()),
        reservations["newest"],
    )


def replay_worlds(*, merchant_id: int | None, last_n: int) -> Worlds:
    """The cached worlds of the last ``last_n`` orders (of one merchant, or of all)."""
    key = (merchant_id, last_n, _fingerprint(merchant_id))
    return _WORLDS.get(key, lambda: _build_worlds(merchant_id=merchant_id, last_n=last_n))


def clear_cache() -> None:
    _WORLDS.clear()


def _recent_orders(merchant_id: int | None, last_n: int) -> list[Order]:
    orders_qs = Order.objects.exclude(status=OrderStatus.CANCELLED)
    if merchant_id:
        orders_qs = orders_qs.filter(merchant_id=merchant_id)
    newest = list(
        orders_qs.select_related("customer")
        .prefetch_related("lines__product")
        .order_by("-created_at", "-id")[:last_n]
    )
    return sorted(newest, key=lambda order: (order.created_at, order.pk))


def _build_worlds(*, merchant_id: int | None, last_n: int) -> Worlds:
    orders = [order for order in _recent_orders(merchant_id, last_n) if order.lines.all()]
    by_merchant: dict[int, list[Order]] = defaultdict(list)
    for order in orders:
        by_merchant[order.merchant_id].append(order)
    now = timezone.now()
    merchants = []
    for mid, merchant_orders in sorted(by_merchant.items()):
        world = _world(mid, merchant_orders, now=now)
        active = context.active_profile(merchant_id=mid, now=now)
        active_engine = context.engine_profile(active)
        merchants.append(
            MerchantWorld(
                merchant_id=mid,
                world=world,
                active=active,
                active_engine=active_engine,
                active_tally=replay(world, profile_policy(), active_engine),
                nearest_tally=replay(world, nearest_policy),
            )
        )
    return Worlds(
        merchants=tuple(merchants),
        orders=len(orders),
        first_at=orders[0].created_at if orders else None,
        last_at=orders[-1].created_at if orders else None,
        built_at=now,
    )


def _world(merchant_id: int, orders: list[Order], *, now: datetime) -> World:
    tz = Merchant.objects.get(pk=merchant_id).tzinfo
    first = orders[0]
    first_local = timezone.localtime(first.created_at, tz)
    midnight = first_local.replace(hour=0, minute=0, second=0, microsecond=0)
    skus = {line.product.sku for order in orders for line in order.lines.all()}
    # Static parts of the network (status, lanes, costs, capacity) as they are now. Carrier
    # lanes are built to the replayed orders' provinces only: no other lane is ever looked up.
    provinces = sorted({order.province for order in orders if order.province}) or None
    nodes = context.engine_nodes(
        merchant_id=merchant_id, skus=set(), now=now, destination_provinces=provinces
    )
    daily = dict(
        Warehouse.objects.filter(merchant_id=merchant_id).values_list("code", "daily_capacity")
    )
    # Stock when the first order arrived: available now plus what orders since then took.
    available: dict[int, int] = {}
    meta: dict[int, tuple[str, str, int | None]] = {}
    for pk, code, sku, free, expiry in (
        InventoryBatch.objects.filter(warehouse__merchant_id=merchant_id, product__sku__in=skus)
        .annotate(free=F("on_hand") - F("reserved"))
        .values_list("pk", "warehouse__code", "product__sku", "free", "expiry_date")
    ):
        available[pk] = free
        meta[pk] = (code, sku, expiry.toordinal() if expiry else None)
    taken = (
        Reservation.objects.filter(
            line__order__merchant_id=merchant_id,
            line__order__created_at__gte=first.created_at,
            batch_id__in=list(available),
            status__in=[ReservationStatus.ACTIVE, ReservationStatus.SHIPPED],
        )
        .values("batch_id")
        .annotate(units=Sum("quantity"))
        .values_list("batch_id", "units")
    )
    for batch_id, units in taken:
        available[batch_id] += units
    stock = tuple(
        StartBatch(meta[pk][0], meta[pk][1], units, meta[pk][2])
        for pk, units in sorted(available.items())
        if units > 0
    )
    parcels_before = dict(
        Shipment.objects.filter(
            warehouse__merchant_id=merchant_id,
            created_at__gte=midnight,
            created_at__lt=first.created_at,
        )
        .exclude(status="cancelled")
        .values("warehouse__code")
        .annotate(n=Count("id"))
        .values_list("warehouse__code", "n")
    )
    demand_before = {
        sku: float(units)
        for sku, units in OrderLine.objects.filter(
            order__merchant_id=merchant_id,
            order__created_at__gte=midnight,
            order__created_at__lt=first.created_at,
            sku__in=skus,
        )
        .values("sku")
        .annotate(units=Sum("quantity"))
        .values_list("sku", "units")
    }
    on_time = context.on_time_by_region(
        merchant_id=merchant_id, regions={order.region for order in orders}
    )
    temperature = {
        line.product.sku: Temperature(line.product.temperature_class)
        for order in orders
        for line in order.lines.all()
    }
    arrivals = []
    for order in orders:
        local = timezone.localtime(order.created_at, tz)
        # The promise window as the channel set it (promised_at - placed_at): the live router
        # routes an order as it arrives, so it saw about that much time left.
        engine_order = context.engine_order(order, now=order.placed_at)
        if order.promised_at is None:
            engine_order = replace(engine_order, promised_hours=DEFAULT_WINDOW_HOURS)
        arrivals.append(
            Arrival(
                order=engine_order,
                at=order.created_at,
                day=local.date().toordinal(),
                hours_elapsed=(
                    local - local.replace(hour=0, minute=0, second=0, microsecond=0)
                ).total_seconds()
                / 3600,
            )
        )
    return World(
        nodes=nodes,
        stock=stock,
        arrivals=tuple(arrivals),
        signals=context.live_signals(merchant_id=merchant_id, now=now),
        daily_parcels=daily,
        parcels_before=parcels_before,
        demand_before=demand_before,
        temperature=temperature,
        on_time=on_time,
        cold_parcels_before=context.cold_parcels_since(merchant_id, midnight, first.created_at)
        if context.slots_limited(nodes)
        else {},
    )


def draft_engine_profile(profile: RoutingProfile, weights: dict[str, int] | None) -> Profile:
    """The engine profile of ``profile`` (its rules, prices, high-value policy), with
    ``weights`` (percentages) instead of its own when given."""
    engine = context.engine_profile(profile)
    if weights is None:
        return engine
    return replace(engine, weights=Weights(**{k: float(v) for k, v in weights.items()}))


def profile_what_if(
    *,
    draft: RoutingProfile,
    last_n: int = 200,
    merchant_id: int | None = None,
    weights: dict[str, int] | None = None,
) -> dict:
    """Replay the last ``last_n`` orders with ``draft`` (its ``weights`` when given), the
    profile in force and the nearest rule; figures per routed order (see ``Tally.figures``).

    The scope is the draft's merchant, else ``merchant_id``, else every merchant (each with the
    profile in force for it).
    """
    started = time.perf_counter()
    scope_id = draft.merchant_id or merchant_id
    worlds = replay_worlds(merchant_id=scope_id, last_n=last_n)
    engine = draft_engine_profile(draft, weights)
    rows = {key: Tally() for key in ROW_KEYS}
    policy = profile_policy()
    for merchant in worlds.merchants:
        if replace(engine, name="") == replace(merchant.active_engine, name=""):
            rows["draft"].merge(merchant.active_tally)  # the same configuration: the same plans
        else:
            rows["draft"].merge(replay(merchant.world, policy, engine))
        rows["active"].merge(merchant.active_tally)
        rows["nearest"].merge(merchant.nearest_tally)
    actives = sorted({m.active.name if m.active else "" for m in worlds.merchants})
    labels = {
        "draft": f"draft: {draft.name}",
        "active": f"in force: {', '.join(a or 'built-in' for a in actives) or '—'}",
        "nearest": "nearest-warehouse rule",
    }
    return {
        "orders": worlds.orders,
        "merchant": scope_id,
        "weights": weights if weights is not None else draft.weights_percent(),
        "first_at": worlds.first_at.isoformat() if worlds.first_at else None,
        "last_at": worlds.last_at.isoformat() if worlds.last_at else None,
        "active_profiles": actives,
        "rows": [{"key": key, "label": labels[key], **rows[key].figures()} for key in ROW_KEYS],
        "seconds": round(time.perf_counter() - started, 3),
        "note": "Orders replayed one by one in arrival order against the stock of the time.",
    }
