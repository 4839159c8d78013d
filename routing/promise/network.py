"""The slow-moving half of the routing context, kept per process for a few seconds.

A promise answers on every product page and checkout, many times per order, so reading the
warehouses, lanes, profile, live signals and the day's demand on every request would cost more
than the promise itself. This module keeps what ``routing.context`` builds from them:

* warehouses, lanes, carrier services with their rate-card lanes to every province, and the
  profile (``routing.context.engine_nodes``, ``active_profile``, ``engine_profile``), per
  destination region, keyed by the merchant's network token, the carriers' token and
  the profiles' token (``atp``): a warehouse, lane, carrier, service, rate or warehouse-carrier
  link, profile or rule saved anywhere replaces a token, so every process rebuilds at its next
  request. Capacity left today (parcels shipped so far, per warehouse and per service), also
  read by ``engine_nodes``, may lag by up to ``OMS_API_LOCAL_CACHE_SECONDS`` (30 s by default);
* live signals (``routing.context.live_signals``) and the units each SKU was ordered today
  (``routing.context.demand_outlook``, every SKU at once): up to ``OMS_API_LOCAL_CACHE_SECONDS``
  (30 s by default) old.

Routing itself reads all of them fresh for every order; the promise is an estimate made
minutes before the order exists, and its test (``bench/promise_kept.py``) routes 10 minutes
later on the network as it is then.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from django.db.models import Count

from oms.localcache import LocalCache
from oms.models import Shipment, Warehouse
from oms.selectors import local_midnight
from routing import context
from routing.engine import problem as p
from routing.models import Lane, RoutingProfile


@dataclass(frozen=True)
class Network:
    nodes: tuple[p.Node, ...]  # without stock: the promise adds it from the ATP cache
    carriers: dict[str, str]  # warehouse code -> carrier of its lane to the destination region
    profile: RoutingProfile | None
    engine_profile: p.Profile
    profile_version: int


@dataclass(frozen=True)
class _Structure:
    """What changes only when a row is saved: nodes (capacity as built), lane carriers, and
    each warehouse's daily parcel capacity."""

    nodes: tuple[p.Node, ...]
    carriers: dict[str, str]
    daily_capacity: dict[str, int]


@dataclass(frozen=True)
class _Used:
    """Parcels opened today: per warehouse code, and per (warehouse code, carrier label)."""

    per_warehouse: dict[str, int]
    per_service: dict[tuple[str, str], int]


MAX_STRUCTURES = 2_000
_structures: dict[tuple, _Structure] = {}
_networks: LocalCache[Network] = LocalCache("promise networks", max_entries=2_000)
_used: LocalCache[_Used] = LocalCache("promise parcels used", max_entries=2_000)
_signals: LocalCache[p.Signals] = LocalCache("promise signals", max_entries=2_000)
_demand: LocalCache[dict[str, float]] = LocalCache("promise demand", max_entries=2_000)
_cold: LocalCache[dict[str, float]] = LocalCache("promise cold parcels", max_entries=2_000)


def _structure(
    *, merchant_id: int, region: str, province: str, tokens: tuple[str, ...], now: datetime
) -> _Structure:
    key = (merchant_id, region, tokens)
    found = _structures.get(key)
    if found is not None:
        return found
    nodes = context.engine_nodes(
        # No SKUs asked: the stock comes from the ATP cache, not from this query. Services
        # get their rate-card lanes to every province: one build serves every destination of
        # the region, so a cart to a province not asked before costs no build.
        merchant_id=merchant_id,
        skus=set(),
        destination_region=region,
        now=now,
        destination_provinces=None,
    )
    found = _Structure(
        nodes=nodes,
        carriers=dict(
            Lane.objects.filter(warehouse__merchant_id=merchant_id, region=region).values_list(
                "warehouse__code", "carrier"
            )
        ),
        daily_capacity=dict(
            Warehouse.objects.filter(merchant_id=merchant_id).values_list("code", "daily_capacity")
        ),
    )
    if len(_structures) >= MAX_STRUCTURES:
        _structures.clear()
    _structures[key] = found
    return found


