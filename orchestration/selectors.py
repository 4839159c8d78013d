"""Reads of order services: the customer-visible status, the status page, the staff boards.

The customer-visible status of an order is derived from its steps only: ``completed`` when all
are done, ``attention`` when one failed, ``in_progress`` when any has started, else
``planned``; the headline names the step the customer is waiting for. The status page is built
with a fixed number of queries whatever the number of steps.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from customers.matching import mask_phone
from oms import selectors as oms_selectors
from oms.models import Order, OrderEvent, Shipment, ShipmentStatus
from oms.tilemap import TileMap, grid_key, tile_map
from orchestration import customer_text, registry
from orchestration.models import (
    OPEN_STEP_STATUSES,
    PARCEL_SCAN,
    OrderTracking,
    PickupPoint,
    ServiceStep,
    StepStatus,
)
from orchestration.privacy import mask_address
from orchestration.slots import available_slots, slot_settings
from routing.models import RoutingDecision


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
    eta_words: str = ""  # "tomorrow afternoon"
    cancels: list[str] = field(default_factory=list)  # labels a switch to pickup cancels


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


def slot_options(params: dict, now: datetime, tz: tzinfo | None = None) -> str:
    """``<option>`` tags for the slots a step offers (values are ISO start times)."""
    tz = tz or timezone.get_current_timezone()
    return format_html_join(
        "",
        '<option value="{}">{}</option>',
        (
            (slot.value, customer_text.slot_text(slot.start, slot.end, tz))
            for slot in available_slots(params=params, now=now)[:12]
        ),
    )


def is_delivery(step: ServiceStep) -> bool:
    try:
        return registry.lookup(step.atom.handler).completes_on_delivery
    except registry.UnknownHandler:
        return False


def step_label(step: ServiceStep, pickup: PickupPoint | None = None) -> str:
    """The step's name for the customer; a delivery to a pickup point says so."""
    if pickup is not None and is_delivery(step) and step.parameters.get("pickup_point_id"):
        return _("Pickup at %(point)s") % {"point": pickup.name}
    return step.atom.label


def step_views(
    steps: list[ServiceStep],
    upstream: dict[int, list[int]],
    now: datetime,
    *,
    tz: tzinfo | None = None,
    pickup: PickupPoint | None = None,
) -> list[StepView]:
    """Steps in plan order with their display state and ETA (projected along the DAG if needed).

    Slot options are rendered once per distinct slot configuration: most steps share one. A
    delivery that may switch to a pickup point lists the home appointments the switch cancels,
    so the customer knows before choosing.
    """
    from orchestration.services.interventions import allowed_interventions, at_customer_home

    tz = tz or timezone.get_current_timezone()
    options_by_params: dict[tuple, str] = {}
    eta: dict[int, datetime | None] = {}
    downstream: dict[int, list[int]] = {}
    for down, ups in upstream.items():
        for up in ups:
            downstream.setdefault(up, []).append(down)
    by_id = {step.pk: step for step in steps}
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
                options_by_params[key] = slot_options(step.parameters, now, tz)
            options = options_by_params[key]
        cancels = []
        if "pickup" in allowed:
            below = _below(step.pk, downstream)
            cancels = [
                by_id[pk].atom.label
                for pk in sorted(below, key=lambda pk: (by_id[pk].position, pk))
                if by_id[pk].status in OPEN_STEP_STATUSES and at_customer_home(by_id[pk])
            ]
        shown_eta = None if step.status in (StepStatus.FAILED, StepStatus.CANCELLED) else when
        views.append(
            StepView(
                step=step,
                label=step_label(step, pickup),
                state=DISPLAY_STATE[step.status],
                eta=shown_eta,
                projected=projected,
                message=customer_text.step_message(step.result, tz),
                interventions=allowed,
                slot_options=options,
                eta_text=customer_text.day_time(shown_eta, tz),
                eta_words=(
                    customer_text.relative_when(shown_eta, now=now, tz=tz)
                    if shown_eta
                    and now < shown_eta < now + timedelta(days=6)
                    and step.status != StepStatus.DONE
                    else ""
                ),
                cancels=cancels,
            )
        )
    return views


def _below(step_id: int, downstream: dict[int, list[int]]) -> set[int]:
    seen: set[int] = set()
    stack = list(downstream.get(step_id, []))
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(downstream.get(current, []))
    return seen


