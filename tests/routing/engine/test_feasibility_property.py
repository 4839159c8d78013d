"""Every plan the engine returns is feasible, checked by the independent audit on generated worlds.

Hypothesis builds small networks (2-8 nodes, a few SKUs in batches that expire, tight unit and
parcel caps, cold chain, paused nodes, rules and weather) and batches of orders (1-4 lines, the
same SKU sometimes on two lines), routes them with ``route_batch`` and one by one with
``route_order``, and asks ``routing.engine.audit`` - which shares no code with the solver - for
violations. The runs are derandomised so CI sees the same examples every time.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing.engine.audit import SHELF_LIFE_DAYS, audit
from routing.engine.batch import BatchOptions, route_batch
from routing.engine.factors import MIN_SHELF_LIFE_DAYS
from routing.engine.problem import (
    HighValuePolicy,
    Node,
    NodeStatus,
    Order,
    OrderLine,
    Profile,
    RoutingContext,
    Rule,
    RuleCondition,
    RuleEffect,
    Signals,
    StockBatch,
    Temperature,
)
from routing.engine.router import route_order

REGIONS = ("East", "North")
EXPIRIES = (None, 90.0, 5.0, 20.0)


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[Order], RoutingContext]:
    skus = {
        f"S{i}": draw(st.sampled_from([Temperature.AMBIENT] * 2 + list(Temperature)))
        for i in range(draw(st.integers(1, 3)))
    }
    nodes = []
    for k in range(draw(st.integers(2, 8))):
        stock = []
        for sku in skus:
            for _ in range(draw(st.sampled_from([1, 1, 0, 2]))):
                stock.append(
                    StockBatch(sku, draw(st.integers(1, 2)), draw(st.sampled_from(EXPIRIES)))
                )
        units_left = draw(st.sampled_from([None, 3, 6, 2]))
        served = draw(st.sampled_from([REGIONS, REGIONS, REGIONS[:1]]))
        nodes.append(
            Node(
                code=f"N{k}",
                region=draw(st.sampled_from(REGIONS)),
                latitude=draw(st.floats(22, 40)),
                longitude=draw(st.floats(100, 122)),
                cold_chain=draw(st.sampled_from([True, True, False])),
                status=draw(st.sampled_from([NodeStatus.ACTIVE] * 3 + list(NodeStatus))),
                daily_capacity_units=None if units_left is None else units_left + 4,
                remaining_capacity_units=units_left,
                remaining_capacity_orders=draw(st.sampled_from([None, 2, 1])),
                stock=tuple(stock),
                shipping_cost_by_region={r: draw(st.floats(3, 20)) for r in served},
                transit_hours_by_region={r: draw(st.floats(4, 40)) for r in served},
                handling_cost_per_shipment=draw(st.floats(0, 6)),
                handling_cost_per_unit=draw(st.floats(0, 2)),
                on_time_rate=draw(st.sampled_from([0.99, 0.97, 0.95, 0.9, 0.85])),
            )
        )
    orders = []
    for o in range(draw(st.integers(2, 10))):
        lines = tuple(
            OrderLine(sku, draw(st.integers(1, 3)), skus[sku], draw(st.floats(0, 200)))
            for sku in draw(st.lists(st.sampled_from(sorted(skus)), min_size=1, max_size=4))
        )
        orders.append(
            Order(
                order_id=f"o{o}",
                region=draw(st.sampled_from(REGIONS)),
                latitude=draw(st.floats(22, 40)),
                longitude=draw(st.floats(100, 122)),
                lines=lines,
                promised_hours=draw(st.sampled_from([48.0, 24.0, 12.0])),
                vip=draw(st.booleans()),
            )
        )
    rules = ()
    if draw(st.booleans()):
        rules = (
            Rule(
                "storm: avoid the North",
                RuleCondition.WEATHER_AT_LEAST,
                draw(st.sampled_from([RuleEffect.EXCLUDE, RuleEffect.DOWN_WEIGHT])),
                threshold=2,
                region="North",
                amount=0.5,
            ),
        )
    high_value = draw(st.sampled_from([None, HighValuePolicy(min_certainty=0.9)]))
    ctx = RoutingContext(
        nodes=tuple(nodes),
        signals=Signals(weather={"North": draw(st.integers(0, 4))}),
        profile=Profile(rules=rules, high_value=high_value),
    )
    return orders, ctx


def _fresh(ctx: RoutingContext) -> RoutingContext:
    # A context memoises node scores; each routing run gets its own, as production does.
    return RoutingContext(nodes=ctx.nodes, signals=ctx.signals, profile=ctx.profile)


# Fewer initial columns and pricing rounds send more orders through the repair that re-solves
# them against what is left; the plans must be feasible for every setting.
BATCH_OPTIONS = st.builds(
    BatchOptions,
    initial_single_node_columns=st.integers(0, 4),
    max_iterations=st.integers(1, 3),
)
FEASIBILITY = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@FEASIBILITY
@given(worlds(), BATCH_OPTIONS)
def test_every_batch_plan_fits_stock_capacity_and_policy_together(
    world: tuple[list[Order], RoutingContext], options: BatchOptions
) -> None:
    orders, ctx = world
    batch = route_batch(orders, _fresh(ctx), options)
    assert audit(orders, batch.results, ctx) == []


@FEASIBILITY
@given(worlds())
def test_every_single_order_plan_is_feasible(world: tuple[list[Order], RoutingContext]) -> None:
    orders, ctx = world
    for order in orders:
        result = route_order(order, _fresh(ctx)).result
        assert audit([order], [result], ctx) == []


def test_the_audit_states_the_engines_shelf_life_policy() -> None:
    assert SHELF_LIFE_DAYS == MIN_SHELF_LIFE_DAYS
