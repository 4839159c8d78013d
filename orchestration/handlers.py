"""The handlers service atoms run; each registers itself in ``orchestration.registry``.

A handler takes the step and its merged parameters and returns a ``HandlerResult``: a reference
(waybill, booking, serial, warranty number), data for the step's ``result``, an ETA, and whether
the step stays in progress until the real world confirms it (a parcel delivered, an installation
carried out). References derive from the order, step and plan version, and ``register`` returns
the stored result when the same plan version already ran, so a handler run twice books once.
A handler that cannot finish now raises ``HandlerTemporaryFailure``; the step is retried.
"""

import hashlib
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_noop

from oms.stored_text import message, word
from orchestration.exceptions import HandlerTemporaryFailure
from orchestration.models import PickupPoint, ServiceStep
from orchestration.registry import HandlerResult, register
from orchestration.slots import available_slots, slot_settings


def _reference(prefix: str, step: ServiceStep, *, length: int = 10) -> str:
    seed = f"{step.order_id}:{step.key}:{step.pk}:{step.plan_version}"
    return f"{prefix}-{hashlib.sha256(seed.encode()).hexdigest()[:length].upper()}"


# The system an appointment is booked with when the step names no provider.
SCHEDULING_SYSTEM = gettext_noop("scheduling system")


def _simulated_outage(step: ServiceStep, params: dict, system: str) -> None:
    """Demo/test knob: ``outage_attempts: n`` makes the first n attempts fail as a real outage."""
    if step.attempts <= int(params.get("outage_attempts", 0)):
        raise HandlerTemporaryFailure(
            f"{system} did not answer",
            external_system=system,
            text=message(
                "step.no_answer", system=word(system) if system == SCHEDULING_SYSTEM else system
            ),
        )


def _chosen_slot(params: dict) -> datetime:
    """The start of the slot a reschedule chose (stored by it as ISO 8601, so it parses)."""
    start = parse_datetime(params["slot_start"])
    assert start is not None
    return start


def _sibling_eta(step: ServiceStep, key: str) -> datetime | None:
    if not key:
        return None
    row = ServiceStep.objects.filter(order_id=step.order_id, key=key).values("eta", "finished_at")
    first = row.first()
    return (first["finished_at"] or first["eta"]) if first else None


@register(
    "delivery_dispatch",
    "Delivery dispatch (carrier booking, waybill)",
    interventions=("reschedule", "pickup"),
    completes_on_delivery=True,
)
def delivery_dispatch(*, step: ServiceStep, params: dict, now: datetime) -> HandlerResult:
    """Book the carrier for the order's shipment(s) and issue a waybill.

    The ETA is the chosen delivery slot, else now + ``transit_hours``; a pickup point replaces
    the home address. The step stays in progress until the order is delivered.
    """
    from oms.selectors import shipments_of

    carrier = params.get("carrier") or (
        shipments_of(step.order).exclude(carrier="").values_list("carrier", flat=True).first()
        or "Express A"
    )
    _simulated_outage(step, params, carrier)
    slot_start = parse_datetime(params["slot_start"]) if params.get("slot_start") else None
    eta = slot_start + timedelta(hours=slot_settings(params)["slot_hours"]) if slot_start else None
    eta = eta or now + timedelta(hours=float(params.get("transit_hours", 48)))
    data = {
        "carrier": carrier,
        "temperature": params.get("temperature", "ambient"),
        "slot_start": slot_start.isoformat() if slot_start else None,
    }
    message = f"{carrier} booked"
    code, message_params = "delivery.booked", {"carrier": carrier}
    if params.get("pickup_point_id"):
        point = PickupPoint.objects.filter(pk=params["pickup_point_id"]).first()
        if point:
            data["pickup_point"] = {"code": point.code, "name": point.name}
            message = f"{carrier} delivers to pickup point {point.name}"
            code, message_params = "delivery.to_pickup", {"carrier": carrier, "point": point.name}
    return HandlerResult(
        _reference("WB", step),
        data,
        eta,
        waits_for_confirmation=True,
        message=message,
        message_code=code,
        message_params=message_params,
    )


@register(
    "appointment_booking",
    "Appointment booking (installation, hand-over)",
    interventions=("reschedule",),
)
def appointment_booking(*, step: ServiceStep, params: dict, now: datetime) -> HandlerResult:
    """Book a technician or hand-over appointment in the chosen slot or the first free one.

    With ``not_before_step`` the slot starts after that step's ETA (install after delivery).
    The step stays in progress until the appointment is confirmed as carried out.
    """
    _simulated_outage(step, params, params.get("provider", SCHEDULING_SYSTEM))
    if params.get("slot_start"):
        start = _chosen_slot(params)
        end = start + timedelta(hours=slot_settings(params)["slot_hours"])
    else:
        earliest = max(now, _sibling_eta(step, params.get("not_before_step", "")) or now)
        slots = available_slots(params=params, now=earliest)
        if not slots:
            raise HandlerTemporaryFailure(
                "no free slot",
                external_system=SCHEDULING_SYSTEM,
                text=message("step.no_free_slot"),
            )
        start, end = slots[0].start, slots[0].end
    data = {
        "service": params.get("service", "installation"),
        "slot_start": start.isoformat(),
        "slot_end": end.isoformat(),
        "location": params.get("location", "customer address"),
    }
    when = timezone.localtime(start).strftime("%Y-%m-%d %H:%M")
    return HandlerResult(
        _reference("APT", step),
        data,
        end,
        waits_for_confirmation=True,
        message=f"{data['service']} booked for {when}",
        message_code="appointment.booked",
        message_params={"service": data["service"], "start": data["slot_start"]},
    )


