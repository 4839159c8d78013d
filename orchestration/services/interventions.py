"""Customer interventions from the status page: reschedule a step or switch to a pickup point.

A request is validated first (the step allows it, the slot is one offered, the pickup point is
near), then a six-digit code goes to the phone on record through the configured sender. Only a
salted HMAC of the code is stored; it expires after ``OMS_OTP_TTL_SECONDS`` and locks after
``OMS_OTP_MAX_ATTEMPTS`` wrong tries. A confirmed request re-plans only the step concerned and
the deadlines downstream of it, is written to the order's timeline and queues a merchant webhook.
"""

import hmac
import secrets
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from customers.matching import mask_phone
from customers.matching.keyed import hmac_sha256
from oms.geo import province_point
from oms.services.orders import order_note
from oms.stored_text import message as said
from orchestration import registry
from orchestration.dag import descendants
from orchestration.exceptions import CodeRejected, InterventionNotAllowed, InvalidSlot
from orchestration.models import (
    OPEN_STEP_STATUSES,
    InterventionKind,
    InterventionRequest,
    OrderTracking,
    PickupPoint,
    ServiceStep,
    StepStatus,
    WebhookEventType,
)
from orchestration.senders import get_sender
from orchestration.services.plans import deadlines_shift, step_graph
from orchestration.services.steps import step_replan, steps_advance
from orchestration.services.webhooks import webhook_emit
from orchestration.slots import slot_from_value, slot_settings
from orchestration.timeline_text import atom_name

ACTOR = "customer"


def allowed_interventions(step: ServiceStep) -> list[str]:
    """What the customer may change on this step now (empty when nothing)."""
    if not step.atom.customer_may_intervene or step.status not in OPEN_STEP_STATUSES:
        return []
    try:
        allowed = set(registry.lookup(step.atom.handler).interventions)
    except registry.UnknownHandler:
        return []
    if step.parameters.get("pickup_point_id"):
        allowed.discard(InterventionKind.RESCHEDULE)  # the customer collects: no delivery slot
    return sorted(allowed)


def at_customer_home(step: ServiceStep) -> bool:
    """An appointment held at the customer's address (an installation, not a hand-over)."""
    return (
        step.atom.handler == "appointment_booking"
        and step.parameters.get("location", "customer address") == "customer address"
    )


def home_steps_after(step: ServiceStep) -> list[ServiceStep]:
    """Open home appointments that follow ``step``: what a switch to pickup cancels."""
    below = descendants(step_graph(step.order_id), step.key)
    rows = (
        ServiceStep.objects.filter(
            order_id=step.order_id, key__in=below, status__in=OPEN_STEP_STATUSES
        )
        .select_related("atom")
        .order_by("position", "pk")
    )
    return [row for row in rows if at_customer_home(row)]


def pickup_points_near(*, order, limit: int = 5) -> list[tuple[PickupPoint, float | None]]:
    """Active pickup points of the order's city first, then the nearest within the radius."""
    from routing.engine.factors import haversine_km

    origin = province_point(order.province)
    rows = []
    for point in PickupPoint.objects.filter(active=True).order_by("pk"):
        if point.merchant_id and point.merchant_id != order.merchant_id:
            continue
        distance = (
            haversine_km(origin[0], origin[1], float(point.latitude), float(point.longitude))
            if origin
            else None
        )
        same_city = point.city == order.city
        if not same_city and (distance is None or distance > settings.OMS_PICKUP_RADIUS_KM):
            continue
        rows.append((not same_city, distance or 0.0, point.pk, point, distance))
    rows.sort(key=lambda r: r[:3])
    return [(r[3], r[4]) for r in rows[:limit]]


def _hash(code: str, salt: str) -> str:
    digest = hmac_sha256(settings.SECRET_KEY.encode(), f"{salt}:{code}".encode())
    return f"{salt}${digest.hex()}"


def _matches(code: str, stored: str) -> bool:
    salt, _sep, _digest = stored.partition("$")
    return hmac.compare_digest(_hash(code.strip(), salt), stored)


