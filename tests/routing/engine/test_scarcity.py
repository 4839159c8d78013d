"""The scarcity bid price: what taking a unit now costs the orders still to come today."""

from __future__ import annotations

import pytest

from routing.engine.batch import route_batch
from routing.engine.problem import (
    DemandOutlook,
    Order,
    OrderLine,
    Prices,
    Profile,
    RoutingContext,
    Weights,
    factor_prices,
    prices_in_cny,
)
from routing.engine.router import route_order
from routing.engine.scarcity import STOP_RISK, bid_prices, demand_at_least
from tests.routing.engine.cheapest_plan import cheapest_plan
from tests.routing.engine.engine_factories import make_node, random_instance

ALL_MONEY = Profile(
    name="all money",
    weights=Weights(**dict.fromkeys(Weights().as_dict(), 0.0) | {"shipping_cost": 1.0}),
)


def test_demand_at_least_is_a_probability_falling_with_the_units() -> None:
    assert demand_at_least(10, 0) == 1.0
    assert demand_at_least(0, 3) == 0.0
    values = [demand_at_least(10, units) for units in range(1, 30)]
    assert all(0 <= v <= 1 for v in values)
    assert values == sorted(values, reverse=True)
    assert demand_at_least(10, 10) == pytest.approx(0.542, abs=0.03)  # Poisson: 0.542


def test_plentiful_stock_has_no_bid_price() -> None:
    prices = bid_prices({"big": 500, "small": 400}, expected=20, value=20)
    assert prices == {"big": pytest.approx(0, abs=1e-6), "small": pytest.approx(0, abs=1e-6)}


def test_a_small_reserve_is_dearer_than_the_large_holder() -> None:
    # 140 units at one warehouse, 9 at another; the rest of the day wants about 60. If the large
    # holder stops, the 9 are all there is: they are the reserve.
    prices = bid_prices({"big": 140, "small": 9}, expected=60, value=20, network_size=8)
    assert prices["small"] > prices["big"]
    assert prices["small"] == pytest.approx(20 * STOP_RISK / 8, rel=1e-3)
    assert prices["big"] == pytest.approx(0, abs=1e-3)


def test_short_stock_costs_its_value_everywhere_and_no_more() -> None:
    prices = bid_prices({"a": 3, "b": 2}, expected=200, value=20)
    assert prices["a"] == pytest.approx(prices["b"])
    assert 0 < prices["a"] <= 20


def test_no_value_or_no_demand_means_no_bid_price() -> None:
    assert bid_prices({"a": 1}, expected=50, value=0) == {"a": 0.0}
    assert bid_prices({"a": 1}, expected=0, value=20) == {"a": 0.0}


def test_outlook_extrapolates_the_day_rate_over_the_hours_left() -> None:
    outlook = DemandOutlook(units_so_far={"A": 12}, hours_elapsed=6, hours_left=18)
    assert outlook.expected("A") == pytest.approx(36)
    assert outlook.expected("B") == 0
    early = DemandOutlook(units_so_far={"A": 12}, hours_elapsed=0.5, hours_left=23.5)
    assert early.expected("A") == pytest.approx(12 * 23.5 / 4)  # at least four hours' rate


def test_the_scarcity_price_follows_the_stock_weight_and_is_zero_on_money_alone() -> None:
    default = prices_in_cny(Weights().normalised())
    assert default is not None and default["scarcity"] == pytest.approx(Profile().prices.scarcity)
    assert factor_prices(ALL_MONEY.weights.normalised())["scarcity"] == 0.0


def _reserve_world(outlook: DemandOutlook | None, profile: Profile | None = None):
    # "reserve" is a little cheaper to ship from but holds the only units outside "hub".
    hub = make_node("hub", stock={"FISH": 140}, shipping=8.0, cold_chain=True, name="Hub DC")
    reserve = make_node("reserve", stock={"FISH": 9}, shipping=7.5, cold_chain=True)
    others = tuple(make_node(f"n{i}", stock={"SOAP": 50}) for i in range(6))
    ctx = RoutingContext(
        nodes=(hub, reserve, *others), profile=profile or Profile(), outlook=outlook
    )
    order = Order("o1", "East", 31.2, 121.5, (OrderLine("FISH", 1, unit_value=30.0),))
    return order, ctx


def test_the_router_keeps_the_reserve_and_says_why() -> None:
    outlook = DemandOutlook(units_so_far={"FISH": 20}, hours_elapsed=6, hours_left=18)
    order, ctx = _reserve_world(outlook)
    decision = route_order(order, ctx)
    assert decision.result.node_codes == ("hub",)
    assert "scarcity" in decision.explanation.sentences[0]
    assert decision.explanation.winner is not None
    assert decision.explanation.winner.contributions["scarcity"] == pytest.approx(0, abs=1e-3)


def test_without_an_outlook_the_cheaper_reserve_ships() -> None:
    order, ctx = _reserve_world(None)
    assert route_order(order, ctx).result.node_codes == ("reserve",)


def test_all_money_ignores_the_outlook() -> None:
    outlook = DemandOutlook(units_so_far={"FISH": 20}, hours_elapsed=6, hours_left=18)
    order, ctx = _reserve_world(outlook, ALL_MONEY)
    assert route_order(order, ctx).result.node_codes == ("reserve",)


@pytest.mark.parametrize("seed", range(12))
def test_all_money_with_an_outlook_pays_what_the_cheapest_feasible_plan_costs(seed: int) -> None:
    order, ctx = random_instance(seed, n_nodes=10, n_lines=4)
    skus = {line.sku for line in order.lines}
    outlook = DemandOutlook(units_so_far=dict.fromkeys(skus, 30.0), hours_elapsed=5, hours_left=19)
    ctx = RoutingContext(nodes=ctx.nodes, profile=ALL_MONEY, outlook=outlook)
    result = route_order(order, ctx).result
    reference = cheapest_plan(order, ctx.nodes)
    if reference is None:
        assert not result.routed
        return
    assert result.routed
    assert round(result.cost, 2) == round(reference.cost, 2), (result.node_codes, reference)


def test_a_batch_routes_every_order_a_plan_can_serve_whatever_the_bid_price() -> None:
    # Four units of a SKU the day wants hundreds of, two orders of two: both can be served (one
    # by a split). At a bid price far above the unrouted penalty the master would rather leave
    # both behind; the leftover pass routes them anyway.
    x = make_node("x", stock={"FISH": 3}, shipping=6.0)
    y = make_node("y", stock={"FISH": 1}, shipping=9.0)
    outlook = DemandOutlook(units_so_far={"FISH": 100}, hours_elapsed=6, hours_left=18)
    dear = Profile(prices=Prices(scarcity=5000.0))
    ctx = RoutingContext(nodes=(x, y), profile=dear, outlook=outlook)
    orders = [
        Order(f"o{i}", "East", 31.2, 121.5, (OrderLine("FISH", 2, unit_value=30.0),))
        for i in range(2)
    ]
    batch = route_batch(orders, ctx)
    assert all(result.routed for result in batch.results)
    shipped = sum(s.units for r in batch.results for s in r.shipments)
    assert shipped == 4
