"""Store POS: a till receipt for goods delivered from the store or the DC to the customer's home.

Money in yuan as JSON numbers or strings with two decimals; the close time as ISO 8601 with an
offset; the member (会员) by member number and mobile, which tills often type as
``+86 138 0013 8000``. ``fulfillment.type`` is ``home_delivery`` (address in
``fulfillment.receiver``) or ``store_pickup`` (the store's own address, the member receives).
"""

from decimal import Decimal

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
    data = Reader(payload)
    if not data.present:
        data.errors["payload"] = ["Expected a JSON object."]
        data.check()
    store_code = data.text("store_code", max_length=20)
    receipt_no = data.text("receipt_no", max_length=40)
    placed_at = data.iso_time("closed_at")
    member = data.obj("member", required=False)
    lines = []
    for item in data.items("items"):
        quantity = item.integer("qty", minimum=1, maximum=100_000)
        price = item.yuan("unit_price", required=False)
        discount = item.yuan("discount", required=False)
        if price is not None and discount is not None and quantity:
            price = max(price - discount / quantity, Decimal(0)).quantize(CENT)
        lines.append(
            CanonicalLine(
                sku=item.text("sku", max_length=64),
                quantity=quantity,
                reported_unit_price=price,
                is_gift=item.boolean("is_gift"),
                campaign_code=item.text("campaign_code", required=False, max_length=60),
            )
        )
    fulfillment = data.obj("fulfillment")
    kind = fulfillment.text("type", max_length=20)
    if kind == "store_pickup":
        store = data.obj("store")
        address = CanonicalAddress(
            receiver_name=member.text("name", max_length=80),
            receiver_phone=member.text("mobile", max_length=32),
            province=store.text("province", max_length=40),
            city=store.text("city", max_length=60),
            district=store.text("district", required=False, max_length=60),
            address_line=store.text("address"),
        )
    else:
        if kind and kind != "home_delivery":
            fulfillment.error("type", "Expected home_delivery or store_pickup.")
        receiver = fulfillment.obj("receiver")
        address = CanonicalAddress(
            receiver_name=receiver.text("name", max_length=80),
            receiver_phone=receiver.text("phone", max_length=32),
            province=receiver.text("province", max_length=40),
            city=receiver.text("city", max_length=60),
            district=receiver.text("district", required=False, max_length=60),
            address_line=receiver.text("address"),
        )
    buyer = Buyer(
        phone=member.text("mobile", required=False, max_length=32) or address.receiver_phone,
        account_id=member.text("member_no", required=False, max_length=64),
        name=member.text("name", required=False, max_length=80),
    )
    shipping_fee = fulfillment.yuan("delivery_fee", required=False)
    reported_total = data.yuan("paid_amount", required=False)
    promised_at = fulfillment.iso_time("deliver_by", required=False)
    data.check()
    assert placed_at is not None  # required: check() raised if it was missing or malformed
    return validate_canonical(
        CanonicalOrder(
            external_id=f"{store_code}-{receipt_no}",
            placed_at=placed_at,
            lines=tuple(lines),
            address=address,
            buyer=buyer,
            shipping_fee=shipping_fee or ZERO,
            reported_total=reported_total,
            promised_at=promised_at,
        )
    )
