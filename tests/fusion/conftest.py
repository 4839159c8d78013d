"""A sofa seller with two warehouses: only Hangzhou has sofas, both have cushions.

A cushion alone ships cheaper from Suzhou; a sofa and a cushion together ship cheaper as one
parcel from Hangzhou. So an order merged with a sofa order visibly changes where it ships from.
"""

from decimal import Decimal

import pytest

from oms.models import ChannelKind
from routing.models import Lane
from tests.factories import BatchFactory, ChannelFactory, ProductFactory, WarehouseFactory


def _lane(warehouse, cost: str) -> None:
    Lane.objects.create(
        warehouse=warehouse,
        region="east",
        carrier="Express A",
        shipping_cost=Decimal(cost),
        transit_hours=24,
        on_time_rate=0.98,
    )


@pytest.fixture
def shop(merchant):
    hangzhou = WarehouseFactory(merchant=merchant, code="HZ", name="Hangzhou DC")
    suzhou = WarehouseFactory(merchant=merchant, code="SZ", name="Suzhou DC")
    _lane(hangzhou, "10.00")
    _lane(suzhou, "6.00")
    sofa = ProductFactory(merchant=merchant, sku="SOFA", unit_value=Decimal("5999.00"))
    cushion = ProductFactory(merchant=merchant, sku="CUSHION", unit_value=Decimal("99.00"))
    batches = {
        "sofa@HZ": BatchFactory(warehouse=hangzhou, product=sofa, on_hand=5),
        "cushion@HZ": BatchFactory(warehouse=hangzhou, product=cushion, on_hand=5),
        "cushion@SZ": BatchFactory(warehouse=suzhou, product=cushion, on_hand=5),
    }
    return {
        "merchant": merchant,
        "hangzhou": hangzhou,
        "suzhou": suzhou,
        "sofa": sofa,
        "cushion": cushion,
        "batches": batches,
        "douyin": ChannelFactory(
            merchant=merchant, code="douyin", name="Douyin shop", kind=ChannelKind.DOUYIN
        ),
        "mini": ChannelFactory(
            merchant=merchant, code="mini", name="WeChat mini", kind=ChannelKind.WECHAT_MINI
        ),
    }
