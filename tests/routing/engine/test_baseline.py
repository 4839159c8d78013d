"""The static chain: local first, then regional centre, then supplier; blind to live status."""

from __future__ import annotations

from routing.engine.baseline import route_baseline
from routing.engine.problem import NodeKind, NodeStatus, RoutingContext
from tests.routing.engine.engine_factories import make_node, make_order


def _chain_network(local_stock: dict[str, int], local_status: NodeStatus = NodeStatus.ACTIVE):
    local = make_node("LOCAL", stock=local_stock, kind=NodeKind.LOCAL, status=local_status)
    regional = make_node("RDC", stock={"a": 50, "b": 50}, kind=NodeKind.REGIONAL, shipping=3.0)
    supplier = make_node("SUP", stock={"c": 50}, kind=NodeKind.SUPPLIER)
    return RoutingContext(nodes=(supplier, regional, local))


def test_local_warehouse_wins_when_it_has_everything_even_if_dearer() -> None:
    result = route_baseline(make_order(("a", 1), ("b", 1)), _chain_network({"a": 5, "b": 5}))
    assert result.node_codes == ("LOCAL",)


def test_regional_centre_takes_the_order_when_local_lacks_a_line() -> None:
    result = route_baseline(make_order(("a", 1), ("b", 1)), _chain_network({"a": 5}))
    assert result.node_codes == ("RDC",)


def test_lines_are_split_along_the_chain_when_nobody_has_everything() -> None:
    result = route_baseline(make_order(("a", 1), ("c", 1)), _chain_network({"a": 5}))
    assert sorted(result.node_codes) == ["LOCAL", "SUP"]


def test_static_chain_keeps_sending_to_a_paused_warehouse() -> None:
    ctx = _chain_network({"a": 5}, local_status=NodeStatus.PAUSED)
    assert route_baseline(make_order(("a", 1)), ctx).node_codes == ("LOCAL",)
    assert route_baseline(make_order(("a", 1)), ctx, honour_pause=True).node_codes == ("RDC",)
