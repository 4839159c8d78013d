"""Signal receivers: a created order is routed in the background.

In ``single`` routing mode (the default) each order is routed on its own right after it is
committed. In ``batch`` mode orders wait for ``routing.route_pending``, which routes them jointly
every ``OMS_ROUTING_BATCH_SECONDS``.
"""

import logging

from django.conf import settings

from routing.tasks import route_order

logger = logging.getLogger(__name__)


def enqueue_routing(sender, order_id: int, **kwargs) -> None:
    if settings.OMS_ROUTING_MODE == "batch":
        return
    # The order is committed already; if the broker is unreachable the sweeper picks it up
    # later, so a broker outage never turns an accepted order into an error.
    try:
        route_order.delay(order_id)
    except Exception:
        logger.exception("could not enqueue routing for order %s; the sweeper will retry", order_id)
