"""The admin's sidebar, by job: what operations staff do, not which app a model lives in.

Settings name :func:`navigation` (``UNFOLD["SIDEBAR"]["navigation"]``). Each item is shown to
staff who may view its model; a group without a visible item is left out by the theme.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl

from django.http import HttpRequest
from django.urls import reverse_lazy
from django.utils.translation import pgettext_lazy


def can_view(*models: str) -> Callable[[HttpRequest], bool]:
    """Whether the user may view any of ``models`` ("app_label.model")."""

    def check(request: HttpRequest) -> bool:
        user = request.user
        return any(
            user.has_perm(f"{label}.view_{name}") or user.has_perm(f"{label}.change_{name}")
            for label, name in (model.split(".") for model in models)
        )

    return check


def _model(title, icon: str, model: str, query: str = "") -> dict:
    label, name = model.split(".")
    link = str(reverse_lazy(f"admin:{label}_{name}_changelist"))
    filters = dict(parse_qsl(query.lstrip("?")))

    def active(request: HttpRequest) -> bool:
        # A filtered entry ("orders needing attention") is lit only with its filter; the plain
        # entry of the same list is not lit then.
        if not request.path.startswith(link):
            return False
        shown = {key: request.GET.get(key) for key in filters}
        return shown == filters if filters else not _filtered_entry(request, link)

    return {
        "title": title,
        "icon": icon,
        "link": f"{link}{query}" if query else link,
        "active": active,
        "permission": can_view(model),
    }


# Lists that have a filtered entry of their own in the sidebar, with that entry's filter.
_FILTERED = {
    "oms.order": {"status__exact": "needs_attention"},
    "orchestration.servicestep": {"status__exact": "failed"},
    "orchestration.slaalert": {"resolved_at__isnull": "True"},
}


def _filtered_entry(request: HttpRequest, link: str) -> bool:
    for model, filters in _FILTERED.items():
        label, name = model.split(".")
        if str(reverse_lazy(f"admin:{label}_{name}_changelist")) == link and all(
            request.GET.get(key) == value for key, value in filters.items()
        ):
            return True
    return False


def _page(title, icon: str, url_name: str, *models: str) -> dict:
    return {
        "title": title,
        "icon": icon,
        "link": reverse_lazy(url_name),
        "permission": can_view(*models),
    }


def navigation(request: HttpRequest) -> list[dict]:
    return [
        {
            "title": pgettext_lazy("sidebar", "Orders"),
            "separator": False,
            "items": [
                _page(
                    pgettext_lazy("sidebar", "Operations dashboard"),
                    "monitoring",
                    "orchestration:ops-dashboard",
                    "oms.order",
                ),
                _model(pgettext_lazy("sidebar", "Orders"), "receipt_long", "oms.order"),
                _model(pgettext_lazy("sidebar", "Shipments"), "local_shipping", "oms.shipment"),
                _model(
                    pgettext_lazy("sidebar", "Merged fulfilments"),
                    "call_merge",
                    "oms.consolidation",
                ),
                _model(
                    pgettext_lazy("sidebar", "Inventory batches"),
                    "inventory_2",
                    "oms.inventorybatch",
                ),
                _model(pgettext_lazy("sidebar", "Pick waves"), "view_list", "channels.pickwave"),
            ],
        },
        {
            "title": pgettext_lazy("sidebar", "Exceptions"),
            "separator": True,
            "items": [
                _page(
                    pgettext_lazy("sidebar", "Exceptions queue"),
                    "emergency",
                    "orchestration:ops-exceptions",
                    "orchestration.slaalert",
                    "orchestration.servicestep",
                    "oms.order",
                ),
                _model(
                    pgettext_lazy("sidebar", "Orders needing attention"),
                    "report",
                    "oms.order",
                    "?status__exact=needs_attention",
                ),
                _model(
                    pgettext_lazy("sidebar", "Failed service steps"),
                    "error",
                    "orchestration.servicestep",
                    "?status__exact=failed",
                ),
                _model(
                    pgettext_lazy("sidebar", "Open SLA alerts"),
                    "alarm",
                    "orchestration.slaalert",
                    "?resolved_at__isnull=True",
                ),
                _model(
                    pgettext_lazy("sidebar", "Matches to review"), "rule", "customers.reviewitem"
                ),
                _model(
                    pgettext_lazy("sidebar", "Customer interventions"),
                    "support_agent",
                    "orchestration.interventionrequest",
                ),
            ],
        },
        {
            "title": pgettext_lazy("sidebar", "Routing"),
            "separator": True,
            "items": [
                _model(
                    pgettext_lazy("sidebar", "Routing decisions"),
                    "alt_route",
                    "routing.routingdecision",
                ),
                _model(
                    pgettext_lazy("sidebar", "Routing profiles"), "tune", "routing.routingprofile"
                ),
                _page(
                    pgettext_lazy("sidebar", "Routing canvas"),
                    "instant_mix",
                    "admin:routing_canvas",
                    "routing.routingprofile",
                ),
                _model(
                    pgettext_lazy("sidebar", "Routing rules"),
                    "rule_settings",
                    "routing.routingrule",
                ),
                _model(pgettext_lazy("sidebar", "Warehouses"), "warehouse", "oms.warehouse"),
                _model(pgettext_lazy("sidebar", "Lanes"), "route", "routing.lane"),
                _model(pgettext_lazy("sidebar", "Carriers"), "local_shipping", "routing.carrier"),
                _model(
                    pgettext_lazy("sidebar", "Carrier services"),
                    "conveyor_belt",
                    "routing.carrierservice",
                ),
                _model(
                    pgettext_lazy("sidebar", "Rate cards"), "request_quote", "routing.carrierrate"
                ),
                _model(
                    pgettext_lazy("sidebar", "Warehouse carriers"),
                    "hub",
                    "routing.warehousecarrier",
                ),
                _model(
                    pgettext_lazy("sidebar", "Weather alerts"),
                    "thunderstorm",
                    "routing.weatheralert",
                ),
                _model(
                    pgettext_lazy("sidebar", "Carrier capacity"), "speed", "routing.carriercapacity"
                ),
                _model(
                    pgettext_lazy("sidebar", "Courier loads"), "two_wheeler", "routing.courierload"
                ),
                _model(
                    pgettext_lazy("sidebar", "Promise holds"), "lock_clock", "routing.promisehold"
                ),
            ],
        },
        {
            "title": pgettext_lazy("sidebar", "Customers"),
            "separator": True,
            "items": [
                _model(pgettext_lazy("sidebar", "Customers"), "person", "customers.customer"),
                _model(pgettext_lazy("sidebar", "Identities"), "fingerprint", "customers.identity"),
                _model(
                    pgettext_lazy("sidebar", "Customer merges"), "merge", "customers.customermerge"
                ),
                _model(
                    pgettext_lazy("sidebar", "Customer splits"),
                    "call_split",
                    "customers.customersplit",
                ),
                _model(
                    pgettext_lazy("sidebar", "Matching rules"), "rule", "customers.matchruleset"
                ),
                _model(
                    pgettext_lazy("sidebar", "Matching rule set versions"),
                    "history",
                    "customers.rulesetversion",
                ),
            ],
        },
        {
            "title": pgettext_lazy("sidebar", "Services & SLAs"),
            "separator": True,
            "items": [
                _page(
                    pgettext_lazy("sidebar", "SLA board"),
                    "timer",
                    "orchestration:sla-board",
                    "orchestration.slaalert",
                ),
                _model(
                    pgettext_lazy("sidebar", "Service steps"),
                    "checklist",
                    "orchestration.servicestep",
                ),
                _model(
                    pgettext_lazy("sidebar", "Service atoms"),
                    "widgets",
                    "orchestration.serviceatom",
                ),
                _model(
                    pgettext_lazy("sidebar", "Service templates"),
                    "account_tree",
                    "orchestration.servicetemplate",
                ),
                _model(pgettext_lazy("sidebar", "SLA alerts"), "alarm", "orchestration.slaalert"),
                _model(
                    pgettext_lazy("sidebar", "Order trackings"),
                    "qr_code",
                    "orchestration.ordertracking",
                ),
                _model(
                    pgettext_lazy("sidebar", "Pickup points"),
                    "storefront",
                    "orchestration.pickuppoint",
                ),
            ],
        },
        {
            "title": pgettext_lazy("sidebar", "Channels"),
            "separator": True,
            "items": [
                _model(pgettext_lazy("sidebar", "Sales channels"), "hub", "oms.saleschannel"),
                _model(
                    pgettext_lazy("sidebar", "Channel orders"), "inbox", "channels.channelorder"
                ),
                _model(
                    pgettext_lazy("sidebar", "Channel inbox"),
                    "move_to_inbox",
                    "channels.channelinboxmessage",
                ),
                _model(
                    pgettext_lazy("sidebar", "Price lists"), "sell", "channels.channelpricelist"
                ),
                _model(
                    pgettext_lazy("sidebar", "Channel prices"), "payments", "channels.channelprice"
                ),
                _model(pgettext_lazy("sidebar", "Promotions"), "campaign", "channels.promotion"),
                _model(pgettext_lazy("sidebar", "Gift ledger"), "redeem", "channels.giftgrant"),
                _model(pgettext_lazy("sidebar", "Refused gifts"), "block", "channels.giftrefusal"),
                _model(
                    pgettext_lazy("sidebar", "Webhook subscriptions"),
                    "webhook",
                    "orchestration.webhooksubscription",
                ),
                _model(
                    pgettext_lazy("sidebar", "Webhook deliveries"),
                    "send",
                    "orchestration.webhookdelivery",
                ),
            ],
        },
        {
            "title": pgettext_lazy("sidebar", "Settings"),
            "separator": True,
            "collapsible": True,
            "items": [
                _model(pgettext_lazy("sidebar", "Merchants"), "store", "oms.merchant"),
                _model(pgettext_lazy("sidebar", "Products"), "category", "oms.product"),
                _model(pgettext_lazy("sidebar", "API keys"), "key", "oms.apikey"),
                _model(pgettext_lazy("sidebar", "Users"), "badge", "auth.user"),
                _model(pgettext_lazy("sidebar", "Groups"), "group", "auth.group"),
                _model(pgettext_lazy("sidebar", "Login attempts"), "lock", "axes.accessattempt"),
                _model(pgettext_lazy("sidebar", "Order events"), "event_note", "oms.orderevent"),
                _model(
                    pgettext_lazy("sidebar", "Idempotency records"),
                    "fingerprint",
                    "oms.idempotencyrecord",
                ),
            ],
        },
    ]
