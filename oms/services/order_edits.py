"""Staff corrections to an order: receiver, customer, shipping fee and discount.

The money of an order is one sum, written in one place: ``total = subtotal + shipping fee -
discount``, with the subtotal taken from the lines as ordered. A correction of the shipping fee
or the discount recomputes both, and is taken only until the parcel leaves (``CHARGES_EDITABLE``):
after that the amounts are what the customer was charged for what shipped. The currency never
changes here: an order's lines are priced in it from the moment the order exists.

Every correction is one timeline entry naming the staff member and the fields; money changes
carry their old and new amounts. Receiver fields are named, never copied, so the timeline holds
no second copy of a phone number or an address.
"""

from collections.abc import Mapping
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Sum

from oms.exceptions import ChargesRefused
from oms.geo import region_for_province
from oms.models import Order, OrderLine, OrderStatus
from oms.services.orders import order_note
from oms.stored_text import field_word, message

CHARGES_EDITABLE = frozenset(
    {OrderStatus.CREATED, OrderStatus.NEEDS_ATTENTION, OrderStatus.ROUTED, OrderStatus.RELEASED}
)
CHARGE_FIELDS = ("shipping_fee", "discount_total")
DETAIL_FIELDS = (
    "receiver_name",
    "receiver_phone",
    "province",
    "city",
    "district",
    "address_line",
    "postal_code",
    "customer",
    "promised_at",
)


def order_subtotal(*, order_id: int) -> Decimal:
    """The sum of the order's lines at their prices as ordered."""
    subtotal = OrderLine.objects.filter(order_id=order_id).aggregate(
        subtotal=Sum(F("unit_price") * F("quantity"))
    )["subtotal"]
    return (subtotal or Decimal("0")).quantize(Decimal("0.01"))


def charges_problem(*, subtotal: Decimal, shipping_fee: Decimal, discount_total: Decimal) -> str:
    """Why these charges cannot stand, in English, or ``""``: the API's rule and the admin's."""
    if shipping_fee < 0 or discount_total < 0:
        return "Amounts cannot be negative."
    if discount_total > subtotal + shipping_fee:
        return "Cannot exceed the subtotal plus shipping fee."
    return ""


@transaction.atomic
def order_edit(*, order: Order, actor: str, changes: Mapping[str, object]) -> Order:
    """Apply staff corrections to an order, recompute its total, and record them on its timeline.

    Only the named fields are written, on the locked row, so a status that routing or another
    member of staff changed meanwhile is never overwritten. A change to the shipping fee or the
    discount is refused (``ChargesRefused``) once the order has shipped or was cancelled, or
    when the discount would exceed the subtotal plus the shipping fee.
    """
    unknown = set(changes) - set(CHARGE_FIELDS) - set(DETAIL_FIELDS)
    if unknown:
        raise ValueError(f"order_edit cannot change {sorted(unknown)}")
    locked = Order.objects.select_for_update().get(pk=order.pk)
    changed = [name for name, value in changes.items() if getattr(locked, name) != value]
    if not changed:
        return locked
    money: dict[str, list[str]] = {}
    if any(name in CHARGE_FIELDS for name in changed):
        money = _recharge(locked, changes)
    for name in changed:
        setattr(locked, name, changes[name])
    fields = [*changed, *(name for name in ("subtotal", "total") if name in money)]
    if "province" in changed:  # the region routing plans by follows the address
        locked.region = region_for_province(locked.province)
        fields.append("region")
    locked.save(update_fields=[*dict.fromkeys(fields), "updated_at"])
    others = [name for name in changed if name not in CHARGE_FIELDS]
    order_note(
        order=locked,
        actor=actor,
        kind="edited",
        message=message(
            "order.corrected",
            english=_describe(money, others),
            parts=[
                *(
                    message(
                        "order.charge_changed", field=field_word(name), old=old, new=new
                    ).stored()
                    for name, (old, new) in money.items()
                ),
                *(
                    [
                        message(
                            "order.fields_changed", fields=[field_word(n) for n in others]
                        ).stored()
                    ]
                    if others
                    else []
                ),
            ],
        ),
        data={"money": money, "fields": others},
    )
    return locked


def _recharge(order: Order, changes: Mapping[str, object]) -> dict[str, list[str]]:
    """Check the new charges and set the recomputed subtotal and total; returns old -> new."""
    if order.status not in CHARGES_EDITABLE:
        raise ChargesRefused(
            f"The charges of an order that is {order.status} cannot change.",
            status=order.status,
        )
    shipping_fee = Decimal(str(changes.get("shipping_fee", order.shipping_fee)))
    discount_total = Decimal(str(changes.get("discount_total", order.discount_total)))
    subtotal = order_subtotal(order_id=order.pk)
    problem = charges_problem(
        subtotal=subtotal, shipping_fee=shipping_fee, discount_total=discount_total
    )
    if problem:
        raise ChargesRefused(problem, shipping_fee=str(shipping_fee), discount=str(discount_total))
    new = {
        "shipping_fee": shipping_fee,
        "discount_total": discount_total,
        "subtotal": subtotal,
        "total": subtotal + shipping_fee - discount_total,
    }
    moved = {
        name: [f"{getattr(order, name):.2f}", f"{value:.2f}"]
        for name, value in new.items()
        if getattr(order, name) != value
    }
    order.subtotal, order.total = new["subtotal"], new["total"]
    return moved


LABELS = {
    "shipping_fee": "shipping fee",
    "discount_total": "discount",
    "subtotal": "subtotal",
    "total": "total",
}


def _describe(money: Mapping[str, list[str]], others: list[str]) -> str:
    parts = [f"{LABELS[name]} {old} -> {new}" for name, (old, new) in money.items()]
    if others:
        parts.append("changed " + ", ".join(name.replace("_", " ") for name in others))
    return "Corrected by staff: " + "; ".join(parts) + "."
