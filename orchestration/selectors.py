"""Reads of order services: the customer-visible status, the status page, the staff boards.

The customer-visible status of an order is derived from its steps only: ``completed`` when all
are done, ``attention`` when one failed, ``in_progress`` when any has started, else
``planned``; the headline names the step the customer is waiting for. The status page is built
with a fixed number of queries whatever the number of steps.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html_join

from customers.matching import mask_phone
from oms import selectors as oms_selectors
from oms.models import Order, ShipmentStatus
from orchestration.models import (
    OPEN_STEP_STATUSES,
    OrderTracking,
    ServiceStep,
    StepStatus,
)
from orchestration.privacy import mask_address
from orchestration.slots import available_slots, slot_settings


@dataclass
class StepView:
    step: ServiceStep
    label: str
    state: str  # done / in_progress / waiting / failed / cancelled
    eta: datetime | None
    projected: bool
    message: str
    interventions: list[str] = field(default_factory=list)
    slot_options: str = ""
    eta_text: str = ""


@dataclass(frozen=True)
class CustomerStatus:
    state: str
    headline: str
    done: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


DISPLAY_STATE: dict[str, str] = {
    StepStatus.DONE: "done",
    StepStatus.RUNNING: "in_progress",
    StepStatus.READY: "in_progress",
    StepStatus.WAITING: "waiting",
    StepStatus.FAILED: "failed",
    StepStatus.CANCELLED: "cancelled",
}


def _upstream_map(order_id: int) -> dict[int, list[int]]:
    upstream: dict[int, list[int]] = {}
    Through = ServiceStep.upstream.through
    for down, up in Through.objects.filter(from_servicestep__order_id=order_id).values_list(
        "from_servicestep_id", "to_servicestep_id"
    ):
        upstream.setdefault(down, []).append(up)
    return upstream


def _typical(step: ServiceStep) -> timedelta:
    hours = step.atom.parameters.get("typical_hours")
    return timedelta(hours=float(hours)) if hours is not None else step.atom.sla


def _when(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%b %-d, %H:%M") if moment else ""


def slot_options(params: dict, now: datetime) -> str:
    """``<option>`` tags for the slots a step offers (values are ISO start times)."""
    return format_html_join(
        "",
        '<option value="{}">{} {}–{}</option>',
        (
            (
                slot.value,
                timezone.localtime(slot.start).strftime("%a %b %-d"),
                timezone.localtime(slot.start).strftime("%H:%M"),
                timezone.localtime(slot.end).strftime("%H:%M"),
            )
            for slot in available_slots(params=params, now=now)[:12]
        ),
    )


def step_views(
    steps: list[ServiceStep], upstream: dict[int, list[int]], now: datetime
) -> list[StepView]:
    """Steps in plan order with their display state and ETA (projected along the DAG if needed).

    Slot options are rendered once per distinct slot configuration: most steps share one.
    """
    from orchestration.services.interventions import allowed_interventions

    options_by_params: dict[tuple, str] = {}
    eta: dict[int, datetime | None] = {}
    views = []
    for step in steps:  # plan order is topological
        projected = False
        if step.status == StepStatus.DONE:
            when = step.finished_at
        elif step.eta:
            when = step.eta
        else:
            upstream_etas = [eta.get(u) for u in upstream.get(step.pk, [])]
            base = max((e for e in upstream_etas if e), default=now)
            when = max(base, now) + _typical(step)
            projected = True
        eta[step.pk] = when
        allowed = allowed_interventions(step)
        options = ""
        if "reschedule" in allowed:
            key = tuple(sorted(slot_settings(step.parameters).items()))
            if key not in options_by_params:
                options_by_params[key] = slot_options(step.parameters, now)
            options = options_by_params[key]
        shown_eta = None if step.status in (StepStatus.FAILED, StepStatus.CANCELLED) else when
        views.append(
            StepView(
                step=step,
                label=step.atom.label,
                state=DISPLAY_STATE[step.status],
                eta=shown_eta,
                projected=projected,
                message=(step.result or {}).get("message", ""),
                interventions=allowed,
                slot_options=options,
                eta_text=_when(shown_eta),
            )
        )
    return views


def customer_status(steps: list[ServiceStep]) -> CustomerStatus:
    """The order's status as the customer sees it, derived from its steps."""
    total = len(steps)
    done = sum(1 for s in steps if s.status == StepStatus.DONE)
    if not steps:
        return CustomerStatus("planned", "Your order is being prepared.", 0, 0)
    if any(s.status == StepStatus.FAILED for s in steps):
        failed = next(s for s in steps if s.status == StepStatus.FAILED)
        return CustomerStatus(
            "attention", f"{failed.atom.label}: we are on it and will contact you.", done, total
        )
    if done == total:
        return CustomerStatus("completed", "All services are completed.", done, total)
    current = next(
        (s for s in steps if s.status in (StepStatus.RUNNING, StepStatus.READY)), None
    ) or next(s for s in steps if s.status in OPEN_STEP_STATUSES)
    state = "in_progress" if (done or current.status != StepStatus.WAITING) else "planned"
    verb = "in progress" if current.status != StepStatus.WAITING else "next"
    return CustomerStatus(state, f"{current.atom.label}: {verb}", done, total)