@transaction.atomic
def intervention_request(
    *,
    tracking: OrderTracking,
    step: ServiceStep,
    kind: str,
    value: str,
    now: datetime | None = None,
) -> InterventionRequest:
    """Validate a customer's change and send the confirmation code to the phone on record."""
    now = now or timezone.now()
    if not tracking.active or step.order_id != tracking.order_id:
        raise InterventionNotAllowed(_("This link is no longer valid."))
    if kind not in allowed_interventions(step):
        raise InterventionNotAllowed(_("This service cannot be changed now."), step=step.key)
    recent = tracking.interventions.filter(created_at__gte=now - timedelta(hours=1)).count()
    if recent >= settings.OMS_OTP_MAX_REQUESTS_PER_HOUR:
        raise InterventionNotAllowed(_("Too many requests; please try again later."))
    if kind == InterventionKind.RESCHEDULE:
        slot = slot_from_value(params=step.parameters, value=value, now=now)
        if slot is None:
            raise InvalidSlot(_("Please choose one of the offered time slots."), slot=value)
        payload = {"slot_start": slot.start.isoformat(), "slot_end": slot.end.isoformat()}
    else:
        nearby = {point.pk: point for point, _d in pickup_points_near(order=step.order, limit=50)}
        point = nearby.get(int(value)) if str(value).isdigit() else None
        if point is None:
            raise InvalidSlot(
                _("Please choose one of the pickup points listed."), pickup_point=value
            )
        payload = {"pickup_point_id": point.pk, "pickup_point": point.name}
    code = f"{secrets.randbelow(10**6):06d}"
    request = InterventionRequest.objects.create(
        tracking=tracking,
        step=step,
        kind=kind,
        payload=payload,
        code_hash=_hash(code, secrets.token_hex(8)),
        expires_at=now + timedelta(seconds=settings.OMS_OTP_TTL_SECONDS),
    )
    phone = step.order.receiver_phone
    transaction.on_commit(
        partial(get_sender().send_code, phone=phone, code=code, purpose=f"{kind} {step.key}")
    )
    return request


