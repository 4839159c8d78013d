"""Fixtures of the channel tests: a catalogue with the samples' SKUs and a signed client."""

import json
import time
from decimal import Decimal
from pathlib import Path

import pytest

from channels.signing import sign

FIXTURES = Path(__file__).parent / "fixtures"
KINDS = ("douyin", "wechat_mini", "tmall", "store_pos", "b2b", "group_buy", "api")


def sample(kind: str) -> dict:
    return json.loads((FIXTURES / f"{kind}.json").read_text(encoding="utf-8"), parse_float=Decimal)


def sample_bytes(kind: str) -> bytes:
    return (FIXTURES / f"{kind}.json").read_bytes()


@pytest.fixture
def catalogue(merchant):
    from tests.factories import BatchFactory, ProductFactory, WarehouseFactory

    warehouse = WarehouseFactory(merchant=merchant)
    products = {
        "HOM-0001": ProductFactory(
            merchant=merchant, sku="HOM-0001", name="Sofa", unit_value=Decimal("6299.00")
        ),
        "HOM-0002": ProductFactory(
            merchant=merchant, sku="HOM-0002", name="Pillow", unit_value=Decimal("259.00")
        ),
        "HOM-0900": ProductFactory(
            merchant=merchant, sku="HOM-0900", name="Cushions", unit_value=Decimal("99.00")
        ),
    }
    for product in products.values():
        BatchFactory(warehouse=warehouse, product=product, on_hand=1000)
    return products


@pytest.fixture
def post_signed(client):
    """POST a body to a channel's ingest URL, signed with its secret (or ``secret``)."""

    def post(channel, body, *, secret=None, timestamp=None, headers=None, code=None):
        if isinstance(body, dict):
            body = json.dumps(body, ensure_ascii=False, default=str).encode()
        timestamp = str(int(time.time()) if timestamp is None else timestamp)
        extra = {
            "HTTP_X_TIMESTAMP": timestamp,
            "HTTP_X_SIGNATURE": sign(secret or channel.signing_secret, timestamp, body),
        }
        extra.update(headers or {})
        return client.generic(
            "POST",
            f"/api/channels/{code or channel.code}/orders",
            body,
            content_type="application/json",
            **extra,
        )

    return post
