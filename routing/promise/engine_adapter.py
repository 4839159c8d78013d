"""Everything the promise asks of the routing engine, in one place.

The promise treats routing as a black box that answers "which plan would you choose for this
order if it carried this promise, and how long do the nodes that could ship part of it take?"
(``plan_for_promise``). A shipment is a warehouse and, where carrier services pick up there,
the service routing chose for it (``ShipmentPlan.carrier_service``): its level, its rate-card
price for the parcel's billable weight, its lane's transit (plus the weather delay the engine
adds for that level) and the engine's on-time certainty for its lane under the promise.

The candidate transits the promise tries (``Solved.transits``) are per (warehouse, service) that
may carry part of the cart: a warehouse's express service is a faster option than its economy
one even though routing at the default promise picks economy there.

Pure: imports the engine only, no Django.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from routing.engine.factors import (
    MIN_TRANSIT_SPREAD_HOURS,
    TRANSIT_SPREAD,
    WEATHER_DELAY_HOURS,
    WEATHER_SENSITIVITY,
    OrderModel,
)
from routing.engine.holds import Hold
from routing.engine.problem import (
    CarrierService,
    Node,
    Order,
    RoutingContext,
    SolverOptions,
)
from routing.engine.router import plan_for_policy, plan_to_result, unroutable_reason

# The options routing solves single orders with (``routing.services.order_route``).
SOLVER_OPTIONS = SolverOptions()


@dataclass(frozen=True)
class ServiceChoice:
    """The carrier service of a parcel, as a buyer is shown it."""

    code: str  # the engine's code ("carrier/service")
    name: str
    carrier: str
    level: str  # ServiceLevel value: economy, express, same_day, cold_chain


@dataclass(frozen=True)
class ShipmentPlan:
    """One parcel of a plan: where from, by which carrier, what, how long, at what price."""

    node_code: str
    carrier: str  # the service's carrier, else the lane's label ("" when the lane is estimated)
    lines: tuple[tuple[str, int], ...]  # (sku, units)
    transit_hours: float  # expected: the lane's planned transit plus weather on the route
    shipping_price: float  # the carrier's price of the parcel (CNY)
    cost: float  # shipping and handling, what routing minimises in money (CNY)
    certainty: float  # the engine's on-time probability for this parcel at the promise
    carrier_service: ServiceChoice | None = None  # None: the warehouse's own per-region lane
    weight_kg: float = 0.0  # billable weight on the service (0 without one)


@dataclass(frozen=True)
class CandidatePlan:
    """What routing would do with the cart under one promise (``promised_hours``)."""

    shipments: tuple[ShipmentPlan, ...]
    promised_hours: float
    method: str

    @property
    def key(self) -> tuple:
        """Identity of the plan: which node ships which units by which service."""
        return tuple(
            sorted(
                (s.node_code, s.carrier_service.code if s.carrier_service else "", s.lines)
                for s in self.shipments
            )
        )

    @property
    def slowest(self) -> ShipmentPlan:
        """The parcel that arrives last: it sets the window."""
        return max(self.shipments, key=lambda s: s.transit_hours)

    @property
    def transit_hours(self) -> float:
        return max(s.transit_hours for s in self.shipments)

    @property
    def shipping_price(self) -> float:
        return sum(s.shipping_price for s in self.shipments)

    @property
    def cost(self) -> float:
        return sum(s.cost for s in self.shipments)

    @property
    def certainty(self) -> float:
        """Every parcel on time: the product of the parcels' certainties."""
        return math.prod(s.certainty for s in self.shipments)


def transit_spread(transit_hours: float) -> float:
    """Mean delay beyond the expected transit, as the engine models it."""
    return max(MIN_TRANSIT_SPREAD_HOURS, TRANSIT_SPREAD * transit_hours)


def _weather_delay(
    node: Node, order: Order, ctx: RoutingContext, service: CarrierService | None
) -> float:
    """The engine's weather delay on the route (``factors._route_bases``): the worst alert over
    the regions and provinces it touches, scaled by the service level's sensitivity."""
    return _scaled_delay(_route_delay(node, order, ctx), service)


def _route_delay(node: Node, order: Order, ctx: RoutingContext) -> float:
    """The weather delay on the route before a service level's sensitivity."""
    weather = ctx.signals.weather
    places = {order.region, node.region, order.province, node.province} - {""}
    level = max((weather.get(place, 0) for place in places), default=0)
    return WEATHER_DELAY_HOURS[min(int(level), len(WEATHER_DELAY_HOURS) - 1)]


def _scaled_delay(delay: float, service: CarrierService | None) -> float:
    if service is not None:
        delay *= WEATHER_SENSITIVITY.get(service.level, 1.0)
    return delay


def _choice(service: CarrierService) -> ServiceChoice:
    return ServiceChoice(service.code, service.label, service.carrier, service.level.value)


