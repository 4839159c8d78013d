import json
from datetime import timedelta

import pytest
from django.utils import timezone

from oms import idempotency
from oms.models import IdempotencyRecord, InventoryBatch, Order
from tests.factories import (
    BatchFactory,
    MerchantFactory,
    ProductFactory,
    WarehouseFactory,
    make_api_key,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(merchant):
    product = ProductFactory(merchant=merchant)
    BatchFactory(warehouse=WarehouseFactory(merchant=merchant), product=product, on_hand=50)
    return product


def _order(channel, product, external_id="IDEM-1", quantity=1):
    return {
        "channel": channel.code,
        "external_id": external_id,
        "receiver": {
            "name": "王芳",
            "phone": "13900139000",
            "province": "浙江",
            "city": "杭州",
            "address_line": "文三路90号",
        },
        "lines": [{"sku": product.sku, "quantity": quantity}],
    }


def test_same_key_and_body_replays_the_first_response(api, channel, product):
    first = api.post(
        "/api/orders/", _order(channel, product), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert first.status_code == 201 and "Idempotent-Replayed" not in first
    # Same JSON with keys in another order is the same request.
    body = dict(reversed(list(_order(channel, product).items())))
    second = api.post("/api/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert Order.objects.count() == 1


def test_same_key_with_another_body_is_422(api, channel, product):
    api.post("/api/orders/", _order(channel, product), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    response = api.post(
        "/api/orders/",
        _order(channel, product, quantity=5),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1


def test_a_400_is_not_stored_so_a_corrected_retry_works(api, channel, product):
    bad = _order(channel, product)
    bad["lines"][0]["quantity"] = 0
    assert (
        api.post("/api/orders/", bad, format="json", HTTP_IDEMPOTENCY_KEY="k-3").status_code == 400
    )
    assert not IdempotencyRecord.objects.exists()
    good = api.post(
        "/api/orders/", _order(channel, product), format="json", HTTP_IDEMPOTENCY_KEY="k-3"
    )
    assert good.status_code == 201 and "Idempotent-Replayed" not in good


def _fingerprint(channel, product) -> str:
    return idempotency.fingerprint(
        method="POST", path="/api/orders/", body=json.dumps(_order(channel, product)).encode()
    )


def test_a_key_still_in_flight_is_409(api, channel, product, merchant):
    IdempotencyRecord.objects.create(
        merchant=merchant,
        key="k-4",
        fingerprint=_fingerprint(channel, product),
        locked_until=timezone.now() + timedelta(seconds=60),
    )
    response = api.post(
        "/api/orders/", _order(channel, product), format="json", HTTP_IDEMPOTENCY_KEY="k-4"
    )
    assert response.status_code == 409 and response.json()["code"] == "idempotency_key_in_flight"
    assert Order.objects.count() == 0


def test_an_abandoned_in_flight_key_is_taken_over_after_its_lock(api, channel, product, merchant):
    IdempotencyRecord.objects.create(
        merchant=merchant,
        key="k-5",
        fingerprint=_fingerprint(channel, product),
        locked_until=timezone.now() - timedelta(seconds=1),
    )
    response = api.post(
        "/api/orders/", _order(channel, product), format="json", HTTP_IDEMPOTENCY_KEY="k-5"
    )
    assert response.status_code == 201
    assert IdempotencyRecord.objects.get(key="k-5").state == "completed"


def test_keys_are_scoped_per_merchant(api, channel, product):
    from rest_framework.test import APIClient

    from tests.factories import ChannelFactory

    api.post("/api/orders/", _order(channel, product), format="json", HTTP_IDEMPOTENCY_KEY="shared")
    other = MerchantFactory()
    other_product = ProductFactory(merchant=other, sku=product.sku)
    other_channel = ChannelFactory(merchant=other, code=channel.code)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(other)}")
    response = client.post(
        "/api/orders/",
        _order(other_channel, other_product),
        format="json",
        HTTP_IDEMPOTENCY_KEY="shared",
    )
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert response.json()["id"] != Order.objects.filter(merchant=channel.merchant).get().pk


def test_keys_expire_after_the_ttl_and_are_purged(api, channel, product, settings):
    from oms.tasks import purge_idempotency_records

    api.post("/api/orders/", _order(channel, product), format="json", HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyRecord.objects.update(
        created_at=timezone.now() - timedelta(hours=settings.OMS_IDEMPOTENCY_TTL_HOURS + 1)
    )
    assert settings.OMS_IDEMPOTENCY_TTL_HOURS >= 24
    assert purge_idempotency_records() == 1
    assert not IdempotencyRecord.objects.exists()


def test_stock_adjustments_are_idempotent(api, merchant, product):
    batch = InventoryBatch.objects.get(product=product)
    body = {"items": [{"batch": batch.pk, "delta": 10}]}
    first = api.post(
        "/api/inventory/bulk-update/", body, format="json", HTTP_IDEMPOTENCY_KEY="stock-1"
    )
    second = api.post(
        "/api/inventory/bulk-update/", body, format="json", HTTP_IDEMPOTENCY_KEY="stock-1"
    )
    assert first.status_code == second.status_code == 200
    assert second["Idempotent-Replayed"] == "true"
    batch.refresh_from_db()
    assert batch.on_hand == 60  # +10 once, not twice


def test_domain_conflicts_are_replayed_too(api, channel, product):
    order_id = api.post("/api/orders/", _order(channel, product), format="json").json()["id"]
    api.post(f"/api/orders/{order_id}/cancel/", {}, format="json")
    first = api.post(
        f"/api/orders/{order_id}/cancel/", {}, format="json", HTTP_IDEMPOTENCY_KEY="c-1"
    )
    second = api.post(
        f"/api/orders/{order_id}/cancel/", {}, format="json", HTTP_IDEMPOTENCY_KEY="c-1"
    )
    assert first.status_code == second.status_code == 409
    assert second["Idempotent-Replayed"] == "true"


def _crash_before_the_response_was_stored(key: str) -> None:
    """What a worker killed after the order committed leaves behind: the claim, in flight,
    with no stored response (its lock expires as a dead worker's does)."""
    IdempotencyRecord.objects.filter(key=key).update(
        state=IdempotencyRecord.State.IN_FLIGHT,
        response_status=None,
        response_body=None,
        response_content_type="",
        locked_until=timezone.now() - timedelta(seconds=1),
    )


def test_a_retry_after_a_crash_past_the_order_replays_the_original_201(api, channel, product):
    first = api.post(
        "/api/orders/", _order(channel, product), format="json", HTTP_IDEMPOTENCY_KEY="k-crash"
    )
    assert first.status_code == 201
    _crash_before_the_response_was_stored("k-crash")

    retry = api.post(
        "/api/orders/", _order(channel, product), format="json", HTTP_IDEMPOTENCY_KEY="k-crash"
    )

    assert retry.status_code == 201, retry.json()
    assert retry.json()["id"] == first.json()["id"] and Order.objects.count() == 1
    assert retry.json()["external_id"] == first.json()["external_id"]
    again = api.post(
        "/api/orders/", _order(channel, product), format="json", HTTP_IDEMPOTENCY_KEY="k-crash"
    )
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]


def test_a_retry_after_a_crash_before_the_order_creates_it(api, channel, product, merchant):
    IdempotencyRecord.objects.create(
        merchant=merchant,
        key="k-early",
        fingerprint=_fingerprint(channel, product),
        locked_until=timezone.now() - timedelta(seconds=1),
    )
    retry = api.post(
        "/api/orders/", _order(channel, product), format="json", HTTP_IDEMPOTENCY_KEY="k-early"
    )
    assert retry.status_code == 201 and Order.objects.count() == 1


def test_the_same_order_under_another_key_is_still_a_duplicate(api, channel, product):
    first = api.post(
        "/api/orders/", _order(channel, product), format="json", HTTP_IDEMPOTENCY_KEY="k-one"
    )
    other = api.post(
        "/api/orders/", _order(channel, product), format="json", HTTP_IDEMPOTENCY_KEY="k-two"
    )
    without = api.post("/api/orders/", _order(channel, product), format="json")
    assert first.status_code == 201
    assert other.status_code == 409 and other.json()["code"] == "duplicate_order"
    assert without.status_code == 409 and without.json()["code"] == "duplicate_order"
