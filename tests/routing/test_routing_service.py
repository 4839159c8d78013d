from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import MatchRuleSet
from oms.models import InventoryBatch, OrderStatus, TemperatureClass
from oms.services.warehouses import warehouse_set_status
from routing import context
from routing.models import (
    CarrierCapacity,
    Lane,
    RoutingDecision,
    RoutingProfile,
    RoutingRule,
    WeatherAlert,
)
from routing.services import order_route, orders_route_batch
from tests.factories import (
    BatchFactory,
    ChannelFactory,
    ProductFactory,
    WarehouseFactory,
    make_order,
)

pytestmark = pytest.mark.django_db


def _lane(warehouse, region="east", cost="8.00", hours=20.0, on_time=0.98):
    return Lane.objects.create(
        warehouse=warehouse,
        region=region,
        carrier="Express A",
        shipping_cost=Decimal(cost),
        transit_hours=hours,
        on_time_rate=on_time,
    )


@pytest.fixture
def network(merchant):
    """Two Shanghai-area warehouses with the same stock: a cheap slow one and a dear fast one."""
    cheap = WarehouseFactory(merchant=merchant, code="SZ-RC", name="Suzhou RC", cold_chain=True)
    fast = WarehouseFactory(merchant=merchant, code="SH-DC", name="Shanghai DC", cold_chain=True)
    _lane(cheap, cost="6.00", hours=30.0)
    _lane(fast, cost="14.00", hours=12.0)
    product = ProductFactory(
        merchant=merchant, sku="MILK", temperature_class=TemperatureClass.CHILLED
    )
    for warehouse in (cheap, fast):
        BatchFactory(warehouse=warehouse, product=product, on_hand=50)
    return {"cheap": cheap, "fast": fast, "product": product}


def test_routing_stores_an_explained_decision_and_reserves_stock(merchant, network):
    order = make_order(merchant=merchant, lines=[(network["product"], 2)])
    order.refresh_from_db()
    assert order.status == OrderStatus.ROUTED
    decision = RoutingDecision.objects.get(order=order)
    assert decision.outcome == "routed" and decision.profile_name == "Balanced (default)"
    chosen = decision.shipments[0]["warehouse"]
    assert InventoryBatch.objects.get(warehouse__code=chosen).reserved == 2
    assert decision.winner["contributions"] and decision.runners_up
    assert "chosen" in decision.explanation
    assert decision.method and decision.duration_ms > 0
    assert order.shipments.get().carrier == "Express A"


def test_a_paused_warehouse_is_avoided_at_once_and_named_in_the_explanation(merchant, network):
    first = make_order(merchant=merchant, lines=[(network["product"], 1)])
    chosen_code = RoutingDecision.objects.get(order=first).shipments[0]["warehouse"]
    chosen = network["cheap"] if chosen_code == "SZ-RC" else network["fast"]
    warehouse_set_status(
        warehouse=chosen, status="paused", reason="cold-chain fault", actor="sensor"
    )
    second = make_order(merchant=merchant, lines=[(network["product"], 1)])
    decision = RoutingDecision.objects.get(order=second)
    assert decision.shipments[0]["warehouse"] != chosen_code
    assert (
        f"{chosen.name} excluded" in decision.explanation
        and "cold-chain fault" in decision.explanation
    )
    assert any(r["node_code"] == chosen_code and r["reason"] == "paused" for r in decision.rejected)


