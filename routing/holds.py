"""Soft holds placed by delivery promises: stored, applied to routing's nodes, consumed.

``hold_place`` stores what a promised option needs (``routing.engine.holds``) under the order
reference the checkout will create, for ``OMS_PROMISE_HOLD_MINUTES``; placing again under the
same reference replaces the hold (a buyer changing the option is not counted twice).
``held_nodes_for`` applies the merchant's live holds to the engine's nodes - routing and
promises call it, each naming the order references that are their own (their holds count as
their stock). ``holds_consume`` marks the holds of orders just routed: from then on their
shipments hold the stock and parcels themselves. An expired hold is ignored wherever it is read;
rows are kept for the record.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from oms.localcache import LocalCache
from routing.engine import problem as p
from routing.engine.factors import MIN_SHELF_LIFE_DAYS
from routing.engine.holds import Hold, held_nodes
from routing.models import PromiseHold


def version_key(merchant_id: int) -> str:
    """The cache key of the merchant's holds version: replaced whenever a hold is placed or
    consumed (``routing.promise.atp`` reads it with its other tokens, in one round trip)."""
    return f"promise:holds:v:{merchant_id}"


def _changed(merchant_id: int) -> None:
    def bump() -> None:
        cache.set(version_key(merchant_id), uuid.uuid4().hex, timeout=None)

    # Now, for reads in this transaction; and after the commit, as another process may have
    # read the rows as they were under the first new version meanwhile.
    bump()
    transaction.on_commit(bump)


_live: LocalCache[list[Hold]] = LocalCache("promise holds", max_entries=2_000)


def live_holds(*, merchant_id: int, now: datetime, version: str | None = None) -> list[Hold]:
    """The merchant's holds that still count at ``now``.

    With the merchant's holds ``version`` (``version_key``) the rows read are kept per process
    under it (expiry is checked at ``now`` on every use); without, they are read afresh, as
    routing does."""
    if version is not None:
        holds = _live.get((merchant_id, version), lambda: _read(merchant_id=merchant_id, now=now))
        return [hold for hold in holds if hold.active(now)]
    return _read(merchant_id=merchant_id, now=now)


def _read(*, merchant_id: int, now: datetime) -> list[Hold]:
    return [
        Hold(
            key=row.external_id,
            expires_at=row.expires_at,
            units=tuple((code, sku, int(units)) for code, sku, units in row.units),
            parcels=tuple((code, service) for code, service in row.parcels),
        )
        for row in PromiseHold.objects.filter(
            merchant_id=merchant_id, expires_at__gt=now, consumed_at__isnull=True
        )
    ]


def held_nodes_for(
    nodes: tuple[p.Node, ...],
    *,
    merchant_id: int,
    now: datetime,
    own: Collection[str] = (),
    temperatures: dict[str, p.Temperature] | None = None,
    version: str | None = None,
) -> tuple[p.Node, ...]:
    """``nodes`` less the merchant's live holds, except those of the order references ``own``.

    ``temperatures`` (SKU -> class) lets a hold come out of the batches the holder could take
    (shelf life); a SKU not named is taken as ambient."""
    holds = [
        hold
        for hold in live_holds(merchant_id=merchant_id, now=now, version=version)
        if hold.key not in own
    ]
    if not holds:
        return nodes
    temperatures = temperatures or {}

    def usable(batch: p.StockBatch) -> bool:
        days = MIN_SHELF_LIFE_DAYS[temperatures.get(batch.sku, p.Temperature.AMBIENT)]
        return batch.expires_in_days is None or batch.expires_in_days >= days

    return held_nodes(nodes, holds, now=now, usable=usable)


@transaction.atomic
def hold_place(
    *, merchant_id: int, external_id: str, hold: Hold, promised_at: datetime
) -> PromiseHold:
    """Store ``hold`` for the order the checkout will create as ``external_id`` (see the
    module docstring)."""
    row, _created = PromiseHold.objects.update_or_create(
        merchant_id=merchant_id,
        external_id=external_id,
        defaults={
            "units": [list(entry) for entry in hold.units],
            "parcels": [list(entry) for entry in hold.parcels],
            "promised_at": promised_at,
            "created_at": timezone.now(),
            "expires_at": hold.expires_at,
            "consumed_at": None,
        },
    )
    _changed(merchant_id)
    return row


def hold_expiry(now: datetime) -> datetime:
    return now + timedelta(minutes=settings.OMS_PROMISE_HOLD_MINUTES)


def holds_consume(*, merchant_id: int, external_ids: Collection[str]) -> int:
    """The orders ``external_ids`` were routed: their holds stop counting."""
    if not external_ids:
        return 0
    consumed = PromiseHold.objects.filter(
        merchant_id=merchant_id, external_id__in=list(external_ids), consumed_at__isnull=True
    ).update(consumed_at=timezone.now())
    if consumed:
        _changed(merchant_id)
    return consumed


def holds_release(holds: Collection[PromiseHold], *, now: datetime | None = None) -> int:
    """Staff release live ``holds`` early (a checkout abandoned): they expire now and stop
    counting for routing and promises. Consumed and expired holds are left as they are."""
    now = now or timezone.now()
    live = [hold for hold in holds if hold.consumed_at is None and hold.expires_at > now]
    with transaction.atomic():
        released = PromiseHold.objects.filter(
            pk__in=[hold.pk for hold in live], consumed_at__isnull=True, expires_at__gt=now
        ).update(expires_at=now)
        for merchant_id in {hold.merchant_id for hold in live}:
            _changed(merchant_id)
    return released