def customer_status(
    steps: list[ServiceStep], labels: dict[int, str] | None = None
) -> CustomerStatus:
    """The order's status as the customer sees it, derived from its steps.

    Cancelled steps (a home installation after a switch to pickup) no longer count.
    """
    labels = labels or {}

    def label(step: ServiceStep) -> str:
        return labels.get(step.pk) or step.atom.label

    active = [s for s in steps if s.status != StepStatus.CANCELLED]
    total = len(active)
    done = sum(1 for s in active if s.status == StepStatus.DONE)
    if not active:
        return CustomerStatus("planned", _("Your order is being prepared."), 0, 0)
    if any(s.status == StepStatus.FAILED for s in active):
        failed = next(s for s in active if s.status == StepStatus.FAILED)
        return CustomerStatus(
            "attention",
            _("%(service)s: we are on it and will contact you.") % {"service": label(failed)},
            done,
            total,
        )
    if done == total:
        return CustomerStatus("completed", _("All services are completed."), done, total)
    current = next(
        (s for s in active if s.status in (StepStatus.RUNNING, StepStatus.READY)), None
    ) or next(s for s in active if s.status in OPEN_STEP_STATUSES)
    state = "in_progress" if (done or current.status != StepStatus.WAITING) else "planned"
    if current.status != StepStatus.WAITING:
        headline = _("In progress: %(service)s") % {"service": label(current)}
    else:
        headline = _("Next: %(service)s") % {"service": label(current)}
    return CustomerStatus(state, headline, done, total)


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


@dataclass(frozen=True)
class ParcelView:
    """One parcel as the customer sees it: where from, where it is, when it arrives."""

    shipment: Shipment
    sentence: str
    status: str
    hub: str = ""
    hub_seen: str = ""


@dataclass(frozen=True)
class Destination:
    pickup: PickupPoint | None
    place: str  # city or province, as the customer says it
    address: str  # masked home address, or the pickup point's address


def _arrival(*, eta: datetime | None, now: datetime, tz: tzinfo, pickup: bool) -> str:
    if eta is None:
        return ""
    if eta <= now:
        return _("ready for pickup soon") if pickup else _("arrives soon")
    when = customer_text.relative_when(eta, now=now, tz=tz)
    if pickup:
        return _("ready for pickup %(when)s") % {"when": when}
    return _("arrives %(when)s") % {"when": when}


def _parcel_sentence(
    shipment: Shipment, *, eta: datetime | None, now: datetime, tz: tzinfo, pickup: bool
) -> str:
    """'Ships from our warehouse in Shanghai, arrives tomorrow afternoon.' and its variants."""
    if shipment.status == ShipmentStatus.DELIVERED:
        moment = shipment.delivered_at
        if moment is None:
            return _("Delivered.")
        return _("Delivered %(when)s.") % {"when": customer_text.day_time(moment, tz)}
    origin = customer_text.place(city=shipment.warehouse.city, province=shipment.warehouse.province)
    arrival = _arrival(eta=eta, now=now, tz=tz, pickup=pickup)
    if shipment.status == ShipmentStatus.SHIPPED:
        if arrival:
            return _("On its way from our warehouse in %(place)s, %(arrival)s.") % {
                "place": origin,
                "arrival": arrival,
            }
        return _("On its way from our warehouse in %(place)s.") % {"place": origin}
    if arrival:
        return _("Ships from our warehouse in %(place)s, %(arrival)s.") % {
            "place": origin,
            "arrival": arrival,
        }
    return _("Ships from our warehouse in %(place)s.") % {"place": origin}


def _shipment_status(shipment: Shipment) -> str:
    words: dict[str, str] = {
        ShipmentStatus.PENDING: _("Being packed"),
        ShipmentStatus.SHIPPED: _("On its way"),
        ShipmentStatus.DELIVERED: _("Delivered"),
    }
    return words.get(shipment.status, "")


def _last_scan(order: Order, shipments: list[Shipment]) -> OrderEvent | None:
    """The latest carrier scan of the order's parcels (``parcel_scan`` timeline entries)."""
    order_ids = {order.pk, *(s.order_id for s in shipments)}
    return (
        OrderEvent.objects.filter(order_id__in=order_ids, kind=PARCEL_SCAN)
        .order_by("-at", "-id")
        .first()
    )


def _route_map(
    *, parcels: list[ParcelView], destination_province: str, hub_province: str, tz: tzinfo
) -> TileMap | None:
    """The parcel's way on the province tile map: warehouse, current hub, destination."""
    if not parcels:
        return None
    shipment = parcels[0].shipment
    origin = shipment.warehouse.province
    classes = {parcel.shipment.warehouse.province: "origin" for parcel in parcels}
    route = [origin]
    travelled = 0
    if hub_province and shipment.status == ShipmentStatus.SHIPPED:
        classes[hub_province] = "hub"
        route.append(hub_province)
        travelled = 1
    # the same province can be the start and the end (a Shanghai parcel to Shanghai)
    classes[destination_province] = f"{classes.get(destination_province, '')} destination".strip()
    route.append(destination_province)
    if shipment.status == ShipmentStatus.DELIVERED:
        travelled = len(route)
    return tile_map(
        classes=classes, route=route, travelled=travelled, label=_("The way of your parcel")
    )


