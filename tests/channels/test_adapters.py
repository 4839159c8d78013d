"""Adapters: each kind's documented sample becomes the same canonical order shape (no DB)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from channels.adapters import PayloadError, parse_payload
from tests.channels.conftest import KINDS, sample


@pytest.mark.parametrize("kind", KINDS)
def test_each_sample_becomes_a_canonical_order(kind):
    order = parse_payload(kind, sample(kind))

    assert order.external_id
    assert order.placed_at.tzinfo is not None
    assert order.lines and all(line.quantity >= 1 for line in order.lines)
    assert order.address.receiver_phone and order.address.province and order.address.address_line


def test_douyin_money_in_fen_and_epoch_seconds_are_converted():
    order = parse_payload("douyin", sample("douyin"))

    assert order.placed_at == datetime(2026, 11, 25, 6, 3, 11, tzinfo=UTC)
    assert order.lines[0].reported_unit_price == Decimal("5999.00")
    assert order.reported_total == Decimal("5999.00")
    assert order.address.district == "浦东新区"
    assert order.address.address_line == "花木街道世纪大道100号3号楼1201室"
    assert order.buyer.device_id == "dy-dev-7f3a91c2"


def test_wechat_time_end_is_china_local_time():
    order = parse_payload("wechat_mini", sample("wechat_mini"))

    assert order.placed_at == datetime(2026, 11, 25, 6, 8, 11, tzinfo=UTC)
    assert order.buyer.account_id == "o6_bmasdasdsad6_2sgVt7hMZOPfL"  # unionid preferred
    assert order.address.postal_code == "200120"


def test_tmall_gift_sub_order_keeps_its_campaign():
    order = parse_payload("tmall", sample("tmall"))

    gift = order.lines[1]
    assert gift.is_gift and gift.campaign_code == "double11-pillow"
    assert order.lines[0].reported_unit_price == Decimal("6299.00")


def test_b2b_requested_date_becomes_the_promise():
    order = parse_payload("b2b", sample("b2b"))

    assert order.promised_at.isoformat() == "2026-12-01T23:59:59+08:00"
    assert order.shipping_fee == Decimal("300.00")
    assert order.buyer.account_id == "B2B-0042"


def test_group_buy_keeps_leader_and_pickup_point_and_ships_to_the_point():
    order = parse_payload("group_buy", sample("group_buy"))

    assert order.group_buy.leader_id == "L-1001"
    assert order.group_buy.pickup_point_id == "PP-77"
    assert "幸福里小区东门驿站" in order.address.address_line
    assert order.address.receiver_name == "陈静"  # member_direct: the member receives
    assert order.lines[0].reported_unit_price == Decimal("19.90")


def test_group_buy_leader_proxy_is_received_by_the_leader():
    payload = sample("group_buy") | {"order_type": "leader_proxy"}

    assert parse_payload("group_buy", payload).address.receiver_name == "王阿姨"


def test_store_pickup_uses_the_store_address():
    payload = sample("store_pos")
    payload["fulfillment"] = {"type": "store_pickup"}

    order = parse_payload("store_pos", payload)

    assert order.address.address_line == "漕溪北路88号1层"
    assert order.address.receiver_phone == "+86 138 0013 8000"


def test_errors_name_the_native_field_paths():
    payload = sample("douyin")
    payload["data"]["sku_order_list"][0]["item_num"] = "two"
    del payload["data"]["post_addr"]["province"]
    payload["data"]["create_time"] = 1795586591000  # milliseconds where seconds are due

    with pytest.raises(PayloadError) as caught:
        parse_payload("douyin", payload)

    errors = caught.value.errors
    assert "data.sku_order_list.0.item_num" in errors
    assert "data.post_addr.province" in errors
    assert "data.create_time" in errors


@pytest.mark.parametrize("payload", [None, [], "x", 3, {"goods": "nope"}, {"goods": [1, None]}])
def test_wrong_shapes_are_payload_errors_not_crashes(payload):
    with pytest.raises(PayloadError):
        parse_payload("wechat_mini", payload)


def test_money_with_more_than_two_decimals_is_refused():
    payload = sample("tmall")
    payload["trade_fullinfo_get_response"]["trade"]["post_fee"] = "1.005"

    with pytest.raises(PayloadError) as caught:
        parse_payload("tmall", payload)

    assert "trade_fullinfo_get_response.trade.post_fee" in caught.value.errors


def test_adapters_import_no_django():
    import ast
    from pathlib import Path

    import channels.adapters as package

    for path in Path(package.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [n for n in names if n.startswith("django")], path
