"""Explanations name the winner, compare it with the runner-up and give exclusion reasons."""

from __future__ import annotations

from datetime import datetime

import pytest

from routing.engine.problem import NodeStatus, RoutingContext
from routing.engine.router import route_order
from tests.routing.engine.engine_factories import make_node, make_order


def _network() -> RoutingContext:
    shanghai = make_node("SH", name="Shanghai DC", stock={"milk": 9}, cold_chain=True, transit=8.0)
    suzhou = make_node("SZ", name="Suzhou DC", stock={"milk": 9}, cold_chain=True, transit=10.0)
    hangzhou = make_node(
        "HZ",
        name="Hangzhou DC",
        stock={"milk": 9},
        cold_chain=True,
        shipping=1.0,
        status=NodeStatus.PAUSED,
        status_reason="cold-chain fault",
        status_since=datetime(2026, 12, 12, 9, 12),
    )
    ningbo = make_node("NB", name="Ningbo FC", stock={"milk": 9})
    return RoutingContext(nodes=(shanghai, suzhou, hangzhou, ningbo))


def test_explanation_reads_as_the_issue_example() -> None:
    decision = route_order(make_order(("milk", 1), cold={"milk"}, promised_hours=12), _network())
    sentences = decision.explanation.sentences
    assert sentences[0] == "Shanghai DC chosen: 2 h faster than Suzhou DC."
    assert "Hangzhou DC excluded: cold-chain fault since 09:12." in sentences
    assert "Ningbo FC excluded: cannot ship chilled/frozen lines." in sentences


def test_contributions_add_up_to_the_objective_for_winner_and_runners_up() -> None:
    decision = route_order(make_order(("milk", 2), cold={"milk"}), _network())
    explanation = decision.explanation
    assert explanation.winner is not None
    for view in (explanation.winner, *explanation.runners_up):
        assert abs(sum(view.contributions.values()) - view.objective) < 1e-9
    assert [v.node_codes for v in explanation.runners_up] == [("SZ",)]


def test_rejections_carry_reasons_for_paused_cold_chain_and_stock() -> None:
    ctx = _network()
    order = make_order(("milk", 1), ("bread", 1), cold={"milk"})
    ctx = RoutingContext(nodes=(*ctx.nodes, make_node("EMPTY", stock={"tea": 3})))
    decision = route_order(order, ctx)
    reasons = {r.node_code: r.reason for r in decision.explanation.rejected}
    assert reasons == {"HZ": "paused", "NB": "no cold chain", "EMPTY": "out of stock"}
    assert decision.result.status.value == "unroutable"  # nobody has bread
    assert "bread" in decision.result.reason


def test_a_dearer_winner_is_explained_by_what_the_prices_put_against_it() -> None:
    slow = make_node("SLOW", name="Suzhou RC", stock={"tea": 5}, shipping=6.0, transit=30.0)
    fast = make_node("FAST", name="Shanghai DC", stock={"tea": 5}, shipping=7.0, transit=12.0)
    decision = route_order(make_order(("tea", 1), promised_hours=36), RoutingContext((slow, fast)))
    sentence = decision.explanation.sentences[0]
    assert sentence.startswith("Shanghai DC chosen: 18 h faster than Suzhou RC; ¥1.00 dearer")
    assert "outweighed at the profile's prices by certainty ¥" in sentence


def test_the_trade_off_keeps_deltas_and_what_spoke_for_and_against_the_winner() -> None:
    slow = make_node("SLOW", name="Suzhou RC", stock={"tea": 5}, shipping=6.0, transit=30.0)
    fast = make_node("FAST", name="Shanghai DC", stock={"tea": 5}, shipping=8.1, transit=12.0)
    decision = route_order(make_order(("tea", 1), promised_hours=24), RoutingContext((slow, fast)))
    trade = decision.explanation.trade_off
    assert trade is not None and trade.other_codes == ("SLOW",)
    assert round(trade.cost_delta, 2) == 2.10 and trade.hours_delta == -18.0
    assert dict(trade.against) == {"money": pytest.approx(2.10)}
    assert {"lateness", "certainty"} <= dict(trade.favour).keys()
    # At the profile's prices what spoke for the winner outweighs its extra cost.
    assert sum(v for _, v in trade.favour) > sum(v for _, v in trade.against)
    assert decision.explanation.labels == {"SLOW": "Suzhou RC", "FAST": "Shanghai DC"}


def test_nodes_holding_part_of_the_order_are_partial_candidates() -> None:
    both = make_node("BOTH", stock={"milk": 2, "tea": 1})
    milk_only = make_node("MILK", stock={"milk": 5})
    short = make_node("SHORT", stock={"milk": 1, "tea": 1})
    empty = make_node("EMPTY", stock={"coffee": 9})
    ctx = RoutingContext((both, milk_only, short, empty))
    decision = route_order(make_order(("milk", 2), ("tea", 1)), ctx)
    assert decision.result.node_codes == ("BOTH",)
    partial = {
        c.node_code: [(x.sku, x.available, x.quantity) for x in c.lines]
        for c in decision.explanation.partial
    }
    assert partial == {
        "MILK": [("milk", 2, 2), ("tea", 0, 1)],
        "SHORT": [("milk", 1, 2), ("tea", 1, 1)],
    }


def test_an_unroutable_order_keeps_the_blocking_line_as_facts() -> None:
    ctx = _network()
    decision = route_order(make_order(("milk", 1), ("bread", 2), cold={"milk"}), ctx)
    blocking = decision.explanation.blocking
    assert blocking is not None and (blocking.kind, blocking.sku, blocking.available) == (
        "stock",
        "bread",
        0,
    )
    assert blocking.quantity == 2 and blocking.excluded == ("HZ",)
    paused = next(r for r in decision.explanation.rejected if r.reason == "paused")
    assert (paused.note, paused.since) == ("cold-chain fault", datetime(2026, 12, 12, 9, 12))