def status_page(*, tracking: OrderTracking, now: datetime | None = None) -> dict:
    """Everything the customer status page shows, with personal data masked.

    In the customer's language (the active one) and the merchant's time zone. Nothing internal
    is shown: no routing reasons, scores or costs, only where the parcel comes from, where it
    is and when it arrives.
    """
    now = now or timezone.now()
    order = tracking.order
    tz = order.merchant.tzinfo
    steps = list(
        ServiceStep.objects.filter(order=order).select_related("atom").order_by("position", "pk")
    )
    pickup_ids = {
        step.parameters["pickup_point_id"]
        for step in steps
        if step.parameters.get("pickup_point_id") and step.status != StepStatus.CANCELLED
    }
    pickup = (
        PickupPoint.objects.filter(pk__in=pickup_ids).order_by("pk").first() if pickup_ids else None
    )
    views = step_views(steps, _upstream_map(order.pk), now, tz=tz, pickup=pickup)
    shipments = list(_live_shipments(order))
    lines = list(order.lines.order_by("pk"))
    delivery = next((view for view in views if is_delivery(view.step)), None)
    eta = delivery.eta if delivery else order.promised_at
    scan = _last_scan(order, shipments) if shipments else None
    scan_data = scan.data if scan else {}
    parcels = [
        ParcelView(
            shipment=shipment,
            sentence=_parcel_sentence(shipment, eta=eta, now=now, tz=tz, pickup=pickup is not None),
            status=_shipment_status(shipment),
            hub=scan_data.get("hub", "") if shipment.status == ShipmentStatus.SHIPPED else "",
            hub_seen=customer_text.day_time(
                parse_datetime(scan_data.get("scanned_at") or "") or (scan.at if scan else None), tz
            ),
        )
        for shipment in shipments
    ]
    destination_province = (grid_key(pickup.city) if pickup else "") or order.province
    destination = Destination(
        pickup=pickup,
        place=customer_text.place(
            city=pickup.city if pickup else order.city, province=order.province
        ),
        address=pickup.address
        if pickup
        else mask_address(
            province=order.province,
            city=order.city,
            district=order.district,
            address_line=order.address_line,
        ),
    )
    route_map = _route_map(
        parcels=parcels,
        destination_province=destination_province,
        hub_province=scan_data.get("province", ""),
        tz=tz,
    )
    status = customer_status(steps, {view.step.pk: view.label for view in views})
    # A merged fulfilment: the customer's other orders travel in the same parcel.
    merged_with = (
        list(
            Order.objects.filter(consolidation_id=order.consolidation_id)
            .exclude(pk=order.pk)
            .order_by("pk")
            .values_list("external_id", flat=True)
        )
        if order.consolidation_id
        else []
    )
    origins = list(
        dict.fromkeys(
            customer_text.place(
                city=p.shipment.warehouse.city, province=p.shipment.warehouse.province
            )
            for p in parcels
        )
    )
    return {
        "tracking": tracking,
        "order": order,
        "tz": tz,
        "status": status,
        "steps": views,
        "parcels": parcels,
        "merged_with": merged_with,
        "route_map": route_map,
        "origin_place": pgettext("list separator", ", ").join(origins),
        "hub": next((p.hub for p in parcels if p.hub), ""),
        "destination": destination,
        "lines": lines,
        "phone": mask_phone(order.receiver_phone),
        "status_items": len(views) + len(shipments) + (1 if route_map else 0),
        "usual_carrier": usual_carrier_chosen(order) if shipments else "",
        "now": now,
    }


def usual_carrier_chosen(order: Order) -> str:
    """The carrier routing chose because the customer usually picks it ('' when it did not).

    Read from the order's latest routed decision: a shipment whose carrier was preferred for
    the customer's past choices (``routing.engine.explain.CarrierChoice.preferred``).
    """
    decision = (
        RoutingDecision.objects.filter(order=order, outcome=RoutingDecision.Outcome.ROUTED)
        .order_by("-pk")
        .values_list("facts", flat=True)
        .first()
    )
    for choice in (decision or {}).get("carriers", []):
        if choice.get("preferred"):
            return str(choice.get("carrier", ""))
    return ""


def _live_shipments(order: Order):
    """The parcels the customer waits for: cancelled ones (re-planned, merged away) are noise."""
    return oms_selectors.shipments_of(order).exclude(status=ShipmentStatus.CANCELLED)


def status_item_count(*, order: Order) -> int:
    """Status items a customer sees for the order: steps, shipments and the parcel's way."""
    steps = order.service_steps.count()
    shipments = _live_shipments(order).count()
    return steps + shipments + (1 if shipments else 0)
