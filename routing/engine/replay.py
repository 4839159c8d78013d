"""Replay recent real orders one by one, in arrival order, as the live router met them.

The what-if of the routing canvas. A ``World`` is the network as it was when the first replayed
order arrived: the stock of that moment (batches with their expiry day), the parcels each
warehouse had already sent that day, the units per SKU the day had asked for so far, and the
warehouses' status, lanes and live signals. ``replay`` then routes the orders in arrival order,
each alone (as ``order_route`` does online), with a routing policy: after each order the units it
took leave the stock (FEFO, batches with enough shelf life) and its parcels count against its
warehouses' parcels of the day, so a later order sees what the earlier ones left. A new
merchant-local day restores the parcel capacity and restarts the day's demand (the scarcity bid
price's outlook); batches expired by then drop out.

Every policy (a profile's weighted objective, the nearest-warehouse rule) is replayed from the
same start, so their figures differ only by their decisions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from routing.engine.factors import MIN_SHELF_LIFE_DAYS
from routing.engine.nearest import route_nearest
from routing.engine.problem import (
    DemandOutlook,
    Node,
    NodeStatus,
    Order,
    Profile,
    RoutingContext,
    RoutingResult,
    RoutingStatus,
    Signals,
    SolverOptions,
    StockBatch,
    Temperature,
    cold_parcels,
)
from routing.engine.router import plan_for_policy, plan_to_result

Policy = Callable[[Order, RoutingContext], RoutingResult]


@dataclass(frozen=True)
class Arrival:
    """An order as it arrived: its promise window then, its local day and hour."""

    order: Order  # ``promised_hours``: promised_at minus the arrival time
    at: datetime
    day: int  # merchant-local date as an ordinal: capacity and the day's demand restart
    hours_elapsed: float  # since local midnight


@dataclass(frozen=True)
class StartBatch:
    """Units of one SKU at one warehouse available when the first order arrived."""

    node_code: str
    sku: str
    quantity: int
    expires_on: int | None = None  # date ordinal; None: does not expire


@dataclass(frozen=True)
class World:
    """The network when the first replayed order arrived, and the orders in arrival order.

    ``nodes`` carry status, lanes and costs (their ``stock`` is ignored: ``stock`` holds it);
    ``daily_parcels`` is each warehouse's parcels per day (None: unlimited); ``parcels_before``
    and ``demand_before`` what the first day had used and asked for before the first arrival.
    """

    nodes: tuple[Node, ...]
    stock: tuple[StartBatch, ...]
    arrivals: tuple[Arrival, ...]
    signals: Signals = field(default_factory=Signals)
    daily_parcels: Mapping[str, int | None] = field(default_factory=dict)
    parcels_before: Mapping[str, int] = field(default_factory=dict)
    demand_before: Mapping[str, float] = field(default_factory=dict)
    cold_parcels_before: Mapping[str, float] = field(default_factory=dict)
    temperature: Mapping[str, Temperature] = field(default_factory=dict)
    # A warehouse's historic on-time rate to the order's region, as the live router reads it
    # (``nodes`` carry the rate over all regions for the regions missing here).
    on_time: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


@dataclass
class Tally:
    """What one policy did with the replayed orders."""

    orders: int = 0
    routed: int = 0
    unroutable: int = 0
    cost: float = 0.0
    on_time: int = 0
    splits: int = 0
    to_paused: int = 0

    def add(self, order: Order, result: RoutingResult, paused: set[str]) -> None:
        self.orders += 1
        if not result.routed:
            self.unroutable += 1
            return
        self.routed += 1
        self.cost += result.cost
        self.on_time += result.transit_hours <= order.promised_hours
        self.splits += result.split
        self.to_paused += any(code in paused for code in result.node_codes)

    def merge(self, other: Tally) -> None:
        for name in ("orders", "routed", "unroutable", "cost", "on_time", "splits", "to_paused"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def figures(self) -> dict[str, float | int]:
        """Per routed order: cost (CNY, to the fen), on-time and split shares (0..1)."""
        routed = max(self.routed, 1)
        return {
            "orders": self.orders,
            "routed": self.routed,
            "unroutable": self.unroutable,
            "cost_per_order": round(self.cost / routed, 2),
            "on_time_rate": round(self.on_time / routed, 4),
            "splits": self.splits,
            "split_rate": round(self.splits / routed, 4),
            "to_paused": self.to_paused,
        }


def profile_policy(options: SolverOptions | None = None) -> Policy:
    """The live router's plan for one order (``route_order`` without its explanation)."""
    options = options or SolverOptions()

    def route(order: Order, ctx: RoutingContext) -> RoutingResult:
        solved = plan_for_policy(order, ctx, options)
        if solved.plan is None:
            return RoutingResult(order.order_id, RoutingStatus.UNROUTABLE, method="unroutable")
        return plan_to_result(solved.model, solved.plan, notes=solved.notes)

    return route


