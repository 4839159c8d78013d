"""Every new order is attached to its golden customer in the background."""

import logging

from customers.tasks import link_order_customer

logger = logging.getLogger(__name__)


def enqueue_customer_link(sender, order_id: int, **kwargs) -> None:
    try:
        link_order_customer.delay(
            order_id, kwargs.get("device_id", ""), kwargs.get("account_id", "")
        )
    except Exception:
        logger.exception("could not enqueue customer matching for order %s", order_id)
