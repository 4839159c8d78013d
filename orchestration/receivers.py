"""Signal receivers: a routed order gets its services; delivery and cancellation close them."""

import logging

from oms.models import Order, OrderStatus

logger = logging.getLogger(__name__)
ACTOR = "orchestration"


def on_order_status_changed(sender, order_id: int, from_status: str, to_status: str, **kwargs):
    from orchestration.services.plans import plan_instantiate
    from orchestration.services.steps import steps_cancel, steps_complete_on_delivery

    if to_status not in (OrderStatus.ROUTED, OrderStatus.DELIVERED, OrderStatus.CANCELLED):
        return
    order = Order.objects.select_related("channel").filter(pk=order_id).first()
    if order is None:
        return
    try:
        if to_status == OrderStatus.ROUTED:
            plan_instantiate(order=order)
        elif to_status == OrderStatus.DELIVERED:
            steps_complete_on_delivery(order=order, actor=ACTOR)
        else:
            steps_cancel(order=order, actor=ACTOR, reason="order cancelled")
    except Exception:
        # The order's own change is committed; a plan that failed here is laid out by the
        # sweeper (``orchestration.sweep_steps`` -> ``plans_sweep``) and never blocks the order.
        logger.exception("services of order %s not updated after %s", order_id, to_status)
