"""Replay a scenario: the optimizer, the static baseline and the hindsight optimum.

Replay model. Orders arrive at ``created_hour``; every ``batch_minutes`` the orders that arrived
in the window are routed together (``route_batch``) against the network as it is then: stock and
capacity left after earlier decisions, node status from the disruptions active at that moment,
weather alerts, carrier saturation and courier load. Shipped units leave stock FEFO. The
baseline is replayed the same way with its own stock and capacity. The hindsight optimum routes
all orders in one batch knowing the whole day: each order sees the signals of its own moment,
and stock and capacity are shared over the day.

Outcome model (ground truth, the same for every policy). A shipment takes its planned transit
time plus delays: ``fault_delay_hours`` if it leaves a node during its fault (a "node_paused"
disruption: the node really is broken, whether or not the router listens); 1 / 4 / 10 h for a
yellow / orange / red weather alert at the origin or destination; 5 h if carriers at the origin
are capped at >= 90 % saturation. It is on time if that is within the promise *and* a
deterministic per-(order, node) draw falls under the node's historic on-time rate. An order is
on time when all its shipments are. Cost is money: parcel price plus handling.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from typing import Any

from routing.engine.baseline import route_baseline
from routing.engine.batch import BatchOptions, route_batch
from routing.engine.factors import MIN_SHELF_LIFE_DAYS, WEATHER_SENSITIVITY
from routing.engine.nearest import route_nearest
from routing.engine.optimum import DayOptimum, OptimumOptions, solve_day
from routing.engine.problem import (
    DemandOutlook,
    Node,
    NodeStatus,
    Order,
    Profile,
    RoutingContext,
    RoutingResult,
    Signals,
    StockBatch,
    cold_parcels,
)
from routing.engine.scarcity import bid_prices
from routing.engine.scenario import Scenario

WEATHER_DELAY_HOURS = {0: 0.0, 1: 0.0, 2: 1.0, 3: 4.0, 4: 10.0}
CARRIER_CAP_DELAY_HOURS = 5.0
BASE_CARRIER_SATURATION = 0.5


@dataclass(frozen=True)
class PolicyMetrics:
    """What one policy achieved over the scenario."""

    policy: str
    orders: int
    routed: int
    unroutable: int
    cost_total: float
    cost_per_order: float
    on_time_rate: float
    split_rate: float
    orders_to_paused: int
    mean_hours_late: float
    node_utilisation: dict[str, float]
    seconds: float
    methods: dict[str, int] = field(default_factory=dict)
    gap: float | None = None
    # Counted over every order of the scenario: an unroutable order costs ``unrouted_cost`` (a
    # parcel per SKU by the dearest route) and is not on time.
    cost_per_order_all: float = 0.0
    on_time_all: float = 0.0
    unrouted_cost_total: float = 0.0
    lower_bound: float | None = None  # money optimum: the solver's proven bound (CNY)


@dataclass(frozen=True)
class SimulationReport:
    scenario: str
    profile: str
    optimizer: PolicyMetrics
    baseline: PolicyMetrics | None = None
    hindsight: PolicyMetrics | None = None
    comparators: tuple[PolicyMetrics, ...] = ()
    optimum: PolicyMetrics | None = None
    plans: dict[str, list[dict[str, Any]]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def standings(self) -> dict[str, str]:
        """Where the optimizer stands against every other policy (see ``standing``)."""
        others = [self.baseline, self.hindsight, *self.comparators, self.optimum]
        return {m.policy: standing(self.optimizer, m) for m in others if m is not None}

    @property
    def cost_reduction_vs_baseline(self) -> float | None:
        if self.baseline is None or self.baseline.cost_per_order == 0:
            return None
        return 1 - self.optimizer.cost_per_order / self.baseline.cost_per_order

    @property
    def cost_above_hindsight(self) -> float | None:
        if self.hindsight is None or self.hindsight.cost_per_order == 0:
            return None
        return self.optimizer.cost_per_order / self.hindsight.cost_per_order - 1

    def as_dict(self) -> dict[str, Any]:
        out = asdict(replace(self, plans={}))
        out.pop("plans")
        out["standings"] = self.standings
        out["cost_reduction_vs_baseline"] = self.cost_reduction_vs_baseline
        out["cost_above_hindsight"] = self.cost_above_hindsight
        return out


def standing(optimizer: PolicyMetrics, other: PolicyMetrics) -> str:
    """ "cheaper", "more punctual", "both" or "neither": the optimizer against ``other``.

    Both figures are counted over all orders (``cost_per_order_all``, ``on_time_all``); a tie
    (to the fen, or to 0.01 point of on-time) is not a win.
    """
    cheaper = optimizer.cost_per_order_all < other.cost_per_order_all - 0.005
    punctual = optimizer.on_time_all > other.on_time_all + 1e-4
    if cheaper and punctual:
        return "both"
    return "cheaper" if cheaper else "more punctual" if punctual else "neither"


def unrouted_cost(nodes: tuple[Node, ...], order: Order) -> float:
    """What an unroutable order counts for in ``cost_per_order_all`` (CNY).

    As if every SKU of the order went in its own parcel by the dearest route: per SKU (lines of
    one SKU together), the highest ``shipping + per-shipment handling + per-unit handling *
    units`` over the warehouses that ship to its region (over all warehouses, at their dearest
    price, when none does), summed. So turning an order away never looks cheaper than any plan
    with at most one parcel per SKU.
    """
    units: dict[str, int] = {}
    for line in order.lines:
        units[line.sku] = units.get(line.sku, 0) + line.quantity
    serving = [n for n in nodes if n.serves(order.region)]
    total = 0.0
    for quantity in units.values():
        if serving:
            total += max(n.shipment_cost(order.region, quantity) for n in serving)
        else:
            total += max(
                max(n.shipping_cost_by_region.values(), default=0.0)
                + n.handling_cost_per_shipment
                + n.handling_cost_per_unit * quantity
                for n in nodes
            )
    return total


class _Network:
    """Mutable replay state: stock per node and SKU (FEFO batches) and capacity used.

    A scenario node's capacities are the day's: ``daily_capacity_units`` and, as
    ``remaining_capacity_orders``, its parcels per day. Every window sees what is left of both
    after the shipments dispatched so far, so a cap binds over the whole day, not per window.
    """

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.temperature = {s.sku: s.temperature for s in scenario.skus}
        # node -> sku -> batches as [expires_in_days, units left], FEFO.
        self.stock: dict[str, dict[str, list[list[Any]]]] = {}
        for node in scenario.nodes:
            per_sku: dict[str, list[list[Any]]] = {}
            for batch in node.stock:
                per_sku.setdefault(batch.sku, []).append([batch.expires_in_days, batch.quantity])
            for batches in per_sku.values():
                batches.sort(key=lambda b: (b[0] is None, b[0] or 0))
            self.stock[node.code] = per_sku
        self.units_used = {node.code: 0 for node in scenario.nodes}
        self.orders_sent = {node.code: 0 for node in scenario.nodes}
        # Parcels per (node, carrier service) so far: services' daily caps bind over the day.
        self.service_sent: dict[tuple[str, str], int] = {}
        self.daily_orders = {node.code: node.remaining_capacity_orders for node in scenario.nodes}
        # Position of each batch in the scenario's ``stock`` list, parallel to ``self.stock``
        # (the same stable sort), so plans can name the batches they take.
        self.batch_ids: dict[str, dict[str, list[int]]] = {}
        for node in scenario.nodes:
            per_sku_ids: dict[str, list[tuple[float | None, int]]] = {}
            for position, batch in enumerate(node.stock):
                per_sku_ids.setdefault(batch.sku, []).append((batch.expires_in_days, position))
            self.batch_ids[node.code] = {
                sku: [p for _, p in sorted(ids, key=lambda b: (b[0] is None, b[0] or 0))]
                for sku, ids in per_sku_ids.items()
            }
        self._tuples = {node.code: node.stock for node in scenario.nodes}
        self._dirty: set[str] = set()

    def nodes_at(self, hour: float) -> tuple[Node, ...]:
        nodes = []
        for node in self.scenario.nodes:
            if node.code in self._dirty:
                self._tuples[node.code] = tuple(
                    StockBatch(sku, qty, expiry)
                    for sku, batches in self.stock[node.code].items()
                    for expiry, qty in batches
                    if qty > 0
                )
            remaining = (
                None
                if node.daily_capacity_units is None
                else node.daily_capacity_units - self.units_used[node.code]
            )
            daily_orders = self.daily_orders[node.code]
            services = node.services
            if services:
                services = tuple(
                    service
                    if service.daily_capacity_orders is None
                    else replace(
                        service,
                        remaining_capacity_orders=service.daily_capacity_orders
                        - self.service_sent.get((node.code, service.code), 0),
                    )
                    for service in services
                )
            nodes.append(
                replace(
                    _with_status(node, self.scenario, hour),
                    services=services,
                    stock=self._tuples[node.code],
                    remaining_capacity_units=remaining,
                    remaining_capacity_orders=None
                    if daily_orders is None
                    else daily_orders - self.orders_sent[node.code],
                )
            )
        self._dirty.clear()
        return tuple(nodes)

    def dispatch(self, result: RoutingResult) -> list[list[list[tuple[int, float | None, int]]]]:
        """Take the shipped units out of stock FEFO; return the batches taken.

        Per shipment, per line: (position in the scenario's stock list, expiry, units). A line
        whose batches add up to less than its quantity planned stock that was not there.
        """
        taken_per_shipment = []
        for shipment in result.shipments:
            code = shipment.node_code
            self.orders_sent[code] += 1
            if shipment.carrier_service:
                key = (code, shipment.carrier_service)
                self.service_sent[key] = self.service_sent.get(key, 0) + 1
            self.units_used[code] += shipment.units
            self._dirty.add(code)
            taken_per_line = []
            for line in shipment.lines:
                need = line.quantity
                min_days = MIN_SHELF_LIFE_DAYS[self.temperature[line.sku]]
                taken = []
                ids = self.batch_ids[code].get(line.sku, [])
                for position, batch in enumerate(self.stock[code].get(line.sku, [])):
                    if need == 0:
                        break
                    if batch[0] is not None and batch[0] < min_days:
                        continue
                    take = min(need, batch[1])
                    batch[1] -= take
                    need -= take
                    if take > 0:
                        taken.append((ids[position], batch[0], take))
                taken_per_line.append(taken)
            taken_per_shipment.append(taken_per_line)
        return taken_per_shipment


def _with_status(node: Node, scenario: Scenario, hour: float) -> Node:
    for d in scenario.disruptions:
        if d.kind == "node_paused" and d.node == node.code and d.active_at(hour):
            return replace(
                node,
                status=NodeStatus.PAUSED,
                status_reason=d.reason or "paused",
                status_since=scenario.start + timedelta(hours=d.start_hour),
            )
    return node


def signals_at(scenario: Scenario, hour: float, network: _Network | None = None) -> Signals:
    """Live signals at ``hour``: active alerts and caps, courier load from dispatches so far."""
    weather: dict[str, int] = {}
    saturation: dict[str, float] = {}
    for d in scenario.disruptions:
        if not d.active_at(hour) or d.region is None:
            continue
        if d.kind == "weather":
            weather[d.region] = max(weather.get(d.region, 0), d.level)
        elif d.kind == "carrier_cap":
            saturation[d.region] = max(saturation.get(d.region, 0.0), d.saturation)
    for node in scenario.nodes:
        saturation.setdefault(node.region, BASE_CARRIER_SATURATION)
    courier: dict[str, float] = {}
    if network is not None:
        for node in scenario.nodes:
            if node.daily_capacity_units:
                slots = node.daily_capacity_units / 2.5  # ~2.5 units per parcel
                courier[node.code] = min(1.0, network.orders_sent[node.code] / slots)
    service_saturation: dict[str, float] = {}
    if network is not None:
        # A carrier service's saturation at a warehouse is the share of its day's parcels there
        # already taken, so a service near its cap looks busy before it is full.
        for node in scenario.nodes:
            for service in node.services:
                if service.daily_capacity_orders:
                    used = network.service_sent.get((node.code, service.code), 0)
                    share = min(1.0, used / service.daily_capacity_orders)
                    service_saturation[f"{node.code}:{service.code}"] = share
    return Signals(
        carrier_saturation=saturation,
        weather=weather,
        courier_load=courier,
        service_saturation=service_saturation,
    )


def _draw(seed: int, order_id: str, node_code: str) -> float:
    return zlib.crc32(f"{seed}:{order_id}:{node_code}".encode()) / 2**32


class _Outcomes:
    def __init__(self, scenario: Scenario, policy: str):
        self.scenario = scenario
        self.policy = policy
        self.nodes = {n.code: n for n in scenario.nodes}
        self.routed = self.unroutable = self.splits = self.on_time = self.to_paused = 0
        self.cost = 0.0
        self.unrouted_cost = 0.0
        self.late_hours: list[float] = []
        self.units = {n.code: 0 for n in scenario.nodes}
        self.methods: dict[str, int] = {}

    def record(self, order: Order, result: RoutingResult, hour: float) -> None:
        self.methods[result.method] = self.methods.get(result.method, 0) + 1
        if not result.routed:
            self.unroutable += 1
            self.unrouted_cost += unrouted_cost(self.scenario.nodes, order)
            return
        self.routed += 1
        self.cost += result.cost
        self.splits += result.split
        on_time, worst, sent_to_paused = True, 0.0, False
        for shipment in result.shipments:
            node = self.nodes[shipment.node_code]
            self.units[node.code] += shipment.units
            service = node.service_by_code.get(shipment.carrier_service)
            sensitivity = WEATHER_SENSITIVITY.get(service.level, 1.0) if service else 1.0
            on_time_rate = (
                shipment.on_time_rate if shipment.on_time_rate is not None else node.on_time_rate
            )
            delay = 0.0
            for d in self.scenario.disruptions:
                if not d.active_at(hour):
                    continue
                if d.kind == "node_paused" and d.node == node.code:
                    delay += self.scenario.fault_delay_hours
                elif d.kind == "weather" and d.region in (
                    node.region,
                    order.region,
                    node.province or node.region,
                    order.destination,
                ):
                    delay += WEATHER_DELAY_HOURS.get(d.level, 0.0) * sensitivity
                elif d.kind == "carrier_cap" and d.region == node.region and d.saturation >= 0.9:
                    delay += CARRIER_CAP_DELAY_HOURS
            if any(
                d.kind == "node_paused" and d.node == node.code and d.active_at(hour)
                for d in self.scenario.disruptions
            ):
                sent_to_paused = True
            actual = shipment.transit_hours + delay
            lucky = _draw(self.scenario.seed, order.order_id, node.code) < on_time_rate
            if actual > order.promised_hours or not lucky:
                on_time = False
                worst = max(
                    worst, actual - order.promised_hours if actual > order.promised_hours else 12.0
                )
        self.to_paused += sent_to_paused
        self.on_time += on_time
        if not on_time:
            self.late_hours.append(worst)

    def metrics(
        self,
        orders: int,
        seconds: float,
        gap: float | None = None,
        lower_bound: float | None = None,
    ) -> PolicyMetrics:
        routed = max(1, self.routed)
        utilisation = {
            code: round(units / node.daily_capacity_units, 4)
            for code, units in self.units.items()
            if (node := self.nodes[code]).daily_capacity_units
        }
        return PolicyMetrics(
            policy=self.policy,
            orders=orders,
            routed=self.routed,
            unroutable=self.unroutable,
            cost_total=round(self.cost, 2),
            cost_per_order=self.cost / routed,
            on_time_rate=self.on_time / routed,
            split_rate=self.splits / routed,
            orders_to_paused=self.to_paused,
            mean_hours_late=sum(self.late_hours) / len(self.late_hours) if self.late_hours else 0.0,
            node_utilisation=utilisation,
            seconds=round(seconds, 3),
            methods=self.methods,
            gap=gap,
            cost_per_order_all=(self.cost + self.unrouted_cost) / max(1, orders),
            on_time_all=self.on_time / max(1, orders),
            unrouted_cost_total=round(self.unrouted_cost, 2),
            lower_bound=lower_bound,
        )


def plan_record(
    order: Order,
    result: RoutingResult,
    hour: float,
    taken: list[list[list[tuple[int, float | None, int]]]],
    policy: str,
) -> dict[str, Any]:
    """One line of a plans file (docs/scenarios.md, "Plans files")."""
    record: dict[str, Any] = {"order_id": order.order_id, "hour": round(hour, 6), "policy": policy}
    if not result.routed:
        record.update(status="unroutable", reason=result.reason)
        return record
    shipments = []
    for shipment, taken_lines in zip(result.shipments, taken, strict=True):
        carrier = (
            {"carrier_service": shipment.carrier_service, "weight_kg": shipment.weight_kg}
            if shipment.carrier_service
            else {}
        )
        shipments.append(
            carrier
            | {
                "warehouse": shipment.node_code,
                "units": shipment.units,
                "cost": round(shipment.cost, 4),
                "transit_hours": shipment.transit_hours,
                "lines": [
                    {
                        "sku": line.sku,
                        "quantity": line.quantity,
                        "batches": [
                            {"batch": position, "expires_in_days": expiry, "quantity": units}
                            for position, expiry, units in batches
                        ],
                    }
                    for line, batches in zip(shipment.lines, taken_lines, strict=True)
                ],
            }
        )
    record.update(status="routed", cost=round(result.cost, 4), shipments=shipments)
    return record


def _windows(scenario: Scenario, batch_minutes: float) -> list[tuple[float, list[Order]]]:
    step = batch_minutes / 60.0
    windows: dict[int, list[Order]] = {}
    for order in scenario.orders:
        windows.setdefault(int(order.created_hour // step), []).append(order)
    return [((index + 1) * step, orders) for index, orders in sorted(windows.items())]


def replay_optimizer(
    scenario: Scenario,
    profile: Profile,
    *,
    batch_minutes: float = 5.0,
    batch_options: BatchOptions | None = None,
    plans: list[dict[str, Any]] | None = None,
) -> PolicyMetrics:
    """Route the scenario online in time batches with ``profile``; append plans to ``plans``."""
    started = time.perf_counter()
    network = _Network(scenario)
    outcomes = _Outcomes(scenario, f"optimizer:{profile.name}")
    seen: dict[str, float] = {}
    cold: dict[str, float] = {}
    for hour, orders in _windows(scenario, batch_minutes):
        for order in orders:
            for line in order.lines:
                seen[line.sku] = seen.get(line.sku, 0.0) + line.quantity
        ctx = RoutingContext(
            nodes=network.nodes_at(hour),
            signals=signals_at(scenario, hour, network),
            profile=profile,
            now=scenario.start + timedelta(hours=hour),
            outlook=DemandOutlook(
                units_so_far=dict(seen),
                hours_elapsed=hour,
                hours_left=max(0.0, scenario.horizon_hours - hour),
                cold_parcels_so_far=dict(cold),
            ),
        )
        batch = route_batch(orders, ctx, batch_options)
        for order, result in zip(orders, batch.results, strict=True):
            taken = network.dispatch(result)
            for code, parcels in cold_parcels(order, result).items():
                cold[code] = cold.get(code, 0.0) + parcels
            outcomes.record(order, result, hour)
            if plans is not None:
                plans.append(plan_record(order, result, hour, taken, outcomes.policy))
    return outcomes.metrics(len(scenario.orders), time.perf_counter() - started)


def replay_baseline(
    scenario: Scenario,
    *,
    batch_minutes: float = 5.0,
    honour_pause: bool = False,
    plans: list[dict[str, Any]] | None = None,
) -> PolicyMetrics:
    """Route the scenario with the static chain, order by order, in the same time windows."""
    name = "baseline+pause" if honour_pause else "baseline"
    return _replay_rule(scenario, route_baseline, name, batch_minutes, honour_pause, plans)


def replay_nearest(
    scenario: Scenario,
    *,
    batch_minutes: float = 5.0,
    honour_pause: bool = False,
    plans: list[dict[str, Any]] | None = None,
) -> PolicyMetrics:
    """Route with the nearest-stocked-warehouse rule (``nearest``), order by order.

    The same windows, stock and capacity bookkeeping as the baseline; "blind" keeps sending to
    a paused warehouse, ``honour_pause`` ("aware") does not.
    """
    name = "nearest+pause" if honour_pause else "nearest"
    return _replay_rule(scenario, route_nearest, name, batch_minutes, honour_pause, plans)


def _replay_rule(
    scenario: Scenario,
    rule: Callable[..., RoutingResult],
    name: str,
    batch_minutes: float,
    honour_pause: bool,
    plans: list[dict[str, Any]] | None,
) -> PolicyMetrics:
    """Route order by order with a static rule, in the windows, stock and caps of the day."""
    started = time.perf_counter()
    network = _Network(scenario)
    outcomes = _Outcomes(scenario, name)
    for hour, orders in _windows(scenario, batch_minutes):
        for order in orders:
            ctx = RoutingContext(nodes=network.nodes_at(hour))
            result = rule(order, ctx, honour_pause=honour_pause)
            taken = network.dispatch(result)
            outcomes.record(order, result, hour)
            if plans is not None:
                plans.append(plan_record(order, result, hour, taken, name))
    return outcomes.metrics(len(scenario.orders), time.perf_counter() - started)


def money_optimum(
    scenario: Scenario,
    *,
    batch_minutes: float = 5.0,
    options: OptimumOptions | None = None,
    plans: list[dict[str, Any]] | None = None,
    solved: list[DayOptimum] | None = None,
) -> PolicyMetrics:
    """The day's money optimum (``optimum.solve_day``) scored like every other policy.

    Each order is routed at the end of its window, as online; a warehouse paused then cannot
    take it. It minimises the figure every policy is compared on, money over all orders with an
    unroutable order at ``unrouted_cost``. ``gap`` is the solver's proven gap and
    ``lower_bound`` its bound on that figure's total (divide by the orders for a bound on
    ``cost_per_order_all``). The plans go through the same stock bookkeeping (FEFO) so their
    batches can be named.
    """
    started = time.perf_counter()
    hour_of = {
        order.order_id: hour
        for hour, orders in _windows(scenario, batch_minutes)
        for order in orders
    }
    penalty = {order.order_id: unrouted_cost(scenario.nodes, order) for order in scenario.orders}
    day = solve_day(
        scenario.nodes,
        scenario.orders,
        hour_of=hour_of,
        disruptions=scenario.disruptions,
        temperature={s.sku: s.temperature for s in scenario.skus},
        penalty=penalty,
        options=options,
    )
    if solved is not None:  # the caller wants the solver's own figures (bounds, status)
        solved.append(day)
    network = _Network(scenario)
    outcomes = _Outcomes(scenario, "optimum")
    by_id = {result.order_id: result for result in day.results}
    for hour, orders in _windows(scenario, batch_minutes):
        for order in orders:
            result = by_id[order.order_id]
            taken = network.dispatch(result)
            outcomes.record(order, result, hour)
            if plans is not None:
                plans.append(plan_record(order, result, hour, taken, "optimum"))
    # Orders unroutable before the solve add the same amount to the plan and to the bound.
    outside = outcomes.unrouted_cost + outcomes.cost - day.objective
    return outcomes.metrics(
        len(scenario.orders),
        time.perf_counter() - started,
        gap=day.gap,
        lower_bound=day.lower_bound + outside,
    )


def myopic_optimum(
    scenario: Scenario,
    *,
    batch_minutes: float = 5.0,
    options: OptimumOptions | None = None,
    plans: list[dict[str, Any]] | None = None,
    solved: list[DayOptimum] | None = None,
    bid_value: float = 0.0,
) -> PolicyMetrics:
    """The money optimum of each window alone: the best an online router could do per window.

    The same MILP as ``money_optimum`` (``optimum.solve_day``, CNY, an unroutable order at
    ``unrouted_cost``), solved for one 5-minute window's orders at a time, in arrival order,
    on the stock, unit and parcel capacity the earlier windows left, and knowing nothing of
    later orders. The whole-day optimum minus this is the value of foresight; this minus an
    online policy is that policy's own loss within its windows. ``gap`` is the largest proven
    gap of a window's MILP; ``lower_bound`` the sum of the windows' bounds (a bound on this
    policy, not on the day).

    With ``bid_value`` > 0 each unit taken also pays its scarcity bid price
    (``scarcity.bid_prices`` at that value in CNY, over the stock each warehouse can still ship
    and the SKU's demand for the rest of the day at the rate seen so far), so a window may leave
    an order unrouted to keep scarce units for later ones: admission control on a forecast, still
    without seeing later orders. Its plans are scored in money alone; ``lower_bound`` is then
    None.
    """
    started = time.perf_counter()
    options = options or OptimumOptions(time_limit_seconds=60.0, gap=1e-6)
    seen: dict[str, float] = {}
    temperature = {s.sku: s.temperature for s in scenario.skus}
    network = _Network(scenario)
    outcomes = _Outcomes(scenario, "myopic-optimum")
    worst_gap = 0.0
    bound = objective = 0.0
    for hour, orders in _windows(scenario, batch_minutes):
        # The unit cap the MILP reads is the day's; here it is what the earlier windows left.
        nodes = tuple(
            replace(node, daily_capacity_units=node.remaining_capacity_units)
            for node in network.nodes_at(hour)
        )
        for order in orders:
            for line in order.lines:
                seen[line.sku] = seen.get(line.sku, 0.0) + line.quantity
        prices = (
            _bid_prices(
                scenario,
                nodes,
                orders,
                DemandOutlook(seen, hour, max(0.0, scenario.horizon_hours - hour)),
                bid_value,
                temperature,
            )
            if bid_value > 0
            else None
        )
        window = solve_day(
            nodes,
            tuple(orders),
            hour_of={order.order_id: hour for order in orders},
            disruptions=scenario.disruptions,
            temperature=temperature,
            penalty={order.order_id: unrouted_cost(scenario.nodes, order) for order in orders},
            options=options,
            unit_prices=prices,
        )
        if solved is not None:
            solved.append(window)
        worst_gap = max(worst_gap, window.gap)
        bound += window.lower_bound
        objective += window.objective
        by_id = {result.order_id: result for result in window.results}
        for order in orders:
            result = by_id[order.order_id]
            taken = network.dispatch(result)
            outcomes.record(order, result, hour)
            if plans is not None:
                plans.append(plan_record(order, result, hour, taken, outcomes.policy))
    # Orders unroutable before a window's solve add the same amount to its plan and bound.
    outside = outcomes.unrouted_cost + outcomes.cost - objective
    return outcomes.metrics(
        len(scenario.orders),
        time.perf_counter() - started,
        gap=worst_gap,
        lower_bound=None if bid_value > 0 else bound + outside,
    )


def _bid_prices(
    scenario: Scenario,
    nodes: tuple[Node, ...],
    orders: list[Order],
    outlook: DemandOutlook,
    value: float,
    temperature: dict[str, Any],
) -> dict[tuple[str, str], float]:
    """(node code, SKU) -> bid price for the SKUs of a window's orders (``scarcity``)."""
    prices: dict[tuple[str, str], float] = {}
    for sku in {line.sku for order in orders for line in order.lines}:
        temp = temperature[sku]
        supply: dict[str, float] = {}
        for node in nodes:
            if node.status is NodeStatus.PAUSED or (temp.needs_cold_chain and not node.cold_chain):
                continue
            if node.remaining_capacity_orders is not None and node.remaining_capacity_orders <= 0:
                continue
            units = sum(
                batch.quantity
                for batch in node.stock
                if batch.sku == sku
                and (
                    batch.expires_in_days is None
                    or batch.expires_in_days >= MIN_SHELF_LIFE_DAYS[temp]
                )
            )
            if node.daily_capacity_units is not None:
                units = min(units, max(0, node.daily_capacity_units))
            if units > 0:
                supply[node.code] = float(units)
        for code, price in bid_prices(
            supply, outlook.expected(sku), value, network_size=len(nodes)
        ).items():
            prices[(code, sku)] = price
    return prices


def hindsight_optimum(
    scenario: Scenario,
    profile: Profile,
    *,
    batch_minutes: float = 5.0,
    batch_options: BatchOptions | None = None,
) -> PolicyMetrics:
    """All demand known: one joint batch over the day (see the module docstring)."""
    started = time.perf_counter()
    network = _Network(scenario)
    shared = RoutingContext(nodes=network.nodes_at(0.0), profile=profile)
    contexts: dict[str, RoutingContext] = {}
    hour_of: dict[str, float] = {}
    for hour, orders in _windows(scenario, batch_minutes):
        ctx = RoutingContext(
            nodes=tuple(_with_status(n, scenario, hour) for n in shared.nodes),
            signals=signals_at(scenario, hour),
            profile=profile,
        )
        for order in orders:
            contexts[order.order_id] = ctx
            hour_of[order.order_id] = hour
    context_for: Callable[[Order], RoutingContext] = lambda order: contexts[order.order_id]  # noqa: E731
    batch = route_batch(
        list(scenario.orders),
        shared,
        batch_options or BatchOptions(time_limit_seconds=120),
        context_for=context_for,
    )
    outcomes = _Outcomes(scenario, "hindsight")
    for order, result in zip(scenario.orders, batch.results, strict=True):
        outcomes.record(order, result, hour_of[order.order_id])
    return outcomes.metrics(len(scenario.orders), time.perf_counter() - started, gap=batch.gap)


POLICIES = ("optimizer", "nearest", "nearest-aware", "baseline", "baseline-aware", "optimum")


def simulate(
    scenario: Scenario,
    profile: Profile | None = None,
    *,
    batch_minutes: float = 5.0,
    baseline: bool = True,
    hindsight: bool = True,
    batch_options: BatchOptions | None = None,
    comparators: bool = True,
    optimum: bool = False,
    optimum_options: OptimumOptions | None = None,
    capture_plans: tuple[str, ...] = (),
) -> SimulationReport:
    """Replay ``scenario`` for ``profile`` and the policies a user would compare it with.

    ``baseline``: the static chain, blind to pauses. ``hindsight``: the weighted-objective
    batch over the whole day. ``comparators``: the nearest-warehouse rule blind and aware of
    pauses, and the static chain aware of pauses. ``optimum``: the day's money optimum (a
    whole-day MILP; the slowest part). ``capture_plans`` names policies of ``POLICIES`` whose
    per-order plans are kept in ``report.plans`` (a policy named there is replayed even when its
    flag is off).
    """
    profile = profile or Profile()
    unknown = set(capture_plans) - set(POLICIES)
    if unknown:
        raise ValueError(f"unknown policies {sorted(unknown)}; choose from {POLICIES}")
    plans: dict[str, list[dict[str, Any]]] = {name: [] for name in capture_plans}
    kept = plans.get
    others: list[PolicyMetrics] = []
    if comparators or "nearest" in plans:
        others.append(replay_nearest(scenario, batch_minutes=batch_minutes, plans=kept("nearest")))
    if comparators or "nearest-aware" in plans:
        others.append(
            replay_nearest(
                scenario,
                batch_minutes=batch_minutes,
                honour_pause=True,
                plans=kept("nearest-aware"),
            )
        )
    if comparators or "baseline-aware" in plans:
        others.append(
            replay_baseline(
                scenario,
                batch_minutes=batch_minutes,
                honour_pause=True,
                plans=kept("baseline-aware"),
            )
        )
    return SimulationReport(
        scenario=scenario.name,
        profile=profile.name,
        optimizer=replay_optimizer(
            scenario,
            profile,
            batch_minutes=batch_minutes,
            batch_options=batch_options,
            plans=kept("optimizer"),
        ),
        baseline=replay_baseline(scenario, batch_minutes=batch_minutes, plans=kept("baseline"))
        if baseline or "baseline" in plans
        else None,
        hindsight=hindsight_optimum(scenario, profile, batch_minutes=batch_minutes)
        if hindsight
        else None,
        comparators=tuple(others),
        optimum=money_optimum(
            scenario,
            batch_minutes=batch_minutes,
            options=optimum_options,
            plans=kept("optimum"),
        )
        if optimum or "optimum" in plans
        else None,
        plans=plans,
    )
