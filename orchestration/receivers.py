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
        }
    ]
