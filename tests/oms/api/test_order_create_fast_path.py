"""The order create's fast path: compiled validation, cached keys and channels, lean SQL."""

import copy
import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory
from django.utils import timezone

from oms import localcache
from oms.api.serializers import OrderCreateSerializer
from oms.models import ApiKey, Order, OrderEvent, OrderLine
from tests.factories import BatchFactory, ProductFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def products(merchant):
    warehouse = WarehouseFactory(merchant=merchant)
    made = [
        ProductFactory(merchant=merchant, sku="SOFA-1", unit_value="5999.00"),
        ProductFactory(merchant=merchant, sku="LAMP-2", unit_value="199.90"),
        ProductFactory(merchant=merchant, sku="OLD-3", unit_value="10.00", active=False),
    ]
    for product in made:
        BatchFactory(warehouse=warehouse, product=product, on_hand=100)
    return made


BASE = {
    "channel": "douyin",
    "external_id": "DY-1",
    "receiver": {
        "name": "张伟",
        "phone": "+86 138-0013-8000",
        "province": "浙江省",
        "city": "杭州",
        "address_line": "西湖区文三路90号",
    },
    "lines": [{"sku": "SOFA-1", "quantity": 1}],
}


def _with(**changes) -> dict:
    body = copy.deepcopy(BASE)
    for path, value in changes.items():
        node, *keys = path.split("__")
        target = body
        for key in [node, *keys][:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        last = [node, *keys][-1]
        if value is _DROP:
            del target[last]
        else:
            target[last] = value
    return body


_DROP = object()

VALID = [
    BASE,
    _with(external_id=12345),  # a number is taken as its text, as the serializer does
    _with(receiver__name="  张伟  "),  # surrounding spaces are trimmed
    _with(receiver__district="西湖区", receiver__postal_code="310000"),
    _with(lines=[{"sku": "SOFA-1", "quantity": 2, "unit_price": "5799.5"}]),
    _with(lines=[{"sku": "SOFA-1", "quantity": 1}, {"sku": "LAMP-2", "quantity": 3}]),
    _with(lines=[{"sku": "LAMP-2", "quantity": 1, "unit_price": 150}]),
    _with(shipping_fee="12.00", discount_total=20),
    _with(placed_at="2026-11-30T10:00:00+08:00", promised_at="2026-12-02T18:00:00Z"),
    _with(placed_at="2026-11-30T10:00:00", promised_at=None),  # naive: Asia/Shanghai
    _with(currency="CNY", unknown_field="ignored"),
]

INVALID = [
    "not an object",
    [BASE],
    _with(channel="no-such-channel"),
    _with(channel="bad channel!"),
    _with(external_id=""),
    _with(external_id=None),
    _with(external_id="x" * 65),
    _with(receiver="张伟"),
    _with(receiver__phone=_DROP),
    _with(receiver__phone="call me"),
    _with(receiver__province="Atlantis"),
    _with(receiver__name=True),
    _with(lines=[]),
    _with(lines="SOFA-1"),
    _with(lines=["SOFA-1"]),
    _with(lines=[{"sku": "SOFA-1", "quantity": 0}]),
    _with(lines=[{"sku": "SOFA-1", "quantity": True}]),
    _with(lines=[{"sku": "SOFA-1", "quantity": 1.5}]),
    _with(lines=[{"sku": "SOFA-1", "quantity": 1, "unit_price": "1.999"}]),
    _with(lines=[{"sku": "SOFA-1", "quantity": 1, "unit_price": "-1"}]),
    _with(lines=[{"sku": "GHOST", "quantity": 1}]),
    _with(lines=[{"sku": "OLD-3", "quantity": 1}]),
    _with(lines=[{"sku": "SOFA-1", "quantity": 1}, {"sku": "SOFA-1", "quantity": 1}]),
    _with(placed_at="yesterday"),
    _with(placed_at="2026-12-05T10:00:00+08:00", promised_at="2026-12-01T10:00:00+08:00"),
    _with(discount_total="99999"),
    _with(shipping_fee=None),
    _with(currency="USD"),
    _with(currency="cny"),
]


def _comparable(validated: dict) -> dict:
    data = json.loads(json.dumps(validated, default=str))
    data["channel"] = validated["channel"].pk
    for line, source in zip(data["lines"], validated["lines"], strict=True):
        line["product"] = source["product"].pk
    return data


def _drf(body, merchant) -> OrderCreateSerializer:
    request = SimpleNamespace(user=SimpleNamespace(merchant=merchant))
    serializer = OrderCreateSerializer(data=copy.deepcopy(body), context={"request": request})
    serializer.is_valid()
    return serializer


@pytest.mark.parametrize("body", VALID, ids=range(len(VALID)))
def test_the_fast_validation_gives_what_the_serializer_gives(body, channel, products, merchant):
    serializer = _drf(body, merchant)
    assert serializer.is_valid(), serializer.errors
    fast = OrderCreateSerializer.validated_fast(copy.deepcopy(body), merchant=merchant)
    assert fast is not None
    assert _comparable(fast) == _comparable(serializer.validated_data)


@pytest.mark.parametrize("body", INVALID, ids=range(len(INVALID)))
def test_the_fast_validation_declines_whatever_the_serializer_refuses(
    body, channel, products, merchant
):
    assert not _drf(body, merchant).is_valid()
    assert OrderCreateSerializer.validated_fast(copy.deepcopy(body), merchant=merchant) is None


@pytest.mark.parametrize("body", INVALID[2:], ids=range(len(INVALID) - 2))
def test_a_declined_request_still_gets_the_serializers_field_messages(
    body, api, channel, products, merchant
):
    response = api.post("/api/orders/", body, format="json")
    assert response.status_code == 400
    assert response.json() == json.loads(json.dumps(_drf(body, merchant).errors))
    assert not Order.objects.exists()


def test_a_key_revoked_in_admin_is_refused_at_once(api, channel, products, admin_user):
    assert api.get("/api/channels/").status_code == 200  # cached now
    admin = site._registry[ApiKey]
    request = RequestFactory().post("/admin/")
    request.user = admin_user
    request._messages = SimpleNamespace(add=lambda *a, **k: None)
    admin.revoke(request, ApiKey.objects.all())
    assert api.get("/api/channels/").status_code == 401


def test_a_key_revoked_behind_the_caches_back_expires_within_the_ttl(
    api, channel, settings, monkeypatch
):
    settings.OMS_API_LOCAL_CACHE_SECONDS = 30
    assert api.get("/api/channels/").status_code == 200
    ApiKey.objects.update(revoked_at=timezone.now())  # no signal: another process did it
    assert api.get("/api/channels/").status_code == 200  # still cached here
    later = localcache.time.monotonic() + 31
    monkeypatch.setattr(localcache.time, "monotonic", lambda: later)
    assert api.get("/api/channels/").status_code == 401


def test_with_the_cache_off_every_request_reads_the_key(api, channel, settings):
    settings.OMS_API_LOCAL_CACHE_SECONDS = 0
    assert api.get("/api/channels/").status_code == 200
    ApiKey.objects.update(revoked_at=timezone.now())
    assert api.get("/api/channels/").status_code == 401


def test_a_channel_deactivated_is_refused_at_once(api, channel, products):
    assert api.post("/api/orders/", BASE, format="json").status_code == 201
    channel.active = False
    channel.save()
    response = api.post("/api/orders/", _with(external_id="DY-2"), format="json")
    assert response.status_code == 400 and "inactive" in response.json()["channel"][0]


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_duplicate_is_a_409_and_nothing_half_written(
    api, channel, products
):
    """Without a caller's transaction the order insert runs without a savepoint."""
    first = api.post("/api/orders/", BASE, format="json", HTTP_IDEMPOTENCY_KEY="a")
    assert first.status_code == 201
    again = api.post("/api/orders/", BASE, format="json", HTTP_IDEMPOTENCY_KEY="b")
    assert again.status_code == 409 and again.json()["order_id"] == first.json()["id"]
    replay = api.post("/api/orders/", BASE, format="json", HTTP_IDEMPOTENCY_KEY="a")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    reused = api.post(
        "/api/orders/", _with(external_id="DY-9"), format="json", HTTP_IDEMPOTENCY_KEY="a"
    )
    assert reused.status_code == 422
    assert Order.objects.count() == 1
    assert OrderLine.objects.count() == 1
    assert OrderEvent.objects.filter(kind="created").count() == 1
    late = timezone.now() - timedelta(minutes=1)
    assert Order.objects.get().created_at > late


def test_a_channel_created_after_an_unknown_code_was_asked_for_is_found_at_once(
    api, merchant, products
):
    from oms.models import SalesChannel

    body = _with(channel="tmall-flagship")
    assert api.post("/api/orders/", body, format="json").status_code == 400  # not there yet
    # Created by another process: no signal reaches this one's cache.
    SalesChannel.objects.bulk_create(
        [SalesChannel(merchant=merchant, code="tmall-flagship", name="Tmall", kind="tmall")]
    )
    assert api.post("/api/orders/", body, format="json").status_code == 201
