"""B2B wholesale: a purchase order (PO) from a business customer's procurement system.

Money in yuan as decimal strings, dates as ``YYYY-MM-DD`` (China), quantities may be large; the
buyer is the business account (``buyer.account_id``) with a contact who may give a landline.
``requested_delivery_date`` becomes the promise (end of that day).
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
    po_number = data.text("po_number", max_length=64)
    placed_at = data.local_date("order_date")
    promised_at = data.local_date("requested_delivery_date", required=False, end_of_day=True)
    currency = data.text("currency", required=False, max_length=3) or "CNY"
    buyer_block = data.obj("buyer")
    contact = buyer_block.obj("contact", required=False)
    ship_to = data.obj("ship_to")
    lines = [
        CanonicalLine(
            sku=item.text("sku", max_length=64),
            quantity=item.integer("quantity", minimum=1, maximum=100_000),
            reported_unit_price=item.yuan("unit_price", required=False),
            external_line_id=item.text("line_no", required=False, max_length=20),
        )
        for item in data.items("lines")
    ]
    address = CanonicalAddress(
        receiver_name=ship_to.text("contact", max_length=80),
        receiver_phone=ship_to.text("phone", max_length=32),
        province=ship_to.text("province", max_length=40),
        city=ship_to.text("city", max_length=60),
        district=ship_to.text("district", required=False, max_length=60),
        address_line=ship_to.text("street"),
        postal_code=ship_to.text("postal_code", required=False, max_length=12),
    )
    buyer = Buyer(
        phone=contact.text("phone", required=False, max_length=32),
        account_id=buyer_block.text("account_id", max_length=64),
        name=buyer_block.text("company", max_length=120),
    )
    shipping_fee = data.yuan("freight", required=False)
    reported_total = data.yuan("total_amount", required=False)
    data.check()
    assert placed_at is not None  # required: check() raised if it was missing or malformed
    return validate_canonical(
        CanonicalOrder(
            external_id=po_number,
            placed_at=placed_at,
            promised_at=promised_at,
            lines=tuple(lines),
            address=address,
            buyer=buyer,
            currency=currency,
            shipping_fee=shipping_fee or ZERO,
            reported_total=reported_total,
            remark=data.text("remark", required=False, max_length=500),
        )
    )
