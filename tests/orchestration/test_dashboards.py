"""The staff dashboards' numbers: units, integer counts, the turnover formula, the heat map."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone, translation

from oms.models import Order, OrderLine, OrderStatus, Shipment, ShipmentStatus, WarehouseStatus
from oms.permissions import OPERATIONS_GROUP
from orchestration.dashboards import duration_text, inventory_turnover, ops_dashboard
from orchestration.logistics_map import province_day
from routing.models import WeatherAlert
from tests.factories import BatchFactory, ChannelFactory, ProductFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = User.objects.create_user("dash", password="pw-12345-long", is_staff=True)
    user.groups.add(Group.objects.get(name=OPERATIONS_GROUP))
    client.force_login(user)
    return client


def _order(merchant, channel, *, placed, province="浙江", promise_hours=48, status, lines=()):
    order = Order.objects.create(
        merchant=merchant,
        channel=channel,
        external_id=f"D{Order.objects.count() + 1}",
        status=status,
        receiver_name="王芳",
        receiver_phone="13800138000",
        province=province,
        city="杭州",
        address_line="文三路90号",
        placed_at=placed,
        promised_at=placed + timedelta(hours=promise_hours) if promise_hours else None,
    )
    for product, quantity in lines:
        OrderLine.objects.create(
            order=order,
            product=product,
            sku=product.sku,
            name=product.name,
            quantity=quantity,
            unit_price=product.unit_value,
            line_total=product.unit_value * quantity,
        )
    return order


def _ship(order, warehouse, *, after_hours, delivered_after_hours=None):
    return Shipment.objects.create(
        order=order,
        warehouse=warehouse,
        carrier="Express A",
        tracking_number=f"T{order.pk}",
        status=ShipmentStatus.DELIVERED if delivered_after_hours else ShipmentStatus.SHIPPED,
        shipped_at=order.placed_at + timedelta(hours=after_hours),
        delivered_at=order.placed_at + timedelta(hours=delivered_after_hours)
        if delivered_after_hours
        else None,
    )


def test_durations_read_in_minutes_hours_and_days():
    with translation.override("en"):
        assert duration_text(64800) == "45 d"  # a 45-day SLA, not "64800" minutes
        assert duration_text(90) == "1 h 30 min"
        assert duration_text(120) == "2 h"
        assert duration_text(1500) == "1 d 1 h"
        assert duration_text(0.3) == "< 1 min"
        assert duration_text(None) == "—"
    with translation.override("zh-hans"):
        assert duration_text(64800) == "45 天"
        assert duration_text(90) == "1 小时 30 分钟"


def test_turnover_is_value_shipped_over_average_stock_per_year(merchant):
    warehouse = WarehouseFactory(merchant=merchant)
    product = ProductFactory(merchant=merchant, unit_value=Decimal("50.00"))
    BatchFactory(warehouse=warehouse, product=product, on_hand=900)  # ¥45,000 held now
    channel = ChannelFactory(merchant=merchant)
    now = timezone.now()
    for days_ago in (3, 10, 20):  # 3 orders x 20 units x ¥50 = ¥3,000 shipped in 30 days
        order = _order(
            merchant,
            channel,
            placed=now - timedelta(days=days_ago),
            status=OrderStatus.SHIPPED,
            lines=[(product, 20)],
        )
        _ship(order, warehouse, after_hours=4)
    old = _order(
        merchant,
        channel,
        placed=now - timedelta(days=45),
        status=OrderStatus.SHIPPED,
        lines=[(product, 500)],
    )
    _ship(old, warehouse, after_hours=4)  # before the window: not counted

    result = inventory_turnover(days=30, now=now, merchant_id=merchant.pk)

    # average stock = 45,000 + 3,000 / 2 = 46,500; turns = 3,000 / 46,500 x 365 / 30
    assert result["shipped_value"] == Decimal("3000.00")
    assert result["turns_per_year"] == round(3000 / 46500 * 365 / 30, 1) == 0.8
    assert result["days_of_stock"] == round(46500 / (3000 / 30)) == 465
    assert isinstance(result["days_of_stock"], int)


def test_turnover_is_empty_without_shipments(merchant):
    BatchFactory(warehouse=WarehouseFactory(merchant=merchant), on_hand=10)
    result = inventory_turnover(days=30, merchant_id=merchant.pk)
    assert result["turns_per_year"] is None and result["days_of_stock"] is None


def test_daily_charts_count_orders_as_integers_on_the_day_they_were_placed(merchant):
    channel = ChannelFactory(merchant=merchant)
    now = timezone.now()
    for days_ago in (1, 1, 2, 29):
        _order(merchant, channel, placed=now - timedelta(days=days_ago), status="cancelled")

    board = ops_dashboard(days=30, now=now)

    orders = next(c for c in board["charts"]["charts"] if c["id"] == "chart-orders")
    assert len(orders["labels"]) == 31  # one bar a day, today included
    values = orders["series"][0]["values"]
    assert all(isinstance(v, int) for v in values)
    assert sum(values) == 4 and values[-2] == 2 and values[-3] == 1
    assert board["order_count"] == 4
    json.dumps(board["charts"])  # what json_script serialises


def test_the_heat_map_judges_orders_by_their_promise(merchant):
    channel = ChannelFactory(merchant=merchant)
    warehouse = WarehouseFactory(merchant=merchant)
    now = timezone.now()
    placed = now - timedelta(days=4)
    on_time = _order(merchant, channel, placed=placed, status=OrderStatus.DELIVERED)
    _ship(on_time, warehouse, after_hours=4, delivered_after_hours=30)
    late = _order(merchant, channel, placed=placed, status=OrderStatus.DELIVERED)
    _ship(late, warehouse, after_hours=4, delivered_after_hours=58)  # 10 h late
    stuck = _order(merchant, channel, placed=placed, status=OrderStatus.SHIPPED)
    _ship(stuck, warehouse, after_hours=4)  # still on its way, 48 h past its promise
    _order(merchant, channel, placed=placed, status=OrderStatus.CANCELLED)
    _order(merchant, channel, placed=placed, province="北京", status=OrderStatus.SHIPPED)

    figures = province_day(orders=Order.objects.all(), day=timezone.localdate(placed), now=now)

    zhejiang = figures["浙江"]
    assert (zhejiang.orders, zhejiang.judged, zhejiang.on_time, zhejiang.late) == (4, 3, 1, 2)
    assert zhejiang.on_time_pct == pytest.approx(100 / 3)
    assert zhejiang.hours_late == pytest.approx((10 + 48) / 2, abs=0.01)
    assert figures["北京"].orders == 1


def test_the_dashboard_page_shows_charts_map_and_live_conditions(staff, merchant):
    channel = ChannelFactory(merchant=merchant)
    warehouse = WarehouseFactory(
        merchant=merchant, name="Ningbo DC", status=WarehouseStatus.PAUSED, status_reason="flood"
    )
    now = timezone.now()
    order = _order(merchant, channel, placed=now - timedelta(days=3), status=OrderStatus.DELIVERED)
    _ship(order, warehouse, after_hours=2, delivered_after_hours=20)
    WeatherAlert.objects.create(
        source="feed",
        region="east",
        level=WeatherAlert.Level.ORANGE,
        expires_at=now + timedelta(hours=6),
    )
    WeatherAlert.objects.create(  # expired: not shown
        source="feed",
        region="west",
        level=WeatherAlert.Level.RED,
        expires_at=now - timedelta(hours=1),
    )

    response = staff.get("/ops/dashboard/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert (
        "script-src 'self' 'unsafe-eval'" in csp
        and "unsafe-inline" not in csp.split("style-src")[0]
    )
    page = response.content.decode()
    assert "echarts.common.min.js" in page and 'id="dashboard-charts"' in page
    assert page.count('class="tilemap"') == 3
    assert 'data-province="浙江"' in page
    assert "Ningbo DC" in page and "flood" in page
    assert "East China" in page and "orange" in page and "West China" not in page
    charts = response.context["charts"]["charts"]
    assert {c["id"] for c in charts} == {"chart-orders", "chart-cost", "chart-on-time"}
    assert all("<script>" not in line for line in page.splitlines() if "json" not in line)


def test_the_sla_board_states_slas_in_hours_and_days(staff, routed):
    routed("ev")
    response = staff.get("/ops/sla/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    rows = {row["atom"].code: row for row in response.context["rows"]}
    assert rows["battery-lock"]["sla"].endswith(("h", "min", "d"))
    assert "64800" not in response.content.decode()
    assert response.context["charts"]["charts"][0]["yMax"] == 100
