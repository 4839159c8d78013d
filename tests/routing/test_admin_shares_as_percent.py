"""Staff read and type on-time rates as percentages and weights without padding zeros."""

from decimal import Decimal

import pytest
from django.urls import reverse

from routing.models import Lane
from tests.factories import MerchantFactory, ProductFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lane():
    warehouse = WarehouseFactory(merchant=MerchantFactory())
    return Lane.objects.create(
        warehouse=warehouse,
        region="east",
        carrier="Express A",
        shipping_cost=Decimal("8.00"),
        transit_hours=24,
        on_time_rate=0.955,
    )


def _form_data(lane: Lane, on_time: str) -> dict:
    return {
        "warehouse": lane.warehouse_id,
        "region": lane.region,
        "carrier": lane.carrier,
        "shipping_cost": "8.00",
        "transit_hours": "24",
        "on_time_rate": on_time,
    }


def test_the_lane_page_shows_the_on_time_rate_as_a_percentage(admin_client, lane):
    html = admin_client.get(reverse("admin:routing_lane_change", args=[lane.pk])).content.decode()
    assert 'name="on_time_rate" value="95.5"' in html
    assert "0.955" not in html
    listing = admin_client.get(reverse("admin:routing_lane_changelist")).content.decode()
    assert "95.5 %" in listing and "0.955" not in listing


def test_a_typed_percentage_is_kept_as_a_share(admin_client, lane):
    url = reverse("admin:routing_lane_change", args=[lane.pk])
    response = admin_client.post(url, _form_data(lane, "97.25"))
    assert response.status_code == 302
    lane.refresh_from_db()
    assert lane.on_time_rate == pytest.approx(0.9725)


def test_a_percentage_above_100_is_refused_in_percent_terms(admin_client, lane):
    url = reverse("admin:routing_lane_change", args=[lane.pk])
    response = admin_client.post(url, _form_data(lane, "120"))
    assert response.status_code == 200
    assert "less than or equal to 100" in response.content.decode()
    lane.refresh_from_db()
    assert lane.on_time_rate == pytest.approx(0.955)


def test_weights_and_coordinates_show_without_padding_zeros(admin_client):
    product = ProductFactory(weight_kg=Decimal("4.000"), volume_litres=Decimal("2.500"))
    html = admin_client.get(reverse("admin:oms_product_change", args=[product.pk])).content
    assert b'name="weight_kg" value="4"' in html
    assert b'name="volume_litres" value="2.5"' in html
    warehouse = WarehouseFactory(latitude=Decimal("26.65000"), longitude=Decimal("106.63000"))
    html = admin_client.get(reverse("admin:oms_warehouse_change", args=[warehouse.pk])).content
    assert b'name="latitude" value="26.65"' in html
    assert b'name="longitude" value="106.63"' in html
