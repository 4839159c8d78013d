"""Direct API channel: the canonical order itself as JSON (a merchant's own shop system).

Field names are the canonical ones; money in yuan as decimal strings, times in ISO 8601.
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
    receiver = data.obj("receiver")
    buyer = data.obj("buyer", required=False)
    external_id = data.text("external_id", max_length=64)
    placed_at = data.iso_time("placed_at")
    promised_at = data.iso_time("promised_at", required=False)
    lines = tuple(
        CanonicalLine(
            sku=item.text("sku", max_length=64),
            quantity=item.integer("quantity", minimum=1, maximum=100_000),
            reported_unit_price=item.yuan("unit_price", required=False),
            is_gift=item.boolean("is_gift"),
            campaign_code=item.text("campaign_code", required=False, max_length=60),
        )
        for item in data.items("lines")
    )
    address = CanonicalAddress(
        receiver_name=receiver.text("name", max_length=80),
        receiver_phone=receiver.text("phone", max_length=32),
        province=receiver.text("province", max_length=40),
        city=receiver.text("city", max_length=60),
        district=receiver.text("district", required=False, max_length=60),
        address_line=receiver.text("address_line"),
        postal_code=receiver.text("postal_code", required=False, max_length=12),
    )
    buyer_of_order = Buyer(
        phone=buyer.text("phone", required=False, max_length=32),
        device_id=buyer.text("device_id", required=False, max_length=128),
        account_id=buyer.text("account_id", required=False, max_length=128),
    )
    shipping_fee = data.yuan("shipping_fee", required=False) or ZERO
    reported_total = data.yuan("total", required=False)
    data.check()
    assert placed_at is not None  # required: check() raised if it was missing or malformed
    order = CanonicalOrder(
        external_id=external_id,
        placed_at=placed_at,
        promised_at=promised_at,
        lines=lines,
        address=address,
        buyer=buyer_of_order,
        shipping_fee=shipping_fee,
        reported_total=reported_total,
    )
    return validate_canonical(order)
