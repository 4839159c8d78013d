"""Celery tasks of the customer master: thin, idempotent, ids in."""

from celery import shared_task

from customers.services import order_customer_link


@shared_task(
    name="customers.link_order_customer", autoretry_for=(ConnectionError,), retry_backoff=True
)
def link_order_customer(order_id: int, device_id: str = "", account_id: str = "") -> int | None:
    customer = order_customer_link(order_id=order_id, device_id=device_id, account_id=account_id)
    return customer.pk if customer else None
