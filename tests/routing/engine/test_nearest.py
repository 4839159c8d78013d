"""The nearest-stocked-warehouse rule on a hand-made network, tier by tier."""

from __future__ import annotations

from dataclasses import replace

from routing.engine.nearest import route_nearest
from routing.engine.problem import NodeStatus, RoutingContext, StockBatch
from tests.routing.engine.engine_factories import make_node, make_order

# The order ships to (31.3, 121.4); nodes sit further and further north of it.
NEAR, MIDDLE, FAR, FARTHEST = 31.4, 33.0, 36.0, 40.0


def node(code: str, latitude: float, stock: dict[str, int], **extra):
    return make_node(code, stock=stock, latitude=latitude, longitude=121.4, **extra)


def route(*nodes, order=None, aware: bool = False):
    order = order or make_order(("A", 1), ("B", 1))
    return route_nearest(order, RoutingContext(nodes=tuple(nodes)), honour_pause=aware)


def test_the_nearest_warehouse_holding_every_line_ships_even_when_dearer() -> None:
    result = route(
        node("far-cheap", FAR, {"A": 5, "B": 5}, shipping=2.0),
        node("near-dear", NEAR, {"A": 5, "B": 5}, shipping=30.0),
    )
    assert result.routed and result.node_codes == ("near-dear",)
    assert result.cost == 30.0 + 3.0 + 0.5 * 2


def test_blind_keeps_sending_to_a_paused_warehouse_and_aware_does_not() -> None:
    paused = node("paused", NEAR, {"A": 5, "B": 5}, status=NodeStatus.PAUSED)
    other = node("other", FAR, {"A": 5, "B": 5})
    assert route(paused, other).node_codes == ("paused",)
    aware = route(paused, other, aware=True)
    assert aware.node_codes == ("other",) and aware.rejections[0].node_code == "paused"


def test_it_skips_warehouses_without_cold_chain_stale_stock_or_capacity() -> None:
    order = make_order(("A", 2), ("C", 1), cold={"C"})
    no_cold = node("no-cold", NEAR, {"A": 5, "C": 5})
    stale = replace(
        node("stale", MIDDLE, {}, cold_chain=True),
        stock=(StockBatch("A", 5, 400.0), StockBatch("C", 5, 1.0)),  # chilled needs 2 days
    )
    full = node("full", FAR, {"A": 5, "C": 5}, cold_chain=True, capacity=2)
    fine = node("fine", FARTHEST, {"A": 5, "C": 5}, cold_chain=True)
    result = route(no_cold, stale, full, fine, order=order)
    assert result.node_codes == ("fine",)


def test_fewest_shipments_split_takes_the_nearest_set() -> None:
    order = make_order(("A", 1), ("B", 1), ("C", 1))
    nodes = (
        node("a-near", NEAR, {"A": 1}),  # a three-parcel split would start here
        node("b-near", NEAR, {"B": 1}),
        node("ab-mid", MIDDLE, {"A": 1, "B": 1}),
        node("c-far", FAR, {"C": 1}),
        node("bc-farthest", FARTHEST, {"B": 1, "C": 1}),
    )
    result = route(*nodes, order=order)
    # Two parcels are the fewest: {ab-mid, c-far} is nearer in total than {a-near, bc-farthest}.
    assert sorted(result.node_codes) == ["ab-mid", "c-far"]
    lines = {s.node_code: {li.sku for li in s.lines} for s in result.shipments}
    assert lines == {"ab-mid": {"A", "B"}, "c-far": {"C"}}


def test_units_are_split_nearest_first_when_no_warehouse_holds_a_whole_line() -> None:
    order = make_order(("A", 5))
    result = route(
        node("far", FAR, {"A": 10}, capacity=1),  # capacity for one unit only
        node("near", NEAR, {"A": 3}),
        node("mid", MIDDLE, {"A": 1}),
        order=order,
    )
    quantities = {s.node_code: s.units for s in result.shipments}
    assert quantities == {"near": 3, "mid": 1, "far": 1}


def test_an_order_no_one_can_fill_is_unroutable_with_the_shortfall() -> None:
    order = make_order(("A", 5))
    result = route(node("near", NEAR, {"A": 3}), node("mid", MIDDLE, {"A": 1}), order=order)
    assert not result.routed
    assert "1 of the 5 units of A" in result.reason
