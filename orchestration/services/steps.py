"""Running service steps: advance the DAG, run a step's handler, retry, complete, re-plan.

A step moves ``waiting -> ready`` when all its upstream steps are done, ``ready -> running``
when a worker claims it (row lock, so two workers never run it at once), and then to ``done``,
back to ``ready`` with a backoff (the handler failed and attempts remain) or ``failed``. A
handler whose service happens in the real world (a delivery, an appointment) leaves the step
``running`` with its booking and ETA until ``step_complete`` confirms it. The handler is called
outside any transaction; its result is kept only if the step was not re-planned meanwhile.
Every transition worth telling the customer is written to the order's timeline.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from oms.backoff import backoff_seconds
from oms.models import Order, OrderStatus
from oms.services.orders import order_note
from oms.stored_text import Message
from oms.stored_text import message as said
from oms.tasks_queue import enqueue
from orchestration import registry
from orchestration.exceptions import HandlerTemporaryFailure, StepNotCompletable
from orchestration.models import (
    OPEN_STEP_STATUSES,
    ServiceStep,
    SlaAlert,
    StepStatus,
    WebhookEventType,
)
from orchestration.services.webhooks import webhook_emit
from orchestration.timeline_text import atom_name, nested, step_detail

logger = logging.getLogger(__name__)
ACTOR = "orchestration"
DUE_TOLERANCE = timedelta(seconds=2)
SETTLED = (StepStatus.DONE, StepStatus.CANCELLED)


@dataclass(frozen=True)
class StepOutcome:
    state: str
    retry_in: float | None = None


def _step_data(step: ServiceStep) -> dict:
    return {
        "order_id": step.order_id,
        "external_id": step.order.external_id,
        "step": step.key,
        "atom": step.atom.code,
        "status": step.status,
        "attempts": step.attempts,
        "reference": step.reference,
        "eta": step.eta.isoformat() if step.eta else None,
        "deadline": step.deadline.isoformat() if step.deadline else None,
    }


def steps_advance(*, order_id: int, now: datetime | None = None) -> list[int]:
    """Make every waiting step whose upstream steps are all done (or cancelled) ready; enqueue it.

    Also enqueues ready steps that are due (first run, or retry time reached). When every
    step is done the customer and the merchant are told the services are complete.
    """
    now = now or timezone.now()
    with transaction.atomic():
        steps = list(
            ServiceStep.objects.select_for_update()
            .filter(order_id=order_id)
            .select_related("atom", "order")
            .order_by("pk")
        )
        if not steps:
            return []
        status_by_id = {s.pk: s.status for s in steps}
        upstream: dict[int, list[int]] = {s.pk: [] for s in steps}
        Through = ServiceStep.upstream.through
        for down, up in Through.objects.filter(from_servicestep__order_id=order_id).values_list(
            "from_servicestep_id", "to_servicestep_id"
        ):
            upstream[down].append(up)
        to_run: list[int] = []
        for step in steps:
            # A cancelled upstream step never happens: it no longer holds its downstream back
            # (a home installation cancelled by a switch to a pickup point, for one).
            if step.status == StepStatus.WAITING and all(
                status_by_id[u] in SETTLED for u in upstream[step.pk]
            ):
                step.status = StepStatus.READY
                step.ready_at = now
                step.save(update_fields=["status", "ready_at", "updated_at"])
                status_by_id[step.pk] = StepStatus.READY
            if step.status == StepStatus.READY and (
                step.next_attempt_at is None or step.next_attempt_at <= now + DUE_TOLERANCE
            ):
                to_run.append(step.pk)
        for step_id in to_run:
            enqueue("orchestration.run_step", step_id)
        if (
            all(s in SETTLED for s in status_by_id.values())
            and StepStatus.DONE in status_by_id.values()
            and steps[0].order.status != OrderStatus.CANCELLED
            and not steps[0].order.events.filter(kind="services_completed").exists()
        ):
            order = steps[0].order
            order_note(
                order=order,
                actor=ACTOR,
                kind="services_completed",
                message=said("services.completed"),
            )
            webhook_emit(
                merchant_id=order.merchant_id,
                event_type=WebhookEventType.SERVICES_COMPLETED,
                data={"order_id": order.pk, "external_id": order.external_id},
                order=order,
            )
    return to_run


def _claim(step_id: int, now: datetime) -> ServiceStep | None:
    with transaction.atomic():
        step = (
            ServiceStep.objects.select_for_update()
            .filter(pk=step_id, status=StepStatus.READY)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + DUE_TOLERANCE))
            .first()
        )
        if step is None:
            return None
        step.status = StepStatus.RUNNING
        step.attempts += 1
        step.started_at = step.started_at or now
        step.next_attempt_at = None
        step.save(
            update_fields=["status", "attempts", "started_at", "next_attempt_at", "updated_at"]
        )
        return step


def step_run(*, step_id: int, now: datetime | None = None) -> StepOutcome:
    """Run one ready step's handler once; idempotent (a step not ready or not due is skipped)."""
    now = now or timezone.now()
    claimed = _claim(step_id, now)
    if claimed is None:
        return StepOutcome("skipped")
    step = ServiceStep.objects.select_related("atom", "order").get(pk=claimed.pk)
    error, external_system, result = "", "", None
    error_text: Message | None = None
    try:
        handler = registry.lookup(step.atom.handler)
        result = handler.run(step=step, params=dict(step.parameters), now=now)
    except registry.UnknownHandler as exc:  # the atom's handler is gone: retried, then failed
        error = str(exc)
    except HandlerTemporaryFailure as exc:
        error, external_system, error_text = str(exc), exc.external_system, exc.text
    except Exception as exc:  # a handler bug must not kill the worker; the step is retried
        logger.exception("handler %s failed for step %s", step.atom.handler, step.pk)
        error = f"{type(exc).__name__}: {exc}"
    return _finish(
        step_id=step.pk,
        plan_version=step.plan_version,
        result=result,
        error=error,
        external_system=external_system,
        error_text=error_text,
    )


