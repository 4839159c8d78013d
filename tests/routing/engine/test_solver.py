"""The single-order MILP on small hand-made networks."""

from __future__ import annotations

import pytest

from routing.engine.factors import build_order_model
from routing.engine.milp import highs_available, solve_milp
from routing.engine.problem import NodeStatus, RoutingContext, RoutingStatus, SolverOptions
from routing.engine.router import route_order
from tests.routing.engine.engine_factories import make_node, make_order

SOLVERS = ["cbc"] + (["highs", "pulp-highs"] if highs_available() else [])


@pytest.mark.parametrize("solver", SOLVERS)
def test_chilled_line_never_goes_to_a_node_without_cold_chain(solver: str) -> None:
    cheap_ambient = make_node("AMB", stock={"milk": 10, "rice": 10}, shipping=3.0)
    cold = make_node("COLD", stock={"milk": 10, "rice": 10}, shipping=12.0, cold_chain=True)
    ctx = RoutingContext(nodes=(cheap_ambient, cold))
    order = make_order(("milk", 2), ("rice", 1), cold={"milk"})
    decision = route_order(order, ctx, SolverOptions(solver=solver, use_fast_path=False))
    milk_nodes = {
        s.node_code for s in decision.result.shipments if any(li.sku == "milk" for li in s.lines)
    }
    assert milk_nodes == {"COLD"}


@pytest.mark.parametrize("solver", SOLVERS)
def test_paused_node_is_excluded_even_when_cheapest(solver: str) -> None:
    paused = make_node(
        "P",
        stock={"a": 5},
        shipping=1.0,
        status=NodeStatus.PAUSED,
        status_reason="cold-chain fault",
    )
    active = make_node("A", stock={"a": 5}, shipping=15.0)
    ctx = RoutingContext(nodes=(paused, active))
    decision = route_order(
        make_order(("a", 1)), ctx, SolverOptions(solver=solver, use_fast_path=False)
    )
    assert decision.result.node_codes == ("A",)
    assert any(r.node_code == "P" and r.reason == "paused" for r in decision.result.rejections)


@pytest.mark.parametrize("solver", SOLVERS)
def test_order_is_not_split_when_a_single_node_is_cheaper_overall(solver: str) -> None:
    # X is slightly cheaper per unit for "a", Y for "b"; the extra parcel costs more than it saves.
    x = make_node("X", stock={"a": 5, "b": 5}, handling_per_unit=0.5, shipping=8)
    y = make_node("Y", stock={"a": 5, "b": 5}, handling_per_unit=0.6, shipping=8)
    ctx = RoutingContext(nodes=(x, y))
    model = build_order_model(make_order(("a", 1), ("b", 1)), ctx)
    outcome = solve_milp(model, solver=solver)
    assert outcome.status == "optimal"
    assert outcome.plan is not None and len(outcome.plan.nodes_used) == 1


@pytest.mark.parametrize("solver", SOLVERS)
def test_order_is_split_when_no_node_has_everything(solver: str) -> None:
    x = make_node("X", stock={"a": 5})
    y = make_node("Y", stock={"b": 5})
    ctx = RoutingContext(nodes=(x, y))
    decision = route_order(make_order(("a", 1), ("b", 2)), ctx, SolverOptions(solver=solver))
    assert sorted(decision.result.node_codes) == ["X", "Y"]
    assert decision.result.split


@pytest.mark.parametrize("solver", SOLVERS)
def test_order_is_split_when_the_saving_beats_the_shipment_cost(solver: str) -> None:
    # Each node is far dearer to handle the other SKU: two parcels are cheaper than one.
    x = make_node(
        "X",
        stock={"a": 50, "b": 50},
        shipping=2.0,
        handling_per_unit=0.1,
        handling_per_shipment=0.1,
    )
    y = make_node(
        "Y",
        stock={"a": 50, "b": 50},
        shipping=2.0,
        handling_per_unit=0.1,
        handling_per_shipment=0.1,
    )
    slow_a = make_node(
        "SA", stock={"a": 50}, shipping=2.0, handling_per_unit=0.1, handling_per_shipment=0.1
    )
    ctx = RoutingContext(nodes=(x, y, slow_a))
    model = build_order_model(make_order(("a", 20), ("b", 20)), ctx)
    # Make the per-unit coefficients favour a split strongly, as a big per-unit gap would.
    model.unit_cost[0] = [1.0, 1.0, 0.0]
    model.unit_cost[1] = [0.0, 1.0, 1.0]
    outcome = solve_milp(model, solver=solver)
    assert outcome.plan is not None
    assert sorted(outcome.plan.nodes_used) == [0, 2]


def test_unroutable_order_says_why() -> None:
    only_ambient = make_node("AMB", stock={"milk": 10})
    paused_cold = make_node(
        "COLD",
        stock={"milk": 10},
        cold_chain=True,
        status=NodeStatus.PAUSED,
        name="Hangzhou DC",
        status_reason="cold-chain fault",
    )
    ctx = RoutingContext(nodes=(only_ambient, paused_cold))
    decision = route_order(make_order(("milk", 1), cold={"milk"}), ctx)
    result = decision.result
    assert result.status is RoutingStatus.UNROUTABLE
    assert "only 0 of 1 units of chilled milk" in result.reason
    assert "Hangzhou DC" in result.reason


@pytest.mark.parametrize("solver", SOLVERS)
def test_capacity_infeasibility_is_reported_not_silent(solver: str) -> None:
    x = make_node("X", stock={"a": 10}, capacity=2)
    y = make_node("Y", stock={"a": 10}, capacity=2)
    ctx = RoutingContext(nodes=(x, y))
    decision = route_order(
        make_order(("a", 5)), ctx, SolverOptions(solver=solver, use_fast_path=False)
    )
    assert decision.result.status is RoutingStatus.UNROUTABLE
    assert "capacity" in decision.result.reason


def test_capacity_forces_a_split_of_one_line() -> None:
    x = make_node("X", stock={"a": 10}, capacity=3)
    y = make_node("Y", stock={"a": 10}, capacity=3)
    ctx = RoutingContext(nodes=(x, y))
    result = route_order(make_order(("a", 5)), ctx).result
    assert result.routed and sorted(s.units for s in result.shipments) == [2, 3]
