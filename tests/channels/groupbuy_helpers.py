"""Group-buy orders through the real ingestion (signed payload -> order -> routing)."""

import json
import time

from django.test import TestCase

from channels import signing
from channels.services import channel_order_ingest
from tests.channels.conftest import sample

POINTS = {
    "PP-1": ("幸福里小区东门驿站", "L-1", "王阿姨"),
    "PP-2": ("阳光花园便利店", "L-2", "李叔"),
}


def ingest_group_order(
    channel,
    external_id: str,
    *,
    order_type: str = "member_direct",
    point: str = "PP-1",
    items: list[tuple[str, int]] = (("HOM-0002", 1),),
    member: str = "陈静",
    phone: str = "13700137000",
):
    """Ingest one group-buy order and run its after-commit routing; returns the order."""
    name, leader_id, leader_name = POINTS[point]
    payload = sample("group_buy")
    payload.update(
        group_order_no=external_id,
        order_type=order_type,
        paid_at_ms=int(time.time() * 1000) - 60_000,
        leader={"leader_id": leader_id, "name": leader_name, "phone": "13900139000"},
        member={"user_id": f"u-{phone}", "name": member, "phone": phone},
        items=[{"sku_code": sku, "count": count} for sku, count in items],
    )
    payload.pop("paid_amount_fen", None)
    payload["pickup_point"] = dict(payload["pickup_point"], id=point, name=name)
    body = json.dumps(payload, ensure_ascii=False, default=str).encode()
    stamp = str(int(time.time()))
    with TestCase.captureOnCommitCallbacks(execute=True):
        result = channel_order_ingest(
            code=channel.code,
            body=body,
            headers={
                "X-Merchant": channel.merchant.code,
                signing.TIMESTAMP_HEADER: stamp,
                signing.SIGNATURE_HEADER: signing.sign(channel.signing_secret, stamp, body),
            },
        )
    order = result.order
    order.refresh_from_db()
    return order
