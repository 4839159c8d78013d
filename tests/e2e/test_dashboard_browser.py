"""Browser tests of the operations dashboard: an Operations user sees the charts (drawn by the
vendored ECharts, under the page's Content-Security-Policy) and the logistics heat map, in
English and in Chinese with no English left outside names staff typed. Headless Debian chromium
driven by Playwright."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
CHART_IDS = ["chart-orders", "chart-on-time", "chart-cost"]


@pytest.fixture
def ops_user(make_ops_user):
    return make_ops_user()


@pytest.fixture
def history():
    """A week of orders to three provinces: delivered on time, late, and still on the way."""
    from django.utils import timezone

    from oms.models import Order, Shipment
    from tests.factories import ChannelFactory, MerchantFactory, WarehouseFactory

    merchant = MerchantFactory(name="鲜农直供")
    channel = ChannelFactory(merchant=merchant, name="抖音小店")
    warehouse = WarehouseFactory(merchant=merchant, name="上海中心仓")
    # Noon on the merchant's clock: the four orders of a day stay on that day at any hour the
    # test runs (just after local midnight, "now minus 3 h" would be the day before).
    local = timezone.localtime(timezone.now(), ZoneInfo(merchant.time_zone))
    now = local.replace(hour=12, minute=0, second=0, microsecond=0)
    for days_ago in range(1, 8):
        for index, (province, transit_hours) in enumerate(
            [("浙江", 20), ("浙江", 60), ("北京", 30), ("广东", None)]
        ):
            placed = now - timedelta(days=days_ago, hours=index)
            order = Order.objects.create(
                merchant=merchant,
                channel=channel,
                external_id=f"W{days_ago}-{index}",
                status="delivered" if transit_hours else "shipped",
                receiver_name="王芳",
                receiver_phone="13800138000",
                province=province,
                city="杭州",
                address_line="文三路90号",
                placed_at=placed,
                promised_at=placed + timedelta(hours=48),
            )
            Shipment.objects.create(
                order=order,
                warehouse=warehouse,
                status="delivered" if transit_hours else "shipped",
                shipped_at=placed + timedelta(hours=2),
                delivered_at=placed + timedelta(hours=transit_hours) if transit_hours else None,
            )
    return merchant


def _english_left(text: str, allowed: set[str]) -> list[str]:
    for name in allowed:
        text = text.replace(name, " ")
    return LATIN_WORD.findall(text)


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "en",
            ["Operations dashboard", "Orders placed per day", "Order volume", "Inventory turnover"],
        ),
        ("zh-hans", ["运营看板", "每日下单量", "订单量", "准时率", "平均延误小时数", "库存周转"]),
    ],
)
def test_ops_sees_the_dashboard_charts_and_heat_map(
    live_server, browser, log_in, ops_user, history, language, words
):
    page = log_in(browser, language)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if "Content Security Policy" in message.text or message.type == "error"
            else None
        ),
    )
    day = (
        history.orders.order_by("placed_at")
        .last()
        .placed_at.astimezone(ZoneInfo(history.time_zone))
        .date()
    )
    page.goto(f"{live_server.url}/ops/dashboard/?days=30&day={day.isoformat()}")
    page.wait_for_selector("html[data-charts-ready='3']")

    for chart_id in CHART_IDS:
        drawn = page.evaluate(
            """(id) => {
                const element = document.getElementById(id);
                const chart = echarts.getInstanceByDom(element);
                const data = chart.getOption().series[0].data;
                const canvas = element.querySelector('canvas');
                const pixels = canvas.getContext('2d')
                    .getImageData(0, 0, canvas.width, canvas.height).data;
                let painted = 0;
                for (let i = 3; i < pixels.length; i += 4) { if (pixels[i]) painted++; }
                return {points: data.length, values: data.filter(v => v !== null && v !== '-'),
                        width: canvas.width, painted};
            }""",
            chart_id,
        )
        assert drawn["points"] == 31 and drawn["width"] > 300, drawn
        assert drawn["painted"] > 1000, (chart_id, drawn)  # axes and bars on the canvas
        # The history has no routing decisions, so only the cost chart is without data.
        assert bool(drawn["values"]) == (chart_id != "chart-cost"), (chart_id, drawn)
    orders = page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('chart-orders')).getOption()"
        ".series[0].data"
    )
    assert orders[-2] == 4 and all(isinstance(v, int) for v in orders)

    # The heat map: three tile maps; Zhejiang had two orders that day, one of them late.
    assert page.locator("svg.tilemap").count() == 3
    zhejiang = page.locator('#map-volume g[data-province="浙江"] rect')
    assert zhejiang.get_attribute("style").startswith("fill:#")
    on_time = page.locator('#map-on-time g[data-province="浙江"] title').text_content()
    assert "50" in on_time, on_time
    volume_texts = page.locator("#map-volume text.value").all_text_contents()
    assert "2" in volume_texts and "1" in volume_texts

    text = page.inner_text("#ops-dashboard")
    for word in words:
        assert word in text
    if language == "zh-hans":
        from orchestration.models import ServiceTemplate
        from routing.models import RoutingProfile

        typed = {"SLA"} | {  # names staff typed stay as typed
            *RoutingProfile.objects.values_list("name", flat=True),
            *ServiceTemplate.objects.values_list("name", flat=True),
        }
        assert _english_left(text, typed) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    assert problems == []


def test_the_sla_board_draws_its_trend(live_server, browser, log_in, ops_user, routed):
    routed("ev")
    page = log_in(browser, "zh-hans")
    page.goto(f"{live_server.url}/ops/sla/")
    page.wait_for_selector("html[data-charts-ready='1']")
    labels = page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('chart-sla-trend'))"
        ".getOption().xAxis[0].data"
    )
    assert len(labels) == 15
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
