"""POST /api/channels/{code}/orders: signed, stored raw first, idempotent, never a 500."""

import json
import time
from decimal import Decimal

import pytest

from channels.models import ChannelInboxMessage, ChannelOrder, InboxStatus
from channels.services import channel_secret_rotate, inbox_replay
from oms.models import ChannelKind, Order, OrderEvent
from tests.channels.conftest import KINDS, sample, sample_bytes
from tests.factories import ChannelFactory, MerchantFactory, ProductFactory

pytestmark = pytest.mark.django_db


def channel_of(merchant, kind):
    return ChannelFactory(merchant=merchant, code=kind.replace("_", "-"), kind=kind, name=kind)


@pytest.mark.parametrize("kind", KINDS)
def test_each_sample_creates_an_order_through_the_oms(merchant, catalogue, post_signed, kind):
    channel = channel_of(merchant, kind)

    response = post_signed(channel, sample_bytes(kind))

    assert response.status_code == 201, response.json()
    order = Order.objects.get(pk=response.json()["order_id"])
    assert order.channel == channel and order.merchant == merchant
    assert order.events.filter(kind="created").exists()
    message = ChannelInboxMessage.objects.get(pk=response.json()["inbox_id"])
    assert message.status == InboxStatus.PARSED and message.order == order
    assert bytes(message.body) == sample_bytes(kind)
    assert ChannelOrder.objects.get(order=order).channel == channel


def test_group_buy_order_keeps_leader_and_pickup_point(merchant, catalogue, post_signed):
    channel = channel_of(merchant, ChannelKind.GROUP_BUY)

    response = post_signed(channel, sample_bytes("group_buy"))

    info = ChannelOrder.objects.get(order_id=response.json()["order_id"])
    assert (info.group_leader_id, info.pickup_point_id, info.group_order_type) == (
        "L-1001",
        "PP-77",
        "member_direct",
    )


def test_redelivery_is_idempotent(merchant, catalogue, post_signed):
    channel = channel_of(merchant, ChannelKind.DOUYIN)
    first = post_signed(channel, sample_bytes("douyin"))

    again = post_signed(channel, sample_bytes("douyin"))

    assert again.status_code == 200
    assert again.json()["order_id"] == first.json()["order_id"] and again.json()["duplicate"]
    assert Order.objects.filter(merchant=merchant).count() == 1
    assert (
        ChannelInboxMessage.objects.get(pk=again.json()["inbox_id"]).status == InboxStatus.DUPLICATE
    )


def test_bad_signature_is_401_logged_and_creates_nothing(merchant, catalogue, post_signed):
    channel = channel_of(merchant, ChannelKind.DOUYIN)

    response = post_signed(channel, sample_bytes("douyin"), secret="not-the-secret")

    assert response.status_code == 401
    message = ChannelInboxMessage.objects.get()
    assert message.status == InboxStatus.REJECTED and not message.signature_valid
    assert message.channel == channel and "signature" in message.error
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_X_SIGNATURE": ""},
        {"HTTP_X_TIMESTAMP": ""},
        {"HTTP_X_TIMESTAMP": "abc"},
        {"HTTP_X_SIGNATURE": "md5=00"},
    ],
)
def test_missing_or_malformed_signature_headers_are_401(merchant, catalogue, post_signed, headers):
    channel = channel_of(merchant, ChannelKind.DOUYIN)

    assert post_signed(channel, sample_bytes("douyin"), headers=headers).status_code == 401


def test_stale_timestamp_is_401_even_with_a_valid_mac(merchant, catalogue, post_signed):
    channel = channel_of(merchant, ChannelKind.DOUYIN)

    response = post_signed(channel, sample_bytes("douyin"), timestamp=int(time.time()) - 3600)

    assert response.status_code == 401
    assert not Order.objects.exists()


def test_previous_secret_verifies_during_the_grace_period(merchant, catalogue, post_signed):
    channel = channel_of(merchant, ChannelKind.DOUYIN)
    old = channel.signing_secret

    new = channel_secret_rotate(channel=channel)

    assert new != old
    assert post_signed(channel, sample_bytes("douyin"), secret=old).status_code == 201


def test_unknown_or_inactive_channel_is_404(merchant, catalogue, post_signed):
    channel = channel_of(merchant, ChannelKind.DOUYIN)
    ChannelFactory(merchant=merchant, code="closed", active=False)

    assert post_signed(channel, sample_bytes("douyin"), code="nope").status_code == 404
    assert post_signed(channel, sample_bytes("douyin"), code="closed").status_code == 404


