"""Problem dataclasses: what the router is asked and what it answers with.

Everything here is a frozen dataclass (or a small enum) so a routing call is a pure function of
its inputs: the Django layer builds these from rows, the simulator builds them from a scenario
file, and neither the factors nor the solvers can mutate them.

Units: money in CNY, time in hours, distances in km, capacities in units (items) and orders
(parcels) per day. Regions are free-form strings ("East", "North", ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from enum import IntEnum, StrEnum
from functools import cached_property


class Temperature(StrEnum):
    """Temperature class of a line; chilled and frozen lines need a cold-chain node."""

    AMBIENT = "ambient"
    CHILLED = "chilled"
    FROZEN = "frozen"

    @property
    def needs_cold_chain(self) -> bool:
        return self is not Temperature.AMBIENT


class NodeKind(StrEnum):
    """What a fulfilment node is; the static baseline walks these in this order."""

    LOCAL = "local"  # city / front warehouse
    REGIONAL = "regional"  # regional distribution centre
    SUPPLIER = "supplier"  # supplier drop-ship


class NodeStatus(StrEnum):
    """Operational status. Paused nodes are never routed to; degraded ones score worse."""

    ACTIVE = "active"
    DEGRADED = "degraded"
    PAUSED = "paused"


class WeatherLevel(IntEnum):
    """Chinese weather alert colours, 0 (none) to 4 (red)."""

    NONE = 0
    BLUE = 1
    YELLOW = 2
    ORANGE = 3
    RED = 4


@dataclass(frozen=True)
class OrderLine:
    """One line of an order: a SKU, a quantity and what one unit is worth."""

    sku: str
    quantity: int
    temperature: Temperature = Temperature.AMBIENT
    unit_value: float = 0.0

    @property
    def value(self) -> float:
        return self.quantity * self.unit_value


@dataclass(frozen=True)
class Order:
    """An order to route: destination, lines and the delivery promise."""

    order_id: str
    region: str
    latitude: float
    longitude: float
    lines: tuple[OrderLine, ...]
    promised_hours: float = 48.0
    vip: bool = False
    created_hour: float = 0.0  # hours since the start of the scenario (simulator only)

    @cached_property
    def value(self) -> float:
        return sum(line.value for line in self.lines)

    @cached_property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)

    @cached_property
    def needs_cold_chain(self) -> bool:
        return any(line.temperature.needs_cold_chain for line in self.lines)


@dataclass(frozen=True)
class StockBatch:
    """Units of one SKU at a node that expire together (``expires_in_days`` None: no expiry)."""

    sku: str
    quantity: int
    expires_in_days: float | None = None


@dataclass(frozen=True)
class Node:
    """A candidate fulfilment node with its stock, capacity, costs and track record.

    ``shipping_cost_by_region`` is the carrier price of one parcel to a region;
    ``transit_hours_by_region`` the planned door-to-door time. A fulfilment from the node costs
    ``shipping_cost_by_region[region] + handling_cost_per_shipment + handling_cost_per_unit *
    units``. ``remaining_*`` capacities are what is left today (None: unlimited).
    """

    code: str
    region: str
    latitude: float
    longitude: float
    kind: NodeKind = NodeKind.LOCAL
    name: str = ""
    cold_chain: bool = False
    status: NodeStatus = NodeStatus.ACTIVE
    status_reason: str = ""
    status_since: datetime | None = None
    daily_capacity_units: int | None = None
    remaining_capacity_units: int | None = None
    remaining_capacity_orders: int | None = None
    stock: tuple[StockBatch, ...] = ()
    shipping_cost_by_region: Mapping[str, float] = field(default_factory=dict)
    transit_hours_by_region: Mapping[str, float] = field(default_factory=dict)
    handling_cost_per_shipment: float = 0.0
    handling_cost_per_unit: float = 0.0
    on_time_rate: float = 0.97

    @property
    def label(self) -> str:
        return self.name or self.code

    def serves(self, region: str) -> bool:
        return region in self.shipping_cost_by_region and region in self.transit_hours_by_region

    def shipment_cost(self, region: str, units: int) -> float:
        """Money cost of one shipment of ``units`` items to ``region`` (CNY)."""
        return (
            self.shipping_cost_by_region[region]
            + self.handling_cost_per_shipment
            + self.handling_cost_per_unit * units
        )


@dataclass(frozen=True)
class Signals:
    """Live signals, already resolved (stale ones made conservative by the caller).

    ``carrier_saturation`` is keyed by the *origin* region (how full the carriers picking up
    there are, 0..1); ``weather`` by region (a WeatherLevel, 0..4); ``courier_load`` by node code
    (share of today's courier pick-up slots used, 0..1).
    """

    carrier_saturation: Mapping[str, float] = field(default_factory=dict)
    weather: Mapping[str, int] = field(default_factory=dict)
    courier_load: Mapping[str, float] = field(default_factory=dict)


FACTOR_NAMES: tuple[str, ...] = (
    "stock",
    "status",
    "capacity",
    "carrier_saturation",
    "weather",
    "courier_load",
    "shipping_cost",
    "handling_cost",
    "lateness",
    "splits",
    "distance",
    "certainty",
)


@dataclass(frozen=True)
class Weights:
    """Weight per factor; ``normalised()`` scales them to sum to 1 (what the solver uses)."""

    stock: float = 0.04
    status: float = 0.03
    capacity: float = 0.04
    carrier_saturation: float = 0.03
    weather: float = 0.03
    courier_load: float = 0.02
    shipping_cost: float = 0.22
    handling_cost: float = 0.18
    lateness: float = 0.22
    splits: float = 0.06
    distance: float = 0.03
    certainty: float = 0.10

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def normalised(self) -> Weights:
        total = sum(self.as_dict().values())
        if total <= 0:
            raise ValueError("at least one factor weight must be positive")
        return Weights(**{name: value / total for name, value in self.as_dict().items()})

    def scaled(self, factor: str, multiplier: float) -> Weights:
        return replace(self, **{factor: getattr(self, factor) * multiplier})


class RuleCondition(StrEnum):
    ALWAYS = "always"
    WEATHER_AT_LEAST = "weather_at_least"  # alert level on the route (origin or destination)
    CARRIER_SATURATION_AT_LEAST = "carrier_saturation_at_least"  # at the origin region
    NODE_DEGRADED = "node_degraded"


class RuleEffect(StrEnum):
    EXCLUDE = "exclude"  # matching candidates are removed, with the rule name as the reason
    DOWN_WEIGHT = "down_weight"  # matching candidates keep (1 - amount) of their desirability
    SCALE_WEIGHT = "scale_weight"  # multiply one factor's weight by amount for matching orders


@dataclass(frozen=True)
class Rule:
    """A rule operations staff can write without code.

    Examples: ``Rule("storm", RuleCondition.WEATHER_AT_LEAST, threshold=3,
    effect=RuleEffect.DOWN_WEIGHT, amount=0.5, cold_chain_only=True)`` ("weather >= orange:
    down-weight cold-chain carriers by 50 %"); ``Rule("storm timeliness",
    RuleCondition.WEATHER_AT_LEAST, threshold=3, region="North",
    effect=RuleEffect.SCALE_WEIGHT, factor="lateness", amount=2)``. ``region`` None means any
    region; for SCALE_WEIGHT the condition is checked at the order's destination.
    """

    name: str
    condition: RuleCondition
    effect: RuleEffect
    threshold: float = 0.0
    region: str | None = None
    cold_chain_only: bool = False
    factor: str | None = None
    amount: float = 1.0


@dataclass(frozen=True)
class HighValuePolicy:
    """Dual objective for high-value / VIP orders: lowest cost s.t. certainty >= min_certainty.

    Solved lexicographically: candidates whose delivery certainty is below the floor are removed,
    then money cost is minimised with the weighted score only as a tie-breaker. If no plan meets
    the floor the normal objective is used and the result says so.
    """

    value_threshold: float | None = None
    include_vip: bool = True
    min_certainty: float = 0.95

    def applies_to(self, order: Order) -> bool:
        if self.include_vip and order.vip:
            return True
        return self.value_threshold is not None and order.value >= self.value_threshold


@dataclass(frozen=True)
class Profile:
    """How to route: factor weights, rules and the high-value policy."""

    name: str = "default"
    weights: Weights = field(default_factory=Weights)
    rules: tuple[Rule, ...] = ()
    high_value: HighValuePolicy | None = None


@dataclass(frozen=True)
class SolverOptions:
    """Solver choice: "auto" (HiGHS in-process if installed, else CBC), "highs" or "cbc"."""

    solver: str = "auto"
    time_limit_seconds: float = 2.0
    use_fast_path: bool = True
    relative_gap: float = 1e-6


@dataclass(frozen=True)
class RoutingContext:
    """Everything about the network at decision time: nodes, live signals, profile."""

    nodes: tuple[Node, ...]
    signals: Signals = field(default_factory=Signals)
    profile: Profile = field(default_factory=Profile)
    now: datetime | None = None

    @cached_property
    def node_by_code(self) -> dict[str, Node]:
        return {node.code: node for node in self.nodes}

    @cached_property
    def weights(self) -> Weights:
        return self.profile.weights.normalised()

    @cached_property
    def scales(self) -> Scales:
        return Scales.for_nodes(self.nodes)


@dataclass(frozen=True)
class Scales:
    """Reference magnitudes that turn money and km into [0, 1] scores.

    Taken from the node set (not the order) so scores are comparable across the orders of a
    batch: the dearest parcel any node charges to any region, the dearest handling per shipment
    and per unit, and a country-scale distance.
    """

    shipping_cost: float
    handling_per_shipment: float
    handling_per_unit: float
    distance_km: float = 3500.0

    @staticmethod
    def for_nodes(nodes: tuple[Node, ...]) -> Scales:
        shipping = max((c for n in nodes for c in n.shipping_cost_by_region.values()), default=1)
        return Scales(
            shipping_cost=max(shipping, 1e-9),
            handling_per_shipment=max((n.handling_cost_per_shipment for n in nodes), default=0),
            handling_per_unit=max((n.handling_cost_per_unit for n in nodes), default=0),
        )

    def handling_cost(self, units: int) -> float:
        """The dearest handling a shipment of ``units`` items can cost: its score scale."""
        return max(self.handling_per_shipment + self.handling_per_unit * units, 1e-9)


@dataclass(frozen=True)
class ShipmentLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class Shipment:
    """One parcel: a node and the quantities it ships."""

    node_code: str
    lines: tuple[ShipmentLine, ...]
    cost: float  # money: shipping + handling (CNY)
    transit_hours: float

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)


@dataclass(frozen=True)
class Rejection:
    """A node that could not take (part of) the order, and why, in words."""

    node_code: str
    reason: str
    detail: str = ""


class RoutingStatus(StrEnum):
    ROUTED = "routed"
    UNROUTABLE = "unroutable"  # the order goes to needs_attention with ``reason``


@dataclass(frozen=True)
class RoutingResult:
    """The decision for one order.

    ``method`` says how it was found: "fast_path" (proved optimal without a solver),
    "milp:highs", "milp:cbc", "greedy" (time limit / solver failure fallback), "batch:...",
    "baseline". ``objective`` is the weighted normalised score that was minimised; ``cost`` is
    money (shipping + handling).
    """

    order_id: str
    status: RoutingStatus
    shipments: tuple[Shipment, ...] = ()
    objective: float = 0.0
    cost: float = 0.0
    method: str = ""
    optimal: bool = False
    reason: str = ""
    rejections: tuple[Rejection, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def routed(self) -> bool:
        return self.status is RoutingStatus.ROUTED

    @property
    def node_codes(self) -> tuple[str, ...]:
        return tuple(s.node_code for s in self.shipments)

    @property
    def split(self) -> bool:
        return len(self.shipments) > 1

    @property
    def transit_hours(self) -> float:
        return max((s.transit_hours for s in self.shipments), default=0.0)
