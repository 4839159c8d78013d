"""Tmall: a trade as Taobao Open Platform's ``taobao.trade.fullinfo.get`` returns it.

Wrapped in ``trade_fullinfo_get_response.trade`` (a bare ``trade`` is accepted too); money in
yuan as decimal strings (``"6299.00"``), times as China-local strings (``2026-11-25 14:03:11``),
sub-orders under ``orders.order``, the buyer as ``buyer_open_uid``. Gift sub-orders (赠品) carry
``is_gift`` and the campaign in ``promotion_code``.
"""

from channels.adapters.base import (
    CENT,
    ZERO,
    Buyer,
    CanonicalAddress,
    CanonicalLine,
    CanonicalOrder,
    Reader,
    validate_canonical,
)

TIME = "%Y-%m-%d %H:%M:%S"


def parse(payload: object) -> CanonicalOrder:
    root = Reader(payload)
    if not root.present:
        root.errors["payload"] = ["Expected a JSON object."]
        root.check()
    if isinstance(payload, dict) and "trade_fullinfo_get_response" in payload:
        root = root.obj("trade_fullinfo_get_response")
    trade = root.obj("trade")
    external_id = trade.text("tid", max_length=64)
    placed_at = trade.local_time("created", TIME)
    lines = []
    for item in trade.obj("orders").items("order"):
        quantity = item.integer("num", minimum=1, maximum=100_000)
        paid = item.yuan("payment", required=False)
        lines.append(
            CanonicalLine(
                sku=item.text("outer_sku_id", max_length=64),
                quantity=quantity,
                reported_unit_price=(paid / quantity).quantize(CENT)
                if paid is not None and quantity
                else None,
                is_gift=item.boolean("is_gift"),
                campaign_code=item.text("promotion_code", required=False, max_length=60),
                external_line_id=item.text("oid", required=False, max_length=64),
            )
        )
    address = CanonicalAddress(
        receiver_name=trade.text("receiver_name", max_length=80),
        receiver_phone=trade.text("receiver_mobile", max_length=32),
        province=trade.text("receiver_state", max_length=40),
        city=trade.text("receiver_city", max_length=60),
        district=trade.text("receiver_district", required=False, max_length=60),
        address_line="".join(
            part
            for part in (
                trade.text("receiver_town", required=False, max_length=60),
                trade.text("receiver_address"),
            )
            if part
        ),
        postal_code=trade.text("receiver_zip", required=False, max_length=12),
    )
    buyer = Buyer(
        phone=address.receiver_phone,
        account_id=trade.text("buyer_open_uid", required=False, max_length=128),
        name=address.receiver_name,
    )
    shipping_fee = trade.yuan("post_fee", required=False)
    reported_total = trade.yuan("payment", required=False)
    remark = trade.text("buyer_message", required=False, max_length=500)
    trade.check()
    assert placed_at is not None  # required: check() raised if it was missing or malformed
    return validate_canonical(
        CanonicalOrder(
            external_id=external_id,
            placed_at=placed_at,
            lines=tuple(lines),
            address=address,
            buyer=buyer,
            shipping_fee=shipping_fee or ZERO,
            reported_total=reported_total,
            remark=remark,
        )
    )
