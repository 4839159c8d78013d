"""The exceptions queue: what needs a person now, and what staff do about it.

Three kinds of exception wait for staff: orders routing could not place (``needs_attention``),
service steps that failed after their retries, and open SLA alerts. Staff acknowledge an alert
(someone is on it), assign it to a colleague, retry the late or failed step, or route an order
again. Every action is written to the order's timeline with who did it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from oms.models import Order, OrderStatus
from oms.services.orders import order_note
from oms.stored_text import message
from oms.tasks_queue import enqueue
from orchestration.models import ServiceStep, SlaAlert, StepStatus
from orchestration.timeline_text import atom_name

KIND = "exception"
# A failed or stuck step retried by staff gets this many further attempts.
RETRY_ATTEMPTS = 3


@dataclass(frozen=True)
class ExceptionsQueue:
    """The newest ``limit`` of each kind of exception, with how many there are in all."""

    orders: list[Order]
    orders_total: int
    steps: list[ServiceStep]
    steps_total: int
    alerts: list[SlaAlert]
    alerts_total: int


def exceptions_queue(*, limit: int = 50) -> ExceptionsQueue:
    orders = Order.objects.filter(status=OrderStatus.NEEDS_ATTENTION)
    steps = ServiceStep.objects.filter(status=StepStatus.FAILED)
    alerts = SlaAlert.objects.filter(resolved_at__isnull=True)
    return ExceptionsQueue(
        orders=list(orders.select_related("channel", "merchant").order_by("-created_at")[:limit]),
        orders_total=orders.count(),
        steps=list(steps.select_related("atom", "order").order_by("-finished_at", "-pk")[:limit]),
        steps_total=steps.count(),
        alerts=list(
            alerts.select_related("atom", "order", "step", "assignee").order_by("-detected_at")[
                :limit
            ]
        ),
        alerts_total=alerts.count(),
    )


def _actor(user: AbstractBaseUser) -> str:
    return f"user:{user.get_username()}"


@transaction.atomic
def sla_alert_acknowledge(*, alert: SlaAlert, user: AbstractBaseUser) -> SlaAlert:
    """Someone is on it: the alert stays open until its step is done, but is no longer new."""
    alert = SlaAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.acknowledged_at is None:
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = user.get_username()
        alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
        order_note(
            order=alert.order,
            actor=_actor(user),
            kind=KIND,
            message=message(
                "exception.acknowledged",
                english=f"SLA alert of step {alert.step.key} acknowledged",
                step=atom_name(alert.atom),
            ),
            data={"alert": alert.pk, "action": "acknowledge"},
        )
    return alert


@transaction.atomic
def sla_alert_assign(
    *, alert: SlaAlert, assignee: AbstractBaseUser | None, user: AbstractBaseUser
) -> SlaAlert:
    """Give the alert to a colleague (or take it back with ``assignee=None``)."""
    alert = SlaAlert.objects.select_for_update().get(pk=alert.pk)
    alert.assignee = assignee  # type: ignore[assignment]
    alert.assigned_at = timezone.now() if assignee is not None else None
    alert.save(update_fields=["assignee", "assigned_at"])
    order_note(
        order=alert.order,
        actor=_actor(user),
        kind=KIND,
        message=message(
            "exception.assigned",
            english=f"SLA alert of step {alert.step.key} assigned to "
            f"{assignee.get_username() if assignee is not None else 'nobody'}",
            step=atom_name(alert.atom),
            user=assignee.get_username() if assignee is not None else "",
        ),
        data={"alert": alert.pk, "action": "assign", "assignee": assignee.pk if assignee else None},
    )
    return alert


def step_retry(*, step: ServiceStep, user: AbstractBaseUser) -> ServiceStep:
    """Run a failed step (or one waiting for its next attempt) again now.

    The step gets :data:`RETRY_ATTEMPTS` further attempts; it runs in the background like any
    step (at once in embedded mode). Steps done or cancelled are left alone.
    """
    with transaction.atomic():
        step = (
            ServiceStep.objects.select_for_update(of=("self",))
            .select_related("order", "atom")
            .get(pk=step.pk)
        )
        if step.status not in (StepStatus.FAILED, StepStatus.READY):
            return step
        step.status = StepStatus.READY
        step.next_attempt_at = timezone.now()
        step.finished_at = None
        step.max_attempts = max(step.max_attempts, step.attempts + RETRY_ATTEMPTS)
        step.save(update_fields=["status", "next_attempt_at", "finished_at", "max_attempts"])
        order_note(
            order=step.order,
            actor=_actor(user),
            kind=KIND,
            message=message(
                "exception.retried",
                english=f"step {step.key} retried by staff",
                step=atom_name(step.atom),
            ),
            data={"step": step.key, "action": "retry"},
        )
        enqueue("orchestration.run_step", step.pk)
    step.refresh_from_db()
    return step


def order_route_again(*, order: Order, user: AbstractBaseUser) -> Order:
    """Ask routing to place an order waiting for attention again (after stock or a fix).

    Routing runs in the background after the commit (at once in embedded mode); an order that
    still cannot be placed stays in ``needs_attention`` with the new reason.
    """
    with transaction.atomic():
        order_note(
            order=order,
            actor=_actor(user),
            kind=KIND,
            message=message("order.routed_again", english="routed again by staff"),
            data={"action": "route_again"},
        )
        enqueue("routing.route_order", order.pk)
    order.refresh_from_db()
    return order
