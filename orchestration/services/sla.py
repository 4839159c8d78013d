"""SLA checks: a breach becomes one ``SlaAlert`` with a root-cause report.

The root cause walks upstream from the breached step: an upstream step that finished after its
own deadline (or is still open past it) ate this step's budget, and the walk continues from it
until a step whose own upstream was on time. If no upstream was late the step itself is the
cause, and its state says why: waiting on an external system (carrier, factory), failing against
it (retries with its error), or never picked up (no worker took the queued task). The report
keeps the order's timeline up to the breach and who is notified. One alert per step and
deadline (unique constraint), so the minute job can run any number of times.
"""

import logging
from datetime import datetime
from functools import partial

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from oms.permissions import OPERATIONS_GROUP
from oms.stored_text import message as said
from orchestration.models import (
    OPEN_STEP_STATUSES,
    ServiceStep,
    SlaAlert,
    StepStatus,
    WebhookEventType,
    WebhookSubscription,
)
from orchestration.services.webhooks import webhook_emit
from orchestration.timeline_text import atom_name

logger = logging.getLogger(__name__)


def _late_by(step: ServiceStep, now: datetime) -> float | None:
    """Seconds past its own deadline (finished late, or open past it); None when on time."""
    if step.deadline is None:
        return None
    end = step.finished_at if step.status == StepStatus.DONE else now
    if end and end > step.deadline:
        return (end - step.deadline).total_seconds()
    return None


def _steps_of(order_id: int) -> tuple[dict[int, ServiceStep], dict[int, list[int]]]:
    steps = {s.pk: s for s in ServiceStep.objects.filter(order_id=order_id).select_related("atom")}
    upstream: dict[int, list[int]] = {pk: [] for pk in steps}
    Through = ServiceStep.upstream.through
    for down, up in Through.objects.filter(from_servicestep__order_id=order_id).values_list(
        "from_servicestep_id", "to_servicestep_id"
    ):
        upstream[down].append(up)
    return steps, upstream


