"""Pure order-routing engine: problem dataclasses in, decisions and explanations out.

No Django import anywhere in this package (a test enforces it): the ``routing`` app builds these
inputs from rows and stores the outputs; the simulator builds them from scenario files.

Inputs (``problem``, all frozen dataclasses)
    ``Order`` (lines: ``OrderLine`` with ``Temperature``), ``Node`` (stock as ``StockBatch`` with
    expiry, costs and transit per region, capacity, ``NodeStatus``, cold chain, on-time rate),
    ``Signals`` (carrier saturation, ``WeatherLevel``, courier load), ``Profile`` (``Weights``
    for the 12 factors in ``FACTOR_NAMES``, ``Prices`` in CNY for the non-money ones - the
    objective is money plus each factor at its price, ``factor_prices`` - ``Rule`` s, a
    ``HighValuePolicy``), all bundled in a ``RoutingContext`` with an optional ``DemandOutlook``
    (units per SKU the day has asked for so far: it prices scarce stock, ``scarcity``);
    ``SolverOptions`` / ``BatchOptions`` choose solver and time limits.

Single order
    ``route_order(order, ctx, options=None) -> Decision`` with ``.result`` (a
    ``RoutingResult``: status ROUTED/UNROUTABLE with a reason, ``Shipment`` s, money cost,
    objective, method, rejections) and ``.explanation`` (``Explanation``: winner and runners-up
    with per-factor contributions, rejected nodes with reasons, plain sentences).
    Solved by a proved fast path when possible (``fastpath``), else a pruned MILP in HiGHS
    (in-process) or CBC (``milp``), with ``greedy`` as the always-feasible fallback.

Batch
    ``route_batch(orders, ctx, options=None, *, context_for=None) -> BatchResult``: orders
    routed jointly over shared stock and capacity (column generation, ``batch``), with a proven
    lower bound and gap. ``solve_assignment`` runs the same master on GAP instances.

Baseline
    ``route_baseline(order, ctx, *, honour_pause=False) -> RoutingResult``: the static chain
    (local warehouse, regional centre, supplier drop-ship).

Comparators
    ``nearest.route_nearest(order, ctx, *, honour_pause=False)``: the nearest-stocked-warehouse
    rule most platforms ship. ``optimum.solve_day(nodes, orders, hour_of=...)``: the day's money
    optimum, one MILP over all orders in CNY with a proven lower bound and gap.

What-if
    ``scenario.generate(seed, warehouses, orders, fault) -> Scenario``,
    ``scenario_to_dict`` / ``scenario_from_dict`` (JSON format in docs/scenarios.md),
    ``simulate(scenario, profile) -> SimulationReport`` (optimizer, baseline, hindsight
    ``PolicyMetrics``; ``.as_dict()`` for JSON).
"""

from routing.engine.baseline import route_baseline
from routing.engine.batch import BatchOptions, BatchResult, route_batch, solve_assignment
from routing.engine.explain import CandidateView, Explanation, explain
from routing.engine.problem import (
    FACTOR_NAMES,
    DemandOutlook,
    HighValuePolicy,
    Node,
    NodeKind,
    NodeStatus,
    Order,
    OrderLine,
    Prices,
    Profile,
    Rejection,
    RoutingContext,
    RoutingResult,
    RoutingStatus,
    Rule,
    RuleCondition,
    RuleEffect,
    Shipment,
    ShipmentLine,
    Signals,
    SolverOptions,
    StockBatch,
    Temperature,
    WeatherLevel,
    Weights,
    factor_prices,
)
from routing.engine.router import Decision, route_order
from routing.engine.scenario import (
    Disruption,
    Scenario,
    generate,
    scenario_from_dict,
    scenario_to_dict,
)
from routing.engine.simulate import PolicyMetrics, SimulationReport, simulate

__all__ = [
    "FACTOR_NAMES",
    "BatchOptions",
    "BatchResult",
    "CandidateView",
    "Decision",
    "DemandOutlook",
    "Disruption",
    "Explanation",
    "HighValuePolicy",
    "Node",
    "NodeKind",
    "NodeStatus",
    "Order",
    "OrderLine",
    "PolicyMetrics",
    "Prices",
    "Profile",
    "Rejection",
    "RoutingContext",
    "RoutingResult",
    "RoutingStatus",
    "Rule",
    "RuleCondition",
    "RuleEffect",
    "Scenario",
    "Shipment",
    "ShipmentLine",
    "Signals",
    "SimulationReport",
    "SolverOptions",
    "StockBatch",
    "Temperature",
    "WeatherLevel",
    "Weights",
    "explain",
    "factor_prices",
    "generate",
    "route_baseline",
    "route_batch",
    "route_order",
    "scenario_from_dict",
    "scenario_to_dict",
    "simulate",
    "solve_assignment",
]
