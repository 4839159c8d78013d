"""Soft holds applied to nodes (``routing.engine.holds``): no database."""

from datetime import UTC, datetime, timedelta

from routing.engine.holds import Hold, held_nodes
from routing.engine.problem import CarrierService, Node, StockBatch

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


def _node(code="A", **extra):
    return Node(
        code=code,
        region="east",
        latitude=31.2,
        longitude=121.5,
        stock=(
            StockBatch("TEA", 4, expires_in_days=1),  # too short for the holder
            StockBatch("TEA", 5, expires_in_days=30),
            StockBatch("TEA", 5, expires_in_days=10),
            StockBatch("MILK", 2, expires_in_days=5),
        ),
        remaining_capacity_orders=10,
        remaining_capacity_units=100,
        services=(
            CarrierService("x/eco", "X", remaining_capacity_orders=3),
            CarrierService("x/air", "X"),
        ),
        **extra,
    )


def _hold(key="h1", minutes=15, units=(("A", "TEA", 7),), parcels=(("A", "x/eco"),)):
    return Hold(key, NOW + timedelta(minutes=minutes), units, parcels)


def _usable(batch):
    return batch.expires_in_days is None or batch.expires_in_days >= 2


def test_held_units_come_out_of_the_usable_batches_first_expiry_first():
    (node,) = held_nodes((_node(),), [_hold()], now=NOW, usable=_usable)
    assert node.stock == (
        StockBatch("TEA", 4, expires_in_days=1),
        StockBatch("TEA", 3, expires_in_days=30),
        StockBatch("MILK", 2, expires_in_days=5),
    )  # 5 of the 10-day batch, then 2 of the 30-day one; the 1-day batch untouched


def test_held_parcels_come_out_of_the_warehouse_and_its_service():
    (node,) = held_nodes((_node(),), [_hold(), _hold("h2")], now=NOW, usable=_usable)
    assert node.remaining_capacity_orders == 8
    assert node.remaining_capacity_units == 86
    assert node.service_by_code["x/eco"].remaining_capacity_orders == 1
    assert node.service_by_code["x/air"].remaining_capacity_orders is None


def test_the_holder_sees_its_own_hold_and_expired_holds_count_for_nothing():
    original = _node()
    assert held_nodes((original,), [_hold()], now=NOW, exclude="h1")[0] is original
    late = NOW + timedelta(minutes=15)
    assert held_nodes((original,), [_hold()], now=late)[0] is original


def test_holds_on_other_warehouses_leave_a_node_alone_and_never_go_below_zero():
    a, b = _node("A"), _node("B")
    held = held_nodes((a, b), [_hold(units=(("A", "MILK", 9),))], now=NOW)
    assert held[1] is b
    assert [s for s in held[0].stock if s.sku == "MILK"] == []