def nearest_policy(order: Order, ctx: RoutingContext) -> RoutingResult:
    """The nearest-stocked-warehouse rule most platforms ship (blind to pauses)."""
    return route_nearest(order, ctx)


class _Network:
    """Stock (FEFO batches per warehouse and SKU) and the day's parcels, drawn down as we go."""

    def __init__(self, world: World):
        self.world = world
        # node -> sku -> batches as [expires_on, units left], FEFO.
        self.stock: dict[str, dict[str, list[list[Any]]]] = {node.code: {} for node in world.nodes}
        for batch in world.stock:
            per_sku = self.stock.setdefault(batch.node_code, {})
            per_sku.setdefault(batch.sku, []).append([batch.expires_on, batch.quantity])
        for per_sku in self.stock.values():
            for batches in per_sku.values():
                batches.sort(key=lambda b: (b[0] is None, b[0] or 0))
        self.parcels: dict[str, int] = {}
        self.day: int | None = None
        self._tuples: dict[str, tuple[StockBatch, ...]] = {}
        self._nodes: dict[str, tuple[tuple[Any, ...], Node]] = {}
        self._dirty: set[str] = set()

    def start_day(self, day: int, first: bool) -> None:
        self.day = day
        self.parcels = dict(self.world.parcels_before) if first else {}
        self._dirty = set(self.stock)  # expiry is counted from the day

    def nodes(self, region: str) -> tuple[Node, ...]:
        """The warehouses as the next order (to ``region``) finds them.

        A node is rebuilt only when its stock, parcels left or on-time rate to the region
        changed; the others are the same objects as before (the engine caches per node).
        """
        assert self.day is not None
        out = []
        for node in self.world.nodes:
            code = node.code
            if code in self._dirty:
                self._tuples[code] = tuple(
                    StockBatch(sku, quantity, None if expires is None else expires - self.day)
                    for sku, batches in self.stock.get(code, {}).items()
                    for expires, quantity in batches
                    if quantity > 0 and (expires is None or expires >= self.day)
                )
            daily = self.world.daily_parcels.get(code)
            remaining = None if daily is None else max(daily - self.parcels.get(code, 0), 0)
            on_time = self.world.on_time.get(code, {}).get(region, node.on_time_rate)
            stock = self._tuples[code]
            cached = self._nodes.get(code)
            if cached is not None and cached[0] == (id(stock), remaining, on_time):
                out.append(cached[1])
                continue
            built = replace(
                node, stock=stock, remaining_capacity_orders=remaining, on_time_rate=on_time
            )
            self._nodes[code] = ((id(stock), remaining, on_time), built)
            out.append(built)
        self._dirty.clear()
        return tuple(out)

    def dispatch(self, result: RoutingResult) -> None:
        assert self.day is not None
        for shipment in result.shipments:
            code = shipment.node_code
            self.parcels[code] = self.parcels.get(code, 0) + 1
            self._dirty.add(code)
            for line in shipment.lines:
                need = line.quantity
                temperature = self.world.temperature.get(line.sku, Temperature.AMBIENT)
                min_days = MIN_SHELF_LIFE_DAYS[temperature]
                for batch in self.stock.get(code, {}).get(line.sku, []):
                    if need == 0:
                        break
                    if batch[0] is not None and batch[0] - self.day < min_days:
                        continue
                    take = min(need, batch[1])
                    batch[1] -= take
                    need -= take


def replay(world: World, policy: Policy, profile: Profile | None = None) -> Tally:
    """Route ``world``'s orders in arrival order with ``policy`` (see the module docstring).

    ``profile`` (an engine ``Profile``) is what the contexts carry: a profile policy reads its
    weights, rules and prices from there; the nearest rule ignores it.
    """
    network = _Network(world)
    paused = {node.code for node in world.nodes if node.status is NodeStatus.PAUSED}
    tally = Tally()
    demand: dict[str, float] = {}
    cold: dict[str, float] = {}
    for index, arrival in enumerate(world.arrivals):
        if arrival.day != network.day:
            network.start_day(arrival.day, first=index == 0)
            demand = dict(world.demand_before) if index == 0 else {}
            cold = dict(world.cold_parcels_before) if index == 0 else {}
        order = arrival.order
        for line in order.lines:  # the live router counts the order being routed too
            demand[line.sku] = demand.get(line.sku, 0.0) + line.quantity
        ctx = RoutingContext(
            nodes=network.nodes(order.region),
            signals=world.signals,
            now=arrival.at,
            outlook=DemandOutlook(
                units_so_far=dict(demand),
                hours_elapsed=arrival.hours_elapsed,
                hours_left=max(0.0, 24.0 - arrival.hours_elapsed),
                cold_parcels_so_far=dict(cold),
            ),
            **({"profile": profile} if profile is not None else {}),
        )
        result = policy(order, ctx)
        tally.add(order, result, paused)
        if result.routed:
            network.dispatch(result)
            for code, parcels in cold_parcels(order, result).items():
                cold[code] = cold.get(code, 0.0) + parcels
    return tally
