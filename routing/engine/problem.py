"""Problem dataclasses: what the router is asked and what it answers with.

Everything here is a frozen dataclass (or a small enum) so a routing call is a pure function of
its inputs: the Django layer builds these from rows, the simulator builds them from a scenario
file, and neither the factors nor the solvers can mutate them.

Units: money in CNY, time in hours, distances in km, weights in kg, volumes in litres,
capacities in units (items) and orders (parcels) per day. Regions are free-form strings ("East",
"North", ...): the macro-region of reports, or a province where a network prices by province.
Orders may also carry their ``province`` and ``city``; carrier services (``CarrierService``)
price lanes by destination province (``Order.destination``).
"""

from __future__ import annotations

import math
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


class ServiceLevel(StrEnum):
    """What a carrier service is: the level decides its weather sensitivity (``factors``)."""

    ECONOMY = "economy"
    EXPRESS = "express"  # express / air
    SAME_DAY = "same_day"  # same-day courier, same city only
    COLD_CHAIN = "cold_chain"


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
    unit_weight_kg: float = 0.0
    unit_volume_litres: float = 0.0

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
    province: str = ""
    city: str = ""
    # Carrier the customer usually picks (learned from past orders; empty: none), and the most
    # CNY more the router pays to honour it for the whole order (spread over its units, so a
    # split earns no more than one parcel; 0: no preference).
    preferred_carrier: str = ""
    preference_premium: float = 0.0

    @property
    def destination(self) -> str:
        """What carrier lanes are keyed by: the province, else the region."""
        return self.province or self.region

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
class CarrierLane:
    """One rate-card lane of a carrier service from its warehouse to one destination.

    A parcel of billable weight w kg costs ``first_price`` for the first ``first_weight_kg``
    plus ``additional_per_kg`` for each started kg beyond it, plus ``surcharge`` (remote area).
    ``transit_hours`` is the planned door-to-door time, ``on_time_rate`` its track record.
    """

    first_price: float
    additional_per_kg: float
    transit_hours: float
    first_weight_kg: float = 1.0
    on_time_rate: float = 0.97
    surcharge: float = 0.0

    def price(self, weight_kg: float) -> float:
        """CNY for one parcel of ``weight_kg`` billable kg (extra weight in started kg)."""
        extra = max(0.0, weight_kg - self.first_weight_kg)
        return self.first_price + self.additional_per_kg * math.ceil(extra - 1e-9) + self.surcharge


