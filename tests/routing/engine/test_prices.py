"""Weights map onto CNY prices one way: money has one coefficient, every other factor a price."""

from __future__ import annotations

import pytest

from routing.engine.factors import build_order_model
from routing.engine.plan import single_node_objectives
from routing.engine.problem import (
    Prices,
    Profile,
    RoutingContext,
    Weights,
    factor_prices,
    prices_in_cny,
)
from tests.routing.engine.engine_factories import make_node, make_order


def test_default_weights_give_money_at_one_and_the_stated_prices() -> None:
    prices = factor_prices(Weights().normalised(), Prices(lateness=0.8))
    assert prices["money"] == pytest.approx(1.0)
    assert prices["lateness"] == pytest.approx(0.8)
    assert prices["certainty"] == pytest.approx(Prices().certainty)


def test_weights_scale_prices_against_money_whatever_their_total() -> None:
    doubled = Weights().scaled("lateness", 2.0)
    in_cny = prices_in_cny(doubled.normalised())
    assert in_cny is not None
    assert in_cny["lateness"] == pytest.approx(2 * Prices().lateness)
    assert in_cny["splits"] == pytest.approx(Prices().splits)


def test_all_weight_on_money_prices_nothing_else() -> None:
    money_only = Weights(**dict.fromkeys(Weights().as_dict(), 0.0) | {"handling_cost": 1.0})
    prices = factor_prices(money_only)
    assert prices.pop("money") == pytest.approx(2.5)
    assert set(prices.values()) == {0.0}
    assert prices_in_cny(Weights(**dict.fromkeys(Weights().as_dict(), 0.0) | {"splits": 1})) is None


def test_one_cny_of_handling_weighs_what_one_cny_of_shipping_weighs() -> None:
    # Same total money, split differently between parcel price and handling: a tie.
    dear_parcel = make_node("P", stock={"tea": 5}, shipping=9.0, handling_per_shipment=1.0)
    dear_handling = make_node("H", stock={"tea": 5}, shipping=4.0, handling_per_shipment=6.0)
    money_only = Weights(**dict.fromkeys(Weights().as_dict(), 0.0) | {"shipping_cost": 1.0})
    ctx = RoutingContext(nodes=(dear_parcel, dear_handling), profile=Profile(weights=money_only))
    model = build_order_model(make_order(("tea", 2)), ctx)
    (first, _), (second, _) = single_node_objectives(model)
    assert first == pytest.approx(second)
