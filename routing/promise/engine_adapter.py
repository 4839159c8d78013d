"""Everything the promise asks of the routing engine, in one place.

The promise treats routing as a black box that answers "which plan would you choose for this
order if it carried this promise, and how long do the nodes that could ship part of it take?"
(``plan_for_promise``). Today a shipment is a warehouse and the lane's
one carrier; when the engine chooses a carrier service per shipment, this module is what
changes (``ShipmentPlan.carrier_service`` is there for it), and ``options`` keeps working.

Pure: imports the engine only, no Django.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from routing.engine.factors import (
    MIN_TRANSIT_SPREAD_HOURS,
    TRANSIT_SPREAD,
    WEATHER_DELAY_HOURS,
)
from routing.engine.problem import Node, Order, RoutingContext, SolverOptions
from routing.engine.router import plan_for_policy, plan_to_result, unroutable_reason

# The options routing solves single orders with (``routing.services.order_route``).
SOLVER_OPTIONS = SolverOptions()


@dataclass(frozen=True)
class ShipmentPlan:
    """One parcel of a plan: where from, by which carrier, what, how long, at what price."""

    node_code: str
    carrier: str  # the lane's carrier label ("" when the lane is an estimate)
    lines: tuple[tuple[str, int], ...]  # (sku, units)
    transit_hours: float  # expected: the lane's planned transit plus weather on the route
    shipping_price: float  # the carrier's price of the parcel (CNY)
    cost: float  # shipping and handling, what routing minimises in money (CNY)
    certainty: float  # the engine's on-time probability for this parcel at the promise
    carrier_service: str | None = None  # a carrier service code, once the engine picks one


@dataclass(frozen=True)
class CandidatePlan:
    """What routing would do with the cart under one promise (``promised_hours``)."""

    shipments: tuple[ShipmentPlan, ...]
    promised_hours: float
    method: str

    @property
    def key(self) -> tuple:
        """Identity of the plan: which node ships which units (by which service)."""
        return tuple(
            sorted((s.node_code, s.carrier_service or "", s.lines) for s in self.shipments)
        )

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


def _expected_transit(node: Node, order: Order, ctx: RoutingContext, planned: float) -> float:
    weather = ctx.signals.weather
    level = max(weather.get(node.region, 0), weather.get(order.region, 0))
    return planned + WEATHER_DELAY_HOURS[min(int(level), len(WEATHER_DELAY_HOURS) - 1)]


@dataclass(frozen=True)
class Solved:
    """Routing's answer under one promise: its plan (None: unroutable, ``reason`` says why) and
    the expected transits (ascending, distinct) of the nodes that can ship part of the cart."""

    plan: CandidatePlan | None
    transits: tuple[float, ...]
    reason: str = ""


def plan_for_promise(
    order: Order,
    ctx: RoutingContext,
    promised_hours: float,
    *,
    carriers: Mapping[str, str] | None = None,
) -> Solved:
    """The plan routing would choose for ``order`` promised in ``promised_hours``.

    ``carriers`` maps node codes to the carrier label of their lane to the order's destination.
    """
    solved = plan_for_policy(replace(order, promised_hours=promised_hours), ctx, SOLVER_OPTIONS)
    model = solved.model
    transits = tuple(
        sorted(
            {
                round(_expected_transit(node, order, ctx, model.transit_hours[k]), 2)
                for k, node in enumerate(model.nodes)
                if any(row[k] > 0 for row in model.upper)
            }
        )
    )
    if solved.plan is None:
        return Solved(None, transits, unroutable_reason(model, ctx))
    result = plan_to_result(model, solved.plan)
    index = {node.code: k for k, node in enumerate(model.nodes)}
    shipments = []
    for shipment in result.shipments:
        k = index[shipment.node_code]
        node = model.nodes[k]
        shipments.append(
            ShipmentPlan(
                node_code=node.code,
                carrier=(carriers or {}).get(node.code, ""),
                lines=tuple((line.sku, line.quantity) for line in shipment.lines),
                transit_hours=_expected_transit(node, order, ctx, model.transit_hours[k]),
                shipping_price=node.shipping_cost_by_region[order.region],
                cost=shipment.cost,
                certainty=model.certainty[k],
            )
        )
    return Solved(CandidatePlan(tuple(shipments), promised_hours, result.method), transits)
