import pytest

from oms.models import InventoryBatch, Product, Warehouse
from tests.factories import BatchFactory, ProductFactory, WarehouseFactory, make_order

pytestmark = pytest.mark.django_db

WAREHOUSE = {
    "code": "HZ-RC",
    "name": "杭州区域仓",
    "kind": "regional",
    "province": "浙江省",
    "city": "杭州",
    "latitude": "30.27000",
    "longitude": "120.15000",
    "cold_chain": True,
    "daily_capacity": 2500,
}


def test_product_crud(api, merchant):
    created = api.post(
        "/api/products/",
        {"sku": "SOFA-1", "name": "沙发", "unit_value": "5999.00", "temperature_class": "ambient"},
        format="json",
    )
    assert created.status_code == 201, created.content
    product_id = created.json()["id"]
    assert created.json()["currency"] == "CNY"
    assert (
        api.patch(f"/api/products/{product_id}/", {"unit_value": "5799.00"}, format="json").json()[
            "unit_value"
        ]
        == "5799.00"
    )
    duplicate = api.post(
        "/api/products/", {"sku": "SOFA-1", "name": "x", "unit_value": "1"}, format="json"
    )
    assert duplicate.status_code == 400 and duplicate.json()["sku"] == ["Already in use."]
    negative = api.post(
        "/api/products/", {"sku": "N", "name": "x", "unit_value": "-1"}, format="json"
    )
    assert negative.status_code == 400 and "unit_value" in negative.json()
    assert api.get("/api/products/?temperature_class=ambient").json()["count"] == 1
    assert api.delete(f"/api/products/{product_id}/").status_code == 204
    assert not Product.objects.filter(pk=product_id).exists()


def test_deleting_a_product_with_stock_or_orders_is_409(api, merchant):
    product = ProductFactory(merchant=merchant)
    BatchFactory(warehouse=WarehouseFactory(merchant=merchant), product=product)
    make_order(merchant=merchant, lines=[(product, 1)])
    response = api.delete(f"/api/products/{product.pk}/")
    assert response.status_code == 409 and response.json()["code"] == "in_use"
    assert Product.objects.filter(pk=product.pk).exists()


def test_warehouse_crud_derives_region_from_province(api, merchant):
    created = api.post("/api/warehouses/", WAREHOUSE, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["region"] == "east" and created.json()["status"] == "active"
    warehouse_id = created.json()["id"]
    paused = api.patch(
        f"/api/warehouses/{warehouse_id}/",
        {"status": "paused", "status_reason": "cold-chain fault"},
        format="json",
    )
    assert paused.json()["status"] == "paused"
    bad = api.post("/api/warehouses/", {**WAREHOUSE, "code": "X", "latitude": "123"}, format="json")
    assert bad.status_code == 400 and "latitude" in bad.json()
    assert api.get("/api/warehouses/?status=paused").json()["count"] == 1
    assert Warehouse.objects.get(pk=warehouse_id).history.count() == 2  # audited


def test_inventory_query_and_bulk_update(api, merchant):
    warehouse = WarehouseFactory(merchant=merchant, code="SH-DC")
    product = ProductFactory(merchant=merchant, sku="MILK")
    batch = BatchFactory(warehouse=warehouse, product=product, on_hand=10, batch_number="B1")
    response = api.post(
        "/api/inventory/bulk-update/",
        {
            "items": [
                {"batch": batch.pk, "delta": -4},
                {
                    "warehouse": "SH-DC",
                    "sku": "MILK",
                    "batch_number": "B2",
                    "on_hand": 30,
                    "expiry_date": "2030-01-01",
                },
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert {(row["batch_number"], row["on_hand"], row["available"]) for row in response.json()} == {
        ("B1", 6, 6),
        ("B2", 30, 30),
    }
    listing = api.get("/api/inventory/?sku=MILK&warehouse=SH-DC&ordering=-on_hand").json()
    assert [row["batch_number"] for row in listing["results"]] == ["B2", "B1"]
    assert api.get("/api/inventory/?expiring_before=2029-01-01").json()["count"] == 1


def test_stock_cannot_be_set_below_reserved(api, merchant):
    product = ProductFactory(merchant=merchant)
    batch = BatchFactory(warehouse=WarehouseFactory(merchant=merchant), product=product, on_hand=5)
    make_order(merchant=merchant, lines=[(product, 4)])
    response = api.post(
        "/api/inventory/bulk-update/", {"items": [{"batch": batch.pk, "on_hand": 3}]}, format="json"
    )
    assert response.status_code == 409 and response.json()["code"] == "stock_below_reserved"
    assert response.json()["items"][0]["reserved"] == 4
    batch.refresh_from_db()
    assert batch.on_hand == 5


@pytest.mark.parametrize(
    "item",
    [
        {"batch": 1, "on_hand": 1, "delta": 1},
        {"on_hand": 1},
        {"warehouse": "W", "sku": "S", "batch_number": "B", "on_hand": -1},
        {"warehouse": "W", "sku": "S", "batch_number": "B", "delta": "many"},
    ],
)
def test_bad_stock_items_are_400_and_write_nothing(api, merchant, item):
    before = InventoryBatch.objects.count()
    response = api.post("/api/inventory/bulk-update/", {"items": [item]}, format="json")
    assert response.status_code == 400 and "items" in response.json()
    assert InventoryBatch.objects.count() == before


def test_a_partly_bad_bulk_update_writes_nothing(api, merchant):
    warehouse = WarehouseFactory(merchant=merchant, code="W1")
    product = ProductFactory(merchant=merchant, sku="S1")
    batch = BatchFactory(warehouse=warehouse, product=product, on_hand=5)
    response = api.post(
        "/api/inventory/bulk-update/",
        {
            "items": [
                {"batch": batch.pk, "on_hand": 50},
                {"warehouse": "W1", "sku": "NOPE", "batch_number": "B", "on_hand": 1},
            ]
        },
        format="json",
    )
    assert response.status_code == 400 and list(response.json()["items"]) == ["1"]
    batch.refresh_from_db()
    assert batch.on_hand == 5


def test_throttling_per_merchant_key(api, merchant):
    merchant.api_throttle_rate = "3/min"
    merchant.save()
    codes = [api.get("/api/products/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    from rest_framework.test import APIClient

    from tests.factories import make_api_key

    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(merchant)}")
    assert fresh.get("/api/products/").status_code == 200  # the limit is per key


def test_openapi_schema_and_docs(client, db):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/orders/",
        "/api/orders/{id}/cancel/",
        "/api/orders/{id}/timeline/",
        "/api/inventory/bulk-update/",
        "/api/products/{id}/",
        "/api/warehouses/",
    ):
        assert path in paths, path
    params = {p["name"] for p in paths["/api/orders/"]["post"].get("parameters", [])}
    assert "Idempotency-Key" in params
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()