@transaction.atomic
def _finish(
    *, step_id, plan_version, result, error, external_system, error_text=None
) -> StepOutcome:
    step = (
        ServiceStep.objects.select_for_update(of=("self",))
        .select_related("atom", "order")
        .get(pk=step_id)
    )
    if step.status != StepStatus.RUNNING or step.plan_version != plan_version:
        return StepOutcome("superseded")  # re-planned or cancelled while the handler ran
    now = timezone.now()
    order = step.order
    if result is not None:
        step.reference = result.reference
        step.eta = result.eta
        step.last_error = ""
        step.result = {
            "plan_version": step.plan_version,
            "data": result.data,
            "eta": result.eta.isoformat() if result.eta else None,
            "waits_for_confirmation": result.waits_for_confirmation,
            "message": result.message,
            "message_code": result.message_code,
            "message_params": result.message_params,
            "previous": step.result.get("previous", []),
        }
        if result.waits_for_confirmation:
            step.save()
            order_note(
                order=order,
                actor=ACTOR,
                kind="service_step",
                message=said(
                    "step.waiting",
                    english=f"{step.atom.label_en}: {result.message or 'in progress'}",
                    step=atom_name(step.atom),
                    detail=step_detail(step.result),
                ),
                data={"step": step.key, "status": "running", "reference": step.reference},
            )
            return StepOutcome("running")
        step.status = StepStatus.DONE
        step.finished_at = now
        step.save()
        _after_done(step, message=result.message, detail=step_detail(step.result))
        return StepOutcome("done")
    step.last_error = error[:300]
    step.result = {
        **step.result,
        "last_external_system": external_system,
        "last_error_text": error_text.stored() if error_text else None,
    }
    error_param = nested(error_text, error[:200])
    if step.attempts < step.max_attempts:
        delay = backoff_seconds(
            step.attempts, base=step.atom.backoff_seconds, cap=step.atom.backoff_max_seconds
        )
        step.status = StepStatus.READY
        step.next_attempt_at = now + timedelta(seconds=delay)
        step.save()
        order_note(
            order=order,
            actor=ACTOR,
            kind="service_step",
            message=said(
                "step.retry",
                english=f"{step.atom.label_en}: attempt {step.attempts} failed ({error[:120]}); "
                f"retry in {int(delay)} s",
                step=atom_name(step.atom),
                attempt=step.attempts,
                error=error_param,
                seconds=int(delay),
            ),
            data={"step": step.key, "status": "retry", "external_system": external_system},
        )
        return StepOutcome("retry", retry_in=delay)
    step.status = StepStatus.FAILED
    step.finished_at = now
    step.save()
    order_note(
        order=order,
        actor=ACTOR,
        kind="service_step",
        message=said(
            "step.failed",
            english=f"{step.atom.label_en} failed after {step.attempts} attempts: {error[:200]}",
            step=atom_name(step.atom),
            attempts=step.attempts,
            error=error_param,
        ),
        data={"step": step.key, "status": "failed", "external_system": external_system},
    )
    webhook_emit(
        merchant_id=order.merchant_id,
        event_type=WebhookEventType.STEP_FAILED,
        data=_step_data(step) | {"error": error[:200]},
        order=order,
    )
    return StepOutcome("failed")