def test_a_promotion_profile_steers_towards_timeliness_within_its_window(merchant, network):
    cost_first = make_order(
        merchant=merchant, lines=[(network["product"], 1)], promised_in_hours=38
    )
    assert RoutingDecision.objects.get(order=cost_first).shipments[0]["warehouse"] == "SZ-RC"
    now = timezone.now()
    weights = dict.fromkeys(
        (
            "stock",
            "status",
            "capacity",
            "carrier_saturation",
            "weather",
            "courier_load",
            "handling_cost",
            "splits",
            "distance",
            "certainty",
        ),
        0,
    )
    promo = RoutingProfile.objects.create(
        name="Double 12",
        active_from=now - timedelta(hours=1),
        active_until=now + timedelta(hours=1),
        priority=5,
        lateness=90,
        shipping_cost=10,
        **weights,
    )
    assert context.active_profile(merchant_id=merchant.pk) == promo
    timely = make_order(merchant=merchant, lines=[(network["product"], 1)], promised_in_hours=38)
    decision = RoutingDecision.objects.get(order=timely)
    assert decision.shipments[0]["warehouse"] == "SH-DC"
    assert decision.profile_name == "Double 12"
    promo.active_until = now - timedelta(minutes=1)
    promo.save()
    assert context.active_profile(merchant_id=merchant.pk).name == "Balanced (default)"


def test_unroutable_orders_go_to_needs_attention_with_the_reason(merchant, network):
    order = make_order(merchant=merchant, lines=[(network["product"], 500)])
    order.refresh_from_db()
    assert order.status == OrderStatus.NEEDS_ATTENTION
    assert "MILK" in order.status_reason and "100 of 500" in order.status_reason
    assert RoutingDecision.objects.get(order=order).outcome == "unroutable"


def test_chilled_lines_never_go_to_a_warehouse_without_cold_chain(merchant):
    ambient_only = WarehouseFactory(merchant=merchant, code="DRY", cold_chain=False)
    product = ProductFactory(merchant=merchant, temperature_class=TemperatureClass.FROZEN)
    BatchFactory(warehouse=ambient_only, product=product, on_hand=10)
    order = make_order(merchant=merchant, lines=[(product, 1)])
    order.refresh_from_db()
    assert order.status == OrderStatus.NEEDS_ATTENTION
    assert InventoryBatch.objects.get().reserved == 0


def test_an_ops_rule_excludes_warehouses_in_a_storm(merchant, network):
    default = RoutingProfile.objects.get(is_default=True)
    RoutingRule.objects.create(
        profile=default,
        name="Red alert: no dispatch",
        condition="weather_at_least",
        threshold=4,
        effect="exclude",
        region="east",
    )
    WeatherAlert.objects.create(
        region="east", level=4, source="test", expires_at=timezone.now() + timedelta(hours=2)
    )
    order = make_order(merchant=merchant, lines=[(network["product"], 1)])
    order.refresh_from_db()
    assert order.status == OrderStatus.NEEDS_ATTENTION
    assert "Red alert" in RoutingDecision.objects.get(order=order).explanation


def test_stale_signals_are_treated_conservatively(merchant):
    now = timezone.now()
    CarrierCapacity.objects.create(
        region="east",
        carrier="A",
        saturation=0.2,
        source="feed",
        observed_at=now - timedelta(hours=3),
        expires_at=now - timedelta(hours=1),
    )
    CarrierCapacity.objects.create(
        region="north",
        carrier="A",
        saturation=0.2,
        source="feed",
        observed_at=now,
        expires_at=now + timedelta(hours=1),
    )
    signals = context.live_signals(merchant_id=merchant.pk, now=now)
    assert signals.carrier_saturation["north"] == 0.2
    assert signals.carrier_saturation["east"] == context.STALE_FLOOR  # quiet feed: assume busy
    WeatherAlert.objects.create(
        region="south",
        level=3,
        source="feed",
        observed_at=now - timedelta(hours=4),
        expires_at=now - timedelta(hours=1),
    )
    assert (
        context.live_signals(merchant_id=merchant.pk, now=now).weather["south"] == 3
    )  # held in grace


def test_signals_of_another_merchant_do_not_steer_this_one(merchant):
    from tests.factories import MerchantFactory

    other = MerchantFactory()
    WeatherAlert.objects.create(
        region="east",
        level=4,
        source="x",
        merchant=other,
        expires_at=timezone.now() + timedelta(hours=1),
    )
    assert "east" not in context.live_signals(merchant_id=merchant.pk).weather
    assert context.live_signals(merchant_id=other.pk).weather["east"] == 4


