"""The logistics heat map: order volume, on-time rate and hours late per destination province.

One day at a time (the orders placed that day, in the site's time zone), drawn three times on
the tile-grid map of ``oms.tilemap`` as server-side SVG. An order is judged once its promise
has passed or it was delivered: on time when it was delivered by the promised time; late when
it was delivered after it, or is still not delivered after it (late until now). Cancelled orders
and orders without a promise are counted in the volume only. Hours late are the mean over the
late orders.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from oms.models import Order, OrderStatus
from oms.tilemap import TileMap, grid_key, province_name, tile_map

# Light to dark; the last two buckets take white text.
VOLUME_COLOURS = ["#dbeafe", "#93c5fd", "#3b82f6", "#1d4ed8", "#1e3a8a"]
# (lowest on-time %, colour, dark text?) from best to worst.
ON_TIME_STEPS = [
    (95.0, "#15803d", True),
    (90.0, "#86efac", False),
    (80.0, "#fde047", False),
    (60.0, "#fb923c", False),
    (0.0, "#dc2626", True),
]
# (up to hours late, colour, dark?) from mild to severe.
LATE_STEPS = [
    (2.0, "#fef3c7", False),
    (6.0, "#fcd34d", False),
    (12.0, "#f97316", False),
    (24.0, "#dc2626", True),
    (float("inf"), "#7f1d1d", True),
]


@dataclass(frozen=True)
class ProvinceDay:
    province: str
    orders: int
    judged: int
    on_time: int
    hours_late_total: float
    late: int

    @property
    def on_time_pct(self) -> float | None:
        return 100 * self.on_time / self.judged if self.judged else None

    @property
    def hours_late(self) -> float | None:
        return self.hours_late_total / self.late if self.late else None


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, start + timedelta(days=1)


def province_day(
    *, orders: QuerySet[Order], day: date | None, now: datetime
) -> dict[str, ProvinceDay]:
    """Per destination province (grid key): the figures of the orders placed on ``day``.

    ``day=None`` takes every order of ``orders`` (the whole window).
    """
    if day is not None:
        start, end = _day_bounds(day)
        orders = orders.filter(placed_at__gte=start, placed_at__lt=end)
    delivered_by_order: dict[int, list] = defaultdict(list)
    rows = orders.values_list("pk", "province", "status", "promised_at", "shipments__delivered_at")
    meta = {}
    for pk, province, status, promised, delivered in rows:
        meta[pk] = (province, status, promised)
        delivered_by_order[pk].append(delivered)
    counts: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0, 0.0, 0])
    for pk, (province, status, promised) in meta.items():
        key = grid_key(province)
        if not key:
            continue
        row = counts[key]
        row[0] += 1
        if status == OrderStatus.CANCELLED or promised is None:
            continue
        stamps = delivered_by_order[pk]
        arrived = None if None in stamps else max(stamps)  # delivered when every parcel is
        if arrived is None and promised > now:
            continue  # still on its way, and not late yet
        row[1] += 1
        if arrived is not None and arrived <= promised:
            row[2] += 1
        else:
            row[3] += ((arrived or now) - promised).total_seconds() / 3600
            row[4] += 1
    return {
        key: ProvinceDay(key, int(n), int(judged), int(on_time), late_hours, int(late))
        for key, (n, judged, on_time, late_hours, late) in counts.items()
    }


def _volume_bucket(value: int, top: int) -> int:
    return min(len(VOLUME_COLOURS) - 1, int(len(VOLUME_COLOURS) * value / (top + 1)))


def _legend(items: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"colour": colour, "label": label} for colour, label in items]


def _num(value: float, decimals: int) -> str:
    return number_format(value, decimals, use_l10n=True)


def heat_maps(figures: dict[str, ProvinceDay]) -> list[dict]:
    """Three tile maps (volume, on-time %, hours late) with their legends."""
    top = max((row.orders for row in figures.values()), default=0)
    volume_fill, volume_class, volume_title, volume_value = {}, {}, {}, {}
    on_time_fill, on_time_class, on_time_title, on_time_value = {}, {}, {}, {}
    late_fill, late_class, late_title, late_value = {}, {}, {}, {}
    for key, row in figures.items():
        bucket = _volume_bucket(row.orders, top)
        volume_fill[key] = VOLUME_COLOURS[bucket]
        volume_class[key] = "heat-dark" if bucket >= 3 else "heat-light"
        volume_title[key] = _("%(count)s orders") % {"count": row.orders}
        volume_value[key] = str(row.orders)
        pct = row.on_time_pct
        if pct is not None:
            floor, colour, dark = next(s for s in ON_TIME_STEPS if pct >= s[0])
            on_time_fill[key], on_time_class[key] = colour, "heat-dark" if dark else "heat-light"
            on_time_title[key] = _("%(pct)s %% on time of %(judged)s judged orders") % {
                "pct": _num(pct, 1),
                "judged": row.judged,
            }
            on_time_value[key] = f"{pct:.0f}%"
        hours = row.hours_late
        if hours is not None:
            limit, colour, dark = next(s for s in LATE_STEPS if hours <= s[0])
            late_fill[key], late_class[key] = colour, "heat-dark" if dark else "heat-light"
            late_title[key] = _("%(late)s late orders, %(hours)s h late on average") % {
                "late": row.late,
                "hours": _num(hours, 1),
            }
            late_value[key] = _("%(hours)s h") % {"hours": _num(hours, 0 if hours >= 10 else 1)}
        elif row.judged:
            late_fill[key], late_class[key] = "#d1fae5", "heat-light"
            late_title[key] = _("no late orders")
            late_value[key] = _("%(hours)s h") % {"hours": 0}
    volume_legend = []
    for index, colour in enumerate(VOLUME_COLOURS):
        members = [n for n in range(1, top + 1) if _volume_bucket(n, top) == index]
        if members:
            low, high = members[0], members[-1]
            volume_legend.append((colour, str(low) if low == high else f"{low}–{high}"))
    on_time_legend = [
        (colour, f"≥ {floor:.0f} %" if floor else f"< {ON_TIME_STEPS[-2][0]:.0f} %")
        for floor, colour, _dark in ON_TIME_STEPS
    ]
    late_legend = [("#d1fae5", _("none late"))] + [
        (colour, f"≤ {limit:.0f} h" if limit != float("inf") else f"> {LATE_STEPS[-2][0]:.0f} h")
        for limit, colour, _dark in LATE_STEPS
    ]
    return [
        {
            "id": "volume",
            "title": _("Order volume"),
            "map": _map(volume_class, volume_fill, volume_title, volume_value, _("Order volume")),
            "legend": _legend(volume_legend),
        },
        {
            "id": "on-time",
            "title": _("On-time rate"),
            "map": _map(
                on_time_class, on_time_fill, on_time_title, on_time_value, _("On-time rate")
            ),
            "legend": _legend(on_time_legend),
        },
        {
            "id": "hours-late",
            "title": _("Average hours late"),
            "map": _map(late_class, late_fill, late_title, late_value, _("Average hours late")),
            "legend": _legend(late_legend),
        },
    ]


def _map(classes, fills, titles, values, label) -> TileMap:
    return tile_map(classes=classes, fills=fills, titles=titles, values=values, label=label)


def province_heat(*, orders: QuerySet[Order], day: date | None, now: datetime) -> dict:
    """The heat map's context: the day, its three maps and a table of the busiest provinces."""
    figures = province_day(orders=orders, day=day, now=now)
    rows = sorted(figures.values(), key=lambda r: (-r.orders, r.province))
    return {
        "day": day,
        "maps": heat_maps(figures),
        "rows": [
            {
                "province": province_name(row.province),
                "orders": row.orders,
                "judged": row.judged,
                "on_time_pct": round(row.on_time_pct, 1) if row.on_time_pct is not None else None,
                "hours_late": round(row.hours_late, 1) if row.hours_late is not None else None,
            }
            for row in rows
        ],
        "order_count": sum(row.orders for row in rows),
    }
