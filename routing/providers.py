"""Live-signal providers: the plug for real feeds (carrier APIs, weather service, 3PL pushes).

A provider is any object with a ``name`` and ``fetch(now=...) -> Iterable[Reading]``; list its
dotted path in ``OMS_SIGNAL_PROVIDERS`` and the ``routing.poll_signal_providers`` beat job calls
it and stores what it returns through ``signals_ingest`` (the same service the REST endpoints
and admin use). ``SimulatedFeed`` is the demo's feed: deterministic per hour, so a demo shows
weather and carrier load moving without any outside service.
"""

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from oms.models import Region, Warehouse
from oms.services.warehouses import warehouse_set_status
from routing.models import CarrierCapacity, CourierLoad, WeatherAlert

logger = logging.getLogger(__name__)
KINDS = ("weather", "carrier_capacity", "courier_load", "warehouse_status")


@dataclass(frozen=True)
class Reading:
    """One observation from a feed. ``value``: level 0-4, share 0..1, or a warehouse status."""

    kind: str
    value: float | str
    source: str
    observed_at: datetime
    valid_for: timedelta = timedelta(hours=2)
    region: str = ""
    carrier: str = ""
    warehouse_code: str = ""
    merchant_id: int | None = None
    note: str = ""


class SignalProvider(Protocol):
    name: str

    def fetch(self, *, now: datetime) -> Iterable[Reading]: ...


@transaction.atomic
def signals_ingest(*, readings: Iterable[Reading]) -> dict[str, int]:
    """Store readings; returns counts per kind (and ``skipped`` for unknown warehouses)."""
    counts = dict.fromkeys((*KINDS, "skipped"), 0)
    for reading in readings:
        common = {
            "source": reading.source,
            "observed_at": reading.observed_at,
            "expires_at": reading.observed_at + reading.valid_for,
            "note": reading.note[:200],
        }
        if reading.kind == "weather":
            WeatherAlert.objects.create(
                region=reading.region,
                level=int(reading.value),
                merchant_id=reading.merchant_id,
                **common,
            )
        elif reading.kind == "carrier_capacity":
            CarrierCapacity.objects.create(
                region=reading.region,
                carrier=reading.carrier,
                saturation=float(reading.value),
                merchant_id=reading.merchant_id,
                **common,
            )
        elif reading.kind in ("courier_load", "warehouse_status"):
            warehouses = Warehouse.objects.filter(code=reading.warehouse_code)
            if reading.merchant_id:
                warehouses = warehouses.filter(merchant_id=reading.merchant_id)
            if not warehouses:
                counts["skipped"] += 1
                continue
            for warehouse in warehouses:
                if reading.kind == "courier_load":
                    CourierLoad.objects.create(
                        warehouse=warehouse,
                        load=float(reading.value),
                        merchant_id=warehouse.merchant_id,
                        **common,
                    )
                else:
                    warehouse_set_status(
                        warehouse=warehouse,
                        status=str(reading.value),
                        reason=reading.note or f"reported by {reading.source}",
                        actor=f"feed:{reading.source}",
                    )
        else:
            raise ValueError(f"unknown signal kind {reading.kind!r}")
        counts[reading.kind] += 1
    return counts


def poll_providers(*, now: datetime | None = None) -> dict[str, dict[str, int]]:
    """Call every configured provider once; one failing feed never stops the others."""
    now = now or timezone.now()
    report = {}
    for dotted in settings.OMS_SIGNAL_PROVIDERS:
        provider = import_string(dotted)()
        try:
            report[provider.name] = signals_ingest(readings=list(provider.fetch(now=now)))
        except Exception:
            logger.exception("signal provider %s failed", dotted)
            report[provider.name] = {"error": 1}
    return report


class SimulatedFeed:
    """Demo feed: weather and carrier saturation per region that change every hour."""

    name = "simulated-feed"

    @staticmethod
    def _draw(*parts: object) -> float:
        digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
        return int.from_bytes(digest[:4], "big") / 2**32

    def fetch(self, *, now: datetime) -> Iterable[Reading]:
        hour = now.replace(minute=0, second=0, microsecond=0)
        for region in Region.values:
            draw = self._draw("weather", region, hour.isoformat())
            level = (
                0
                if draw < 0.7
                else 1
                if draw < 0.85
                else 2
                if draw < 0.94
                else 3
                if draw < 0.985
                else 4
            )
            yield Reading(
                kind="weather",
                value=level,
                region=region,
                source=self.name,
                observed_at=now,
                valid_for=timedelta(hours=3),
            )
            saturation = round(0.35 + 0.6 * self._draw("carrier", region, hour.isoformat()), 2)
            yield Reading(
                kind="carrier_capacity",
                value=saturation,
                region=region,
                carrier="all",
                source=self.name,
                observed_at=now,
                valid_for=timedelta(hours=1),
            )