def order_customer_status(*, order: Order) -> CustomerStatus:
    steps = list(order.service_steps.select_related("atom").order_by("position", "pk"))
    return customer_status(steps)


_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def tracking_by_token(token: str) -> OrderTracking | None:
    """The live tracking link of ``token``; None for anything that is not a URL-safe token."""
    if not token or len(token) > 64 or not _TOKEN_CHARS.issuperset(token):
        return None
    return (
        OrderTracking.objects.select_related("order", "order__merchant", "order__channel")
        .filter(token=token, revoked_at__isnull=True)
        .first()
    )


def routing_explanation(order: Order) -> str:
    from routing.models import RoutingDecision

    # A merged fulfilment has one decision for all its orders (stored on the order that triggered
    # it); the earlier orders' own decisions were superseded by it.
    deciding = Q(order=order)
    if order.consolidation_id:
        deciding |= Q(consolidation_id=order.consolidation_id)
    decision = (
        RoutingDecision.objects.filter(deciding, outcome=RoutingDecision.Outcome.ROUTED)
        .order_by("-created_at", "-id")
        .values_list("explanation", flat=True)
        .first()
    )
    return (decision or "").strip()


def status_page(*, tracking: OrderTracking, now: datetime | None = None) -> dict:
    """Everything the customer status page shows, with personal data masked."""
    now = now or timezone.now()
    order = tracking.order
    steps = list(
        ServiceStep.objects.filter(order=order).select_related("atom").order_by("position", "pk")
    )
    views = step_views(steps, _upstream_map(order.pk), now)
    shipments = list(_live_shipments(order))
    lines = list(order.lines.order_by("pk"))
    explanation = routing_explanation(order)
    summary, _sep, detail = explanation.partition("\n")
    status = customer_status(steps)
    return {
        "tracking": tracking,
        "order": order,
        "status": status,
        "steps": views,
        "shipments": shipments,
        "lines": lines,
        "explanation": summary.strip(),
        "explanation_detail": detail.strip(),
        "phone": mask_phone(order.receiver_phone),
        "address": mask_address(
            province=order.province,
            city=order.city,
            district=order.district,
            address_line=order.address_line,
        ),
        "status_items": len(views) + len(shipments) + (1 if explanation else 0),
        "now": now,
    }


def _live_shipments(order: Order):
    """The parcels the customer waits for: cancelled ones (re-planned, merged away) are noise."""
    return oms_selectors.shipments_of(order).exclude(status=ShipmentStatus.CANCELLED)


def status_item_count(*, order: Order) -> int:
    """Status items a customer sees for the order: steps, shipments, the routing explanation."""
    steps = order.service_steps.count()
    shipments = _live_shipments(order).count()
    return steps + shipments + (1 if routing_explanation(order) else 0)