@dataclass(frozen=True)
class Transit:
    """A (warehouse, service) that may ship part of the cart: its expected transit and level
    ("" for a warehouse without carrier services)."""

    hours: float
    level: str


@dataclass(frozen=True)
class Solved:
    """Routing's answer under one promise: its plan (None: unroutable, ``reason`` says why) and
    the expected transits (ascending, distinct) of the (warehouse, service) pairs that can ship
    part of the cart."""

    plan: CandidatePlan | None
    transits: tuple[Transit, ...]
    reason: str = ""


def _transits(order: Order, ctx: RoutingContext, model: OrderModel) -> tuple[Transit, ...]:
    """Every (node, service) of the model's nodes that may carry a line the node can ship, its
    expected transit raised to the cart's bottleneck.

    The bottleneck is the slowest line's fastest way to the buyer: no plan arrives before it,
    so a faster pair only matters as "as fast as the cart can be", and asking routing for a
    promise earlier than that asks it for nothing more.
    """
    found: set[tuple[float, str]] = set()
    fastest = [math.inf] * len(model.lines)
    destination = order.destination
    for k, node in enumerate(model.nodes):
        shippable = [li for li in range(len(model.lines)) if model.upper[li][k] > 0]
        if not shippable:
            continue
        delay = _route_delay(node, order, ctx)
        if not node.services:
            hours = round(model.transit_hours[k] + delay, 2)
            found.add((hours, ""))
            for li in shippable:
                fastest[li] = min(fastest[li], hours)
            continue
        for service in node.services:
            lane = service.lanes.get(destination)
            if lane is None or (
                service.remaining_capacity_orders is not None
                and service.remaining_capacity_orders <= 0
            ):
                continue
            if service.same_city and service.same_city != order.city:
                continue
            carried = [li for li in shippable if service.carries(model.lines[li].temperature)]
            if not carried:
                continue
            hours = round(lane.transit_hours + _scaled_delay(delay, service), 2)
            found.add((hours, service.level.value))
            for li in carried:
                fastest[li] = min(fastest[li], hours)
    reachable = [hours for hours in fastest if hours < math.inf]
    bottleneck = max(reachable) if reachable else 0.0
    clamped = {(max(hours, bottleneck), level) for hours, level in found}
    return tuple(Transit(hours, level) for hours, level in sorted(clamped))


def plan_for_promise(
    order: Order,
    ctx: RoutingContext,
    promised_hours: float,
    *,
    carriers: Mapping[str, str] | None = None,
    with_transits: bool = True,
) -> Solved:
    """The plan routing would choose for ``order`` promised in ``promised_hours``.

    ``carriers`` maps node codes to the carrier label of their lane to the order's destination
    (for warehouses without carrier services). ``with_transits`` False leaves
    ``Solved.transits`` empty (the promise needs them from its first call only).
    """
    solved = plan_for_policy(replace(order, promised_hours=promised_hours), ctx, SOLVER_OPTIONS)
    model = solved.model
    transits = _transits(order, ctx, model) if with_transits else ()
    if solved.plan is None:
        return Solved(None, transits, unroutable_reason(model, ctx))
    result = plan_to_result(model, solved.plan)
    index = {node.code: k for k, node in enumerate(model.nodes)}
    line_index = {line.sku: li for li, line in enumerate(model.lines)}
    shipments = []
    for shipment in result.shipments:
        k = index[shipment.node_code]
        node = model.nodes[k]
        service = model.service(k)
        quantities = {line_index[line.sku]: line.quantity for line in shipment.lines}
        shipments.append(
            ShipmentPlan(
                node_code=node.code,
                carrier=service.carrier if service else (carriers or {}).get(node.code, ""),
                lines=tuple((line.sku, line.quantity) for line in shipment.lines),
                transit_hours=model.transit_hours[k] + _weather_delay(node, order, ctx, service),
                shipping_price=model.shipping_price(k, quantities),
                cost=shipment.cost,
                certainty=model.certainty[k],
                carrier_service=_choice(service) if service else None,
                weight_kg=shipment.weight_kg,
            )
        )
    return Solved(CandidatePlan(tuple(shipments), promised_hours, result.method), transits)


def hold_for(plan: CandidatePlan, *, key: str, expires_at: datetime) -> Hold:
    """A soft hold on what ``plan`` needs: its units per warehouse, one parcel per shipment
    (of the warehouse's and of its carrier service's), until ``expires_at``."""
    return Hold(
        key=key,
        expires_at=expires_at,
        units=tuple(
            (shipment.node_code, sku, units)
            for shipment in plan.shipments
            for sku, units in shipment.lines
        ),
        parcels=tuple(
            (shipment.node_code, shipment.carrier_service.code if shipment.carrier_service else "")
            for shipment in plan.shipments
        ),
    )
