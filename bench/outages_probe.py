"""Loaded only by the outage benchmark's workers (``--include bench.outages_probe``).

Each time a worker is about to plan an order (``routing.signals.before_route``), one JSON line
is appended to ``BENCH_ROUTING_PROBE_LOG``: the order, the task that routes it (name and id),
whether the broker redelivered the message, the process and the time. The benchmark reads it
to tell which path routed an order after a kill: a redelivered ``route_ready``, a fresh one
(the doorbell), or ``route_order`` (sent only by the sweeper when a broker is configured).
"""

import json
import os
import time

from celery import current_task

from routing.signals import before_route

LOG = os.environ.get("BENCH_ROUTING_PROBE_LOG", "")


def record_routing_attempt(sender, order_id: int, **kwargs) -> None:
    if not LOG:
        return
    request = current_task.request if current_task else None
    delivery_info = (getattr(request, "delivery_info", None) or {}) if request else {}
    line = {
        "order": order_id,
        "task": current_task.name if current_task else "",
        "task_id": getattr(request, "id", None),
        "redelivered": bool(delivery_info.get("redelivered")),
        "pid": os.getpid(),
        "t": time.time(),
    }
    with open(LOG, "a", encoding="utf-8") as out:  # one short append: whole lines, any process
        out.write(json.dumps(line) + "\n")


before_route.connect(record_routing_attempt, dispatch_uid="bench-outages-probe")
