"""The promise's pure parts: windows on the merchant's clock, and options that routing keeps."""

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from routing.engine.problem import Order, OrderLine, RoutingContext
from routing.engine.router import route_order
from routing.engine.scenario import generate
from routing.promise.options import ALLOWANCE_HOURS, promise_options
from routing.promise.windows import arrival_window
from tests.routing.engine.engine_factories import make_node

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 12, 9, 20, tzinfo=TZ)


@pytest.mark.parametrize("transit", [0.5, 2.0, 5.0, 11.0, 14.6, 24.0, 30.0, 47.5, 72.0, 140.0])
@pytest.mark.parametrize("hour", [0, 9, 13, 19, 23])
def test_windows_are_at_most_a_day_wide_and_same_day_at_most_four_hours(transit, hour):
    now = NOW.replace(hour=hour)
    window = arrival_window(
        now=now, tz=TZ, transit_hours=transit, spread_hours=max(1, transit / 4), allowance_hours=0.5
    )
    assert window.earliest <= now + timedelta(hours=transit)  # not promised later than expected
    assert window.latest >= now + timedelta(hours=min(transit + 0.5, transit + 3))
    assert window.earliest.minute == window.latest.minute == 0  # on the hour, local clock
    assert window.hours_wide <= (4 if window.same_day else 24)
    assert window.earliest.tzinfo is TZ


def test_a_window_ending_at_midnight_is_same_day():
    window = arrival_window(
        now=NOW.replace(hour=19, minute=0),
        tz=TZ,
        transit_hours=3,
        spread_hours=1,
        allowance_hours=0,
    )
    assert window.latest.hour == 23 and window.same_day and window.speed == "same_day"


def _cart():
    return Order(
        "cart",
        "East",
        31.2,
        121.5,
        (OrderLine("A", 2, unit_value=50.0), OrderLine("B", 1, unit_value=20.0)),
    )


def test_a_fast_dear_node_and_a_slow_cheap_one_give_two_options():
    ctx = RoutingContext(
        nodes=(
            make_node("FAST", stock={"A": 5, "B": 5}, shipping=16.0, transit=4.0),
            make_node("SLOW", stock={"A": 5, "B": 5}, shipping=5.0, transit=40.0),
        ),
        now=NOW,
    )
    answer = promise_options(_cart(), ctx, now=NOW, tz=TZ)
    codes = {o.plan.shipments[0].node_code: o for o in answer.options}
    assert set(codes) == {"FAST", "SLOW"}
    assert "fastest" in codes["FAST"].tags and "cheapest" in codes["SLOW"].tags
    assert codes["FAST"].window.latest < codes["SLOW"].window.earliest


def test_an_option_another_beats_on_time_price_and_certainty_is_not_offered():
    ctx = RoutingContext(
        nodes=(
            make_node("GOOD", stock={"A": 5, "B": 5}, shipping=5.0, transit=8.0),
            make_node("WORSE", stock={"A": 5, "B": 5}, shipping=9.0, transit=30.0),
        ),
        now=NOW,
    )
    answer = promise_options(_cart(), ctx, now=NOW, tz=TZ)
    assert [o.plan.shipments[0].node_code for o in answer.options] == ["GOOD"]
    assert set(answer.options[0].tags) == {"cheapest", "fastest", "most_certain"}


def test_nothing_is_promised_when_stock_is_short_and_the_engine_says_why():
    ctx = RoutingContext(nodes=(make_node("ONLY", stock={"A": 1, "B": 5}),), now=NOW)
    answer = promise_options(_cart(), ctx, now=NOW, tz=TZ)
    assert answer.options == () and "only 1 of 2 units of A" in answer.reason


def test_on_a_generated_day_routing_under_each_options_promise_keeps_its_plan():
    scenario = generate(5, 20, 150, fault=None, weather=False)
    ctx = RoutingContext(nodes=scenario.nodes, now=NOW)
    checked = 0
    for order in scenario.orders[:60]:
        for option in promise_options(order, ctx, now=NOW, tz=TZ).options:
            promised = option.window.latest_hours - ALLOWANCE_HOURS
            result = route_order(replace(order, promised_hours=promised), ctx).result
            assert tuple(sorted(result.node_codes)) == tuple(
                sorted(s.node_code for s in option.plan.shipments)
            )
            arrival = NOW + timedelta(hours=result.transit_hours)
            assert option.window.contains(arrival)
            checked += 1
    assert checked >= 60
