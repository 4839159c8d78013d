"""Warehouse status: pausing takes effect for the very next routing decision."""

from django.db import transaction
from django.utils import timezone

from oms.models import Warehouse


@transaction.atomic
def warehouse_set_status(
    *, warehouse: Warehouse, status: str, reason: str, actor: str
) -> Warehouse:
    """Set a warehouse's operational status with the reason; audited by the warehouse history."""
    locked = Warehouse.objects.select_for_update().get(pk=warehouse.pk)
    if locked.status != status or locked.status_reason != reason:
        locked.status = status
        locked.status_reason = reason[:200]
        locked.status_changed_at = timezone.now()
        locked._change_reason = f"{actor}: {reason}"[:100]
        locked.save(update_fields=["status", "status_reason", "status_changed_at"])
    return locked
