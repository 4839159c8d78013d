"""WeChat mini-program: our mini-program's order, paid through WeChat Pay.

The address block is exactly what ``wx.chooseAddress`` returns (``userName``, ``telNumber``,
``provinceName``, ``cityName``, ``countyName``, ``detailInfo``, ``postalCode``); money is in fen
(``total_fee``, ``price``) and the payment time is WeChat Pay's ``time_end`` (``yyyyMMddHHmmss``,
China time). The buyer is the ``openid`` (``unionid`` when the app has one) and the device id the
mini-program reports.
"""

from channels.adapters.base import (
    ZERO,
    Buyer,
    CanonicalAddress,
    CanonicalLine,
    CanonicalOrder,
    Reader,
    validate_canonical,
)


def parse(payload: object) -> CanonicalOrder:
    data = Reader(payload)
    if not data.present:
        data.errors["payload"] = ["Expected a JSON object."]
        data.check()
    external_id = data.text("out_trade_no", max_length=64)
    placed_at = data.local_time("time_end", "%Y%m%d%H%M%S")
    lines = [
        CanonicalLine(
            sku=item.text("goods_id", max_length=64),
            quantity=item.integer("goods_num", minimum=1, maximum=100_000),
            reported_unit_price=item.fen("price", required=False),
            is_gift=item.boolean("is_gift"),
            campaign_code=item.text("campaign_code", required=False, max_length=60),
        )
        for item in data.items("goods")
    ]
    addr = data.obj("address")
    address = CanonicalAddress(
        receiver_name=addr.text("userName", max_length=80),
        receiver_phone=addr.text("telNumber", max_length=32),
        province=addr.text("provinceName", max_length=40),
        city=addr.text("cityName", max_length=60),
        district=addr.text("countyName", required=False, max_length=60),
        address_line=addr.text("detailInfo"),
        postal_code=addr.text("postalCode", required=False, max_length=12),
    )
    payer = data.obj("payer")
    client = data.obj("client", required=False)
    buyer = Buyer(
        phone=payer.text("phone", required=False, max_length=32) or address.receiver_phone,
        device_id=client.text("device_id", required=False, max_length=128),
        account_id=payer.text("unionid", required=False, max_length=128)
        or payer.text("openid", max_length=128),
        name=address.receiver_name,
    )
    shipping_fee = data.fen("freight_fee", required=False)
    reported_total = data.fen("total_fee", required=False)
    data.check()
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
            remark=data.text("remark", required=False, max_length=500),
        )
    )