def _after_done(step: ServiceStep, *, message: str = "", detail: dict | str | None = None) -> None:
    order = step.order
    order_note(
        order=order,
        actor=ACTOR,
        kind="service_step",
        message=said(
            "step.done",
            english=f"{step.atom.label_en} done" + (f": {message}" if message else ""),
            step=atom_name(step.atom),
            detail=detail,
        ),
        data={"step": step.key, "status": "done", "reference": step.reference},
    )
    SlaAlert.objects.filter(step=step, resolved_at__isnull=True).update(
        resolved_at=step.finished_at
    )
    webhook_emit(
        merchant_id=order.merchant_id,
        event_type=WebhookEventType.STEP_DONE,
        data=_step_data(step),
        order=order,
    )
    transaction.on_commit(partial(steps_advance, order_id=order.pk))


@transaction.atomic
def step_complete(*, step: ServiceStep, actor: str, note: str = "") -> ServiceStep:
    """Confirm a step whose service happened in the real world (delivered, installed)."""
    locked = (
        ServiceStep.objects.select_for_update(of=("self",))
        .select_related("atom", "order")
        .get(pk=step.pk)
    )
    if locked.status != StepStatus.RUNNING:
        raise StepNotCompletable(
            f"Step {locked.key} is {locked.status}; only a step in progress can be completed.",
            step=locked.key,
            status=locked.status,
        )
    locked.status = StepStatus.DONE
    locked.finished_at = timezone.now()
    locked.save(update_fields=["status", "finished_at", "updated_at"])
    detail = (
        {"msg": said("step.delivered").stored()}
        if note == "delivered"
        else note or {"msg": said("step.confirmed_by", actor=actor).stored()}
    )
    _after_done(locked, message=note or f"confirmed by {actor}", detail=detail)
    return locked


@transaction.atomic
def step_replan(*, step: ServiceStep, changes: dict, actor: str, reason: str) -> ServiceStep:
    """Apply new parameters to one step and run it again under a new plan version.

    A step not yet started just keeps the new parameters; a booked or failed step goes back to
    ready, so its handler books anew (the earlier booking is kept in ``result.previous``).
    """
    locked = (
        ServiceStep.objects.select_for_update(of=("self",))
        .select_related("atom", "order")
        .get(pk=step.pk)
    )
    locked.parameters = {**locked.parameters, **changes}
    if locked.status in (StepStatus.RUNNING, StepStatus.READY, StepStatus.FAILED, StepStatus.DONE):
        if locked.reference:
            previous = [
                *locked.result.get("previous", []),
                {"reference": locked.reference, "plan_version": locked.plan_version},
            ]
            locked.result = {"previous": previous[-5:]}
        locked.plan_version += 1
        locked.status = StepStatus.READY
        locked.attempts = 0
        locked.next_attempt_at = None
        locked.finished_at = None
        locked.reference = ""
        enqueue("orchestration.run_step", locked.pk)
    locked.save()
    return locked


def steps_cancel(*, order: Order, actor: str, reason: "str | Message") -> int:
    """Cancel every open step of a cancelled order (nothing more will run for it)."""
    with transaction.atomic():
        count = ServiceStep.objects.filter(order=order, status__in=OPEN_STEP_STATUSES).update(
            status=StepStatus.CANCELLED, finished_at=timezone.now(), next_attempt_at=None
        )
        if count:
            order_note(
                order=order,
                actor=actor,
                kind="services_cancelled",
                message=said(
                    "services.cancelled",
                    english=f"{count} open service step(s) cancelled: {reason}",
                    count=count,
                    reason=nested(reason if isinstance(reason, Message) else None, str(reason)),
                ),
            )
    return count


def steps_complete_on_delivery(*, order: Order, actor: str) -> int:
    """The order was delivered: delivery steps in progress are done."""
    codes = [h.code for h in registry.handlers() if h.completes_on_delivery]
    count = 0
    for step in ServiceStep.objects.filter(
        order=order, status=StepStatus.RUNNING, atom__handler__in=codes
    ).order_by("pk"):
        step_complete(step=step, actor=actor, note="delivered")
        count += 1
    return count


def steps_due(
    *,
    now: datetime | None = None,
    stale_after: timedelta = timedelta(minutes=15),
    limit: int = 1000,
) -> list[int]:
    """Ready steps whose (re)try time has come, and steps left running by a dead worker.

    A step is only "stale running" if it has no booking yet: a booked step legitimately waits.
    """
    now = now or timezone.now()
    ready = ServiceStep.objects.filter(status=StepStatus.READY).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    stale = ServiceStep.objects.filter(
        status=StepStatus.RUNNING, reference="", updated_at__lt=now - stale_after
    )
    stale_ids = list(stale.values_list("pk", flat=True)[:limit])
    if stale_ids:
        ServiceStep.objects.filter(
            pk__in=stale_ids, status=StepStatus.RUNNING, reference=""
        ).update(status=StepStatus.READY, next_attempt_at=None)
    return sorted(set(ready.values_list("pk", flat=True)[:limit]) | set(stale_ids))
