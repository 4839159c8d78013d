"""Celery tasks of the customer master: thin, idempotent, ids in."""

from celery import shared_task


@shared_task(name="customers.rule_set_reresolve")
def rule_set_reresolve(version_id: int) -> str | None:
    """Re-resolve the identities of the merchant whose rule set version was activated."""
    from customers.services.rulesets import rule_set_reresolve as reresolve

    version = reresolve(version_id=version_id)
    return version.resolve_status if version else None
