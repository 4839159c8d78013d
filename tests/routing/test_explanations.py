"""Explanations staff can trust: rendered from stored facts, in their language and time zone.

A real order is routed through the service; its decision is then read in English and Chinese,
on the admin page and through the API.
"""

import re
import zoneinfo
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from oms.models import Warehouse
from oms.services.warehouses import warehouse_set_status
from routing.explaining import decision_sentences
from routing.models import Lane, RoutingDecision
from tests.factories import BatchFactory, ProductFactory, WarehouseFactory, make_order

pytestmark = pytest.mark.django_db


def _lane(warehouse, *, cost: str, hours: float, on_time: float = 0.98) -> None:
    Lane.objects.create(
        warehouse=warehouse,
        region="east",
        carrier="Express A",
        shipping_cost=Decimal(cost),
        transit_hours=hours,
        on_time_rate=on_time,
    )


@pytest.fixture
def network(merchant):
    """A cheap slow warehouse, a dear fast one, and one holding only the tea."""
    slow = WarehouseFactory(merchant=merchant, code="SZ-RC", name="Suzhou RC")
    fast = WarehouseFactory(merchant=merchant, code="SH-DC", name="Shanghai DC")
    tea_only = WarehouseFactory(merchant=merchant, code="NB-FC", name="Ningbo FC")
    _lane(slow, cost="6.00", hours=30.0)
    _lane(fast, cost="8.10", hours=12.0)
    _lane(tea_only, cost="5.00", hours=20.0)
    milk = ProductFactory(merchant=merchant, sku="MILK-1L")
    tea = ProductFactory(merchant=merchant, sku="TEA-100")
    for warehouse in (slow, fast):
        BatchFactory(warehouse=warehouse, product=milk, on_hand=50)
        BatchFactory(warehouse=warehouse, product=tea, on_hand=50)
    BatchFactory(warehouse=tea_only, product=tea, on_hand=50)
    return {"slow": slow, "fast": fast, "tea_only": tea_only, "milk": milk, "tea": tea}


def _routed(merchant, network, hours: float = 24) -> RoutingDecision:
    order = make_order(
        merchant=merchant,
        lines=[(network["milk"], 1), (network["tea"], 1)],
        promised_in_hours=hours,
    )
    return RoutingDecision.objects.select_related("order__merchant").get(order=order)


def _english_words(text: str, names: list[str]) -> list[str]:
    for name in names:
        text = text.replace(name, "")
    return re.findall(r"[A-Za-z]{2,}", text)


def test_the_trade_off_names_the_deltas_and_what_outweighed_them(merchant, network):
    decision = _routed(merchant, network)
    assert decision.shipments[0]["warehouse"] == "SH-DC"
    trade = decision.facts["trade_off"]
    # Straight from the lanes: same handling, ¥8.10 - ¥6.00 of shipping, 12 h against 30 h.
    assert trade["other_codes"] == ["SZ-RC"]
    assert round(trade["cost_delta"], 2) == 2.10 and round(trade["hours_delta"]) == -18
    with translation.override("en"):
        first = decision_sentences(decision)[0]
    # Late at 30 h against a 24 h promise, so the slow one is also far less certain.
    assert first.startswith("Shanghai DC chosen: ¥2.10 dearer, 18 h sooner, ")
    head, clause = first.split("; ")
    assert head.endswith("points more certain than Suzhou RC") and "lateness" in clause
    assert re.search(r"weighs? more in this profile \(¥\d+\.\d\d for, ¥\d+\.\d\d against\)", first)
    gain = sum(v for _, v in trade["favour"])
    loss = sum(v for _, v in trade["against"])
    assert gain > loss >= 2.10 - 0.01  # what spoke for it outweighs the extra cost
    assert decision.explanation.splitlines()[0] == first  # stored English text, for search


def test_the_same_decision_reads_in_chinese_with_names_as_typed(merchant, network):
    decision = _routed(merchant, network)
    with translation.override("zh-hans"):
        sentences = decision_sentences(decision)
    first = sentences[0]
    assert first.startswith("选择 Shanghai DC：比 Suzhou RC 贵 ¥2.10、早 18 小时")
    assert "本策略中送达确定性和延误的权重更高（有利 ¥" in first
    names = ["Shanghai DC", "Suzhou RC", "Ningbo FC", "MILK-1L", "TEA-100", "SKU"]
    for sentence in sentences:
        assert _english_words(sentence, names) == [], sentence