def root_cause(*, step: ServiceStep, now: datetime) -> dict:
    """Explain a breach: the chain of late steps and the party at its root."""
    steps, upstream = _steps_of(step.order_id)
    chain = [step.pk]
    current = step.pk
    while True:
        late = [
            (lateness, pk)
            for pk in upstream[current]
            if (lateness := _late_by(steps[pk], now)) is not None
        ]
        if not late:
            break
        current = max(late)[1]
        chain.append(current)
    culprit = steps[current]
    system = culprit.atom.external_system or culprit.result.get("last_external_system", "")
    name = atom_name(culprit.atom)
    if current != step.pk:
        kind = "upstream_step"
        text = said(
            "sla.cause.upstream",
            english=f"{culprit.atom.label_en} ({culprit.key})",
            step=name,
            key=culprit.key,
        )
        if culprit.status == StepStatus.RUNNING and system:
            kind = "external_system"
            text = said(
                "sla.cause.performing",
                english=f"{system}, performing {culprit.atom.label_en}",
                system=system,
                step=name,
            )
    elif culprit.status == StepStatus.RUNNING and culprit.reference:
        kind = "external_system" if system else "this_step"
        text = said("sla.cause.name", name=system or name)
    elif culprit.status == StepStatus.READY and culprit.attempts:
        kind = "external_system" if system else "this_step"
        error_text = culprit.result.get("last_error_text")
        text = said(
            "sla.cause.failing",
            english=f"{system or culprit.atom.label_en} (failing: {culprit.last_error})",
            name=system or name,
            error={"msg": error_text} if error_text else culprit.last_error,
        )
    elif culprit.status == StepStatus.READY:
        kind = "worker_queue"
        text = said("sla.cause.no_worker")
    else:
        kind, text = "this_step", said("sla.cause.name", name=name)
    return {
        "step": {"key": step.key, "atom": step.atom.code, "label": step.atom.label_en},
        "cause_kind": kind,
        "cause_label": text.english,
        "cause_text": text.stored(),
        "chain": [
            {
                "key": steps[pk].key,
                "atom": steps[pk].atom.code,
                "status": steps[pk].status,
                "deadline": _iso(steps[pk].deadline),
                "finished_at": _iso(steps[pk].finished_at),
                "late_by_minutes": round((_late_by(steps[pk], now) or 0) / 60, 1),
                "external_system": steps[pk].atom.external_system,
                "attempts": steps[pk].attempts,
                "last_error": steps[pk].last_error,
            }
            for pk in chain
        ],
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _recipients(merchant_id: int) -> list[str]:
    users = (
        get_user_model()
        .objects.filter(groups__name=OPERATIONS_GROUP, is_active=True)
        .order_by("username")
        .values_list("username", flat=True)
    )
    notified = [f"operations:{name}" for name in users] or ["operations (group has no members)"]
    if WebhookSubscription.objects.filter(
        merchant_id=merchant_id,
        active=True,
        event_type__in=[WebhookEventType.SLA_BREACHED, WebhookEventType.ANY],
    ).exists():
        notified.append("merchant webhook service.sla_breached")
    return notified


def sla_alert_create(*, step: ServiceStep, now: datetime) -> SlaAlert | None:
    """Record one step's breach (None if it is recorded already)."""
    assert step.deadline is not None  # only a step with a deadline can be past it
    report = root_cause(step=step, now=now)
    events = list(
        step.order.events.filter(at__lte=now)
        .order_by("-at", "-id")
        .values("at", "kind", "actor", "message", "data")[:25]
    )
    report["timeline"] = [
        {
            "at": e["at"].isoformat(),
            "kind": e["kind"],
            "actor": e["actor"],
            "message": e["message"],
            "text": (e["data"] or {}).get("text"),
        }
        for e in reversed(events)
    ]
    notified = _recipients(step.order.merchant_id)
    report["notified"] = notified
    late_minutes = round((now - step.deadline).total_seconds() / 60)
    summary_text = said(
        "sla.breached",
        english=(
            f"{step.atom.label_en} of order {step.order.external_id} is {late_minutes} min past "
            f"its deadline; late party: {report['cause_label']}"
        )[:500],
        step=atom_name(step.atom),
        order=step.order.external_id,
        minutes=late_minutes,
        party={"msg": report["cause_text"]},
    )
    report["summary_text"] = summary_text.stored()
    summary = summary_text.english
    try:
        with transaction.atomic():
            alert = SlaAlert.objects.create(
                step=step,
                order=step.order,
                atom=step.atom,
                deadline=step.deadline,
                cause_kind=report["cause_kind"],
                cause_label=report["cause_label"][:160],
                summary=summary,
                report=report,
                notified=notified,
            )
            from oms.services.orders import order_note

            order_note(
                order=step.order,
                actor="sla-monitor",
                kind="sla_breached",
                message=summary_text,
                data={"step": step.key, "cause": report["cause_kind"]},
            )
            webhook_emit(
                merchant_id=step.order.merchant_id,
                event_type=WebhookEventType.SLA_BREACHED,
                data={
                    "order_id": step.order_id,
                    "external_id": step.order.external_id,
                    "step": step.key,
                    "deadline": step.deadline.isoformat(),
                    "cause": report["cause_kind"],
                    "late_party": report["cause_label"],
                },
                order=step.order,
            )
    except IntegrityError:
        return None
    from orchestration.senders import get_notifier

    transaction.on_commit(partial(get_notifier().notify_breach, alert=alert, recipients=notified))
    return alert


def sla_check(*, now: datetime | None = None, limit: int = 500) -> int:
    """Create alerts for every open step past its deadline that has none yet; returns how many."""
    now = now or timezone.now()
    candidates = (
        ServiceStep.objects.filter(status__in=OPEN_STEP_STATUSES, deadline__lt=now)
        .exclude(sla_alerts__deadline=F("deadline"))
        .select_related("atom", "order")
        .order_by("deadline")[:limit]
    )
    created = 0
    for step in candidates:
        if sla_alert_create(step=step, now=now):
            created += 1
    return created
