import json

import pytest

from oms.models import InventoryBatch, Order, OrderEvent, OrderLine
from tests.factories import BatchFactory, ProductFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


def _body(channel, product, **overrides):
    body = {
        "channel": channel.code,
        "external_id": "DY-1001",
        "receiver": {
            "name": "张伟",
            "phone": "+86 138-0013-8000",
            "province": "上海市",
            "city": "上海",
            "district": "浦东新区",
            "address_line": "世纪大道100号3号楼1201室",
        },
        "lines": [{"sku": product.sku, "quantity": 2}],
        "promised_at": "2026-12-01T18:00:00+08:00",
    }
    body.update(overrides)
    return body


@pytest.fixture
def stocked(merchant):
    warehouse = WarehouseFactory(merchant=merchant)
    product = ProductFactory(merchant=merchant, unit_value="5999.00")
    batch = BatchFactory(warehouse=warehouse, product=product, on_hand=10)
    return warehouse, product, batch


def test_create_order_routes_it_after_commit(
    api, channel, stocked, django_capture_on_commit_callbacks
):
    warehouse, product, batch = stocked
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/orders/", _body(channel, product), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "created"  # the response is written before routing runs
    assert data["total"] == "11998.00" and data["currency"] == "CNY" and data["region"] == "east"
    assert data["lines"][0] == {
        "id": data["lines"][0]["id"],
        "sku": product.sku,
        "name": product.name,
        "quantity": 2,
        "unit_price": "5999.00",
        "line_total": "11998.00",
    }
    order = Order.objects.get(pk=data["id"])
    assert order.status == "routed"
    assert InventoryBatch.objects.get(pk=batch.pk).reserved == 2
    detail = api.get(f"/api/orders/{order.pk}/").json()
    assert detail["status"] == "routed" and detail["shipments"][0]["warehouse"] == warehouse.code


def test_times_are_stored_in_utc(api, channel, stocked):
    response = api.post("/api/orders/", _body(channel, stocked[1]), format="json")
    order = Order.objects.get(pk=response.json()["id"])
    assert order.promised_at.isoformat() == "2026-12-01T10:00:00+00:00"
    assert response.json()["promised_at"] == "2026-12-01T18:00:00+08:00"  # shown in Asia/Shanghai


