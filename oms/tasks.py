"""Celery tasks of ``oms``: thin and idempotent."""

from celery import shared_task

from oms import idempotency


@shared_task(name="oms.purge_idempotency_records")
def purge_idempotency_records() -> int:
    return idempotency.purge_expired()
