"""The channels' stored messages (gift refusals, price mismatches), said when shown.

Registered with ``oms.stored_text`` when the app loads. Campaign codes, channel names and order
numbers stay as typed; the sentence around them is the viewer's language. Notes written before
codes were kept show their stored English.
"""

from datetime import tzinfo
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from oms.stored_text import Message, message, register, say, value_text

if TYPE_CHECKING:
    from channels.models import GiftRefusal


def gift_refused(
    *, campaign: str, customer: int, order: int | None = None, channel: str = ""
) -> Message:
    """Why a once-per-customer gift was withheld: the customer had it already (on ``order``)."""
    return message(
        "channels.gift_refused", campaign=campaign, customer=customer, order=order, channel=channel
    )


def _gift_refused(params: dict, tz: tzinfo) -> str:
    values = {name: value_text(value, tz) for name, value in params.items()}
    if params.get("order"):
        return (
            _(
                "Campaign %(campaign)s withheld: customer #%(customer)s already received it on "
                "order #%(order)s (%(channel)s)."
            )
            % values
        )
    return _("Campaign %(campaign)s withheld: customer #%(customer)s already received it.") % values


def refusal_text(refusal: "GiftRefusal") -> str:
    """A refused gift's reason in the active language, from the refusal and the grant it cites."""
    grant = refusal.grant
    return say(
        gift_refused(
            campaign=refusal.campaign_code,
            customer=refusal.customer_id,
            order=grant.order_id if grant else None,
            channel=grant.channel.name if grant and grant.order_id else "",
        ).stored(),
        refusal.reason,
    )


register("channels.gift_refused", _gift_refused)
register(
    "channels.price_mismatch",
    gettext_lazy("The channel reported %(reported)s, the channel's price rules give %(total)s."),
)
register(
    "channels.promotions_unchecked",
    gettext_lazy(
        "Campaigns %(campaigns)s applied without a ledger check: the order names no phone or "
        "account."
    ),
)
