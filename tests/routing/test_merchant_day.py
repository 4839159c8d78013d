"""Routing counts a day on the merchant's clock: parcel caps, carrier slots and the day's demand
start at the merchant's midnight, not the deployment's (Asia/Shanghai by default)."""

from datetime import UTC, datetime

import pytest

from oms.models import Merchant, Shipment
from oms.selectors import local_midnight, merchant_zone
from routing import context
from tests.factories import MerchantFactory, ProductFactory, WarehouseFactory, make_order

pytestmark = pytest.mark.django_db

# 15:00 UTC: 10:00 on 4 December in New York, 23:00 the same day in Shanghai.
NOW = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
# 03:00 UTC: 22:00 on 3 December in New York (yesterday there), 11:00 today in Shanghai.
EARLIER = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)


@pytest.fixture
def new_york():
    return MerchantFactory(time_zone="America/New_York")


def _shipped_at(warehouse, when: datetime) -> None:
    product = ProductFactory(merchant=warehouse.merchant)
    order = make_order(merchant=warehouse.merchant, lines=[(product, 1)])
    shipment = Shipment.objects.create(order=order, warehouse=warehouse, carrier="Pine eco")
    Shipment.objects.filter(pk=shipment.pk).update(created_at=when)
    order.__class__.objects.filter(pk=order.pk).update(created_at=when)


def test_the_local_midnight_is_the_merchants(new_york):
    assert str(merchant_zone(new_york.pk)) == "America/New_York"
    assert local_midnight(new_york.pk, NOW) == datetime(2026, 12, 4, 5, 0, tzinfo=UTC)
    shanghai = MerchantFactory()
    assert local_midnight(shanghai.pk, NOW) == datetime(2026, 12, 3, 16, 0, tzinfo=UTC)


def test_an_unknown_or_missing_zone_falls_back_to_the_deployments(settings):
    merchant = MerchantFactory()
    Merchant.objects.filter(pk=merchant.pk).update(time_zone="Mars/Olympus")
    from oms.localcache import clear_all

    clear_all()
    assert str(merchant_zone(merchant.pk)) == settings.TIME_ZONE
    assert str(merchant_zone(None)) == settings.TIME_ZONE


def test_yesterdays_parcels_on_the_merchants_clock_leave_todays_cap_whole(new_york):
    warehouse = WarehouseFactory(merchant=new_york, code="NY-1", daily_capacity=10)
    _shipped_at(warehouse, EARLIER)  # yesterday in New York
    _shipped_at(warehouse, datetime(2026, 12, 4, 6, 0, tzinfo=UTC))  # 01:00 today there
    (node,) = context.engine_nodes(merchant_id=new_york.pk, skus=set(), now=NOW)
    assert node.remaining_capacity_orders == 9


def test_the_days_demand_and_hours_are_the_merchants(new_york):
    warehouse = WarehouseFactory(merchant=new_york, code="NY-1")
    _shipped_at(warehouse, EARLIER)
    sku = warehouse.shipments.get().order.lines.get().sku
    outlook = context.demand_outlook(merchant_id=new_york.pk, skus={sku}, now=NOW)
    assert outlook.hours_elapsed == pytest.approx(10.0)
    assert outlook.hours_left == pytest.approx(14.0)
    assert outlook.units_so_far == {}  # placed yesterday in New York
    later = datetime(2026, 12, 5, 4, 0, tzinfo=UTC)  # 23:00 on 4 December in New York
    Shipment.objects.update(created_at=datetime(2026, 12, 4, 6, 0, tzinfo=UTC))
    warehouse.shipments.get().order.__class__.objects.update(
        created_at=datetime(2026, 12, 4, 6, 0, tzinfo=UTC)
    )
    outlook = context.demand_outlook(merchant_id=new_york.pk, skus={sku}, now=later)
    assert outlook.units_so_far == {sku: 1.0}
