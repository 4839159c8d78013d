"""The customer master completes every order before it is routed."""

from customers.services import order_customer_link


def link_customer_before_routing(sender, order_id: int, **kwargs) -> None:
    # Runs in the routing worker, inside no transaction of the caller: idempotent (an order
    # keeps the customer it has), so routing twice links once.
    order_customer_link(order_id=order_id)
