from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import Identity, MatchRuleSet
from oms.models import Order
from tests.factories import (
    BatchFactory,
    MerchantFactory,
    ProductFactory,
    WarehouseFactory,
    make_order,
)

pytestmark = pytest.mark.django_db
BUYER = {"phone": "+86 138 0013 8000", "name": "张伟", "address": "上海市浦东新区世纪大道100号"}


@pytest.fixture
def first_order(merchant):
    product = ProductFactory(merchant=merchant)
    BatchFactory(warehouse=WarehouseFactory(merchant=merchant), product=product)
    order = make_order(
        merchant=merchant, lines=[(product, 1)]
    )  # receiver 张伟 13800138000 世纪大道100号
    order.refresh_from_db()
    assert order.customer_id
    return order


def test_a_second_order_of_the_same_person_in_the_window_can_merge(api, first_order):
    identities = Identity.objects.count()
    response = api.post("/api/orders/merge-check/", BUYER, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["mergeable"] is True and body["customer"] == first_order.customer_id
    assert [o["id"] for o in body["orders"]] == [first_order.pk] and body["window_minutes"] == 30
    assert body["reasons"]
    assert Identity.objects.count() == identities  # read-only


def test_outside_the_window_or_after_release_nothing_merges(api, merchant, first_order):
    MatchRuleSet.objects.create(merchant=merchant, merge_window_minutes=10)
    Order.objects.filter(pk=first_order.pk).update(
        created_at=timezone.now() - timedelta(minutes=11)
    )
    body = api.post("/api/orders/merge-check/", BUYER, format="json").json()
    assert body["mergeable"] is False and body["customer"] == first_order.customer_id
    Order.objects.filter(pk=first_order.pk).update(created_at=timezone.now(), status="released")
    assert api.post("/api/orders/merge-check/", BUYER, format="json").json()["mergeable"] is False


def test_another_person_or_another_merchant_never_sees_the_order(api, first_order):
    other = api.post(
        "/api/orders/merge-check/", {**BUYER, "phone": "13900139000", "name": "李娜"}, format="json"
    )
    assert other.json()["mergeable"] is False and other.json()["orders"] == []
    from rest_framework.test import APIClient

    from tests.factories import make_api_key

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(MerchantFactory())}")
    foreign = client.post("/api/orders/merge-check/", BUYER, format="json").json()
    assert foreign["mergeable"] is False and foreign["customer"] is None


def test_merge_check_validates_its_input(api, db):
    response = api.post("/api/orders/merge-check/", {"phone": "138"}, format="json")
    assert response.status_code == 400 and {"name", "address"} <= set(response.json())
