"""``seed_channels_demo`` (run by ``make run``) shows a merged shipment and points at it."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from oms.models import ChannelKind, Consolidation, Merchant, Order, Shipment
from tests.factories import BatchFactory, ChannelFactory, ProductFactory, WarehouseFactory

# Committed transactions: routing runs on commit, as under `make run`.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def homeliving():
    """The part of seed_demo's furniture merchant the channel demo uses."""
    merchant = Merchant.objects.create(code="homeliving", name="Home Living")
    sofa = ProductFactory(merchant=merchant, sku="HOM-0001", unit_value=Decimal("6299.00"))
    cushion = ProductFactory(merchant=merchant, sku="HOM-0005", unit_value=Decimal("129.00"))
    for code in ("SH-DC", "HZ-RC"):
        warehouse = WarehouseFactory(merchant=merchant, code=code)
        BatchFactory(warehouse=warehouse, product=sofa, on_hand=10)
        BatchFactory(warehouse=warehouse, product=cushion, on_hand=10)
    for code, kind in (
        ("douyin", ChannelKind.DOUYIN),
        ("wechat-mini", ChannelKind.WECHAT_MINI),
        ("store-pos", ChannelKind.STORE_POS),
    ):
        ChannelFactory(merchant=merchant, code=code, kind=kind, name=code)
    return merchant


def test_the_channel_demo_merges_the_two_orders_into_one_shipment(homeliving, settings):
    settings.OMS_PUBLIC_BASE_URL = "http://127.0.0.1:8123"  # as `make run PORT=8123` sets it
    out = io.StringIO()
    call_command("seed_channels_demo", stdout=out)
    demo = Order.objects.filter(external_id__startswith="DEMO-").order_by("pk")
    assert [o.status for o in demo] == ["routed", "routed"]
    consolidation = Consolidation.objects.get()
    assert {o.consolidation_id for o in demo} == {consolidation.pk}
    assert Shipment.objects.filter(consolidation=consolidation, status="pending").count() == 1
    assert consolidation.routing_decisions.get().explanation.startswith(
        f"Merged with order #{demo[0].pk} (douyin) received 3 minutes earlier"
    )
    printed = out.getvalue()
    assert "Campaign d11-pillow withheld" in printed  # the second gift is refused
    assert (
        f"Merged shipment (orders #{demo[0].pk} (douyin) + #{demo[1].pk} (wechat-mini), "
        "1 shipment from "
    ) in printed
    assert f"http://127.0.0.1:8123/admin/oms/consolidation/{consolidation.pk}/change/" in printed

    again = io.StringIO()
    settings.OMS_PUBLIC_BASE_URL = ""  # runserver's default address then
    call_command("seed_channels_demo", stdout=again)  # idempotent
    assert Order.objects.filter(external_id__startswith="DEMO-").count() == 2
    assert Consolidation.objects.count() == 1
    assert (
        f"http://127.0.0.1:8000/admin/oms/consolidation/{consolidation.pk}/change/"
        in again.getvalue()
    )
