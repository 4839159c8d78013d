"""Celery tasks of sales channels: thin, ids in, safe to run twice."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from channels.groupbuy.services import groupbuy_wave_build
from oms.models import ChannelKind, Merchant, SalesChannel, Warehouse


@shared_task(name="channels.build_pick_waves")
def build_pick_waves(merchant_id: int | None = None, warehouse_id: int | None = None) -> str:
    """Build group-buying pick waves (all merchants with a group-buy channel by default).

    Twice is harmless: orders already in a wave are not eligible, so the second run builds
    nothing. Schedule it at the cut-off times of the group activities (beat or cron).
    """
    merchants = Merchant.objects.filter(
        pk__in=SalesChannel.objects.filter(kind=ChannelKind.GROUP_BUY, active=True).values(
            "merchant_id"
        )
    ).order_by("pk")
    if merchant_id is not None:
        merchants = merchants.filter(pk=merchant_id)
    warehouse = Warehouse.objects.filter(pk=warehouse_id).first() if warehouse_id else None
    built = []
    for merchant in merchants:
        if warehouse is not None and warehouse.merchant_id != merchant.pk:
            continue
        result = groupbuy_wave_build(merchant=merchant, warehouse=warehouse, actor="task")
        built += [f"#{wave.pk}: {wave.order_count} orders" for wave in result.waves]
    return "; ".join(built) or "nothing waiting"


@shared_task(name="channels.purge_rejected_inbox")
def purge_rejected_inbox() -> int:
    """Delete rejected deliveries older than ``OMS_INBOX_REJECTED_KEEP_DAYS`` (hourly)."""
    from channels.services import inbox_purge_rejected

    return inbox_purge_rejected(older_than=timedelta(days=settings.OMS_INBOX_REJECTED_KEEP_DAYS))