@dataclass(frozen=True)
class CarrierService:
    """A carrier's service picking up at one warehouse: its lanes, capability and capacity.

    ``lanes`` maps a destination (province, or region for region-priced networks) to its
    ``CarrierLane``; a destination without a lane is not served. Billable weight is the larger
    of actual kg and litres * 1000 / ``volumetric_divisor`` (cm3 per kg). ``chilled`` /
    ``frozen``: it may carry such lines. ``remaining_capacity_orders``: parcels it still takes
    today from this warehouse (None: unlimited). ``default``: the warehouse's usual service (what
    routing uses when it does not choose carriers). ``same_city``: a same-day courier that only
    delivers in the warehouse's own city.
    """

    code: str
    carrier: str
    level: ServiceLevel = ServiceLevel.ECONOMY
    name: str = ""
    lanes: Mapping[str, CarrierLane] = field(default_factory=dict)
    chilled: bool = False
    frozen: bool = False
    volumetric_divisor: float = 8000.0
    remaining_capacity_orders: int | None = None
    daily_capacity_orders: int | None = None
    default: bool = False
    same_city: str = ""

    @property
    def label(self) -> str:
        return self.name or self.code

    def carries(self, temperature: Temperature) -> bool:
        if temperature is Temperature.CHILLED:
            return self.chilled
        if temperature is Temperature.FROZEN:
            return self.frozen
        return True

    @property
    def cold_chain(self) -> bool:
        return self.chilled or self.frozen

    def billable_kg(self, weight_kg: float, volume_litres: float) -> float:
        return max(weight_kg, volume_litres * 1000.0 / self.volumetric_divisor)


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
    province: str = ""
    city: str = ""
    # Carrier services picking up here. With services the router chooses one per shipment and
    # prices it from the service's lane; without, the node's own per-region price is used.
    services: tuple[CarrierService, ...] = ()

    @property
    def label(self) -> str:
        return self.name or self.code

    @cached_property
    def service_by_code(self) -> dict[str, CarrierService]:
        return {service.code: service for service in self.services}

    @cached_property
    def default_service(self) -> CarrierService | None:
        """The warehouse's usual service: the one marked default, else the first."""
        return next(
            (s for s in self.services if s.default), self.services[0] if self.services else None
        )

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
    (share of today's courier pick-up slots used, 0..1). ``service_saturation`` is keyed by
    carrier service code (how full that service is, 0..1; it wins over the regional figure for
    shipments on that service) and ``carrier_saturation_by_level`` by ``ServiceLevel`` value
    (a whole carrier type running full, e.g. cold chain in a heat wave). ``weather`` is also
    looked up by province for services priced by province (a destination's province, then its
    region).
    """

    carrier_saturation: Mapping[str, float] = field(default_factory=dict)
    weather: Mapping[str, int] = field(default_factory=dict)
    courier_load: Mapping[str, float] = field(default_factory=dict)
    service_saturation: Mapping[str, float] = field(default_factory=dict)
    carrier_saturation_by_level: Mapping[str, float] = field(default_factory=dict)


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
    """Weight per factor, as the profile's percentages; ``normalised()`` scales them to sum to 1.

    ``shipping_cost`` and ``handling_cost`` are both money: their weights add up to the money
    weight and one CNY of either counts the same. Every other weight scales that factor's price
    (``Prices``); see ``factor_prices`` for the one mapping from weights to CNY.
    """

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

    @property
    def money(self) -> float:
        return self.shipping_cost + self.handling_cost


MONEY_FACTORS: tuple[str, ...] = ("shipping_cost", "handling_cost")
PRICED_FACTORS: tuple[str, ...] = tuple(f for f in FACTOR_NAMES if f not in MONEY_FACTORS)


@dataclass(frozen=True)
class Prices:
    """What one unit of each non-money factor costs, in CNY, at the default weights.

    Units (what "one" is): ``lateness`` an expected hour past the promise, per shipment; ``certainty`` a
    point (1 %) of delivery certainty lost, per shipment; ``splits`` a shipment beyond the first;
    ``status`` a shipment from a degraded warehouse; ``carrier_saturation``, ``weather`` (a red
    alert) and ``courier_load`` a shipment at the top of their 0..1 scale; ``capacity`` a unit
    from a warehouse whose day's capacity is used up (the score is the used share squared);
    ``stock`` an order taking the last usable units of its SKUs from its freshest batches;
    ``distance`` 1,000 km per shipment; ``scarcity`` a unit a later order of the day cannot get
    because this one took it (the bid price, ``routing.engine.scarcity``, is this price times the
    chance the unit is needed later; it is steered by the weight on ``stock``).

    The defaults are what such things plausibly cost a merchant, not fitted to any data set: a
    late order costs about ¥15 (platform compensation of a few CNY up to 30 % of the item price,
    a customer-service contact, some lost repeat business), so a point of certainty is ¥0.15 and
    an hour past the promise ¥0.50 on top; a second parcel of the same order costs ¥1.50 beyond
    its own shipping and handling (a second hand-over and more "where is the rest" contacts).
    The rest are small tie-breakers that keep a busy or degraded warehouse for the orders that
    need it. A unit a later order of the day cannot get leaves that order unrouted: a lost sale
    and an order left to staff. Batch routing puts ¥1,000 on an unrouted order so that no plan
    is ever dearer; ``scarcity`` is ¥300, a third of that, because the bid price is paid on every
    unit of a plan while an order is lost for want of one. It was picked from 20, 50, 100, 300
    and 1,000 by replaying one shared world's network and orders (dev-8) under eight other
    random warehouse faults: lower values changed little, 1,000 gave up punctuality.
    """

    stock: float = 1.0
    status: float = 3.0
    capacity: float = 0.3
    carrier_saturation: float = 0.5
    weather: float = 2.0
    courier_load: float = 0.5
    lateness: float = 0.5
    splits: float = 1.5
    distance: float = 0.3
    certainty: float = 0.15
    scarcity: float = 300.0

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# Prices steered by another factor's weight (they have no weight of their own).
PRICE_WEIGHT: dict[str, str] = {"scarcity": "stock"}
DEFAULT_WEIGHTS = Weights()
DEFAULT_PRICES = Prices()


def factor_prices(weights: Weights, prices: Prices = DEFAULT_PRICES) -> dict[str, float]:
    """The objective's coefficient per unit of each factor: one trade-off for a set of weights.

    The money weight sets the coefficient of one CNY of shipping and handling (1 at the default
    money weight of 40 %); every other factor's weight scales its price the same way, relative
    to its default weight. So ``price[f] = prices.f * weight[f] / default_weight[f]`` and
    ``price["money"] = money_weight / default_money_weight``; the objective is
    ``price["money"] * CNY + sum_f price[f] * units of f``. At the default weights it is money
    plus the stated prices; with all weight on money it is money alone (times 2.5). What the
    weights mean in CNY is ``price[f] / price["money"]`` (``prices_in_cny``). Weights are taken
    as given (normalised ones for a profile), so a rule that doubles a factor's weight doubles
    its price and leaves the others alone.
    """
    w = weights.as_dict()
    default = DEFAULT_WEIGHTS.as_dict()
    out = {"money": weights.money / DEFAULT_WEIGHTS.money}
    for name, price in prices.as_dict().items():
        factor = PRICE_WEIGHT.get(name, name)
        out[name] = price * w[factor] / default[factor]
    return out


def prices_in_cny(weights: Weights, prices: Prices = DEFAULT_PRICES) -> dict[str, float] | None:
    """Each factor's price in CNY of shipping and handling (None when money has no weight)."""
    coefficients = factor_prices(weights, prices)
    money = coefficients.pop("money")
    if money <= 0:
        return None
    return {name: value / money for name, value in coefficients.items()}


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
    region (a province matches too: the route's provinces are checked beside its regions); for
    SCALE_WEIGHT the condition is checked at the order's destination. ``service_level`` limits
    EXCLUDE and DOWN_WEIGHT to shipments on carrier services of that level:
    ``Rule("storm: cold chain", RuleCondition.WEATHER_AT_LEAST, threshold=3,
    effect=RuleEffect.DOWN_WEIGHT, amount=0.5, service_level="cold_chain")`` is "weather >=
    orange: down-weight cold-chain carriers 50 %" - chilled lines have only cold-chain services
    to choose from and stay on them, ambient parcels move to other services.
    """

    name: str
    condition: RuleCondition
    effect: RuleEffect
    threshold: float = 0.0
    region: str | None = None
    cold_chain_only: bool = False
    factor: str | None = None
    amount: float = 1.0
    service_level: str | None = None


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
    """How to route: factor weights, their prices in CNY, rules and the high-value policy."""

    name: str = "default"
    weights: Weights = field(default_factory=Weights)
    prices: Prices = field(default_factory=Prices)
    rules: tuple[Rule, ...] = ()
    high_value: HighValuePolicy | None = None


@dataclass(frozen=True)
class SolverOptions:
    """Solver choice: "auto" (HiGHS in-process if installed, else CBC), "highs" or "cbc"."""

    solver: str = "auto"
    time_limit_seconds: float = 2.0
    use_fast_path: bool = True
    relative_gap: float = 1e-6


# Demand seen in the first hours of a day says little about its rate; ``DemandOutlook``
# extrapolates from at least this many hours.
MIN_ELAPSED_HOURS = 4.0


@dataclass(frozen=True)
class DemandOutlook:
    """What the day has asked for so far: units per SKU ordered since the day began, and the
    chilled or frozen parcels each node sent.

    ``hours_elapsed`` since the day began and ``hours_left`` until it ends. ``expected(sku)`` is
    the SKU's demand over the hours left at the rate seen so far (over at least
    ``MIN_ELAPSED_HOURS``).
    """

    units_so_far: Mapping[str, float]
    hours_elapsed: float
    hours_left: float
    # Per node code, parcels with a chilled or frozen line it sent so far today: its own
    # demand for cold-chain slots.
    cold_parcels_so_far: Mapping[str, float] = field(default_factory=dict)

    def _rest_of_day(self, seen: float) -> float:
        if seen <= 0 or self.hours_left <= 0:
            return 0.0
        return seen * self.hours_left / max(self.hours_elapsed, MIN_ELAPSED_HOURS)

    def expected(self, sku: str) -> float:
        return self._rest_of_day(self.units_so_far.get(sku, 0.0))

    def expected_cold_parcels(self, node_code: str) -> float:
        """Chilled or frozen parcels ``node_code`` will send over the hours left, at its rate
        so far today."""
        return self._rest_of_day(self.cold_parcels_so_far.get(node_code, 0.0))


@dataclass(frozen=True)
class RoutingContext:
    """Everything about the network at decision time: nodes, live signals, profile."""

    nodes: tuple[Node, ...]
    signals: Signals = field(default_factory=Signals)
    profile: Profile = field(default_factory=Profile)
    now: datetime | None = None
    outlook: DemandOutlook | None = None

    @cached_property
    def node_by_code(self) -> dict[str, Node]:
        return {node.code: node for node in self.nodes}

    @cached_property
    def weights(self) -> Weights:
        return self.profile.weights.normalised()


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
    carrier_service: str = ""  # the service code (empty: the node's own per-region price)
    carrier: str = ""
    weight_kg: float = 0.0  # billable weight on that service (0 without a service)
    on_time_rate: float | None = None  # the lane's track record (None: the node's)

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)


@dataclass(frozen=True)
class Rejection:
    """A node that could not take (part of) the order: a reason code, and why, in words.

    ``detail`` is the English sentence; the other fields keep its facts so a reader can say it
    in another language: ``note`` is text staff typed (a status reason, a rule name) or the
    region not served, ``since`` when a pause began, ``value`` against ``limit`` a measured
    figure and the floor it missed (delivery certainty, 0..1).
    """

    node_code: str
    reason: str
    detail: str = ""
    note: str = ""
    since: datetime | None = None
    value: float | None = None
    limit: float | None = None


class RoutingStatus(StrEnum):
    ROUTED = "routed"
    UNROUTABLE = "unroutable"  # the order goes to needs_attention with ``reason``


@dataclass(frozen=True)
class RoutingResult:
    """The decision for one order.

    ``method`` says how it was found: "fast_path" (proved optimal without a solver),
    "milp:highs", "milp:cbc", "greedy" (time limit / solver failure fallback), "batch:...",
    "baseline". ``objective`` is what was minimised: money and the other factors at the
    profile's prices (see ``factor_prices``); ``cost`` is money (shipping + handling, CNY).
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


def cold_parcels(order: Order, result: RoutingResult) -> dict[str, int]:
    """Per node code, the parcels of ``result`` that carry a chilled or frozen line of ``order``."""
    cold_skus = {line.sku for line in order.lines if line.temperature.needs_cold_chain}
    out: dict[str, int] = {}
    if not cold_skus:
        return out
    for shipment in result.shipments:
        if any(line.sku in cold_skus for line in shipment.lines):
            out[shipment.node_code] = out.get(shipment.node_code, 0) + 1
    return out
