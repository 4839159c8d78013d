"""The greedy fallback returns feasible plans only, and finds one whenever lines can be covered."""

from __future__ import annotations

import pytest

from routing.engine.factors import build_order_model
from routing.engine.greedy import greedy_plan
from routing.engine.milp import solve_milp
from routing.engine.plan import plan_violations
from tests.routing.engine.engine_factories import random_instance


@pytest.mark.parametrize("seed", range(60))
def test_greedy_plan_is_always_feasible(seed: int) -> None:
    order, ctx = random_instance(seed, n_nodes=8, n_lines=5)
    model = build_order_model(order, ctx)
    plan = greedy_plan(model)
    if plan is None:
        # Greedy may only give up when the MILP agrees there is no plan (or capacity interplay).
        assert solve_milp(model, solver="cbc").plan is None or any(
            c != float("inf") for c in model.capacity_units
        )
    else:
        assert plan_violations(model, plan.quantities) == []


@pytest.mark.parametrize("seed", range(40))
def test_greedy_is_never_better_than_the_optimum(seed: int) -> None:
    order, ctx = random_instance(seed)
    model = build_order_model(order, ctx)
    plan = greedy_plan(model)
    best = solve_milp(model, solver="highs").plan
    if plan is not None and best is not None:
        assert plan.objective >= best.objective - 1e-9