def test_routing_twice_is_harmless(merchant, network):
    order = make_order(merchant=merchant, lines=[(network["product"], 3)])
    order_route(order_id=order.pk)
    assert RoutingDecision.objects.filter(order=order).count() == 1
    assert sum(InventoryBatch.objects.values_list("reserved", flat=True)) == 3


def test_batch_routing_gives_scarce_stock_to_the_orders_worth_most(merchant, settings):
    settings.OMS_ROUTING_MODE = "batch"
    warehouse = WarehouseFactory(merchant=merchant, code="ONLY")
    cheap = ProductFactory(merchant=merchant, sku="CHEAP", unit_value=Decimal("10"))
    dear = ProductFactory(merchant=merchant, sku="DEAR", unit_value=Decimal("5000"))
    BatchFactory(warehouse=warehouse, product=cheap, on_hand=1)
    BatchFactory(warehouse=warehouse, product=dear, on_hand=1)
    channel = ChannelFactory(merchant=merchant)
    # Two orders want the one unit of each SKU; the one that also buys the dear SKU should win.
    small = make_order(merchant=merchant, lines=[(cheap, 1)], channel=channel)
    big = make_order(merchant=merchant, lines=[(cheap, 1), (dear, 1)], channel=channel)
    assert {small.status, big.status} == {OrderStatus.CREATED}  # batch mode: they wait
    counts = orders_route_batch(merchant_id=merchant.pk)
    small.refresh_from_db()
    big.refresh_from_db()
    assert (big.status, small.status) == (OrderStatus.ROUTED, OrderStatus.NEEDS_ATTENTION)
    assert counts == {"routed": 1, "needs_attention": 1}
    assert RoutingDecision.objects.get(order=big).mode == "batch"


def test_the_batch_job_routes_waiting_orders_by_partition_and_the_sweeper_catches_stragglers(
    merchant, settings
):
    from oms.models import Order
    from routing.tasks import route_pending, sweep_unrouted

    settings.OMS_ROUTING_MODE = "batch"
    warehouse = WarehouseFactory(merchant=merchant)
    product = ProductFactory(merchant=merchant)
    BatchFactory(warehouse=warehouse, product=product, on_hand=10)
    waiting = [make_order(merchant=merchant, lines=[(product, 1)]) for _ in range(3)]
    assert all(o.status == OrderStatus.CREATED for o in waiting)
    assert route_pending() == 1  # one (merchant, region) partition, routed eagerly here
    assert set(
        Order.objects.filter(pk__in=[o.pk for o in waiting]).values_list("status", flat=True)
    ) == {"routed"}
    straggler = make_order(merchant=merchant, lines=[(product, 1)])
    assert sweep_unrouted(older_than_seconds=3600) == 0  # too young: left to the batch job
    Order.objects.filter(pk=straggler.pk).update(created_at=timezone.now() - timedelta(hours=2))
    assert sweep_unrouted(older_than_seconds=3600) == 1
    straggler.refresh_from_db()
    assert straggler.status == OrderStatus.ROUTED


def test_in_single_mode_the_batch_job_leaves_orders_to_their_own_routing(merchant, settings):
    """Single mode routes (and merges) each order as it commits; a batch run would race that."""
    from routing.tasks import route_pending

    settings.OMS_ROUTING_MODE = "batch"
    product = ProductFactory(merchant=merchant)
    BatchFactory(warehouse=WarehouseFactory(merchant=merchant), product=product, on_hand=10)
    waiting = make_order(merchant=merchant, lines=[(product, 1)])
    settings.OMS_ROUTING_MODE = "single"
    assert route_pending() == 0
    waiting.refresh_from_db()
    assert waiting.status == OrderStatus.CREATED  # for the doorbell's task or the sweeper


