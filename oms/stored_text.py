"""Stored messages said at display time, in the viewer's language.

A timeline entry, an SLA alert or a step's detail keeps what happened as a message code with its
parameters (``Message``), beside an English sentence for logs, search, webhooks and rows written
before codes existed. ``say`` makes the sentence in the active language when a page is shown;
a row without a code, or with a code nobody registered, shows its stored English.

Parameters are shown as they are (names staff typed, numbers, codes, references), except:

- ``{"t": msgid}``: a word the product writes, translated when shown (``word``);
- ``{"en": ..., "zh": ...}``: a name kept in both languages (a service atom's label);
- ``{"msg": {...}}``: a nested stored message (a step's detail inside a timeline entry);
- a list: its items, each shown as above, joined as the language joins names.

``oms`` registers its own codes below; apps above it register theirs when they load
(``register``), with a template or, when a sentence needs more than its parameters (a routing
decision's explanation), a function of the parameters and the merchant's time zone.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_noop, pgettext_lazy
from django.utils.translation import gettext_lazy as _

Renderer = Callable[[dict, tzinfo], str]

_RENDERERS: dict[str, Renderer] = {}


def register(code: str, template: "Promise | str | Renderer") -> None:
    """Say ``code`` with ``template`` (``%(name)s`` placeholders) or with a function."""
    if callable(template) and not isinstance(template, Promise | str):
        _RENDERERS[code] = template
        return

    def render(params: dict, tz: tzinfo) -> str:
        return str(template) % {name: value_text(value, tz) for name, value in params.items()}

    _RENDERERS[code] = render


def word(msgid: str) -> dict:
    """A product word as a parameter, translated when shown (mark ``msgid`` for the catalogue)."""
    return {"t": msgid}


def bilingual(en: str, zh: str = "") -> dict:
    """A name kept in both languages, shown in the viewer's (English when no Chinese is kept)."""
    return {"en": en, "zh": zh}


def _is_chinese() -> bool:
    return (translation.get_language() or "").startswith("zh")


def value_text(value: Any, tz: tzinfo) -> str:
    """One parameter as shown (see the module docstring)."""
    if isinstance(value, dict):
        if "t" in value:
            return gettext(value["t"])
        if "en" in value:
            return (value.get("zh") if _is_chinese() else "") or value["en"]
        if "msg" in value:
            return say(value["msg"], "", tz=tz)
        return ""
    if isinstance(value, list | tuple):
        return ("、" if _is_chinese() else ", ").join(value_text(item, tz) for item in value)
    return "" if value is None else str(value)


def default_tz() -> tzinfo:
    import zoneinfo

    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


@dataclass(frozen=True)
class Message:
    """What happened, as a code and parameters; ``english`` is stored beside it as a sentence."""

    code: str
    params: dict = field(default_factory=dict)
    english_text: str = ""

    def stored(self) -> dict:
        return {"code": self.code, "params": self.params}

    @property
    def english(self) -> str:
        if self.english_text:
            return self.english_text
        with translation.override("en"):
            return say(self.stored(), "")

    def __str__(self) -> str:
        return self.english


def message(code: str, *, english: str = "", **params: Any) -> Message:
    return Message(code=code, params=params, english_text=english)


def say(stored: Mapping | None, fallback: str, *, tz: tzinfo | None = None) -> str:
    """The stored message in the active language; ``fallback`` (stored English) without one."""
    if not stored:
        return fallback
    render = _RENDERERS.get(stored.get("code") or "")
    if render is None:
        return fallback
    try:
        return render(dict(stored.get("params") or {}), tz or default_tz()) or fallback
    except (KeyError, ValueError, TypeError, LookupError):
        return fallback


def event_text(event: Any, *, tz: tzinfo | None = None) -> str:
    """A timeline entry's message in the active language (its stored English for old rows)."""
    data = event.data if isinstance(event.data, dict) else {}
    return say(data.get("text"), event.message, tz=tz)


def split(text: "str | Message") -> tuple[str, dict | None]:
    """(English sentence, stored message or None) of what a service was given."""
    if isinstance(text, Message):
        return text.english, text.stored()
    return text, None


# --- the order's own codes ----------------------------------------------------------------------

_TOGETHER = _(" Ships with order #%(order)s (merged fulfilment).")


def _with_together(template: Promise) -> Renderer:
    def render(params: dict, tz: tzinfo) -> str:
        text = str(template)
        if params.get("together"):
            text += str(_TOGETHER) % {"order": params["together"]}
        return text

    return render


register("order.created", _("Order received from %(channel)s."))
register("order.released", _with_together(_("Released to the warehouse for picking.")))
register("order.shipped", _with_together(_("Parcel handed to the carrier.")))
register("order.delivered", _with_together(_("Delivered to the receiver.")))
register("order.cancelled", _("Cancelled."))
register("order.merged", _("Merged with %(orders)s: %(reason)s"))
register("order.ships_with", _("Ships with %(orders)s as one merged fulfilment."))
register("order.routed_again", _("Routed again by staff."))
register("order.charge_changed", _("%(field)s %(old)s -> %(new)s"))
register("order.fields_changed", _("changed %(fields)s"))
register("order.webhook_resent", _("Webhook %(event_type)s sent again to %(url)s by staff."))


