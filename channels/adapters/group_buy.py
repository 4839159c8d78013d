"""Community group-buying (社区团购): an order of a group activity, delivered to a pickup point.

Money in fen with ``_fen`` suffixes, the payment time in Unix milliseconds. Three order types:
``leader_proxy`` (the leader orders for a member: the leader receives), ``member_direct`` (the
member orders: the member receives) and ``store_pickup`` (picked up at a store that is the
pickup point). The parcel always goes to the pickup point's address; the leader and the pickup
point are kept so orders can be merged per pickup point and sorted into pick lists.
"""

from channels.adapters.base import (
    Buyer,
    CanonicalAddress,
    CanonicalLine,
    CanonicalOrder,
    GroupBuy,
    Reader,
    validate_canonical,
)

ORDER_TYPES = ("leader_proxy", "member_direct", "store_pickup")


def parse(payload: object) -> CanonicalOrder:
    data = Reader(payload)
    if not data.present:
        data.errors["payload"] = ["Expected a JSON object."]
        data.check()
    external_id = data.text("group_order_no", max_length=64)
    placed_at = data.epoch("paid_at_ms", millis=True)
    order_type = data.text("order_type", max_length=20)
    if order_type and order_type not in ORDER_TYPES:
        data.error("order_type", f"Expected one of {', '.join(ORDER_TYPES)}.")
    leader = data.obj("leader")
    point = data.obj("pickup_point")
    member = data.obj("member")
    lines = [
        CanonicalLine(
            sku=item.text("sku_code", max_length=64),
            quantity=item.integer("count", minimum=1, maximum=100_000),
            reported_unit_price=item.fen("price_fen", required=False),
            is_gift=item.boolean("is_gift"),
            campaign_code=item.text("campaign_code", required=False, max_length=60),
        )
        for item in data.items("items")
    ]
    receiver = leader if order_type == "leader_proxy" else member
    point_name = point.text("name", max_length=120)
    address = CanonicalAddress(
        receiver_name=receiver.text("name", max_length=80),
        receiver_phone=receiver.text("phone", max_length=32),
        province=point.text("province", max_length=40),
        city=point.text("city", max_length=60),
        district=point.text("district", required=False, max_length=60),
        address_line=f"{point.text('address', max_length=200)}（{point_name}自提点）",
    )
    buyer = Buyer(
        phone=member.text("phone", max_length=32),
        device_id=member.text("device_id", required=False, max_length=128),
        account_id=member.text("user_id", max_length=64),
        name=member.text("name", max_length=80),
    )
    group = GroupBuy(
        order_type=order_type,
        leader_id=leader.text("leader_id", max_length=64),
        leader_name=leader.text("name", max_length=80),
        pickup_point_id=point.text("id", max_length=64),
        pickup_point_name=point_name,
        activity_id=data.text("activity_id", required=False, max_length=64),
    )
    reported_total = data.fen("paid_amount_fen", required=False)
    data.check()
    assert placed_at is not None  # required: check() raised if it was missing or malformed
    return validate_canonical(
        CanonicalOrder(
            external_id=external_id,
            placed_at=placed_at,
            lines=tuple(lines),
            address=address,
            buyer=buyer,
            reported_total=reported_total,
            group_buy=group,
        )
    )
