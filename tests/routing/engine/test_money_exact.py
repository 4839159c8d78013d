"""With all weight on money the engine's plan is the cheapest feasible one, to the fen."""

from __future__ import annotations

import pytest

from routing.engine.problem import Profile, RoutingContext, Weights
from routing.engine.router import route_order
from tests.routing.engine.cheapest_plan import cheapest_plan
from tests.routing.engine.engine_factories import random_instance

ALL_MONEY = Profile(
    name="all money",
    weights=Weights(**dict.fromkeys(Weights().as_dict(), 0.0) | {"shipping_cost": 1.0}),
)


@pytest.mark.parametrize("seed", range(30))
def test_all_money_profile_pays_what_the_cheapest_feasible_plan_costs(seed: int) -> None:
    order, ctx = random_instance(seed, n_nodes=10, n_lines=4)
    ctx = RoutingContext(nodes=ctx.nodes, profile=ALL_MONEY)
    result = route_order(order, ctx).result
    reference = cheapest_plan(order, ctx.nodes)
    if reference is None:
        assert not result.routed
        return
    assert result.routed
    assert round(result.cost, 2) == round(reference.cost, 2), (result.node_codes, reference)


def test_money_weight_split_between_shipping_and_handling_does_not_matter() -> None:
    order, ctx = random_instance(3, n_nodes=10, n_lines=4)
    by_shipping = RoutingContext(nodes=ctx.nodes, profile=ALL_MONEY)
    handling_only = Weights(**dict.fromkeys(Weights().as_dict(), 0.0) | {"handling_cost": 1.0})
    by_handling = RoutingContext(nodes=ctx.nodes, profile=Profile(weights=handling_only))
    first, second = route_order(order, by_shipping).result, route_order(order, by_handling).result
    assert first.cost == pytest.approx(second.cost)
