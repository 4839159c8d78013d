"""Signal receivers: a routed order gets its services; delivery and cancellation close them.

The receiver only enqueues ``orchestration.order_status_changed``; the work runs in a worker,
so a slow or failing plan never delays routing. If the broker is unreachable the minute sweeper
(``orchestration.sweep_steps`` -> ``plans_sweep``) lays out the plans it missed.
"""

import logging

from oms.models import OrderStatus

logger = logging.getLogger(__name__)
HANDLED = (OrderStatus.ROUTED, OrderStatus.DELIVERED, OrderStatus.CANCELLED)


def on_order_status_changed(sender, order_id: int, from_status: str, to_status: str, **kwargs):
    if to_status not in HANDLED:
        return
    from orchestration.tasks import order_status_changed

    try:
        order_status_changed.delay(order_id, str(to_status))
    except Exception:
        logger.exception("could not enqueue services of order %s (%s)", order_id, to_status)
