"""Another merchant's ids answer 404 (never data) on every endpoint and verb."""

import json

import pytest

from oms.models import InventoryBatch, Order, Product, Warehouse
from tests.factories import (
    BatchFactory,
    ChannelFactory,
    MerchantFactory,
    ProductFactory,
    WarehouseFactory,
    make_order,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def theirs():
    other = MerchantFactory(name="Secret Rival Ltd")
    warehouse = WarehouseFactory(merchant=other, code="RIVAL-WH", name="Rival secret DC")
    product = ProductFactory(merchant=other, sku="RIVAL-SKU", name="Rival secret product")
    batch = BatchFactory(warehouse=warehouse, product=product, on_hand=9)
    channel = ChannelFactory(merchant=other, code="rival-shop")
    order = make_order(
        merchant=other, lines=[(product, 1)], channel=channel, external_id="RIVAL-ORDER"
    )
    return {
        "order": order,
        "product": product,
        "warehouse": warehouse,
        "batch": batch,
        "channel": channel,
    }


def _assert_404_without_data(response):
    assert response.status_code == 404, (response.status_code, response.content)
    text = response.content.decode()
    for secret in ("RIVAL", "Rival", "Secret"):
        assert secret not in text


MATRIX = [
    ("get", "/api/orders/{order}/", None),
    ("post", "/api/orders/{order}/cancel/", {"reason": "x"}),
    ("get", "/api/orders/{order}/timeline/", None),
    ("get", "/api/products/{product}/", None),
    ("put", "/api/products/{product}/", {"sku": "NEW", "name": "n", "unit_value": "1.00"}),
    ("patch", "/api/products/{product}/", {"name": "hijacked"}),
    ("delete", "/api/products/{product}/", None),
    ("get", "/api/warehouses/{warehouse}/", None),
    (
        "put",
        "/api/warehouses/{warehouse}/",
        {
            "code": "X",
            "name": "x",
            "kind": "own_dc",
            "province": "上海",
            "city": "上海",
            "latitude": "31",
            "longitude": "121",
        },
    ),
    ("patch", "/api/warehouses/{warehouse}/", {"status": "paused"}),
    ("delete", "/api/warehouses/{warehouse}/", None),
    ("get", "/api/inventory/{batch}/", None),
    ("post", "/api/inventory/bulk-update/", {"items": [{"batch": "{batch}", "on_hand": 0}]}),
]


@pytest.mark.parametrize(("method", "url", "body"), MATRIX, ids=[f"{m} {u}" for m, u, _ in MATRIX])
def test_other_merchants_objects_are_404_for_every_verb(api, theirs, method, url, body):
    ids = {name: obj.pk for name, obj in theirs.items()}
    if body is not None:
        body = json.loads(json.dumps(body).replace('"{batch}"', str(ids["batch"])))
    response = getattr(api, method)(url.format(**ids), body, format="json")
    _assert_404_without_data(response)
    # ... and nothing of theirs changed.
    order, batch = Order.objects.get(pk=ids["order"]), InventoryBatch.objects.get(pk=ids["batch"])
    assert order.status == "routed" and batch.on_hand == 9 and batch.reserved == 1
    assert Product.objects.get(pk=ids["product"]).name == "Rival secret product"
    assert Warehouse.objects.get(pk=ids["warehouse"]).status == "active"


def test_a_bulk_update_mixing_own_and_foreign_ids_is_404_and_writes_nothing(api, merchant, theirs):
    own = BatchFactory(warehouse=WarehouseFactory(merchant=merchant), on_hand=5)
    body = {
        "items": [{"batch": own.pk, "on_hand": 50}, {"batch": theirs["batch"].pk, "on_hand": 0}]
    }
    _assert_404_without_data(api.post("/api/inventory/bulk-update/", body, format="json"))
    own.refresh_from_db()
    assert own.on_hand == 5


@pytest.mark.parametrize(
    "path",
    ["/api/orders/", "/api/products/", "/api/warehouses/", "/api/inventory/", "/api/channels/"],
)
def test_lists_never_show_other_merchants_rows(api, theirs, path):
    response = api.get(path)
    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert "RIVAL" not in response.content.decode() and "rival" not in response.content.decode()


def test_filters_by_foreign_codes_find_nothing(api, theirs):
    assert api.get("/api/orders/?sku=RIVAL-SKU").json()["count"] == 0
    assert api.get("/api/inventory/?warehouse=RIVAL-WH").json()["count"] == 0
    assert api.get("/api/orders/?external_id=RIVAL-ORDER").json()["count"] == 0


def test_orders_cannot_reference_foreign_channels_or_skus(api, merchant, theirs):
    ChannelFactory(merchant=merchant, code="own-shop")
    body = {
        "channel": "rival-shop",
        "external_id": "X",
        "receiver": {
            "name": "a",
            "phone": "13800000000",
            "province": "上海",
            "city": "上海",
            "address_line": "a",
        },
        "lines": [{"sku": "RIVAL-SKU", "quantity": 1}],
    }
    response = api.post("/api/orders/", body, format="json")
    assert response.status_code == 400 and response.json()["channel"] == [
        "Unknown channel 'rival-shop'."
    ]
    body["channel"] = "own-shop"
    response = api.post("/api/orders/", body, format="json")
    assert response.status_code == 400 and response.json()["lines"]["0"]["sku"] == [
        "Unknown SKU 'RIVAL-SKU'."
    ]


def test_stock_by_codes_cannot_touch_foreign_warehouses(api, merchant, theirs):
    ProductFactory(merchant=merchant, sku="MINE")
    body = {"items": [{"warehouse": "RIVAL-WH", "sku": "MINE", "batch_number": "B1", "on_hand": 1}]}
    response = api.post("/api/inventory/bulk-update/", body, format="json")
    assert response.status_code == 400
    assert response.json()["items"]["0"]["warehouse"] == ["Unknown warehouse 'RIVAL-WH'."]
    assert InventoryBatch.objects.filter(warehouse=theirs["warehouse"]).count() == 1
