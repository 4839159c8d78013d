"""The order API answers the same with its fast paths (``oms/fastpaths.py``) on and off.

Each scenario runs twice, against two merchants set up alike: once with
``OMS_API_FAST_PATHS`` on, once off. Status codes, the replay header and the bodies must be
equal once ids (numbered in order of appearance, per kind) and the times the server stamps
(now) are normalised. On PostgreSQL the create with the fast paths on is the one-statement
insert, and with Redis as the cache the throttle is the pipelined counter, so run this module
on both databases (and with ``REDIS_URL``).
"""

import copy
import json
import re
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers
from rest_framework.test import APIClient

from oms import fastpaths
from oms.api.serializers import OrderCreateSerializer, OrderSerializer
from oms.api.throttling import _count
from oms.localcache import clear_all
from oms.models import Order, OrderEvent, OrderLine
from oms.services.orders import order_release, order_ship
from tests.factories import (
    BatchFactory,
    ChannelFactory,
    MerchantFactory,
    ProductFactory,
    WarehouseFactory,
    make_api_key,
)

pytestmark = pytest.mark.django_db

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

_DROP = object()


def _with(**changes) -> dict:
    """``BASE`` with the values at ``a__b__0__c`` paths replaced (``_DROP`` removes one)."""
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


# --- two merchants set up alike ---------------------------------------------------------------
def _shop() -> SimpleNamespace:
    merchant = MerchantFactory(code="shop", name="Shop")  # its code is in the timeline's actor
    warehouse = WarehouseFactory(merchant=merchant, code="SH", name="Shanghai DC")
    products = [
        ProductFactory(merchant=merchant, sku="SOFA-1", name="Sofa", unit_value="5999.00"),
        ProductFactory(merchant=merchant, sku="LAMP-2", name="Lamp", unit_value="199.90"),
        ProductFactory(
            merchant=merchant, sku="OLD-3", name="Old", unit_value="10.00", active=False
        ),
    ]
    for product in products:
        BatchFactory(warehouse=warehouse, product=product, on_hand=100)
    ChannelFactory(merchant=merchant, code="douyin", name="Douyin shop")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(merchant)}")
    return SimpleNamespace(merchant=merchant, warehouse=warehouse, api=api)


class _Answers(list):
    """What a scenario saw: (step, status, replayed header, body) per request."""

    def add(self, step: str, response, *, kind: str = "order") -> None:
        body = json.loads(response.content) if response.content else None
        self.append((step, response.status_code, response.get("Idempotent-Replayed"), kind, body))


def _create_valid_bodies(shop, capture) -> _Answers:
    answers = _Answers()
    for number, body in enumerate(VALID):
        if body["external_id"] == BASE["external_id"]:
            body = {**body, "external_id": f"DY-V{number}"}
        answers.add(f"create #{number}", shop.api.post("/api/orders/", body, format="json"))
    return answers


def _create_invalid_bodies(shop, capture) -> _Answers:
    answers = _Answers()
    for number, body in enumerate(INVALID):
        answers.add(f"refuse #{number}", shop.api.post("/api/orders/", body, format="json"))
    assert not Order.objects.filter(merchant=shop.merchant).exists()
    return answers


