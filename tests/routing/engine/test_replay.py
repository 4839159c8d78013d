"""The what-if replay: orders in arrival order against the stock the earlier ones left."""

from datetime import UTC, datetime

from routing.engine.problem import Node, Order, OrderLine, Profile
from routing.engine.replay import (
    Arrival,
    StartBatch,
    World,
    nearest_policy,
    profile_policy,
    replay,
)

AT = datetime(2026, 12, 4, 10, tzinfo=UTC)
DAY = AT.date().toordinal()


def _node(code: str, cost: float, hours: float) -> Node:
    return Node(
        code=code,
        region="east",
        latitude=31.2,
        longitude=121.5,
        shipping_cost_by_region={"east": cost},
        transit_hours_by_region={"east": hours},
        handling_cost_per_shipment=3.0,
    )


def _arrival(n: int, day: int = DAY, quantity: int = 1) -> Arrival:
    order = Order(
        order_id=str(n),
        region="east",
        latitude=31.2,
        longitude=121.5,
        lines=(OrderLine("TEA", quantity),),
        promised_hours=48.0,
    )
    return Arrival(order=order, at=AT, day=day, hours_elapsed=10.0)


def _world(stock, arrivals, **kwargs) -> World:
    return World(
        nodes=(_node("CHEAP", 6.0, 20.0), _node("DEAR", 14.0, 12.0)),
        stock=tuple(stock),
        arrivals=tuple(arrivals),
        **kwargs,
    )


def test_each_order_meets_the_stock_the_earlier_ones_left():
    world = _world(
        [StartBatch("CHEAP", "TEA", 1, DAY + 30), StartBatch("DEAR", "TEA", 5, DAY + 30)],
        [_arrival(1), _arrival(2)],
    )
    tally = replay(world, nearest_policy)
    # Both are as near (ties by code): the first takes CHEAP's only unit (¥9), the second
    # ships from DEAR (¥17).
    assert (tally.routed, tally.cost) == (2, 9.0 + 17.0)


def test_an_order_finding_no_stock_left_is_unroutable():
    world = _world([StartBatch("CHEAP", "TEA", 2, None)], [_arrival(1), _arrival(2), _arrival(3)])
    for policy in (profile_policy(), nearest_policy):
        tally = replay(world, policy, Profile())
        assert (tally.routed, tally.unroutable) == (2, 1)


def test_a_new_day_restores_the_parcels_a_warehouse_may_send():
    stock = [StartBatch("CHEAP", "TEA", 10, None)]
    same_day = _world(stock, [_arrival(1), _arrival(2)], daily_parcels={"CHEAP": 1, "DEAR": 0})
    assert replay(same_day, profile_policy(), Profile()).unroutable == 1
    next_day = _world(
        stock, [_arrival(1), _arrival(2, day=DAY + 1)], daily_parcels={"CHEAP": 1, "DEAR": 0}
    )
    assert replay(next_day, profile_policy(), Profile()).unroutable == 0
    used = _world(
        stock, [_arrival(1)], daily_parcels={"CHEAP": 1, "DEAR": 0}, parcels_before={"CHEAP": 1}
    )
    assert replay(used, profile_policy(), Profile()).unroutable == 1


def test_a_batch_expired_by_the_order_s_day_is_not_used():
    world = _world([StartBatch("CHEAP", "TEA", 5, DAY)], [_arrival(1, day=DAY + 1)])
    assert replay(world, nearest_policy).unroutable == 1