@register("serial_lock", "Battery / serial lock at the factory")
def serial_lock(*, step: ServiceStep, params: dict, now: datetime) -> HandlerResult:
    """Lock one serial number per unit ordered against the factory's allocation.

    Serials derive from the order line and unit, so asking twice locks the same units.
    """
    system = params.get("external_system", "factory MES")
    _simulated_outage(step, params, system)
    prefix = params.get("serial_prefix", "SN")
    serials = []
    for line in step.order.lines.order_by("pk"):
        for unit in range(line.quantity):
            seed = f"{line.pk}:{unit}".encode()
            serials.append(f"{prefix}{hashlib.sha256(seed).hexdigest()[:12].upper()}")
    return HandlerResult(
        _reference("LOCK", step),
        {"serials": serials, "system": system},
        now,
        message=f"{len(serials)} serial(s) locked",
        message_code="serials.locked",
        message_params={"count": len(serials)},
    )


@register("ewarranty", "E-warranty generation")
def ewarranty(*, step: ServiceStep, params: dict, now: datetime) -> HandlerResult:
    """Issue an electronic warranty valid ``months`` from today for every product ordered."""
    months = int(params.get("months", 24))
    valid_until = (timezone.localdate(now) + timedelta(days=round(months * 30.44))).isoformat()
    products = list(step.order.lines.values_list("sku", flat=True))
    reference = _reference("EW", step)
    return HandlerResult(
        reference,
        {"valid_until": valid_until, "months": months, "products": products},
        now,
        message=f"warranty {reference} valid until {valid_until}",
        message_code="warranty.issued",
        message_params={"reference": reference, "valid_until": valid_until},
    )


CENT = Decimal("0.01")


@register("tariff_estimate", "Cross-border tariff estimate")
def tariff_estimate(*, step: ServiceStep, params: dict, now: datetime) -> HandlerResult:
    """Estimate duty and import VAT under China's cross-border e-commerce rules.

    Within the per-order limit (``cbec_order_limit``, 5000 CNY) duty is 0 and VAT and
    consumption tax are charged at 70 %; above it the general trade rates apply in full.
    """
    value = step.order.subtotal
    vat_rate = Decimal(str(params.get("vat_rate", "0.13")))
    duty_rate = Decimal(str(params.get("duty_rate", "0.10")))
    limit = Decimal(str(params.get("cbec_order_limit", "5000")))
    if value <= limit:
        duty = Decimal("0")
        vat = value * vat_rate * Decimal("0.7")
        regime = "cbec"
    else:
        duty = value * duty_rate
        vat = (value + duty) * vat_rate
        regime = "general"
    duty, vat = duty.quantize(CENT, ROUND_HALF_UP), vat.quantize(CENT, ROUND_HALF_UP)
    return HandlerResult(
        _reference("TAX", step),
        {"regime": regime, "duty": str(duty), "vat": str(vat), "total": str(duty + vat)},
        now,
        message=f"import taxes estimated at {duty + vat} {step.order.currency}",
        message_code="tariff.estimated",
        message_params={"amount": str(duty + vat), "currency": step.order.currency},
    )


@register("after_sales_visit", "After-sales visit", interventions=("reschedule",))
def after_sales_visit(*, step: ServiceStep, params: dict, now: datetime) -> HandlerResult:
    """Plan a follow-up visit ``after_days`` days from now, in the chosen slot if any."""
    if params.get("slot_start"):
        start = _chosen_slot(params)
    else:
        later = now + timedelta(days=int(params.get("after_days", 30)))
        start = available_slots(params=params, now=later)[0].start
    return HandlerResult(
        _reference("VIS", step),
        {"visit_at": start.isoformat()},
        start,
        waits_for_confirmation=True,
        message=f"visit planned for {timezone.localtime(start):%Y-%m-%d %H:%M}",
        message_code="visit.planned",
        message_params={"at": start.isoformat()},
    )


@register("inspection", "Pre-delivery inspection")
def inspection(*, step: ServiceStep, params: dict, now: datetime) -> HandlerResult:
    """Record the checklist of a pre-delivery inspection (items from ``checklist``)."""
    checklist = params.get("checklist") or ["exterior", "function", "documents"]
    return HandlerResult(
        _reference("QC", step),
        {"checked": list(checklist), "passed": True},
        now,
        message=f"{len(checklist)} checks passed",
        message_code="inspection.passed",
        message_params={"count": len(checklist)},
    )
