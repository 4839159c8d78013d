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


def test_solver_time_out_falls_back_to_a_feasible_greedy_plan(monkeypatch) -> None:
    from routing.engine import router
    from routing.engine.milp import MilpOutcome
    from routing.engine.problem import SolverOptions

    monkeypatch.setattr(router, "solve_milp", lambda *args, **kwargs: MilpOutcome(None, "timeout"))
    for seed in range(30):
        order, ctx = random_instance(seed, n_nodes=10, n_lines=5, stock_choices=(0, 0, 2, 9))
        model = build_order_model(order, ctx)
        plan, _ = router.solve_order_model(model, SolverOptions(use_fast_path=False))
        if plan is not None:
            assert plan.method == "greedy" and not plan.optimal
            assert plan.notes == ("solver timeout",)
            assert plan_violations(model, plan.quantities) == []