# An order status as a sentence names it ("An order that is waiting for staff cannot be routed."),
# one word a status of ``OrderStatus`` (this module cannot import the models).
ORDER_STATUS_WORDS = {
    "created": pgettext_lazy("order status", "new"),
    "routed": pgettext_lazy("order status", "routed"),
    "released": pgettext_lazy("order status", "released to the warehouse"),
    "shipped": pgettext_lazy("order status", "shipped"),
    "delivered": pgettext_lazy("order status", "delivered"),
    "needs_attention": pgettext_lazy("order status", "waiting for staff"),
    "cancelled": pgettext_lazy("order status", "cancelled"),
}


def _status_word(status: str) -> str:
    """An order status as a sentence names it, in the active language (the code if unknown)."""
    label = ORDER_STATUS_WORDS.get(status)
    return str(label) if label is not None else status


def _with_status(template: Promise) -> Renderer:
    def render(params: dict, tz: tzinfo) -> str:
        values = {name: value_text(value, tz) for name, value in params.items()}
        return str(template) % {**values, "status": _status_word(params["status"])}

    return render


# Why stock could not be held or orders could not ship together (a "not merged" reason).
register("oms.stock_short", _("Not enough stock for %(skus)s."))
register("oms.cannot_route", _with_status(_("An order that is %(status)s cannot be routed.")))
register(
    "oms.companion_moved_on",
    _with_status(_("Order #%(other)s is %(status)s and can no longer ship with order #%(order)s.")),
)
register(
    "oms.companion_other_customer",
    _("Order #%(other)s no longer belongs to the customer of order #%(order)s."),
)
register(
    "oms.companions_left_out", _("Orders %(orders)s ship with these orders and would be left out.")
)

# Field names the correction sentence names (marked for the catalogue; translated when shown).
FIELD_WORDS = {
    "shipping_fee": gettext_noop("shipping fee"),
    "discount_total": gettext_noop("discount"),
    "subtotal": gettext_noop("subtotal"),
    "total": gettext_noop("total"),
    "receiver_name": gettext_noop("receiver name"),
    "receiver_phone": gettext_noop("receiver phone"),
    "province": gettext_noop("province"),
    "city": gettext_noop("city"),
    "district": gettext_noop("district"),
    "address_line": gettext_noop("address"),
    "postal_code": gettext_noop("postal code"),
    "promised_at": gettext_noop("promised delivery by"),
    "customer": gettext_noop("customer"),
}


def field_word(name: str) -> dict:
    return word(FIELD_WORDS.get(name, name.replace("_", " ")))


def _joined_parts(params: dict, tz: tzinfo) -> str:
    parts = [say(part, "", tz=tz) for part in params.get("parts", [])]
    separator = "；" if _is_chinese() else "; "
    return str(_("Corrected by staff: %(changes)s.")) % {"changes": separator.join(parts)}


register("order.corrected", _joined_parts)


# --- how a timeline entry is labelled -----------------------------------------------------------

EVENT_KINDS = {
    "created": _("received"),
    "status": _("status change"),
    "routing": _("routing"),
    "merged": _("merged"),
    "edited": _("correction"),
    "exception": _("staff action"),
    "service_step": _("service step"),
    "services_planned": _("services planned"),
    "services_completed": _("services completed"),
    "services_cancelled": _("services cancelled"),
    "sla_breached": _("SLA breached"),
    "customer_intervention": _("customer change"),
    "tracking_link": _("status-page link"),
    "parcel_scan": _("parcel scan"),
    "webhook_resent": _("webhook sent again"),
    "gift_refused": _("gift refused"),
    "channel_price_mismatch": _("channel price mismatch"),
    "promotion_unchecked": _("promotion not checked"),
}

SYSTEM_ACTORS = {
    "system:routing": _("routing"),
    "system": _("system"),
    "orchestration": _("order services"),
    "sla-monitor": _("SLA monitor"),
    "customer": _("customer"),
    "carrier": _("carrier"),
    "channel": _("channel"),
}


def event_kind(kind: str) -> str:
    return str(EVENT_KINDS.get(kind, kind))


def actor_name(actor: str) -> str:
    """Who did it: staff by their user name, the system's parts in words, others as stored."""
    if actor.startswith("user:"):
        return actor.removeprefix("user:")
    label = SYSTEM_ACTORS.get(actor)
    return str(label) if label is not None else actor


def status_reason_text(order: Any, events: Any = None, *, tz: tzinfo | None = None) -> str:
    """An order's status reason in the active language.

    The reason is the message of the entry that set it (a status change, or a merge that
    replaced the plan); without one it shows as stored.
    """
    reason = order.status_reason
    if not reason:
        return ""
    rows = events if events is not None else order.events.order_by("-at", "-id")[:50]
    for event in rows:
        data = event.data if isinstance(event.data, dict) else {}
        replaced = data.get("status_reason")
        if isinstance(replaced, dict) and replaced.get("english") == reason:
            return say(replaced.get("text"), reason, tz=tz)
        if event.kind == "status" and event.message[:300] == reason:
            return say(data.get("text"), reason, tz=tz)
    return reason
