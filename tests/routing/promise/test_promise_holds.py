"""Soft holds: a promise holds the option a checkout takes; others cannot take it meanwhile;
the order referencing it routes on it and consumes it; expired holds count for nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import TestCase
from django.utils import timezone

from customers.models import MatchRuleSet
from oms.models import InventoryBatch, OrderStatus
from routing.models import PromiseHold
from tests.factories import (
    BatchFactory,
    MerchantFactory,
    ProductFactory,
    WarehouseFactory,
    make_api_key,
    make_order,
)
from tests.routing.promise.test_promise_carriers import _link, _services

pytestmark = pytest.mark.django_db
ADDRESS = {"province": "上海", "city": "上海", "address_line": "世纪大道100号"}


@pytest.fixture
def shop(merchant):
    """One Shanghai warehouse with 3 units of tea and carrier services."""
    MatchRuleSet.objects.create(merchant=merchant, merge_window_minutes=0)
    dc = WarehouseFactory(merchant=merchant, code="SH-DC", name="Shanghai DC")
    _link(dc, _services(merchant))
    tea = ProductFactory(merchant=merchant, sku="TEA", weight_kg=Decimal("1.0"))
    BatchFactory(warehouse=dc, product=tea, on_hand=3, batch_number="T1")
    return {"dc": dc, "tea": tea}


def _promise(api, quantity, hold=None):
    body = {"lines": [{"sku": "TEA", "quantity": quantity}], "address": ADDRESS}
    if hold:
        body["hold"] = hold
    return api.post("/api/promise/", body, format="json")


def _available(api, quantity=1):
    return _promise(api, quantity).json()["lines"][0]["available_to_promise"]


def test_a_held_option_is_not_promised_to_anyone_else(api, shop):
    response = _promise(api, 2, hold={"option": "option-1", "external_id": "CART-1"})
    assert response.status_code == 200, response.content
    hold = response.json()["hold"]
    assert hold["option"] == "option-1" and hold["external_id"] == "CART-1"
    row = PromiseHold.objects.get(external_id="CART-1")
    assert row.units == [["SH-DC", "TEA", 2]] and len(row.parcels) == 1
    assert timedelta(minutes=14) < row.expires_at - timezone.now() <= timedelta(minutes=15)
    # Another checkout sees one unit; the holder itself still sees all three.
    assert _available(api) == 1
    assert _promise(api, 2).json()["promisable"] is False
    again = _promise(api, 3, hold={"option": "option-1", "external_id": "CART-1"}).json()
    assert again["promisable"] is True and again["lines"][0]["available_to_promise"] == 3


def test_holding_again_under_the_same_reference_replaces_the_hold(api, shop):
    _promise(api, 2, hold={"option": "option-1", "external_id": "CART-1"})
    _promise(api, 1, hold={"option": "option-1", "external_id": "CART-1"})
    assert PromiseHold.objects.count() == 1
    assert _available(api) == 2  # 3 less the one unit held now, not 3 less 2 less 1


def test_an_expired_hold_counts_for_nothing(api, shop):
    _promise(api, 2, hold={"option": "option-1", "external_id": "CART-1"})
    PromiseHold.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _available(api) == 3


def test_other_orders_are_not_routed_onto_held_units(merchant, api, shop):
    _promise(api, 3, hold={"option": "option-1", "external_id": "CART-1"})
    other = make_order(merchant=merchant, lines=[(shop["tea"], 1)], external_id="SOMEONE-ELSE")
    other.refresh_from_db()
    assert other.status == OrderStatus.NEEDS_ATTENTION
    assert PromiseHold.objects.get().consumed_at is None


def test_the_order_referencing_the_hold_routes_on_it_and_consumes_it(merchant, api, shop):
    _promise(api, 3, hold={"option": "option-1", "external_id": "CART-1"})
    order = make_order(merchant=merchant, lines=[(shop["tea"], 3)], external_id="CART-1")
    order.refresh_from_db()
    assert order.status == OrderStatus.ROUTED
    assert PromiseHold.objects.get().consumed_at is not None
    # Not counted twice: the reservation holds the units now, and nothing else does.
    assert InventoryBatch.objects.get(batch_number="T1").reserved == 3
    assert _available(api) == 0
    InventoryBatch.objects.filter(batch_number="T1").update(on_hand=5)
    with TestCase.captureOnCommitCallbacks(execute=True):
        InventoryBatch.objects.get(batch_number="T1").save()  # drop the ATP entry
    assert _available(api) == 2


def test_another_merchants_holds_never_count(api, shop):
    _promise(api, 3, hold={"option": "option-1", "external_id": "CART-1"})
    stranger = MerchantFactory()
    dc = WarehouseFactory(merchant=stranger, code="SH-DC")
    _link(dc, _services(stranger, prefix="XX"))
    BatchFactory(warehouse=dc, product=ProductFactory(merchant=stranger, sku="TEA"), on_hand=3)
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(stranger)}")
    assert _available(client) == 3
    assert _available(api) == 0


def test_holding_an_option_the_answer_does_not_have_is_a_400(api, shop):
    response = _promise(api, 1, hold={"option": "option-9", "external_id": "CART-1"})
    assert response.status_code == 400
    assert "option" in response.json()["hold"]
    bad = _promise(api, 1, hold={"option": "cheapest", "external_id": ""})
    assert bad.status_code == 400 and set(bad.json()["hold"]) == {"option", "external_id"}
    assert not PromiseHold.objects.exists()


def test_no_hold_is_placed_when_holds_are_off(api, shop, settings):
    settings.OMS_PROMISE_HOLD_MINUTES = 0
    body = _promise(api, 1, hold={"option": "option-1", "external_id": "CART-1"}).json()
    assert body["hold"] is None and not PromiseHold.objects.exists()