def test_an_order_whose_routing_task_was_killed_is_routed_by_the_next_sweep(merchant, settings):
    """A killed task leaves its claim: the doorbell's next task skips the order, the sweeper
    (every 30 s, for orders older than OMS_ROUTING_SWEEP_AFTER_SECONDS) routes it anyway."""
    from django.core.cache import cache

    from oms.models import Order
    from routing.tasks import route_ready, sweep_unrouted

    settings.OMS_ROUTING_MODE = "batch"  # nothing routes it on commit in this test
    warehouse = WarehouseFactory(merchant=merchant)
    product = ProductFactory(merchant=merchant)
    BatchFactory(warehouse=warehouse, product=product, on_hand=10)
    order = make_order(merchant=merchant, lines=[(product, 1)])
    claim = f"routing:claim:{order.pk}"
    cache.add(claim, 1, timeout=settings.OMS_ROUTING_CLAIM_SECONDS)  # the killed task's claim

    assert route_ready(merchant.pk) == 0  # the claim holds: skipped
    assert sweep_unrouted() == 0  # younger than a minute
    Order.objects.filter(pk=order.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.OMS_ROUTING_SWEEP_AFTER_SECONDS + 1)
    )
    assert sweep_unrouted() == 1  # route_order takes no claim
    order.refresh_from_db()
    assert order.status == OrderStatus.ROUTED
    assert settings.CELERY_BEAT_SCHEDULE["sweep-unrouted-orders"]["schedule"] <= 30
    assert settings.OMS_ROUTING_SWEEP_AFTER_SECONDS + 30 <= 120  # routed within 2 minutes


def test_the_routing_context_knows_what_today_asked_for(merchant, network):
    make_order(merchant=merchant, lines=[(network["product"], 2)])
    make_order(merchant=merchant, lines=[(network["product"], 3)])
    ctx = context.routing_context(merchant_id=merchant.pk, skus={"MILK", "NONE"})
    assert ctx.outlook is not None
    assert ctx.outlook.units_so_far == {"MILK": 5.0}
    assert ctx.outlook.hours_elapsed + ctx.outlook.hours_left == pytest.approx(24.0)


@pytest.mark.parametrize("price, chosen", [("300.00", "W-BIG"), ("0.00", "W-SMALL")])
def test_a_decision_keeps_the_last_units_and_names_the_scarcity_price(
    merchant, monkeypatch, price, chosen
):
    # 14:00 local: the day so far is 14 hours. "W-SMALL" ships for 0.50 less but holds the last
    # 3 units outside "W-BIG", and today's orders want many more: its units are the reserve.
    RoutingProfile.objects.filter(is_default=True).update(price_scarcity=Decimal(price))
    afternoon = timezone.localtime().replace(hour=14, minute=0, second=0, microsecond=0)
    monkeypatch.setattr(context.timezone, "now", lambda: afternoon)
    MatchRuleSet.objects.create(merchant=merchant, merge_window_minutes=0)  # route each alone
    small = WarehouseFactory(merchant=merchant, code="W-SMALL", name="Small FC")
    big = WarehouseFactory(merchant=merchant, code="W-BIG", name="Big DC")
    _lane(small, cost="8.00", hours=20.0)
    _lane(big, cost="8.50", hours=20.0)
    cheese = ProductFactory(merchant=merchant, sku="CHEESE")
    BatchFactory(warehouse=small, product=cheese, on_hand=3)
    BatchFactory(warehouse=big, product=cheese, on_hand=200)
    make_order(merchant=merchant, lines=[(cheese, 40)])
    order = make_order(merchant=merchant, lines=[(cheese, 1)])
    decision = RoutingDecision.objects.filter(order=order).latest("pk")
    assert [s["warehouse"] for s in decision.shipments] == [chosen]
    assert ("scarcity" in decision.explanation) is (chosen == "W-BIG")
