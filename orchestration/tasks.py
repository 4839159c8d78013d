"""Celery tasks of order services: thin, ids in, safe to run twice.

Services enqueue these by name (``oms.tasks_queue.enqueue``) and each task imports its service
in its body, so this module imports no service at load and services never import it.
"""

from celery import current_app, shared_task

ACTOR = "orchestration"


@shared_task(name="orchestration.order_status_changed")
def order_status_changed(order_id: int, to_status: str) -> str:
    """Routed: lay out the plan. Delivered: confirm delivery steps. Cancelled: stop the rest."""
    from oms.models import Order, OrderStatus
    from oms.stored_text import message
    from orchestration.services.plans import plan_instantiate
    from orchestration.services.steps import steps_cancel, steps_complete_on_delivery

    order = Order.objects.select_related("channel").filter(pk=order_id).first()
    if order is None:
        return "gone"
    if to_status == OrderStatus.ROUTED:
        return "planned" if plan_instantiate(order=order) else "no template"
    if to_status == OrderStatus.DELIVERED:
        return f"{steps_complete_on_delivery(order=order, actor=ACTOR)} completed"
    if to_status == OrderStatus.CANCELLED:
        cancelled = message("services.order_cancelled", english="order cancelled")
        return f"{steps_cancel(order=order, actor=ACTOR, reason=cancelled)} cancelled"
    return "ignored"


@shared_task(name="orchestration.run_step")
def run_step(step_id: int) -> str:
    """Run one ready step; on a retryable failure schedule the next try after the backoff.

    The retry time is stored on the step too, so ``sweep_steps`` re-enqueues it if this
    scheduled message is lost (eager mode relies on the sweeper alone).
    """
    from oms.db import retry_on_conflict
    from orchestration.services.steps import step_run

    # Steps finishing at once lock their downstream steps; PostgreSQL may pick one to abort
    # as a deadlock. The whole step transaction runs again (it is idempotent).
    outcome = retry_on_conflict(lambda: step_run(step_id=step_id))
    if outcome.retry_in is not None and not current_app.conf.task_always_eager:
        run_step.apply_async((step_id,), countdown=outcome.retry_in)
    return outcome.state


@shared_task(name="orchestration.sweep_steps")
def sweep_steps() -> int:
    """Lay out missed plans; re-enqueue steps whose retry time came or whose worker died."""
    from orchestration.services.plans import plans_sweep
    from orchestration.services.steps import steps_due

    plans_sweep()
    ids = steps_due()
    for step_id in ids:
        run_step.delay(step_id)
    return len(ids)


@shared_task(name="orchestration.check_slas")
def check_slas() -> int:
    from orchestration.services.sla import sla_check

    return sla_check()


@shared_task(name="orchestration.deliver_webhook")
def deliver_webhook(delivery_id: int) -> str:
    from orchestration.services.webhooks import webhook_deliver

    return webhook_deliver(delivery_id=delivery_id)


@shared_task(name="orchestration.dispatch_webhooks")
def dispatch_webhooks() -> int:
    """Enqueue every delivery that is due (first try lost, or retry time reached)."""
    from orchestration.services.webhooks import webhooks_due

    ids = webhooks_due()
    for delivery_id in ids:
        deliver_webhook.delay(delivery_id)
    return len(ids)
