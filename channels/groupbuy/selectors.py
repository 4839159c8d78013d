"""Reads of group-buying waves: the printable sheet and the API's scoped querysets."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from channels.groupbuy.core import Distribution, PickLine, PickupGroup
from channels.groupbuy.services import wave_plan
from channels.models import ChannelOrder, PickWave
from oms.models import Merchant, OrderStatus


@dataclass(frozen=True)
class SheetEntry:
    """One order on a pickup point's distribution list, as printed."""

    distribution: Distribution
    lines: list[tuple[str, str, int]]  # sku, name, quantity
    cancelled: bool


@dataclass(frozen=True)
class SheetSection:
    """A block of the distribution list: one leader's proxy orders, direct orders, pickups."""

    kind: str
    leader_id: str
    leader_name: str
    entries: list[SheetEntry]


@dataclass(frozen=True)
class SheetPoint:
    group: PickupGroup
    sections: list[SheetSection]


@dataclass(frozen=True)
class WaveSheet:
    wave: PickWave
    lines: tuple[PickLine, ...]
    points: list[SheetPoint]
    cancelled: int


def waves_of(merchant: Merchant) -> QuerySet[PickWave]:
    return PickWave.objects.filter(merchant=merchant).select_related("warehouse")


def wave_sheet(*, wave: PickWave) -> WaveSheet:
    """The wave pick list and, per pickup point, the sort list and the distribution list.

    Orders cancelled since the build are kept on the sheet and flagged, so the packer takes
    them out of the crate rather than wondering where they went.
    """
    plan = wave_plan(wave=wave)
    cancelled = set(
        ChannelOrder.objects.filter(
            order__groupbuy_assignment__pick_list__wave=wave,
            order__status=OrderStatus.CANCELLED,
        ).values_list("order_id", flat=True)
    )
    if plan is None:
        return WaveSheet(wave=wave, lines=(), points=[], cancelled=0)
    names = {line.sku: line.name for line in plan.lines}
    points = []
    for group in plan.groups:
        sections: list[SheetSection] = []
        for entry in group.distribution:
            order = entry.order
            proxy = order.order_type == "leader_proxy"
            key = (order.order_type, order.leader_id if proxy else "")
            if not sections or (sections[-1].kind, sections[-1].leader_id) != key:
                sections.append(
                    SheetSection(
                        kind=order.order_type,
                        leader_id=key[1],
                        leader_name=order.leader_name if proxy else "",
                        entries=[],
                    )
                )
            sections[-1].entries.append(
                SheetEntry(
                    distribution=entry,
                    lines=[(sku, names.get(sku, ""), qty) for sku, qty in entry.lines],
                    cancelled=order.order_id in cancelled,
                )
            )
        points.append(SheetPoint(group=group, sections=sections))
    return WaveSheet(wave=wave, lines=plan.lines, points=points, cancelled=len(cancelled))
