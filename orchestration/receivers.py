"""Signal receivers: a routed order gets its services; delivery and cancellation close them.

The receiver only enqueues ``orchestration.order_status_changed``; the work runs in a worker,
so a slow or failing plan never delays routing. If the broker is unreachable the minute sweeper
(``orchestration.sweep_steps`` -> ``plans_sweep``) lays out the plans it missed.
"""

from oms.models import OrderStatus
from oms.tasks_queue import enqueue

HANDLED = (OrderStatus.ROUTED, OrderStatus.DELIVERED, OrderStatus.CANCELLED)


def on_order_status_changed(sender, order_id: int, from_status: str, to_status: str, **kwargs):
    if to_status not in HANDLED:
        return
    # The signal is sent once the order's transaction committed: enqueue at once.
    enqueue("orchestration.order_status_changed", order_id, str(to_status), on_commit=False)


def order_services_panel(sender, order, **kwargs) -> list[dict]:
    """The order workspace's panel of service steps, in plan order."""
    from django.utils import timezone
    from django.utils.translation import gettext

    from orchestration.models import ServiceStep

    def when(moment) -> str:
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"

    steps = (
        ServiceStep.objects.filter(order=order).select_related("atom").order_by("position", "pk")
    )
    return [
        {
            "title": gettext("Service steps"),
            "columns": [
                gettext("step"),
                gettext("status"),
                gettext("deadline"),
                gettext("ETA"),
                gettext("attempts"),
                gettext("last error"),
            ],
            "rows": [
                [
                    step.atom.label,
                    step.get_status_display(),
                    when(step.deadline),
                    when(step.eta),
                    step.attempts,
                    step.last_error_said or "—",
                ]
                for step in steps
            ],
            "empty": gettext("No services planned for this order."),
        },
        _webhooks_panel(order),
    ]


def _webhooks_panel(order) -> dict:
    """The order's webhook deliveries, newest first, with the way to send one again."""
    from django.urls import reverse
    from django.utils import timezone
    from django.utils.translation import gettext

    from orchestration.models import WebhookDelivery

    deliveries = (
        WebhookDelivery.objects.filter(event__order=order)
        .select_related("event", "subscription")
        .order_by("-event__created_at", "-pk")[:10]
    )
    return {
        "title": gettext("Webhooks"),
        "columns": [
            gettext("event"),
            gettext("written at"),
            gettext("state"),
            gettext("attempts"),
            gettext("last answer"),
        ],
        "rows": [
            [
                delivery.event.event_type,
                timezone.localtime(delivery.event.created_at, order.merchant.tzinfo).strftime(
                    "%Y-%m-%d %H:%M"
                ),
                delivery.get_state_display(),
                delivery.attempts,
                f"HTTP {delivery.last_status_code}"
                if delivery.last_status_code
                else (delivery.last_error or "—"),
            ]
            for delivery in deliveries
        ],
        "empty": gettext("No webhook was written for this order yet."),
        "link": {
            "url": reverse("orchestration:ops-order-webhooks", args=[order.pk]),
            "label": gettext("Re-send a webhook"),
            "permission": "oms.change_order",
        },
    }
