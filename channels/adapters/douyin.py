"""Douyin shop (抖店): an order as the open platform's ``order.orderDetail`` returns it.

Money is in fen (integers), times are Unix seconds, the address is nested objects by level
(``post_addr.province.name`` ...). Receiver fields arrive decrypted by our integration bridge
(the platform sends them encrypted); the buyer is ``doudian_open_id``.
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


def parse(payload: object) -> CanonicalOrder:
    root = Reader(payload)
    if not root.present:
        root.errors["payload"] = ["Expected a JSON object."]
        root.check()
    data = root.obj("data") if isinstance(payload, dict) and "data" in payload else root
    external_id = data.text("shop_order_id", max_length=64)
    placed_at = data.epoch("create_time")
    addr = data.obj("post_addr")
    lines = []
    for item in data.items("sku_order_list"):
        quantity = item.integer("item_num", minimum=1, maximum=100_000)
        paid = item.fen("pay_amount", required=False)
        lines.append(
            CanonicalLine(
                sku=item.text("out_sku_id", max_length=64),
                quantity=quantity,
                reported_unit_price=(paid / quantity).quantize(CENT)
                if paid is not None and quantity
                else None,
                is_gift=item.boolean("is_gift"),
                campaign_code=item.text("campaign_code", required=False, max_length=60),
                external_line_id=item.text("sku_order_id", required=False, max_length=64),
            )
        )
    address = CanonicalAddress(
        receiver_name=data.text("post_receiver", max_length=80),
        receiver_phone=data.text("post_tel", max_length=32),
        province=addr.obj("province").text("name", max_length=40),
        city=addr.obj("city").text("name", max_length=60),
        district=addr.obj("town", required=False).text("name", required=False, max_length=60),
        address_line="".join(
            part
            for part in (
                addr.obj("street", required=False).text("name", required=False),
                addr.text("detail"),
            )
            if part
        ),
    )
    buyer = Buyer(
        phone=data.text("post_tel", max_length=32),
        device_id=data.obj("risk_info", required=False).text(
            "device_id", required=False, max_length=128
        ),
        account_id=data.text("doudian_open_id", required=False, max_length=128),
        name=data.text("post_receiver", max_length=80),
    )
    shipping_fee = data.fen("post_amount", required=False)
    reported_total = data.fen("pay_amount", required=False)
    remark = data.text("buyer_words", required=False, max_length=500)
    root.check()
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
