"""The day optimum's bounds are proven: never above the exact optimum, and its plans feasible.

The large-day path (LP relaxation, then the Lagrangian bound, then the LP-fixed plan and the
whole MIP) is forced on small generated days with stock cut short, so that orders compete for
the last units, and its bounds are checked against HiGHS's MIP solved to optimality directly.
The plans are checked by the independent audit.
"""

from __future__ import annotations

import dataclasses

import pytest

from routing.engine.audit import audit
from routing.engine.optimum import DayOptimum, OptimumOptions, solve_day
from routing.engine.problem import RoutingContext, StockBatch
from routing.engine.scenario import generate
from routing.engine.simulate import unrouted_cost


def scarce_day(seed: int, divide: int):
    """A small generated day whose every batch holds 1/``divide`` of its units (at least 1)."""
    scenario = generate(seed=seed, warehouses=12, orders=25, fault=None, skus=24, weather=False)
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
    return nodes, scenario


def solve(nodes, scenario, **options) -> DayOptimum:
    return solve_day(
        nodes,
        scenario.orders,
        hour_of={order.order_id: 12.0 for order in scenario.orders},
        temperature={sku.sku: sku.temperature for sku in scenario.skus},
        penalty={order.order_id: unrouted_cost(nodes, order) for order in scenario.orders},
        options=OptimumOptions(time_limit_seconds=120, gap=0.0, **options),
    )


@pytest.mark.parametrize(("seed", "divide"), [(2, 60), (3, 80), (4, 120), (6, 50)])
def test_the_lagrangian_bound_lies_between_the_lp_bound_and_the_optimum(
    seed: int, divide: int
) -> None:
    nodes, scenario = scarce_day(seed, divide)
    exact = solve(nodes, scenario)
    assert exact.gap <= 1e-9 and exact.lp_bound is None
    large = solve(nodes, scenario, direct_columns=0)
    assert large.lp_bound is not None and large.lagrangian_bound is not None
    assert large.lp_bound <= large.lagrangian_bound + 1e-6
    assert large.lagrangian_bound <= exact.objective + 1e-6
    assert large.lower_bound <= exact.objective + 1e-6
    # Both paths end proven optimal on so small a day, with plans of the same cost.
    assert large.objective == pytest.approx(exact.objective, abs=1e-6)
    assert large.unrouted_in_model == exact.unrouted_in_model > 0
    ctx = RoutingContext(nodes=nodes)
    assert audit(scenario.orders, exact.results, ctx) == []
    assert audit(scenario.orders, large.results, ctx) == []


def test_the_lagrangian_bound_is_stronger_than_the_lp_where_orders_compete() -> None:
    gains = []
    for seed, divide in [(3, 80), (4, 120)]:
        nodes, scenario = scarce_day(seed, divide)
        large = solve(nodes, scenario, direct_columns=0)
        assert large.lp_bound is not None and large.lagrangian_bound is not None
        gains.append(large.lagrangian_bound - large.lp_bound)
    assert max(gains) > 0.01, gains


def test_without_the_lagrangian_step_the_bound_is_the_lp_or_the_mip() -> None:
    nodes, scenario = scarce_day(3, 80)
    large = solve(nodes, scenario, direct_columns=0, lagrangian_share=0.0)
    assert large.lagrangian_bound is None
    assert large.lp_bound is not None
    assert large.lower_bound == max(large.lp_bound, large.mip_bound or -1.0)