def _parcels_used(merchant_id: int, now: datetime) -> _Used:
    """Today's parcels per warehouse and per (warehouse, carrier label), as ``engine_nodes`` and
    ``routing.carriers.used_today`` count them, in one query."""
    start = local_midnight(merchant_id, now)
    rows = (
        Shipment.objects.filter(warehouse__merchant_id=merchant_id, created_at__gte=start)
        .exclude(status="cancelled")
        .values("warehouse__code", "carrier")
        .annotate(n=Count("id"))
        .values_list("warehouse__code", "carrier", "n")
    )
    per_warehouse: dict[str, int] = {}
    per_service: dict[tuple[str, str], int] = {}
    for code, carrier, n in rows:
        per_warehouse[code] = per_warehouse.get(code, 0) + n
        if carrier:
            per_service[(code, carrier)] = n
    return _Used(per_warehouse, per_service)


def _with_capacity(structure: _Structure, used: _Used) -> tuple[p.Node, ...]:
    """The structure's nodes with today's parcels left, warehouse and service."""
    nodes = []
    for node in structure.nodes:
        daily = structure.daily_capacity.get(node.code)
        services = tuple(
            service
            if service.daily_capacity_orders is None
            else replace(
                service,
                remaining_capacity_orders=max(
                    0,
                    service.daily_capacity_orders
                    - used.per_service.get((node.code, service.label), 0),
                ),
            )
            for service in node.services
        )
        nodes.append(
            replace(
                node,
                remaining_capacity_orders=node.remaining_capacity_orders
                if daily is None
                else max(daily - used.per_warehouse.get(node.code, 0), 0),
                services=services,
            )
        )
    return tuple(nodes)


def network(
    *, merchant_id: int, region: str, province: str, tokens: tuple[str, ...], now: datetime
) -> Network:
    """Warehouses, lanes, carrier services (lanes to every province, ``province`` among them)
    and the profile in force, as routing reads them (see the module docstring).

    Two layers: the structure (warehouses, lanes, services and their rate-card lanes), built
    once per version tokens and kept until a token changes; and, for up to
    ``OMS_API_LOCAL_CACHE_SECONDS``, the structure with today's parcels left and the profile in
    force (a profile may be scheduled). So the rows are read again only when one is saved,
    and every few seconds two small queries refresh what moves during the day.
    """

    def build() -> Network:
        structure = _structure(
            merchant_id=merchant_id, region=region, province=province, tokens=tokens, now=now
        )
        used = _used.get(merchant_id, lambda: _parcels_used(merchant_id, now))
        profile = context.active_profile(merchant_id=merchant_id, now=now)
        return Network(
            nodes=_with_capacity(structure, used),
            carriers=structure.carriers,
            profile=profile,
            engine_profile=context.engine_profile(profile),
            profile_version=profile.version if profile else 0,
        )

    return _networks.get((merchant_id, region, tokens), build)


def signals(*, merchant_id: int, now: datetime) -> p.Signals:
    return _signals.get(merchant_id, lambda: context.live_signals(merchant_id=merchant_id, now=now))


def outlook(
    *, merchant_id: int, skus: set[str], now: datetime, nodes: tuple[p.Node, ...] = ()
) -> p.DemandOutlook:
    """The day's demand so far for ``skus`` (``context.demand_outlook``): every SKU's, read in
    one query per merchant and day and kept for up to ``OMS_API_LOCAL_CACHE_SECONDS``, so a
    cart of SKUs not asked for yet costs no query. When a capped cold-chain service picks up
    at one of ``nodes`` (``context.slots_limited``), the day's cold parcels so far too, kept
    the same way: routing prices those slots with them, so the promise must as well."""
    midnight = local_midnight(merchant_id, now)
    day = midnight.date().isoformat()
    units = _demand.get(
        (merchant_id, day),
        lambda: dict(
            context.demand_outlook(merchant_id=merchant_id, skus=None, now=now).units_so_far
        ),
    )
    cold = (
        _cold.get((merchant_id, day), lambda: context.cold_parcels_since(merchant_id, midnight))
        if context.slots_limited(nodes)
        else {}
    )
    elapsed = (now - midnight).total_seconds()
    return p.DemandOutlook(
        units_so_far={sku: units[sku] for sku in skus if units.get(sku, 0.0) > 0},
        hours_elapsed=elapsed / 3600,
        hours_left=max(0.0, 24.0 - elapsed / 3600),
        cold_parcels_so_far=dict(cold),
    )
