"""The independent audit names every kind of infeasible plan, and passes feasible ones."""

from __future__ import annotations

from dataclasses import replace

from routing.engine.audit import audit
from routing.engine.problem import (
    NodeStatus,
    RoutingContext,
    RoutingResult,
    RoutingStatus,
    Shipment,
    ShipmentLine,
    StockBatch,
)
from tests.routing.engine.engine_factories import make_node, make_order


def _result(order_id: str, *shipments: tuple[str, dict[str, int]]) -> RoutingResult:
    return RoutingResult(
        order_id=order_id,
        status=RoutingStatus.ROUTED,
        shipments=tuple(
            Shipment(code, tuple(ShipmentLine(sku, q) for sku, q in lines.items()), 0.0, 0.0)
            for code, lines in shipments
        ),
    )


def _kinds(orders, results, ctx) -> list[str]:
    return sorted(v.kind for v in audit(orders, results, ctx))


def test_it_passes_plans_that_fit_together() -> None:
    ctx = RoutingContext(nodes=(make_node("A", stock={"tea": 2}, capacity=2),))
    orders = [make_order(("tea", 1), order_id="o1"), make_order(("tea", 1), order_id="o2")]
    results = [_result("o1", ("A", {"tea": 1})), _result("o2", ("A", {"tea": 1}))]
    assert audit(orders, results, ctx) == []


def test_it_finds_the_same_last_unit_taken_twice() -> None:
    ctx = RoutingContext(nodes=(make_node("A", stock={"tea": 1}),))
    orders = [make_order(("tea", 1), order_id="o1"), make_order(("tea", 1), order_id="o2")]
    results = [_result("o1", ("A", {"tea": 1})), _result("o2", ("A", {"tea": 1}))]
    [violation] = audit(orders, results, ctx)
    assert (violation.kind, violation.node_code, violation.excess) == ("stock", "A", 1)


def test_it_counts_only_batches_with_enough_shelf_life() -> None:
    # Ambient lines need 30 days; the 10-day batch does not count, chilled lines may use it.
    node = replace(
        make_node("A", stock={}, cold_chain=True),
        stock=(StockBatch("tea", 1, 10.0), StockBatch("tea", 1, None)),
    )
    ctx = RoutingContext(nodes=(node,))
    ambient = [make_order(("tea", 2), order_id="o1")]
    assert _kinds(ambient, [_result("o1", ("A", {"tea": 2}))], ctx) == ["stock"]
    chilled = [make_order(("tea", 2), order_id="o1", cold={"tea"})]
    assert _kinds(chilled, [_result("o1", ("A", {"tea": 2}))], ctx) == []


def test_it_finds_cold_chain_pauses_regions_caps_and_uncovered_lines() -> None:
    nodes = (
        make_node("WARM", stock={"milk": 9, "tea": 9}),
        make_node("OFF", stock={"tea": 9}, status=NodeStatus.PAUSED),
        make_node("CAP", stock={"tea": 9}, capacity=1, remaining_capacity_orders=1),
    )
    ctx = RoutingContext(nodes=nodes)
    orders = [
        make_order(("milk", 1), order_id="cold", cold={"milk"}),
        make_order(("tea", 1), order_id="paused"),
        make_order(("tea", 2), order_id="units"),
        make_order(("tea", 1), order_id="parcels"),
        make_order(("tea", 3), order_id="short"),
        make_order(("tea", 1), order_id="far", region="West"),
    ]
    results = [
        _result("cold", ("WARM", {"milk": 1})),
        _result("paused", ("OFF", {"tea": 1})),
        _result("units", ("CAP", {"tea": 2})),
        _result("parcels", ("CAP", {"tea": 0})),
        _result("short", ("WARM", {"tea": 2})),
        _result("far", ("WARM", {"tea": 1})),
    ]
    found = {(v.kind, v.order_id or v.node_code) for v in audit(orders, results, ctx)}
    assert found == {
        ("cold_chain", "cold"),
        ("paused", "paused"),
        ("units", "CAP"),
        ("parcels", "CAP"),
        ("coverage", "parcels"),
        ("coverage", "short"),
        ("region", "far"),
    }