def test_timeline_and_cancel(api, channel, stocked, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order_id = api.post("/api/orders/", _body(channel, stocked[1]), format="json").json()["id"]
    response = api.post(
        f"/api/orders/{order_id}/cancel/", {"reason": "customer changed mind"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert InventoryBatch.objects.get(pk=stocked[2].pk).reserved == 0
    timeline = api.get(f"/api/orders/{order_id}/timeline/").json()
    assert [(e["kind"], e["to_status"]) for e in timeline] == [
        ("created", "created"),
        ("status", "routed"),
        ("status", "cancelled"),
    ]
    assert timeline[-1]["message"] == "customer changed mind"
    assert timeline[-1]["actor"].startswith("api:")
    again = api.post(f"/api/orders/{order_id}/cancel/", {}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "illegal_transition"


def test_duplicate_external_id_answers_409_with_the_existing_order(api, channel, stocked):
    first = api.post("/api/orders/", _body(channel, stocked[1]), format="json").json()
    response = api.post("/api/orders/", _body(channel, stocked[1]), format="json")
    assert response.status_code == 409
    assert (
        response.json()["code"] == "duplicate_order" and response.json()["order_id"] == first["id"]
    )
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field_path"),
    [
        ({"lines": []}, ["lines"]),
        ({"lines": [{"sku": "NOPE", "quantity": 1}]}, ["lines", "0", "sku"]),
        ({"lines": [{"sku": "{sku}", "quantity": -3}]}, ["lines", "0", "quantity"]),
        ({"lines": [{"sku": "{sku}", "quantity": "two"}]}, ["lines", "0", "quantity"]),
        (
            {"lines": [{"sku": "{sku}", "quantity": 1, "unit_price": "-1"}]},
            ["lines", "0", "unit_price"],
        ),
        (
            {"lines": [{"sku": "{sku}", "quantity": 1}, {"sku": "{sku}", "quantity": 2}]},
            ["lines", "1", "sku"],
        ),
        ({"lines": "not a list"}, ["lines"]),
        ({"channel": "no-such-channel"}, ["channel"]),
        ({"external_id": ""}, ["external_id"]),
        ({"receiver": {"name": "x"}}, ["receiver", "phone"]),
        (
            {
                "receiver": {
                    "name": "x",
                    "phone": "13800138000",
                    "province": "Atlantis",
                    "city": "c",
                    "address_line": "a",
                }
            },
            ["receiver", "province"],
        ),
        ({"promised_at": "yesterday"}, ["promised_at"]),
        ({"discount_total": "99999"}, ["discount_total"]),
        ({"currency": "USD"}, ["currency"]),
    ],
)
def test_bad_input_is_a_400_with_field_messages_and_writes_nothing(
    api, channel, stocked, change, field_path
):
    body = _body(channel, stocked[1])
    body.update(json.loads(json.dumps(change).replace("{sku}", stocked[1].sku)))
    response = api.post("/api/orders/", body, format="json")
    assert response.status_code == 400, response.content
    node = response.json()
    for key in field_path:
        node = node[key]
    assert node  # a message sits exactly at the offending field
    assert (
        Order.objects.count() == 0
        and OrderLine.objects.count() == 0
        and OrderEvent.objects.count() == 0
    )


def test_unknown_sku_message_names_the_sku(api, channel, stocked):
    body = _body(
        channel,
        stocked[1],
        lines=[{"sku": stocked[1].sku, "quantity": 1}, {"sku": "GHOST", "quantity": 1}],
    )
    response = api.post("/api/orders/", body, format="json")
    assert response.json() == {"lines": {"1": {"sku": ["Unknown SKU 'GHOST'."]}}}


def test_malformed_json_and_missing_body_are_400(api, channel):
    response = api.post("/api/orders/", data="{not json", content_type="application/json")
    assert response.status_code == 400 and "JSON parse error" in response.json()["detail"]
    response = api.post("/api/orders/", data="", content_type="application/json")
    assert response.status_code == 400 and "channel" in response.json()


def test_oversized_payload_is_400(api, channel, stocked, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    body = _body(channel, stocked[1], external_id="x" * 60)
    body["receiver"]["address_line"] = "长" * 3000
    response = api.post("/api/orders/", body, format="json")
    assert response.status_code == 400 and response.json()["code"] == "payload_too_large"
    assert Order.objects.count() == 0


def test_too_many_lines_is_400(api, channel, stocked, settings):
    products = [ProductFactory(merchant=stocked[1].merchant) for _ in range(3)]
    body = _body(channel, stocked[1], lines=[{"sku": p.sku, "quantity": 1} for p in products])
    settings.OMS_MAX_ORDER_LINES = 2
    response = api.post("/api/orders/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"lines": ["At most 2 lines per order."]}


def test_unauthenticated_requests_are_401(channel):
    from rest_framework.test import APIClient

    assert APIClient().get("/api/orders/").status_code == 401
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer oms_wrong")
    assert client.get("/api/orders/").status_code == 401


def test_list_filters_ordering_and_stable_pages(api, channel, stocked, merchant):
    other_channel = type(channel).objects.create(
        merchant=merchant, code="tmall", name="Tmall", kind="tmall"
    )
    ids = []
    for number in range(7):
        ch = channel if number % 2 == 0 else other_channel
        ids.append(
            api.post(
                "/api/orders/", _body(ch, stocked[1], external_id=f"E{number}"), format="json"
            ).json()["id"]
        )
    # All created in the same second or so: ordering by status alone would tie; pages must not.
    seen = []
    for page in (1, 2, 3):
        data = api.get(f"/api/orders/?ordering=status&page_size=3&page={page}").json()
        seen += [row["id"] for row in data["results"]]
    assert sorted(seen) == sorted(ids) and len(seen) == 7
    tmall = api.get("/api/orders/?channel=tmall").json()
    assert tmall["count"] == 3 and {r["channel"] for r in tmall["results"]} == {"tmall"}
    assert api.get(f"/api/orders/?sku={stocked[1].sku}").json()["count"] == 7
    assert api.get("/api/orders/?sku=nothing").json()["count"] == 0
    assert (
        api.get("/api/orders/?created_after=2000-01-01T00:00:00Z&status=created").json()["count"]
        == 7
    )
    assert api.get("/api/orders/?created_before=2000-01-01T00:00:00Z").json()["count"] == 0
    assert api.get("/api/orders/?status=bogus").status_code == 400
    totals = [r["id"] for r in api.get("/api/orders/?ordering=-id").json()["results"]]
    assert totals == sorted(ids, reverse=True)


def test_order_create_stays_within_its_query_budget(
    api, channel, stocked, django_assert_max_num_queries
):
    """Idempotency claim, SKUs, order, lines, timeline, idempotency finish: 6 statements.

    The API key and the channel come from the process-local cache after the first request.
    """
    warm = api.post("/api/orders/", _body(channel, stocked[1], external_id="W"), format="json")
    assert warm.status_code == 201  # the first order of this key and channel fills the cache
    with django_assert_max_num_queries(20) as captured:
        response = api.post(
            "/api/orders/", _body(channel, stocked[1]), format="json", HTTP_IDEMPOTENCY_KEY="q-1"
        )
    assert response.status_code == 201
    statements = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) <= 6, statements
    assert not any(sql.startswith("SELECT") and 'FROM "oms_order"' in sql for sql in statements)
