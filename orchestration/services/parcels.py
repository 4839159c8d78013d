"""Carrier tracking events: a parcel scanned at a hub on its way to the customer.

A scan is an entry of the order's timeline (kind ``parcel_scan``) with the hub, its province
and city and the carrier's scan time, on the order the shipment hangs on (a merged
fulfilment's earliest order). The status page draws the latest one on the parcel's map.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from oms.models import OrderEvent, Shipment
from oms.services.orders import order_note
from oms.stored_text import message
from orchestration.models import PARCEL_SCAN


@transaction.atomic
def parcel_scan_record(
    *,
    shipment: Shipment,
    hub: str,
    province: str,
    city: str = "",
    scanned_at: datetime | None = None,
    actor: str = "carrier",
) -> OrderEvent:
    """Write a carrier's scan of ``shipment`` at ``hub`` to the order's timeline."""
    scanned_at = scanned_at or timezone.now()
    return order_note(
        order=shipment.order,
        actor=actor,
        kind=PARCEL_SCAN,
        message=message(
            "parcel.scanned", parcel=shipment.tracking_number or str(shipment.pk), hub=hub
        ),
        data={
            "shipment": shipment.pk,
            "hub": hub,
            "province": province,
            "city": city,
            "scanned_at": scanned_at.isoformat(),
        },
    )