def _replay_and_duplicates(shop, capture) -> _Answers:
    answers, post = _Answers(), shop.api.post
    answers.add("first", post("/api/orders/", BASE, format="json", HTTP_IDEMPOTENCY_KEY="k-1"))
    answers.add("replay", post("/api/orders/", BASE, format="json", HTTP_IDEMPOTENCY_KEY="k-1"))
    other = _with(external_id="DY-9")
    answers.add(
        "key reused", post("/api/orders/", other, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    )
    answers.add("duplicate", post("/api/orders/", BASE, format="json", HTTP_IDEMPOTENCY_KEY="k-2"))
    answers.add("duplicate without key", post("/api/orders/", BASE, format="json"))
    refused = _with(lines=[])
    answers.add("refused", post("/api/orders/", refused, format="json", HTTP_IDEMPOTENCY_KEY="k-3"))
    answers.add(
        "not kept", post("/api/orders/", refused, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    )
    return answers


def _read_back(shop, capture) -> _Answers:
    """Orders shipped, cancelled, new and unroutable: created, listed, read, cancelled."""
    answers, api = _Answers(), shop.api
    with capture(execute=True):  # routed after commit
        shipped = api.post("/api/orders/", BASE, format="json")
    answers.add("create, routed after commit", shipped)
    order = Order.objects.get(pk=shipped.json()["id"])
    order_release(order=order, actor="test")
    order_ship(order=order, actor="test", tracking_numbers={shop.warehouse.pk: "SF100"})
    two_lines = _with(
        external_id="DY-2",
        lines=[{"sku": "SOFA-1", "quantity": 1}, {"sku": "LAMP-2", "quantity": 3}],
        placed_at="2026-11-30T10:00:00+08:00",
        promised_at="2026-12-02T18:00:00Z",
    )
    cancelled = api.post("/api/orders/", two_lines, format="json").json()["id"]
    api.post("/api/orders/", _with(external_id="DY-3"), format="json")
    too_many = _with(external_id="DY-4", lines=[{"sku": "LAMP-2", "quantity": 999}])
    with capture(execute=True):  # routing finds no stock for it
        unroutable = api.post("/api/orders/", too_many, format="json").json()["id"]
    answers.add("cancel", api.post(f"/api/orders/{cancelled}/cancel/", {}, format="json"))
    answers.add("list", api.get("/api/orders/"))
    answers.add("list, filtered", api.get("/api/orders/?status=created"))
    answers.add("detail, shipped", api.get(f"/api/orders/{order.pk}/"))
    answers.add("detail, cancelled", api.get(f"/api/orders/{cancelled}/"))
    answers.add("detail, unroutable", api.get(f"/api/orders/{unroutable}/"))
    answers.add("timeline", api.get(f"/api/orders/{cancelled}/timeline/"), kind="event")
    answers.add("not found", api.get("/api/orders/999999/"))
    return answers


def _throttle(shop, capture) -> _Answers:
    answers = _Answers()
    order = shop.api.post("/api/orders/", BASE, format="json").json()["id"]
    shop.merchant.api_throttle_rate = "3/hour"  # an hour's window: the test never straddles two
    shop.merchant.save()
    for number in range(3):
        answers.add(f"allowed #{number}", shop.api.get(f"/api/orders/{order}/"))
    answers.add("throttled get", shop.api.get(f"/api/orders/{order}/"))
    answers.add("throttled create", shop.api.post("/api/orders/", BASE, format="json"))
    return answers


SCENARIOS = [_create_valid_bodies, _create_invalid_bodies, _replay_and_duplicates, _read_back]
SCENARIOS += [_throttle]


# --- normalising ------------------------------------------------------------------------------
_STAMPED = {"created_at", "updated_at", "placed_at", "shipped_at", "delivered_at", "at"}
_ID_KINDS = {"order_id": "order", "customer": "customer", "consolidation": "consolidation"}
_LIST_KINDS = {"lines": "line", "shipments": "shipment", "results": None}


class _Normaliser:
    """Ids become their order of appearance per kind; times stamped now become ``"<now>"``."""

    def __init__(self, since: datetime) -> None:
        self.since = since - timedelta(minutes=10)
        self.ids: dict[tuple[str, int], str] = {}

    def __call__(self, value, kind: str):
        if isinstance(value, list):
            return [self(item, kind) for item in value]
        if not isinstance(value, dict):
            return value
        result = {}
        for key, item in value.items():
            if key == "id" or (key in _ID_KINDS and isinstance(item, int)):
                result[key] = self._id(kind if key == "id" else _ID_KINDS[key], item)
            elif key in _STAMPED and isinstance(item, str):
                result[key] = self._time(item)
            elif key == "detail" and isinstance(item, str):  # the throttle's wait, in seconds
                result[key] = re.sub(r"\d+ seconds?", "<n> seconds", item)
            else:
                result[key] = self(item, _LIST_KINDS.get(key) or kind)
        return result

    def _id(self, kind: str, value: int) -> str:
        return self.ids.setdefault((kind, value), f"{kind} #{len(self.ids) + 1}")

    def _time(self, value: str) -> str:
        stamped = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return "<now>" if stamped >= self.since else value


def _normalised(answers: _Answers, since: datetime) -> list:
    normalise = _Normaliser(since)
    return [
        (step, status, replayed, normalise(body, kind))
        for step, status, replayed, kind, body in answers
    ]


@pytest.fixture
def both_ways(settings, django_capture_on_commit_callbacks):
    """Run a scenario with the fast paths on, then off, on the same shop; both normalised.

    Each run is rolled back, so the second starts from the same rows (with new ids).
    """

    def run(scenario) -> tuple[list, list]:
        results = []
        for fast in (True, False):
            settings.OMS_API_FAST_PATHS = fast
            cache.clear()
            clear_all()
            since = timezone.now()
            with transaction.atomic():
                answers = scenario(_shop(), django_capture_on_commit_callbacks)
                transaction.set_rollback(True)
            results.append(_normalised(answers, since))
        return results[0], results[1]

    return run


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.__name__.strip("_") for s in SCENARIOS])
def test_the_api_answers_the_same_with_the_fast_paths_off(both_ways, scenario):
    fast, plain = both_ways(scenario)
    assert [answer[:3] for answer in fast] == [answer[:3] for answer in plain]
    for fast_answer, plain_answer in zip(fast, plain, strict=True):
        assert fast_answer == plain_answer


