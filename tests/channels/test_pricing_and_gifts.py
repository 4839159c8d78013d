"""Channel prices, promotions and the once-per-customer gift ledger, end to end through ingest."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from channels import identity
from channels.models import (
    ChannelPrice,
    ChannelPriceList,
    GiftGrant,
    GiftRefusal,
    OrderLinePricing,
    Promotion,
)
from channels.pricing import LineToPrice, PromotionRule, price_order
from channels.selectors import ingest_metrics, price_differences
from channels.services import channel_price_list_set
from oms.models import ChannelKind, Order, OrderEvent
from tests.channels.conftest import sample
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db
D = Decimal


def window():
    now = timezone.now()
    return {"starts_at": now - timedelta(days=400), "ends_at": now + timedelta(days=400)}


@pytest.fixture
def douyin(merchant):
    return ChannelFactory(merchant=merchant, code="douyin", kind=ChannelKind.DOUYIN)


@pytest.fixture
def mini(merchant):
    return ChannelFactory(merchant=merchant, code="mini", kind=ChannelKind.WECHAT_MINI)


@pytest.fixture
def store(merchant):
    return ChannelFactory(merchant=merchant, code="store", kind=ChannelKind.STORE_POS)


def price(channel, product, amount, **window_kwargs):
    price_list, _ = ChannelPriceList.objects.get_or_create(
        merchant=channel.merchant, name=f"{channel.code} prices"
    )
    channel_price_list_set(channel=channel, price_list=price_list)
    return ChannelPrice.objects.create(
        price_list=price_list, product=product, price=D(amount), **window_kwargs
    )


def douyin_payload(external_id="DY-1", phone="13800138000"):
    payload = sample("douyin")
    payload["data"]["shop_order_id"] = external_id
    payload["data"]["post_tel"] = phone
    return payload


def mini_payload(external_id="WX-1", phone="13800138000"):
    payload = sample("wechat_mini")
    payload["out_trade_no"] = external_id
    payload["address"]["telNumber"] = phone
    payload["payer"]["phone"] = phone
    return payload


# --- the pure core ----------------------------------------------------------------------------
def test_threshold_discount_is_allocated_across_lines_and_sums_exactly():
    lines = [LineToPrice("A", 1, D("100"), D("100")), LineToPrice("B", 3, D("33.33"), D("33.33"))]
    rule = PromotionRule(1, "d11", "threshold", threshold=D("150"), discount_amount=D("20"))

    result = price_order(lines, [rule])

    assert result.discount_total == D("20.00")
    assert sum(line.final_line_total for line in result.lines) == D("179.99")
    assert result.claims == {"d11": True}


def test_best_percentage_per_line_then_threshold_on_what_is_left():
    lines = [LineToPrice("A", 2, D("100"), D("90"))]
    rules = [
        PromotionRule(1, "p10", "percentage", percent_off=D("10"), once_per_customer=False),
        PromotionRule(2, "p20", "percentage", percent_off=D("20"), once_per_customer=False),
        PromotionRule(3, "m100", "threshold", threshold=D("140"), discount_amount=D("30")),
    ]

    line = price_order(lines, rules).lines[0]

    assert line.gross == D("180.00")
    assert line.discount == D("36.00") + D("30.00")
    assert [p["campaign"] for p in line.promotions] == ["p20", "m100"]


def test_threshold_not_met_gives_nothing_and_excluded_campaigns_are_skipped():
    lines = [LineToPrice("A", 1, D("100"), D("100"))]
    gift = PromotionRule(1, "g", "gift", gift_sku="G", threshold=D("50"))

    assert (
        price_order(
            lines, [PromotionRule(2, "t", "threshold", threshold=D("101"), discount_amount=D("5"))]
        ).discount_total
        == 0
    )
    assert [line.sku for line in price_order(lines, [gift]).lines] == ["A", "G"]
    assert [
        line.sku for line in price_order(lines, [gift], excluded_campaigns=frozenset({"g"})).lines
    ] == ["A"]


# --- channel prices ---------------------------------------------------------------------------
def test_order_keeps_the_breakdown_list_channel_promotion_final(
    merchant, catalogue, douyin, post_signed
):
    sofa = catalogue["HOM-0001"]
    price(douyin, sofa, "5999.00")
    Promotion.objects.create(
        merchant=merchant,
        channel=douyin,
        campaign_code="dy-300",
        name="满5000减300",
        kind="threshold",
        threshold_amount=D("5000"),
        discount_amount=D("300"),
        once_per_customer=False,
        **window(),
    )

    response = post_signed(douyin, douyin_payload())

    order = Order.objects.get(pk=response.json()["order_id"])
    pricing = OrderLinePricing.objects.get(line__order=order)
    assert (
        pricing.list_price,
        pricing.channel_price,
        pricing.promotion_discount,
        pricing.final_line_total,
    ) == (
        D("6299.00"),
        D("5999.00"),
        D("300.00"),
        D("5699.00"),
    )
    assert pricing.reported_unit_price == D("5999.00")
    assert pricing.promotions[0]["campaign"] == "dy-300"
    assert (order.subtotal, order.discount_total, order.total) == (
        D("5999.00"),
        D("300.00"),
        D("5699.00"),
    )


def test_the_latest_started_price_window_wins_and_expired_ones_do_not_apply(catalogue, douyin):
    from channels.selectors import channel_prices_at

    sofa = catalogue["HOM-0001"]
    now = timezone.now()
    price(douyin, sofa, "5999.00")
    price(
        douyin,
        sofa,
        "4999.00",
        valid_from=now - timedelta(days=1),
        valid_to=now + timedelta(days=1),
    )
    price(
        douyin,
        sofa,
        "3999.00",
        valid_from=now - timedelta(days=10),
        valid_to=now - timedelta(days=5),
    )

    assert channel_prices_at(channel=douyin, product_ids=[sofa.pk], at=now)[sofa.pk].price == D(
        "4999.00"
    )
    assert channel_prices_at(channel=douyin, product_ids=[sofa.pk], at=now + timedelta(days=2))[
        sofa.pk
    ].price == D("5999.00")


def test_price_report_lists_skus_priced_differently_across_channels(
    merchant, catalogue, douyin, mini, store, api
):
    sofa = catalogue["HOM-0001"]
    price(douyin, sofa, "6299.00")
    price(mini, sofa, "5999.00")
    price(store, sofa, "5799.00")

    rows = price_differences(merchant=merchant, at=timezone.now())
    response = api.get("/api/channels/price-differences")

    assert [row["sku"] for row in rows] == ["HOM-0001"]
    assert rows[0]["prices"] == {
        "douyin": D("6299.00"),
        "mini": D("5999.00"),
        "store": D("5799.00"),
    }
    assert response.status_code == 200
    assert response.json()["results"][0]["prices"]["store"] == "5799.00"


def test_price_report_needs_a_merchant_key_and_shows_only_that_merchant(client, catalogue, douyin):
    assert client.get("/api/channels/price-differences").status_code == 401


# --- the gift ledger --------------------------------------------------------------------------
@pytest.fixture
def gift_campaign(merchant, catalogue):
    return Promotion.objects.create(
        merchant=merchant,
        channel=None,
        campaign_code="d11-pillow",
        name="Free cushions",
        kind="gift",
        gift_product=catalogue["HOM-0900"],
        threshold_amount=D("1000"),
        **window(),
    )


def test_gift_is_granted_once_per_customer_across_channels(
    merchant, catalogue, douyin, mini, gift_campaign, post_signed
):
    first = post_signed(douyin, douyin_payload(phone="13800138000"))
    second = post_signed(mini, mini_payload(phone="+86 138-0013-8000"))  # same person, other format

    first_order = Order.objects.get(pk=first.json()["order_id"])
    second_order = Order.objects.get(pk=second.json()["order_id"])
    assert [line.product.sku for line in first_order.lines.all()] == ["HOM-0001", "HOM-0900"]
    assert [line.product.sku for line in second_order.lines.all()] == ["HOM-0001"]
    grant = GiftGrant.objects.get()
    assert grant.order == first_order and grant.channel == douyin
    refusal = GiftRefusal.objects.get()
    assert refusal.order == second_order and refusal.grant == grant
    note = OrderEvent.objects.get(order=second_order, kind="gift_refused")
    assert "d11-pillow" in note.message and f"#{first_order.pk}" in note.message
    assert second_order.customer_id == first_order.customer_id is not None


def test_another_person_gets_their_own_gift(catalogue, douyin, mini, gift_campaign, post_signed):
    post_signed(douyin, douyin_payload(phone="13800138000"))
    other = mini_payload(phone="13912345678")
    other["address"] |= {"userName": "李娜", "detailInfo": "张杨路500号18楼"}
    post_signed(mini, other)

    assert GiftGrant.objects.count() == 2 and not GiftRefusal.objects.exists()


def test_a_channel_sent_gift_line_of_a_granted_campaign_is_removed(
    merchant, catalogue, douyin, post_signed
):
    tmall = ChannelFactory(merchant=merchant, code="tmall", kind=ChannelKind.TMALL)
    payload = sample("tmall")
    payload["trade_fullinfo_get_response"]["trade"]["receiver_mobile"] = "13800138000"
    first = post_signed(tmall, payload)
    payload["trade_fullinfo_get_response"]["trade"]["tid"] = "3876152209348771943"

    second = post_signed(tmall, payload)

    assert Order.objects.get(pk=first.json()["order_id"]).lines.count() == 2
    again = Order.objects.get(pk=second.json()["order_id"])
    assert [line.product.sku for line in again.lines.all()] == ["HOM-0001"]
    assert again.events.filter(kind="gift_refused").exists()


def test_a_once_per_customer_discount_is_refused_the_second_time(
    merchant, catalogue, douyin, mini, post_signed
):
    Promotion.objects.create(
        merchant=merchant,
        campaign_code="newcomer",
        name="New customer 100 off",
        kind="threshold",
        threshold_amount=D("0"),
        discount_amount=D("100"),
        **window(),
    )

    first = post_signed(douyin, douyin_payload())
    second = post_signed(mini, mini_payload())

    assert Order.objects.get(pk=first.json()["order_id"]).discount_total == D("100.00")
    assert Order.objects.get(pk=second.json()["order_id"]).discount_total == D("0.00")


def test_fallback_identity_matches_on_a_keyed_phone_digest(merchant, monkeypatch):
    monkeypatch.setattr(identity, "_mdm_resolver", lambda: None)

    a = identity.customer_for(merchant, "13800138000", "dev-1", "acc-1", channel_kind="douyin")
    b = identity.customer_for(
        merchant, "+86 138 0013 8000", "dev-2", "", channel_kind="wechat_mini"
    )
    c = identity.customer_for(merchant, "", "dev-1", "acc-1", channel_kind="douyin")
    d = identity.customer_for(merchant, "13912345678", "dev-1", "", channel_kind="douyin")

    assert a == b == c and d != a  # device alone never links
    assert identity.customer_for(merchant, "", "dev-9", "") is None
    assert "13800138000" not in identity.buyer_digest(merchant, "phone", "+8613800138000")


def test_metrics_count_failures_duplicates_and_refused_gifts(
    merchant, catalogue, douyin, mini, gift_campaign, post_signed, api
):
    post_signed(douyin, douyin_payload())
    post_signed(douyin, douyin_payload())  # duplicate
    post_signed(douyin, b"{")  # failed
    post_signed(mini, mini_payload())  # gift refused

    rows = {row["channel"]: row for row in ingest_metrics(merchant=merchant)}
    response = api.get("/api/channels/metrics")

    assert (rows["douyin"]["parsed"], rows["douyin"]["duplicates"], rows["douyin"]["failed"]) == (
        1,
        1,
        1,
    )
    assert rows["douyin"]["gifts_granted"] == 1
    assert rows["mini"]["gifts_refused_as_duplicate"] == 1
    assert response.status_code == 200
    assert {r["channel"] for r in response.json()["results"]} == {"douyin", "mini"}
