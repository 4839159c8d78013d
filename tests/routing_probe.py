"""A probe on routing for the real-worker tests; loaded only by a test worker (``--include``).

Each time the worker is about to plan an order (``routing.signals.before_route``), one JSON
line is appended to ``TEST_ROUTING_PROBE_LOG``: the order, the task routing it, the process and
the time. With ``TEST_ROUTING_HOLD_SECONDS`` set, the worker then waits that long before
planning, so a test can kill it mid-routing, with the order claimed. Nothing else changes:
without the variables the probe does nothing.
"""

import json
import os
import time

from celery import current_task

from routing.signals import before_route

LOG = os.environ.get("TEST_ROUTING_PROBE_LOG", "")
HOLD_SECONDS = float(os.environ.get("TEST_ROUTING_HOLD_SECONDS") or 0)


def record_routing_attempt(sender, order_id: int, **kwargs) -> None:
    if LOG:
        line = {
            "order": order_id,
            "task": current_task.name if current_task else "",
            "pid": os.getpid(),
            "t": time.time(),
        }
        with open(LOG, "a", encoding="utf-8") as out:  # one short append: whole lines
            out.write(json.dumps(line) + "\n")
    if HOLD_SECONDS:
        time.sleep(HOLD_SECONDS)


before_route.connect(record_routing_attempt, dispatch_uid="tests-routing-probe")
