"""Ops rules (exclude, down-weight, scale a weight) and the high-value dual objective."""

from __future__ import annotations

from routing.engine.problem import (
    HighValuePolicy,
    NodeStatus,
    Profile,
    RoutingContext,
    Rule,
    RuleCondition,
    RuleEffect,
    Signals,
    WeatherLevel,
)
from routing.engine.router import route_order
from tests.routing.engine.engine_factories import make_node, make_order


def _two_cold_nodes(**profile_kwargs) -> RoutingContext:
    north = make_node("N", region="North", stock={"milk": 5}, cold_chain=True, shipping=2.0)
    east = make_node("E", stock={"milk": 5}, cold_chain=True, shipping=7.0)
    signals = Signals(weather={"North": WeatherLevel.BLUE})
    return RoutingContext(nodes=(north, east), signals=signals, profile=Profile(**profile_kwargs))


def test_exclude_rule_removes_matching_nodes_with_the_rule_name() -> None:
    storm = Rule(
        "storm: no cold chain from North",
        RuleCondition.WEATHER_AT_LEAST,
        RuleEffect.EXCLUDE,
        threshold=1,
        region="North",
        cold_chain_only=True,
    )
    decision = route_order(make_order(("milk", 1), cold={"milk"}), _two_cold_nodes(rules=(storm,)))
    assert decision.result.node_codes == ("E",)
    assert any(r.detail == storm.name for r in decision.result.rejections)


def test_down_weight_rule_makes_a_candidate_less_attractive() -> None:
    order = make_order(("milk", 1), cold={"milk"})
    plain = route_order(order, _two_cold_nodes()).result
    rule = Rule(
        "blue alert: cold chain -50%",
        RuleCondition.WEATHER_AT_LEAST,
        RuleEffect.DOWN_WEIGHT,
        threshold=1,
        cold_chain_only=True,
        region="North",
        amount=0.5,
    )
    steered = route_order(order, _two_cold_nodes(rules=(rule,))).result
    assert plain.node_codes == ("N",)
    assert steered.objective > plain.objective


def test_high_value_orders_get_lowest_cost_above_the_certainty_floor() -> None:
    cheap_unreliable = make_node("CHEAP", stock={"tv": 50}, shipping=2.0, on_time_rate=0.80)
    reliable = make_node("SURE", stock={"tv": 50}, shipping=9.0, on_time_rate=0.995)
    ctx = RoutingContext(
        nodes=(cheap_unreliable, reliable),
        profile=Profile(high_value=HighValuePolicy(value_threshold=500, min_certainty=0.95)),
    )
    big = make_order(("tv", 30))  # 30 x 20 = 600 >= threshold
    small = make_order(("tv", 1))
    assert route_order(big, ctx).result.node_codes == ("SURE",)
    assert "high-value" in route_order(big, ctx).result.notes[0]
    assert route_order(small, ctx).result.node_codes == ("CHEAP",)


def test_a_node_is_judged_by_its_status_then_its_stock_then_the_rules() -> None:
    """Reasons in order: what rules a node out whatever it holds (paused), then its stock for
    the order's lines, then the rules and the certainty floor on its routes."""
    storm = Rule(
        "storm: nothing from North",
        RuleCondition.WEATHER_AT_LEAST,
        RuleEffect.EXCLUDE,
        threshold=1,
        region="North",
    )
    nodes = (
        make_node("N-STOCKED", region="North", stock={"tea": 5}, shipping=1.0),
        make_node("N-EMPTY", region="North", stock={"milk": 5}, shipping=1.0),
        make_node("N-PAUSED", region="North", stock={"tea": 5}, status=NodeStatus.PAUSED),
        make_node("E", stock={"tea": 5}, shipping=7.0),
    )
    ctx = RoutingContext(
        nodes=nodes,
        signals=Signals(weather={"North": WeatherLevel.BLUE}),
        profile=Profile(rules=(storm,)),
    )
    result = route_order(make_order(("tea", 1)), ctx).result
    assert result.node_codes == ("E",)
    reasons = {r.node_code: r.reason for r in result.rejections}
    assert reasons == {
        "N-STOCKED": "excluded by rule",
        "N-EMPTY": "out of stock",
        "N-PAUSED": "paused",
    }
