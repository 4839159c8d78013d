"""Concurrent gift claims of one person from several channels: exactly one wins (PostgreSQL)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from channels import identity
from channels.models import GiftGrant, GiftRefusal, Promotion
from channels.services import channel_order_ingest
from channels.signing import sign
from oms.models import ChannelKind
from tests.channels.conftest import sample
from tests.factories import (
    BatchFactory,
    ChannelFactory,
    MerchantFactory,
    ProductFactory,
    WarehouseFactory,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(120),
]
CHANNELS = 8


def _deliveries(channels):
    import json
    import time

    out = []
    for index, channel in enumerate(channels):
        payload = sample("wechat_mini")
        payload["out_trade_no"] = f"WX-RACE-{index}"
        body = json.dumps(payload, ensure_ascii=False, default=str).encode()
        ts = str(int(time.time()))
        out.append(
            (
                channel.code,
                body,
                {"X-Timestamp": ts, "X-Signature": sign(channel.signing_secret, ts, body)},
            )
        )
    return out


@pytest.mark.parametrize("use_mdm", [True, False], ids=["mdm", "fallback"])
def test_one_person_claiming_a_gift_on_many_channels_at_once_gets_it_once(monkeypatch, use_mdm):
    if not use_mdm:
        monkeypatch.setattr(identity, "_mdm_resolver", lambda: None)
    merchant = MerchantFactory()
    warehouse = WarehouseFactory(merchant=merchant)
    sofa = ProductFactory(merchant=merchant, sku="HOM-0001", unit_value=Decimal("5999.00"))
    cushions = ProductFactory(merchant=merchant, sku="HOM-0900", unit_value=Decimal("99.00"))
    for product in (sofa, cushions):
        BatchFactory(warehouse=warehouse, product=product, on_hand=1000)
    now = timezone.now()
    Promotion.objects.create(
        merchant=merchant,
        campaign_code="d11-pillow",
        name="Free cushions",
        kind="gift",
        gift_product=cushions,
        starts_at=now - timedelta(days=400),
        ends_at=now + timedelta(days=400),
    )
    channels = [
        ChannelFactory(merchant=merchant, code=f"mini-{i}", kind=ChannelKind.WECHAT_MINI)
        for i in range(CHANNELS)
    ]
    deliveries = _deliveries(channels)
    barrier = threading.Barrier(CHANNELS)

    def deliver(delivery):
        code, body, headers = delivery
        try:
            barrier.wait()
            return channel_order_ingest(code=code, body=body, headers=headers).order.pk
        finally:
            connections.close_all()

    with ThreadPoolExecutor(CHANNELS) as pool:
        order_ids = list(pool.map(deliver, deliveries))

    assert len(set(order_ids)) == CHANNELS
    assert GiftGrant.objects.filter(merchant=merchant).count() == 1
    assert GiftRefusal.objects.filter(merchant=merchant).count() == CHANNELS - 1
    gift_lines = sum(
        1
        for pk in order_ids
        for line in __import__("oms.models").models.Order.objects.get(pk=pk).lines.all()
        if line.product_id == cushions.pk
    )
    assert gift_lines == 1
