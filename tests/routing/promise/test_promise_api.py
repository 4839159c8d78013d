"""``POST /api/promise/``: options from routing's own plans, stock per batch, validation, scope."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.test import TestCase
from django.utils import timezone
from rest_framework.test import APIClient

from customers.models import MatchRuleSet
from oms.models import InventoryBatch, TemperatureClass
from routing import context
from routing.engine.router import route_order
from routing.models import Lane
from tests.factories import (
    BatchFactory,
    MerchantFactory,
    ProductFactory,
    WarehouseFactory,
    make_order,
)

pytestmark = pytest.mark.django_db
ADDRESS = {"province": "上海市", "city": "上海", "address_line": "世纪大道100号"}


def _lane(warehouse, *, carrier, cost, hours):
    Lane.objects.create(
        warehouse=warehouse,
        region="east",
        carrier=carrier,
        shipping_cost=Decimal(cost),
        transit_hours=hours,
        on_time_rate=0.98,
    )


@pytest.fixture
def network(merchant):
    """A dear fast warehouse and a cheap slow one, both holding the SKU."""
    cheap = WarehouseFactory(merchant=merchant, code="SZ-RC", name="Suzhou RC")
    fast = WarehouseFactory(merchant=merchant, code="SH-DC", name="Shanghai DC")
    _lane(cheap, carrier="Slow Post", cost="6.00", hours=30)
    _lane(fast, carrier="Fast Express", cost="14.00", hours=5)
    milk = ProductFactory(merchant=merchant, sku="MILK", temperature_class=TemperatureClass.CHILLED)
    for warehouse in (cheap, fast):
        BatchFactory(
            warehouse=warehouse, product=milk, on_hand=50, batch_number=f"{warehouse.code}-1"
        )
    return {"cheap": cheap, "fast": fast, "milk": milk}


def _promise(api, lines, address=ADDRESS, **extra):
    return api.post("/api/promise/", {"lines": lines, "address": address, **extra}, format="json")


def test_it_offers_the_fast_and_the_cheap_plan_with_windows_prices_and_carriers(api, network):
    response = _promise(api, [{"sku": "MILK", "quantity": 2}])
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["promisable"] is True and body["reason"] == ""
    assert body["destination"] == {"province": "上海", "region": "east"}
    by_tag = {tag: option for option in body["options"] for tag in option["tags"]}
    fastest, cheapest = by_tag["fastest"], by_tag["cheapest"]
    assert fastest["shipments"][0]["warehouse"] == "SH-DC"
    assert fastest["carrier"] == "Fast Express" and fastest["shipping_price"] == "14.00"
    assert cheapest["shipments"][0]["warehouse"] == "SZ-RC"
    assert cheapest["carrier"] == "Slow Post" and cheapest["shipping_price"] == "6.00"
    for option in body["options"]:
        earliest = datetime.fromisoformat(option["window"]["earliest"])
        latest = datetime.fromisoformat(option["window"]["latest"])
        assert earliest.utcoffset() == timedelta(hours=8)  # the merchant's clock
        width = (latest - earliest).total_seconds() / 3600
        assert 0 < width <= (4 if option["window"]["same_day"] else 24)
        assert option["promised_at"] == option["window"]["latest"]
        assert 0 < option["certainty"] <= 1 and option["carrier_service"] is None
    assert datetime.fromisoformat(fastest["window"]["latest"]) < datetime.fromisoformat(
        cheapest["window"]["earliest"]
    )


def test_an_order_carrying_the_promise_is_routed_inside_the_window(api, merchant, network):
    MatchRuleSet.objects.create(merchant=merchant, merge_window_minutes=0)  # each on its own
    body = _promise(api, [{"sku": "MILK", "quantity": 2}]).json()
    for option in body["options"]:
        promised_at = datetime.fromisoformat(option["promised_at"])
        hours = (promised_at - timezone.now()).total_seconds() / 3600
        order = make_order(merchant=merchant, lines=[(network["milk"], 2)], promised_in_hours=hours)
        order.refresh_from_db()
        shipment = order.shipments.get()
        assert shipment.warehouse.code == option["shipments"][0]["warehouse"]
        arrival = timezone.now() + timedelta(hours=option["shipments"][0]["transit_hours"])
        assert datetime.fromisoformat(option["window"]["earliest"]) <= arrival <= promised_at


def test_stock_is_checked_per_batch_fresh_and_unreserved_only(api, merchant, network):
    fast, milk = network["fast"], network["milk"]
    InventoryBatch.objects.filter(warehouse=fast).update(on_hand=3, reserved=2)
    BatchFactory(
        warehouse=fast,
        product=milk,
        on_hand=40,
        batch_number="OLD",
        expiry_date=timezone.localdate() + timedelta(days=1),  # under the 2-day shelf life
    )
    BatchFactory(
        warehouse=fast,
        product=milk,
        on_hand=40,
        batch_number="GONE",
        expiry_date=timezone.localdate() - timedelta(days=1),
    )
    BatchFactory(
        warehouse=fast,
        product=milk,
        on_hand=5,
        batch_number="SOON",
        expiry_date=timezone.localdate() + timedelta(days=5),
    )
    body = _promise(api, [{"sku": "MILK", "quantity": 3}]).json()
    assert body["lines"] == [
        {"sku": "MILK", "quantity": 3, "available_to_promise": 56, "enough": True}
    ]  # 50 at the cheap warehouse, 1 unreserved + 5 fresh enough at the fast one
    fastest = next(o for o in body["options"] if "fastest" in o["tags"])
    assert fastest["shipments"][0]["warehouse"] == "SH-DC"
    batches = fastest["shipments"][0]["lines"][0]["batches"]
    assert [(b["batch_number"], b["quantity"]) for b in batches] == [("SOON", 3)]  # FEFO


def test_when_stock_is_short_it_says_how_much_there_is(api, network):
    body = _promise(api, [{"sku": "MILK", "quantity": 101}]).json()
    assert body["promisable"] is False and body["options"] == []
    assert body["lines"][0]["available_to_promise"] == 100
    assert "Only 100 of 101 units of MILK" in body["reason"]


def test_the_reason_is_in_the_readers_language(api, network):
    response = api.post(
        "/api/promise/",
        {"lines": [{"sku": "MILK", "quantity": 101}], "address": ADDRESS},
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert "仅有 100 / 101 件 MILK 可承诺送达上海" in response.json()["reason"]


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({"lines": [], "address": ADDRESS}, ["lines", "non_field_errors"]),
        ({"lines": [{"sku": "NOPE", "quantity": 1}], "address": ADDRESS}, ["lines", "0", "sku"]),
        (
            {"lines": [{"sku": "MILK", "quantity": 0}], "address": ADDRESS},
            ["lines", "0", "quantity"],
        ),
        (
            {
                "lines": [{"sku": "MILK", "quantity": 1}, {"sku": "MILK", "quantity": 1}],
                "address": ADDRESS,
            },
            ["lines", "1", "sku"],
        ),
        (
            {"lines": [{"sku": "MILK", "quantity": 1}], "address": {"province": "Atlantis"}},
            ["address", "province"],
        ),
        ({"lines": [{"sku": "MILK", "quantity": 1}]}, ["address"]),
        (
            {
                "lines": [{"sku": "MILK", "quantity": 1}],
                "address": {"province": "浙江"},
                "buyer": {"name": "张伟", "phone": "13800138000"},
            },
            ["address", "address_line"],
        ),
        (
            {
                "lines": [{"sku": "MILK", "quantity": 1}],
                "address": ADDRESS,
                "buyer": {"name": "张伟", "phone": "call me"},
            },
            ["buyer", "phone"],
        ),
    ],
)
def test_bad_carts_and_addresses_answer_400_with_field_messages(api, network, payload, where):
    response = api.post("/api/promise/", payload, format="json")
    assert response.status_code == 400, response.content
    node = response.json()
    for key in where:
        node = node[key]
    assert node and isinstance(node[0], str)


def test_another_merchants_skus_are_unknown_here(api, network):
    other = MerchantFactory()
    ProductFactory(merchant=other, sku="THEIRS")
    BatchFactory(warehouse=WarehouseFactory(merchant=other), product__sku="THEIRS2")
    response = _promise(api, [{"sku": "THEIRS", "quantity": 1}])
    assert response.status_code == 400
    assert response.json() == {"lines": {"0": {"sku": ["Unknown SKU 'THEIRS'."]}}}
    # and their stock never counts for this merchant's SKUs of the same name
    ProductFactory(merchant=other, sku="MILK2")
    mine = ProductFactory(merchant=network["milk"].merchant, sku="MILK2")
    BatchFactory(
        warehouse=WarehouseFactory(merchant=other),
        product=ProductFactory(merchant=other, sku="MILK3"),
    )
    body = _promise(api, [{"sku": mine.sku, "quantity": 1}]).json()
    assert body["lines"][0]["available_to_promise"] == 0


def test_it_needs_an_api_key(network):
    response = APIClient().post(
        "/api/promise/",
        {"lines": [{"sku": "MILK", "quantity": 1}], "address": ADDRESS},
        format="json",
    )
    assert response.status_code in (401, 403)


def test_the_buyers_open_order_to_the_same_address_is_offered_for_merging(api, merchant, network):
    first = make_order(merchant=merchant, lines=[(network["milk"], 1)])  # 张伟, 世纪大道100号
    first.refresh_from_db()
    body = _promise(
        api,
        [{"sku": "MILK", "quantity": 1}],
        address={
            "province": "上海",
            "city": "上海",
            "district": "浦东新区",
            "address_line": "世纪大道100号",
        },
        buyer={"name": "张伟", "phone": "13800138000"},
    ).json()
    assert body["merge"]["mergeable"] is True
    assert [o["id"] for o in body["merge"]["orders"]] == [first.pk]
    assert _promise(api, [{"sku": "MILK", "quantity": 1}]).json()["merge"] is None


def test_the_options_are_routings_own_plans(merchant, network, api):
    """Routing, given each option's promise, chooses that option's warehouse."""
    body = _promise(api, [{"sku": "MILK", "quantity": 2}]).json()
    order = make_order(merchant=merchant, lines=[(network["milk"], 2)])
    engine_order = context.engine_order(order)
    ctx = context.routing_context(merchant_id=merchant.pk, skus={"MILK"}, destination_region="east")
    for option in body["options"]:
        hours = (
            datetime.fromisoformat(option["promised_at"]) - timezone.now()
        ).total_seconds() / 3600
        from dataclasses import replace

        result = route_order(replace(engine_order, promised_hours=hours), ctx).result
        assert result.node_codes == (option["shipments"][0]["warehouse"],)


def test_the_endpoint_is_in_the_openapi_schema(api):
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    text = schema.content.decode()
    assert "/api/promise/" in text and "CartPromiseRequest" in text and "PromiseOption" in text


def test_it_routes_with_the_profile_in_force_and_sees_a_change_at_once(api, merchant, network):
    from routing.models import RoutingProfile

    first = _promise(api, [{"sku": "MILK", "quantity": 1}]).json()["profile"]
    profile = context.active_profile(merchant_id=merchant.pk)
    assert first == {"name": profile.name, "version": profile.version}
    with TestCase.captureOnCommitCallbacks(execute=True):
        mine = RoutingProfile.objects.create(name="Mine", merchant=merchant, priority=5)
    assert _promise(api, [{"sku": "MILK", "quantity": 1}]).json()["profile"]["name"] == "Mine"
    assert context.active_profile(merchant_id=merchant.pk) == mine