def intervention_confirm(
    *, request: InterventionRequest, code: str, now: datetime | None = None
) -> ServiceStep:
    """Check the code; on success re-plan the step. Raises ``CodeRejected`` otherwise.

    A wrong code is counted even though the call raises (the count commits first).
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = InterventionRequest.objects.select_for_update().get(pk=request.pk)
        problem = None
        if locked.state == InterventionRequest.State.CONFIRMED:
            problem = _("This change is already confirmed.")
        elif locked.state != InterventionRequest.State.PENDING:
            problem = _("This code can no longer be used; please ask for a new one.")
        elif locked.expires_at < now:
            locked.state = InterventionRequest.State.EXPIRED
            problem = _("The code has expired; please ask for a new one.")
        elif not _matches(code or "", locked.code_hash):
            locked.attempts += 1
            if locked.attempts >= settings.OMS_OTP_MAX_ATTEMPTS:
                locked.state = InterventionRequest.State.LOCKED
                problem = _("Too many wrong codes; please ask for a new one.")
            else:
                left = settings.OMS_OTP_MAX_ATTEMPTS - locked.attempts
                problem = ngettext(
                    "Wrong code; %(left)d attempt left.",
                    "Wrong code; %(left)d attempts left.",
                    left,
                ) % {"left": left}
        if problem:
            locked.save(update_fields=["state", "attempts"])
    if problem:
        raise CodeRejected(problem, state=locked.state)
    return _apply(request_id=locked.pk, now=now)


@transaction.atomic
def _apply(*, request_id: int, now: datetime) -> ServiceStep:
    locked = InterventionRequest.objects.select_for_update().get(pk=request_id)
    if locked.state != InterventionRequest.State.PENDING:
        raise CodeRejected(_("This change is already confirmed."), state=locked.state)
    step = ServiceStep.objects.select_related("atom", "order").get(pk=locked.step_id)
    if locked.kind not in allowed_interventions(step):
        raise InterventionNotAllowed(_("This service cannot be changed any more."), step=step.key)
    locked.state = InterventionRequest.State.CONFIRMED
    locked.confirmed_at = now
    locked.save(update_fields=["state", "confirmed_at"])
    order = step.order
    cancelled: list[str] = []
    if locked.kind == InterventionKind.RESCHEDULE:
        changes = {"slot_start": locked.payload["slot_start"]}
        slot_end = datetime.fromisoformat(locked.payload["slot_end"])
        moved = deadlines_shift(step=step, not_before=slot_end + timedelta(hours=1))
        message = (
            f"Customer rescheduled {step.atom.label_en} to "
            f"{timezone.localtime(datetime.fromisoformat(locked.payload['slot_start'])):%Y-%m-%d %H:%M}"
        )
        code, params = "customer.rescheduled", {"start": locked.payload["slot_start"]}
        text = said(
            "customer.rescheduled",
            english=message,
            step=atom_name(step.atom),
            start=locked.payload["slot_start"],
        )
    else:
        changes = {"pickup_point_id": locked.payload["pickup_point_id"]}
        moved = []
        message = (
            f"Customer chose pickup point {locked.payload['pickup_point']} for {step.atom.label_en}"
        )
        code, params = "customer.pickup", {"point": locked.payload["pickup_point"]}
        cancelled = _home_steps_cancel(step=step, point=locked.payload["pickup_point"], now=now)
        if cancelled:
            message += f"; home appointment(s) cancelled: {', '.join(cancelled)}"
        text = said(
            "customer.pickup",
            english=message,
            step=atom_name(step.atom),
            point=locked.payload["pickup_point"],
            cancelled=[
                atom_name(s.atom)
                for s in ServiceStep.objects.filter(order=order, key__in=cancelled)
                .select_related("atom")
                .order_by("position", "pk")
            ],
        )
    step = step_replan(step=step, changes=changes, actor=ACTOR, reason=message)
    order_note(
        order=order,
        actor=ACTOR,
        kind="customer_intervention",
        message=text,
        data={
            "step": step.key,
            "kind": locked.kind,
            "replanned": [step.key, *moved],
            "cancelled": cancelled,
            "message_code": code,
            "message_params": params,
        },
    )
    webhook_emit(
        merchant_id=order.merchant_id,
        event_type=WebhookEventType.INTERVENTION,
        data={
            "order_id": order.pk,
            "external_id": order.external_id,
            "step": step.key,
            "kind": locked.kind,
            "change": locked.payload,
            "receiver_phone": mask_phone(order.receiver_phone),
            "replanned_steps": sorted({step.key, *moved}),
            "cancelled_steps": cancelled,
        },
        order=order,
    )
    if cancelled:  # what waited for a cancelled appointment may be ready now
        transaction.on_commit(partial(steps_advance, order_id=order.pk))
    return step


def _home_steps_cancel(*, step: ServiceStep, point: str, now: datetime) -> list[str]:
    """Cancel the home appointments after ``step`` (its goods now go to a pickup point).

    Nobody installs at home what the customer collects at a pickup point, and the customer was
    told so before confirming. Each cancelled step hands its upstream steps to its downstream
    ones, so an after-sales visit that followed the installation now follows the delivery.
    """
    cancelled = []
    for row in home_steps_after(step):
        locked = ServiceStep.objects.select_for_update().get(pk=row.pk)
        if locked.status not in OPEN_STEP_STATUSES:
            continue
        locked.status = StepStatus.CANCELLED
        locked.finished_at = now
        locked.next_attempt_at = None
        locked.result = {
            **(locked.result or {}),
            "message_code": "cancelled.pickup",
            "message_params": {"point": point},
            "cancelled_because": "pickup",
        }
        locked.save()
        before = list(locked.upstream.all())
        for down in locked.downstream.all():
            down.upstream.add(*before)
        cancelled.append(locked.key)
    return cancelled


def slot_hours(step: ServiceStep) -> int:
    return slot_settings(step.parameters)["slot_hours"]
