"""Signal receivers: a created order is routed in the background, linked to its customer first.

In ``single`` routing mode (the default) each order is routed on its own right after it is
committed. With a real broker the order rings its merchant's routing doorbell
(``routing.tasks.routing_bell_ring``): one cache ``SET NX`` per order, and a
``routing.route_ready`` task only when the bell was silent, which then routes every waiting
order of the merchant one by one, oldest first. Publishing one Celery message per order cost
the API more CPU than the rest of the order insert. In eager mode (development, tests) each
order is routed at once by ``routing.route_order``. In ``batch`` mode orders wait for
``routing.route_pending``, which routes them jointly every ``OMS_ROUTING_BATCH_SECONDS``.
"""

import logging

from celery import current_app
from django.conf import settings

from customers.services import order_customer_link
from oms.outagelog import log_outage
from routing.tasks import retry_waiting, route_order, routing_bell_ring

logger = logging.getLogger(__name__)


def enqueue_routing(sender, order_id: int, merchant_id: int | None = None, **kwargs) -> None:
    if settings.OMS_ROUTING_MODE == "batch":
        return
    # The order is committed already; if the broker is unreachable the sweeper picks it up
    # later, so a broker outage never turns an accepted order into an error.
    try:
        if merchant_id is None or current_app.conf.task_always_eager:
            route_order.delay(order_id)
        else:
            routing_bell_ring(merchant_id=merchant_id)
    except Exception:
        log_outage(
            logger,
            "routing-enqueue",
            "could not enqueue routing for order %s; the sweeper will retry",
            order_id,
        )


def link_customer_before_routing(sender, order_id: int, **kwargs) -> None:
    """The customer master completes every order before it is routed (VIP status counts).

    Runs in the routing worker, inside no transaction of the caller: idempotent (an order keeps
    the customer it has), so routing twice links once.
    """
    order_customer_link(order_id=order_id)


def retry_waiting_orders(sender, merchant_id: int, product_ids: list[int], **kwargs) -> None:
    """Units became available: the orders waiting for them are tried again in the background."""
    try:
        retry_waiting.delay(merchant_id, list(product_ids))
    except Exception:
        log_outage(
            logger,
            "routing-retry-waiting",
            "could not enqueue a retry of merchant %s's waiting orders",
            merchant_id,
        )


def order_routing_panel(sender, order, **kwargs) -> list[dict]:
    """The order workspace's panel of routing decisions, newest first."""
    from django.utils import timezone
    from django.utils.translation import gettext

    from routing.explaining import decision_sentences, profile_label
    from routing.models import RoutingDecision
    from routing.timeline_text import unroutable_text

    def reason(decision: RoutingDecision) -> str:
        if decision.outcome == RoutingDecision.Outcome.UNROUTABLE:
            return unroutable_text(decision)
        sentences = decision_sentences(decision)
        return sentences[0] if sentences else "—"

    decisions = (
        RoutingDecision.objects.filter(order=order)
        .select_related("order__merchant")
        .order_by("-created_at", "-pk")[:10]
    )
    return [
        {
            "title": gettext("Routing decisions"),
            "columns": [
                gettext("decided at"),
                gettext("outcome"),
                gettext("warehouses"),
                gettext("cost (CNY)"),
                gettext("profile"),
                gettext("reason"),
            ],
            "rows": [
                [
                    timezone.localtime(decision.created_at).strftime("%Y-%m-%d %H:%M"),
                    decision.get_outcome_display(),
                    ", ".join(s["warehouse"] for s in decision.shipments) or "—",
                    f"{decision.cost:.2f}" if decision.cost is not None else "—",
                    profile_label(decision),
                    reason(decision),
                ]
                for decision in decisions
            ],
            "empty": gettext("Not routed yet."),
        }
    ]
