"""The fast path and the pruning bound agree with the full MILP on random instances."""

from __future__ import annotations

import pytest

from routing.engine.factors import build_order_model
from routing.engine.fastpath import fast_path
from routing.engine.milp import solve_milp
from routing.engine.problem import SolverOptions
from routing.engine.router import solve_order_model
from tests.routing.engine.engine_factories import random_instance

SEEDS = range(100)


def _full_milp_objective(model) -> float | None:
    outcome = solve_milp(model, solver="highs", time_limit_seconds=10)
    assert outcome.status in ("optimal", "infeasible")
    return None if outcome.plan is None else outcome.plan.objective


def test_fast_path_answer_equals_the_milp_optimum() -> None:
    fired = 0
    for seed in SEEDS:
        order, ctx = random_instance(seed, stock_choices=(0, 5, 20, 20))
        model = build_order_model(order, ctx)
        plan = fast_path(model)
        if plan is not None:
            fired += 1
            assert plan.objective == pytest.approx(_full_milp_objective(model), abs=1e-9), seed
    assert fired >= 15


@pytest.mark.parametrize("seed", range(40))
def test_pruned_solve_equals_the_full_milp(seed: int) -> None:
    order, ctx = random_instance(seed, n_nodes=15, n_lines=5)
    model = build_order_model(order, ctx)
    plan, _ = solve_order_model(model, SolverOptions(solver="highs"))
    expected = _full_milp_objective(model)
    if expected is None:
        assert plan is None
    else:
        assert plan is not None and plan.optimal
        assert plan.objective == pytest.approx(expected, abs=1e-9)


def test_forced_splits_are_proved_by_the_pair_search_and_match_the_milp() -> None:
    methods = []
    for seed in range(40):
        order, ctx = random_instance(
            seed, n_nodes=20, n_lines=5, stock_choices=(0, 0, 0, 3, 9), capacity_choices=(None,)
        )
        model = build_order_model(order, ctx)
        plan, _ = solve_order_model(model, SolverOptions(solver="highs"))
        expected = _full_milp_objective(model)
        if expected is None:
            assert plan is None
            continue
        methods.append(plan.method)
        assert plan.objective == pytest.approx(expected, abs=1e-9), seed
    assert "fast_path:pair" in methods
