"""factory_boy factories for the core domain; every test builds exactly the rows it needs."""

import itertools
from datetime import timedelta
from decimal import Decimal

import factory
from django.test import TestCase
from django.utils import timezone

from oms.models import (
    ApiKey,
    ChannelKind,
    InventoryBatch,
    Merchant,
    Product,
    SalesChannel,
    TemperatureClass,
    Warehouse,
    WarehouseKind,
)
from oms.services.orders import AddressInput, LineInput, order_create


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    code = factory.Sequence(lambda n: f"m{n}")
    name = factory.Sequence(lambda n: f"Merchant {n}")


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesChannel

    merchant = factory.SubFactory(MerchantFactory)
    code = factory.Sequence(lambda n: f"ch{n}")
    name = "Douyin shop"
    kind = ChannelKind.DOUYIN


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    merchant = factory.SubFactory(MerchantFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    temperature_class = TemperatureClass.AMBIENT
    unit_value = Decimal("99.00")
    weight_kg = Decimal("1.000")


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse

    merchant = factory.SubFactory(MerchantFactory)
    code = factory.Sequence(lambda n: f"WH{n:03d}")
    name = factory.Sequence(lambda n: f"Warehouse {n}")
    kind = WarehouseKind.OWN_DC
    region = "east"
    province = "上海"
    city = "上海"
    latitude = Decimal("31.23000")
    longitude = Decimal("121.47000")
    cold_chain = True


class BatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InventoryBatch

    warehouse = factory.SubFactory(WarehouseFactory)
    product = factory.SubFactory(
        ProductFactory, merchant=factory.SelfAttribute("..warehouse.merchant")
    )
    batch_number = factory.Sequence(lambda n: f"B{n:05d}")
    expiry_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=30))
    on_hand = 100


def make_api_key(merchant: Merchant) -> str:
    _key, raw = ApiKey.generate(merchant=merchant, name="test")
    return raw


ADDRESS = AddressInput(
    receiver_name="张伟",
    receiver_phone="13800138000",
    province="上海",
    city="上海",
    district="浦东新区",
    address_line="世纪大道100号",
)


_external_ids = itertools.count(1)


def make_order(
    *,
    merchant: Merchant,
    lines: list[tuple[Product, int]],
    channel: SalesChannel | None = None,
    external_id: str | None = None,
    promised_in_hours: float | None = None,
):
    """Create an order through the service and run its after-commit work (routing) at once."""
    channel = channel or ChannelFactory(merchant=merchant)
    with TestCase.captureOnCommitCallbacks(execute=True):
        order = order_create(
            merchant=merchant,
            channel=channel,
            external_id=external_id or f"E{next(_external_ids)}",
            lines=[LineInput(product, quantity, product.unit_value) for product, quantity in lines],
            address=ADDRESS,
            actor="test",
            promised_at=timezone.now() + timedelta(hours=promised_in_hours)
            if promised_in_hours
            else None,
        )
    return order
