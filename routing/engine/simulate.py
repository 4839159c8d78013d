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
from routing.engine.factors import MIN_SHELF_LIFE_DAYS
from routing.engine.problem import (
    Node,
    NodeStatus,
    Order,
    Profile,
    RoutingContext,
    RoutingResult,
    Signals,
    StockBatch,
)
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


@dataclass(frozen=True)
class SimulationReport:
    scenario: str
    profile: str
    optimizer: PolicyMetrics
    baseline: PolicyMetrics | None = None
    hindsight: PolicyMetrics | None = None

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
        out = asdict(self)
        out["cost_reduction_vs_baseline"] = self.cost_reduction_vs_baseline
        out["cost_above_hindsight"] = self.cost_above_hindsight
        return out


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
        self.daily_orders = {node.code: node.remaining_capacity_orders for node in scenario.nodes}
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
            nodes.append(
                replace(
                    _with_status(node, self.scenario, hour),
                    stock=self._tuples[node.code],
                    remaining_capacity_units=remaining,
                    remaining_capacity_orders=None
                    if daily_orders is None
                    else daily_orders - self.orders_sent[node.code],
                )
            )
        self._dirty.clear()
        return tuple(nodes)

    def dispatch(self, result: RoutingResult) -> None:
        for shipment in result.shipments:
            code = shipment.node_code
            self.orders_sent[code] += 1
            self.units_used[code] += shipment.units
            self._dirty.add(code)
            for line in shipment.lines:
                need = line.quantity
                min_days = MIN_SHELF_LIFE_DAYS[self.temperature[line.sku]]
                for batch in self.stock[code].get(line.sku, []):
                    if need == 0:
                        break
                    if batch[0] is not None and batch[0] < min_days:
                        continue
                    take = min(need, batch[1])
                    batch[1] -= take
                    need -= take


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
    return Signals(carrier_saturation=saturation, weather=weather, courier_load=courier)


def _draw(seed: int, order_id: str, node_code: str) -> float:
    return zlib.crc32(f"{seed}:{order_id}:{node_code}".encode()) / 2**32


class _Outcomes:
    def __init__(self, scenario: Scenario, policy: str):
        self.scenario = scenario
        self.policy = policy
        self.nodes = {n.code: n for n in scenario.nodes}
        self.routed = self.unroutable = self.splits = self.on_time = self.to_paused = 0
        self.cost = 0.0
        self.late_hours: list[float] = []
        self.units = {n.code: 0 for n in scenario.nodes}
        self.methods: dict[str, int] = {}

    def record(self, order: Order, result: RoutingResult, hour: float) -> None:
        self.methods[result.method] = self.methods.get(result.method, 0) + 1
        if not result.routed:
            self.unroutable += 1
            return
        self.routed += 1
        self.cost += result.cost
        self.splits += result.split
        on_time, worst, sent_to_paused = True, 0.0, False
        for shipment in result.shipments:
            node = self.nodes[shipment.node_code]
            self.units[node.code] += shipment.units
            delay = 0.0
            for d in self.scenario.disruptions:
                if not d.active_at(hour):
                    continue
                if d.kind == "node_paused" and d.node == node.code:
                    delay += self.scenario.fault_delay_hours
                elif d.kind == "weather" and d.region in (node.region, order.region):
                    delay += WEATHER_DELAY_HOURS.get(d.level, 0.0)
                elif d.kind == "carrier_cap" and d.region == node.region and d.saturation >= 0.9:
                    delay += CARRIER_CAP_DELAY_HOURS
            if any(
                d.kind == "node_paused" and d.node == node.code and d.active_at(hour)
                for d in self.scenario.disruptions
            ):
                sent_to_paused = True
            actual = shipment.transit_hours + delay
            lucky = _draw(self.scenario.seed, order.order_id, node.code) < node.on_time_rate
            if actual > order.promised_hours or not lucky:
                on_time = False
                worst = max(
                    worst, actual - order.promised_hours if actual > order.promised_hours else 12.0
                )
        self.to_paused += sent_to_paused
        self.on_time += on_time
        if not on_time:
            self.late_hours.append(worst)

    def metrics(self, orders: int, seconds: float, gap: float | None = None) -> PolicyMetrics:
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
        )


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
) -> PolicyMetrics:
    """Route the scenario online in time batches with ``profile``."""
    started = time.perf_counter()
    network = _Network(scenario)
    outcomes = _Outcomes(scenario, f"optimizer:{profile.name}")
    for hour, orders in _windows(scenario, batch_minutes):
        ctx = RoutingContext(
            nodes=network.nodes_at(hour),
            signals=signals_at(scenario, hour, network),
            profile=profile,
            now=scenario.start + timedelta(hours=hour),
        )
        batch = route_batch(orders, ctx, batch_options)
        for order, result in zip(orders, batch.results, strict=True):
            network.dispatch(result)
            outcomes.record(order, result, hour)
    return outcomes.metrics(len(scenario.orders), time.perf_counter() - started)


def replay_baseline(
    scenario: Scenario, *, batch_minutes: float = 5.0, honour_pause: bool = False
) -> PolicyMetrics:
    """Route the scenario with the static chain, order by order, in the same time windows."""
    started = time.perf_counter()
    network = _Network(scenario)
    name = "baseline+pause" if honour_pause else "baseline"
    outcomes = _Outcomes(scenario, name)
    for hour, orders in _windows(scenario, batch_minutes):
        for order in orders:
            ctx = RoutingContext(nodes=network.nodes_at(hour))
            result = route_baseline(order, ctx, honour_pause=honour_pause)
            network.dispatch(result)
            outcomes.record(order, result, hour)
    return outcomes.metrics(len(scenario.orders), time.perf_counter() - started)


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


def simulate(
    scenario: Scenario,
    profile: Profile | None = None,
    *,
    batch_minutes: float = 5.0,
    baseline: bool = True,
    hindsight: bool = True,
    batch_options: BatchOptions | None = None,
) -> SimulationReport:
    """Replay ``scenario`` for ``profile`` and, optionally, the baseline and hindsight optimum."""
    profile = profile or Profile()
    return SimulationReport(
        scenario=scenario.name,
        profile=profile.name,
        optimizer=replay_optimizer(
            scenario, profile, batch_minutes=batch_minutes, batch_options=batch_options
        ),
        baseline=replay_baseline(scenario, batch_minutes=batch_minutes) if baseline else None,
        hindsight=hindsight_optimum(scenario, profile, batch_minutes=batch_minutes)
        if hindsight
        else None,
    )
