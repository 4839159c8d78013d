"""Signal receivers: a created order is routed in the background."""

import logging

from routing.tasks import route_order

logger = logging.getLogger(__name__)


def enqueue_routing(sender, order_id: int, **kwargs) -> None:
    # The order is committed already; if the broker is unreachable the sweeper picks it up
    # later, so a broker outage never turns an accepted order into an error.
    try:
        route_order.delay(order_id)
    except Exception:
        logger.exception("could not enqueue routing for order %s; the sweeper will retry", order_id)
