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
