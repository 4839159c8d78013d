"""Renaming a product or its SKU, or repricing it, leaves the orders already placed as they
were ordered: in the API, the admin and the customer's status page."""

from decimal import Decimal

import pytest
from django.urls import reverse

from oms.models import OrderLine
from orchestration.models import OrderTracking

pytestmark = pytest.mark.django_db


def _pages(order, *, api, admin_client, client) -> tuple[dict, str, str]:
    token = OrderTracking.objects.get(order=order).token
    return (
        api.get(f"/api/orders/{order.pk}/").json(),
        admin_client.get(reverse("admin:oms_order_change", args=[order.pk])).content.decode(),
        client.get(reverse("orchestration:track", args=[token])).content.decode(),
    )


def test_renaming_a_product_leaves_its_orders_as_ordered(api, admin_client, client, routed):
    order = routed("furniture", quantity=2)
    line = OrderLine.objects.get(order=order)
    product = line.product
    ordered_sku, ordered_name, ordered_price = product.sku, product.name, product.unit_value
    assert (line.sku, line.name, line.unit_price) == (ordered_sku, ordered_name, ordered_price)
    body, admin_html, status_html = _pages(order, api=api, admin_client=admin_client, client=client)
    assert body["lines"][0]["sku"] == ordered_sku and body["lines"][0]["name"] == ordered_name
    assert ordered_sku in admin_html and ordered_name in admin_html
    assert ordered_name in status_html

    product.sku, product.name = "SOFA-RENAMED", "Renamed sofa"
    product.unit_value += Decimal("100")
    product.save()

    renamed_body, renamed_admin, renamed_status = _pages(
        order, api=api, admin_client=admin_client, client=client
    )
    assert renamed_body == body
    for html in (renamed_admin, renamed_status):
        assert "SOFA-RENAMED" not in html and "Renamed sofa" not in html
    assert ordered_sku in renamed_admin and ordered_name in renamed_admin
    assert ordered_name in renamed_status
    # The order list still finds the order by the SKU it was ordered under, and by the new one.
    for sku in (ordered_sku, "SOFA-RENAMED"):
        found = api.get("/api/orders/", {"sku": sku}).json()["results"]
        assert [o["id"] for o in found] == [order.pk]


def test_an_order_placed_after_the_rename_carries_the_new_sku(api, channel, routed):
    product = OrderLine.objects.get(order=routed("furniture")).product
    product.sku, product.name = "SOFA-NEW", "New sofa"
    product.save()
    response = api.post(
        "/api/orders/",
        {
            "channel": channel.code,
            "external_id": "AFTER-RENAME",
            "receiver": {
                "name": "Li",
                "phone": "13800138000",
                "province": "浙江省",
                "city": "杭州",
                "address_line": "文三路90号",
            },
            "lines": [{"sku": "SOFA-NEW", "quantity": 1}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["lines"][0]["sku"] == "SOFA-NEW"
    line = OrderLine.objects.get(order_id=response.json()["id"])
    assert (line.sku, line.name, line.unit_price) == ("SOFA-NEW", "New sofa", product.unit_value)
