"""The order workspace in admin: one page with the lines, timeline, parcels (a merged
fulfilment's too), routing decisions and service steps; shipping needs a carrier and a
tracking number per parcel; an order waiting for routing can be routed again."""

import pytest
from django.urls import reverse

from oms.models import InventoryBatch, OrderStatus, ShipmentStatus
from oms.services.orders import order_release
from tests.factories import make_order
from tests.fusion.conftest import shop  # noqa: F401 - fixture
from tests.fusion.shop import place

pytestmark = pytest.mark.django_db


@pytest.fixture
def released(routed):
    order = routed("furniture")
    return order_release(order=order, actor="test")


def test_the_page_shows_routing_decisions_and_service_steps(admin_client, routed):
    order = routed("furniture")
    html = admin_client.get(reverse("admin:oms_order_change", args=[order.pk])).content.decode()
    assert "Routing decisions" in html and "Service steps" in html
    assert "Routed" in html  # the decision's outcome
    assert order.service_steps.first().atom.label in html
    zh = admin_client.get(
        reverse("admin:oms_order_change", args=[order.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "路由决策" in zh and "服务步骤" in zh


def test_shipping_asks_for_carrier_and_tracking_number(admin_client, released):
    url = reverse("admin:oms_order_ship", args=[released.pk])
    page = admin_client.get(url).content.decode()
    shipment = released.shipments.get()
    assert f'name="tracking_{shipment.warehouse_id}"' in page
    refused = admin_client.post(
        url, {f"carrier_{shipment.warehouse_id}": "SF", f"tracking_{shipment.warehouse_id}": ""}
    )
    assert refused.status_code == 200 and "This field is required" in refused.content.decode()
    released.refresh_from_db()
    assert released.status == OrderStatus.RELEASED
    done = admin_client.post(
        url,
        {
            f"carrier_{shipment.warehouse_id}": "Express A",
            f"tracking_{shipment.warehouse_id}": " SF1234567890 ",
        },
    )
    assert done.status_code == 302
    released.refresh_from_db()
    shipment.refresh_from_db()
    assert released.status == OrderStatus.SHIPPED
    assert shipment.status == ShipmentStatus.SHIPPED
    assert (shipment.carrier, shipment.tracking_number) == ("Express A", "SF1234567890")


def test_the_bulk_ship_action_sends_one_order_to_its_form_and_refuses_several(admin_client, routed):
    first, second = routed("furniture"), routed("furniture")
    changelist = reverse("admin:oms_order_changelist")
    one = admin_client.post(changelist, {"action": "ship", "_selected_action": [first.pk]})
    assert one.status_code == 302 and one.url == reverse("admin:oms_order_ship", args=[first.pk])
    several = admin_client.post(
        changelist, {"action": "ship", "_selected_action": [first.pk, second.pk]}, follow=True
    )
    assert "Ship orders one at a time" in several.content.decode()
    first.refresh_from_db()
    assert first.status == OrderStatus.ROUTED


def test_route_again_after_stock_arrives(
    admin_client, merchant, stocked, django_capture_on_commit_callbacks
):
    order = make_order(merchant=merchant, lines=[(stocked["other"], 150)])
    order.refresh_from_db()
    assert order.status == OrderStatus.NEEDS_ATTENTION
    InventoryBatch.objects.filter(product=stocked["other"]).update(on_hand=500)
    url = reverse("admin:oms_order_route_again_detail", args=[order.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.get(url)
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.ROUTED
    assert order.events.filter(message="routed again by staff").exists()


def test_a_merged_order_shows_the_parcels_of_its_fulfilment(admin_client, shop):  # noqa: F811
    sofa = place(shop, "douyin", [("sofa", 1)], minutes_ago=3)
    cushion = place(shop, "mini", [("cushion", 1)])
    cushion.refresh_from_db()
    assert cushion.consolidation_id is not None
    html = admin_client.get(reverse("admin:oms_order_change", args=[cushion.pk])).content.decode()
    assert "Parcels of the merged fulfilment" in html
    assert "Hangzhou DC" in html and sofa.external_id in html
