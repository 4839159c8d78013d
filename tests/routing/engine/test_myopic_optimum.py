"""The window-by-window money optimum: the day's optimum without foresight.

It solves each window's orders exactly on what earlier windows left, so it is never cheaper
than the day's optimum, equals it when the day is one window, and its plans pass the
independent scorer's audit (stock per batch and the day's unit and parcel caps).
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from bench.score_plans import score
from routing.engine.optimum import OptimumOptions, solve_day
from routing.engine.problem import Node, Order, OrderLine, StockBatch, Temperature
from routing.engine.scenario import generate, scenario_to_dict
from routing.engine.simulate import money_optimum, myopic_optimum

EXACT = OptimumOptions(time_limit_seconds=120, gap=0.0)


def scarce_day(seed: int, divide: int):
    """A small generated day whose batches hold 1/``divide`` of their units (at least 1)."""
    scenario = generate(seed=seed, warehouses=12, orders=30, fault=None, skus=24, weather=False)
    nodes = tuple(
        dataclasses.replace(
            node,
            stock=tuple(
                StockBatch(b.sku, max(1, b.quantity // divide), b.expires_in_days)
                for b in node.stock
            ),
        )
        for node in scenario.nodes
    )
    return dataclasses.replace(scenario, nodes=nodes)


@pytest.mark.parametrize(("seed", "divide"), [(2, 40), (5, 80)])
def test_the_myopic_optimum_is_never_cheaper_than_the_day_and_its_plans_are_feasible(
    seed: int, divide: int
) -> None:
    scenario = scarce_day(seed, divide)
    document = json.loads(json.dumps(scenario_to_dict(scenario)))
    day_plans: list[dict] = []
    day = money_optimum(scenario, batch_minutes=60, options=EXACT, plans=day_plans)
    plans: list[dict] = []
    myopic = myopic_optimum(scenario, batch_minutes=60, options=EXACT, plans=plans)
    figures = score(document, plans)
    assert figures["violations"] == 0, figures["violation_examples"]
    assert figures["routed"] == myopic.routed
    assert figures["cost_total"] == pytest.approx(myopic.cost_total, abs=0.01)
    # The day's optimum is solved exactly: no plan of the day is cheaper over all orders.
    assert day.gap is not None and day.gap <= 1e-9
    assert myopic.cost_per_order_all >= day.cost_per_order_all - 1e-9
    assert score(document, day_plans)["violations"] == 0


def test_one_window_is_the_day() -> None:
    scenario = scarce_day(3, 60)
    day = money_optimum(scenario, batch_minutes=24 * 60, options=EXACT)
    myopic = myopic_optimum(scenario, batch_minutes=24 * 60, options=EXACT)
    assert myopic.cost_per_order_all == pytest.approx(day.cost_per_order_all, abs=1e-6)
    assert myopic.routed == day.routed


def test_windows_carry_stock_and_caps_forward() -> None:
    """Two windows want the last unit; the second finds it gone (no double booking)."""
    scenario = scarce_day(2, 40)
    node = dataclasses.replace(
        scenario.nodes[0],
        stock=(StockBatch("ONLY", 1, None),),
        daily_capacity_units=None,
        remaining_capacity_orders=None,
        services=(),
    )
    region = next(iter(node.shipping_cost_by_region))
    orders = tuple(
        Order(f"o{i}", region, 30.0, 120.0, (OrderLine("ONLY", 1),), created_hour=hour)
        for i, hour in enumerate((1.0, 5.0))
    )
    # A dearer warehouse without the SKU makes turning an order away dearer than shipping it.
    dear = dataclasses.replace(
        node,
        code="DEAR",
        stock=(),
        shipping_cost_by_region={region: node.shipping_cost_by_region[region] + 10.0},
    )
    sku = dataclasses.replace(scenario.skus[0], sku="ONLY", temperature=Temperature.AMBIENT)
    day = dataclasses.replace(
        scenario, nodes=(node, dear), orders=orders, skus=(sku,), disruptions=()
    )
    metrics = myopic_optimum(day, batch_minutes=60, options=EXACT)
    assert (metrics.routed, metrics.unroutable) == (1, 1)


def test_a_unit_price_moves_the_unit_to_the_other_warehouse() -> None:
    def node(code: str, shipping: float) -> Node:
        return Node(
            code=code,
            region="east",
            latitude=31.0,
            longitude=121.0,
            stock=(StockBatch("A", 5, None),),
            shipping_cost_by_region={"east": shipping},
            transit_hours_by_region={"east": 24.0},
            handling_cost_per_shipment=1.0,
            handling_cost_per_unit=0.5,
        )

    nodes = (node("CHEAP", 5.0), node("DEAR", 7.0))
    orders = (Order("o1", "east", 31.0, 121.0, (OrderLine("A", 2),)),)

    def shipped_from(unit_prices=None) -> str:
        solved = solve_day(
            nodes, orders, hour_of={"o1": 1.0}, options=EXACT, unit_prices=unit_prices
        )
        (result,) = solved.results
        return result.shipments[0].node_code

    assert shipped_from() == "CHEAP"
    # 2 units at 1.5 CNY each outweigh the 2 CNY of dearer shipping.
    assert shipped_from({("CHEAP", "A"): 1.5}) == "DEAR"
    assert shipped_from({("CHEAP", "A"): 0.5}) == "CHEAP"