def test_warehouses_holding_part_of_the_order_are_listed(merchant, network):
    decision = _routed(merchant, network)
    assert decision.facts["partial"] == [
        {
            "node_code": "NB-FC",
            "label": "Ningbo FC",
            "lines": [
                {"sku": "MILK-1L", "available": 0, "quantity": 1},
                {"sku": "TEA-100", "available": 1, "quantity": 1},
            ],
        }
    ]
    with translation.override("en"):
        assert "Held part of the order: Ningbo FC (TEA-100 1 of 1)." in decision_sentences(decision)
    with translation.override("zh-hans"):
        assert "持有部分商品的仓库：Ningbo FC（TEA-100 1/1 件）。" in decision_sentences(decision)


def test_a_pause_is_told_in_the_merchants_time_zone(merchant, network):
    warehouse_set_status(
        warehouse=network["fast"], status="paused", reason="cold-chain fault", actor="sensor"
    )
    since = Warehouse.objects.get(pk=network["fast"].pk).status_changed_at
    decision = _routed(merchant, network)
    shanghai = timezone.localtime(since, zoneinfo.ZoneInfo("Asia/Shanghai")).strftime("%m-%d %H:%M")
    with translation.override("en"):
        assert (
            f"Shanghai DC excluded: paused (cold-chain fault) since {shanghai}."
            in decision_sentences(decision)
        )
    merchant.time_zone = "Europe/Berlin"
    merchant.save(update_fields=["time_zone"])
    decision = RoutingDecision.objects.select_related("order__merchant").get(pk=decision.pk)
    berlin = timezone.localtime(since, zoneinfo.ZoneInfo("Europe/Berlin")).strftime("%m-%d %H:%M")
    with translation.override("zh-hans"):
        assert f"Shanghai DC 已排除：自 {berlin} 起暂停（cold-chain fault）。" in (
            decision_sentences(decision)
        )


def test_decisions_stored_before_facts_show_their_stored_text(merchant, network):
    decision = _routed(merchant, network)
    RoutingDecision.objects.filter(pk=decision.pk).update(
        facts={}, explanation="SH-DC chosen: 18 h faster than SZ-RC.\nAlso excluded: 1 node."
    )
    decision.refresh_from_db()
    with translation.override("zh-hans"):
        assert decision_sentences(decision) == [
            "SH-DC chosen: 18 h faster than SZ-RC.",
            "Also excluded: 1 node.",
        ]


def test_an_unroutable_order_says_which_line_is_short(merchant, network):
    network["milk"].batches.update(on_hand=0)
    decision = _routed(merchant, network)
    assert decision.outcome == "unroutable"
    with translation.override("en"):
        assert decision_sentences(decision)[0] == (
            "Unroutable: only 0 of 1 units of MILK-1L at warehouses able to ship."
        )
    with translation.override("zh-hans"):
        assert decision_sentences(decision)[0] == (
            "无法路由：可发货的仓库中 MILK-1L 仅有 0 件，需要 1 件。"
        )


def test_the_decision_page_shows_tables_and_no_long_decimals(admin_client, merchant, network):
    decision = _routed(merchant, network)
    url = reverse("admin:routing_routingdecision_change", args=[decision.pk])
    for language, words in (
        ("en", ["Lower is better", "Runners-up", "Held part of the order", "without the solver"]),
        ("zh-hans", ["越低越好", "备选方案", "持有部分商品的仓库", "无需求解器即证明最优"]),
    ):
        page = admin_client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert all(word in page for word in words), language
        shown = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.DOTALL)
        text = re.sub(r"<[^>]+>", " ", shown)
        assert not re.search(r"\d+\.\d{3,}", text), language  # no long decimals
        assert "[{" not in text and '"contributions"' not in text, language  # no raw JSON
    assert f"{decision.duration_ms:.2f}" in admin_client.get(url).content.decode()


def test_the_api_explains_in_the_requested_language(merchant, network, api):
    decision = _routed(merchant, network)
    url = f"/api/orders/{decision.order_id}/routing/"
    english = api.get(url, HTTP_ACCEPT_LANGUAGE="en").json()["decisions"][0]["explanation"]
    chinese = api.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["decisions"][0]["explanation"]
    assert english[0].startswith("Shanghai DC chosen: ¥2.10 dearer")
    assert chinese[0].startswith("选择 Shanghai DC：比 Suzhou RC 贵 ¥2.10")


def test_a_cheaper_but_slower_winner_says_it_is_slower(merchant, network):
    """Both on time with a 48 h promise: the cheap one wins, and the sentence says the cost."""
    decision = _routed(merchant, network, hours=48)
    assert decision.shipments[0]["warehouse"] == "SZ-RC"
    runner = decision.runners_up[0]
    assert runner["node_codes"] == ["SH-DC"] and runner["transit_hours"] == 12.0
    with translation.override("en"):
        first = decision_sentences(decision)[0]
    assert first.startswith("Suzhou RC chosen: ¥2.10 cheaper, 18 h later")
    assert "than Shanghai DC; cost weighs more in this profile (¥" in first