def test_the_scenarios_see_what_they_mean_to(both_ways):
    """A guard on the comparison: the answers compared are the ones the scenarios aim at."""
    fast, _plain = both_ways(_read_back)
    by_step = {step: (status, body) for step, status, _replayed, body in fast}
    assert by_step["detail, shipped"][1]["shipments"][0]["tracking_number"] == "SF100"
    assert by_step["detail, shipped"][1]["status"] == "shipped"
    assert [line["sku"] for line in by_step["cancel"][1]["lines"]] == ["SOFA-1", "LAMP-2"]
    assert by_step["cancel"][1]["placed_at"] == "2026-11-30T10:00:00+08:00"
    assert by_step["list"][1]["count"] == 4
    assert by_step["detail, unroutable"][1]["status"] == "needs_attention"
    fast, _plain = both_ways(_throttle)
    assert [status for _step, status, _replayed, _body in fast] == [200, 200, 200, 429, 429]
    fast, _plain = both_ways(_replay_and_duplicates)
    assert [(status, replayed) for _step, status, replayed, _body in fast] == [
        (201, None),
        (201, "true"),
        (422, None),
        (409, None),
        (409, None),
        (400, None),
        (400, None),
    ]
    assert fast[3][3]["order_id"] == fast[0][3]["id"] == "order #1"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fast", [True, False], ids=["fast", "plain"])
def test_outside_a_transaction_a_duplicate_is_a_409_and_nothing_half_written(settings, fast):
    """Without a caller's transaction the order insert runs without a savepoint."""
    settings.OMS_API_FAST_PATHS = fast
    cache.clear()
    api = _shop().api
    first = api.post("/api/orders/", BASE, format="json", HTTP_IDEMPOTENCY_KEY="a")
    assert first.status_code == 201
    assert first.json()["status"] == "created"  # as written: routing ran after the commit
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
    assert Order.objects.get().created_at > timezone.now() - timedelta(minutes=1)


def test_the_fast_rendering_equals_the_generic_one_for_every_order(
    settings, django_capture_on_commit_callbacks
):
    _read_back(_shop(), django_capture_on_commit_callbacks)
    orders = Order.objects.all()
    statuses = {order.status for order in orders}
    assert statuses == {"shipped", "cancelled", "created", "needs_attention"}
    for order in orders:
        settings.OMS_API_FAST_PATHS = True
        fast = OrderSerializer(order).data
        settings.OMS_API_FAST_PATHS = False
        assert fast == OrderSerializer(order).data


# --- the fast paths one by one ----------------------------------------------------------------
@pytest.fixture
def shop():
    cache.clear()
    return _shop()


def _comparable(validated: dict) -> dict:
    data = json.loads(json.dumps(validated, default=str))
    data["channel"] = validated["channel"].pk
    for line, source in zip(data["lines"], validated["lines"], strict=True):
        line["product"] = source["product"].pk
    return data


def _serializer(body, merchant) -> OrderCreateSerializer:
    request = SimpleNamespace(user=SimpleNamespace(merchant=merchant))
    serializer = OrderCreateSerializer(data=copy.deepcopy(body), context={"request": request})
    serializer.is_valid()
    return serializer


@pytest.mark.parametrize("body", VALID, ids=range(len(VALID)))
def test_the_fast_validation_gives_what_the_serializer_gives(body, shop):
    serializer = _serializer(body, shop.merchant)
    assert serializer.is_valid(), serializer.errors
    fast = OrderCreateSerializer.validated_fast(copy.deepcopy(body), merchant=shop.merchant)
    assert fast is not None
    assert _comparable(fast) == _comparable(serializer.validated_data)


@pytest.mark.parametrize("body", INVALID, ids=range(len(INVALID)))
def test_the_fast_validation_declines_whatever_the_serializer_refuses(body, shop):
    assert not _serializer(body, shop.merchant).is_valid()
    assert OrderCreateSerializer.validated_fast(copy.deepcopy(body), merchant=shop.merchant) is None


def test_the_fast_validation_leaves_nested_serializers_with_checks_of_their_own_to_drf():
    class Checked(serializers.Serializer):
        name = serializers.CharField()

        def validate_name(self, name: str) -> str:
            return name.upper()

    class Outer(serializers.Serializer):
        inner = Checked()
        items = Checked(many=True)

    plain = {"inner": {"name": "a"}, "items": []}
    assert fastpaths.validated_without_serializer_tree(Outer, plain, finish=dict) is None
    assert Outer(data=plain).is_valid()


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("fast", "inserts"), [(True, ["WITH"]), (False, ["INSERT", "INSERT", "INSERT"])]
)
def test_on_postgresql_the_fast_create_is_one_statement(shop, settings, fast, inserts):
    settings.OMS_API_FAST_PATHS = fast
    with CaptureQueriesContext(connection) as captured:
        response = shop.api.post("/api/orders/", _with(lines=VALID[5]["lines"]), format="json")
    assert response.status_code == 201
    writes = [
        query["sql"].split()[0]
        for query in captured.captured_queries
        if 'INTO "oms_order' in query["sql"]
    ]
    assert writes == inserts


def test_both_throttle_paths_count_one_counter(settings):
    cache.clear()
    counts = []
    for fast in (True, False, True, False):
        settings.OMS_API_FAST_PATHS = fast
        counts.append(_count("throttle:test:1:60:1", ttl=61))
    assert counts == [1, 2, 3, 4]
    on_redis = "redis" in settings.CACHES["default"]["BACKEND"].lower()
    assert (fastpaths.count_in_window("throttle:test:1:60:1", ttl=61) is not None) == on_redis