def test_same_code_at_two_merchants_goes_to_the_merchant_whose_secret_signed(
    catalogue, merchant, post_signed
):
    mine = channel_of(merchant, ChannelKind.DOUYIN)
    other_merchant = MerchantFactory()
    ProductFactory(merchant=other_merchant, sku="HOM-0001")
    theirs = channel_of(other_merchant, ChannelKind.DOUYIN)

    response = post_signed(theirs, sample_bytes("douyin"))

    assert response.status_code == 201
    assert Order.objects.get(pk=response.json()["order_id"]).merchant == other_merchant
    assert not Order.objects.filter(channel=mine).exists()
    # and with the wrong merchant named, the other's secret does not verify
    wrong = post_signed(theirs, sample_bytes("douyin"), headers={"HTTP_X_MERCHANT": merchant.code})
    assert wrong.status_code == 401


def test_unknown_sku_is_400_with_the_field_and_stays_replayable(merchant, catalogue, post_signed):
    channel = channel_of(merchant, ChannelKind.B2B)
    pillow = catalogue["HOM-0002"]
    pillow.sku = "HOM-0002-RETIRED"
    pillow.save()

    response = post_signed(channel, sample_bytes("b2b"))

    assert response.status_code == 400
    assert response.json()["errors"] == {"lines.1.sku": ["Unknown SKU 'HOM-0002'."]}
    message = ChannelInboxMessage.objects.get(pk=response.json()["inbox_id"])
    assert message.status == InboxStatus.FAILED and "lines.1.sku" in message.error

    pillow.sku = "HOM-0002"  # the fix: the SKU is mapped again
    pillow.save()
    result = inbox_replay(message=message, actor="ops")

    message.refresh_from_db()
    assert message.status == InboxStatus.PARSED and message.order == result.order
    assert result.order.lines.count() == 2


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"null",
        b"[]",
        b'{"out_trade_no": NaN}',
        b"\xff\xfe\x00",
        b"[" * 100_000 + b"]" * 100_000,
        json.dumps({"out_trade_no": ["x"], "goods": {"a": 1}, "address": 5}).encode(),
        json.dumps(
            {"out_trade_no": "A" * 500, "time_end": 12, "goods": [{"goods_num": -1}]}
        ).encode(),
    ],
)
def test_garbage_is_a_400_never_a_500(merchant, catalogue, post_signed, body):
    channel = channel_of(merchant, ChannelKind.WECHAT_MINI)

    response = post_signed(channel, body)

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_payload"
    assert ChannelInboxMessage.objects.get().status == InboxStatus.FAILED


def test_wrong_field_types_name_their_fields(merchant, catalogue, post_signed):
    channel = channel_of(merchant, ChannelKind.WECHAT_MINI)
    payload = sample("wechat_mini")
    payload["goods"][0]["goods_num"] = "lots"
    payload["address"]["telNumber"] = {"n": 1}

    response = post_signed(channel, payload)

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"goods.0.goods_num", "address.telNumber"}


def test_oversized_body_is_413(merchant, catalogue, post_signed, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    channel = channel_of(merchant, ChannelKind.WECHAT_MINI)

    response = post_signed(channel, b'{"x": "' + b"a" * 5000 + b'"}')

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_unexpected_failure_is_503_and_the_message_waits_for_replay(
    merchant, catalogue, post_signed, monkeypatch
):
    channel = channel_of(merchant, ChannelKind.DOUYIN)
    monkeypatch.setattr("channels.services.order_create", lambda **kw: 1 / 0)

    response = post_signed(channel, sample_bytes("douyin"))

    assert response.status_code == 503
    message = ChannelInboxMessage.objects.get()
    assert message.status == InboxStatus.FAILED and "internal" in message.error
    monkeypatch.undo()
    assert inbox_replay(message=message, actor="ops").order.external_id == "6921837463528810011"


def test_trailing_slash_is_accepted(merchant, catalogue, post_signed, client):
    channel = channel_of(merchant, ChannelKind.DOUYIN)
    body = sample_bytes("douyin")
    from channels.signing import sign

    ts = str(int(time.time()))
    response = client.generic(
        "POST",
        f"/api/channels/{channel.code}/orders/",
        body,
        content_type="application/json",
        HTTP_X_TIMESTAMP=ts,
        HTTP_X_SIGNATURE=sign(channel.signing_secret, ts, body),
    )

    assert response.status_code == 201


def test_order_timeline_notes_a_price_the_channel_reported_differently(
    merchant, catalogue, post_signed
):
    channel = channel_of(merchant, ChannelKind.DOUYIN)  # no price list: list price 6299 applies

    response = post_signed(channel, sample_bytes("douyin"))

    order = Order.objects.get(pk=response.json()["order_id"])
    assert order.total == Decimal("6299.00")
    assert OrderEvent.objects.filter(order=order, kind="channel_price_mismatch").exists()
