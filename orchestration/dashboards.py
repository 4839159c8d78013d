"""Selectors for the staff boards: SLA performance per atom and the operations dashboard.

Figures are computed from rows in the window (steps, decisions, shipments, stock) with a handful
of grouped queries; percentiles are exact over the window's durations. Orders count on the day
they were placed, in the site's time zone. Charts are drawn in the browser by the vendored
ECharts from a JSON description built here (``chart``), which a ``json_script`` tag carries to
``orchestration/dashboard.js``: the page runs no inline script. Every number leaves here in the
unit staff read it in: integers for counts, percentages, hours and minutes, money to the fen.
"""

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, DecimalField, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from oms.models import (
    InventoryBatch,
    Merchant,
    Order,
    OrderLine,
    SalesChannel,
    Shipment,
    Warehouse,
    WarehouseStatus,
)
from orchestration.logistics_map import province_heat
from orchestration.models import OrderTracking, ServiceAtom, ServiceStep, SlaAlert, StepStatus


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of unsorted values; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def duration_text(minutes: float | None) -> str:
    """A duration as staff say it: '45 min', '3 h 20 min', '2 d 4 h' (rounded to the minute)."""
    if minutes is None:
        return "—"
    if 0 < minutes < 1:
        return _("< 1 min")
    total = round(minutes)
    if total < 60:
        return _("%(minutes)d min") % {"minutes": total}
    days, rest = divmod(total, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        if hours:
            return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
        return _("%(days)d d") % {"days": days}
    if mins:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": mins}
    return _("%(hours)d h") % {"hours": hours}


def chart(
    chart_id: str,
    *,
    kind: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | int | None]]],
    unit: str = "",
    decimals: int = 0,
    y_max: float | None = None,
) -> dict[str, Any]:
    """A chart as ``dashboard.js`` draws it: x labels, named series, the unit and the decimals.

    Values are rounded here to what is shown, so the tooltip and the axis never print more
    than ``decimals`` places; ``None`` leaves a gap (a day without data).
    """
    return {
        "id": chart_id,
        "kind": kind,
        "labels": list(labels),
        "series": [
            {
                "name": name,
                "values": [
                    None if v is None else (round(v, decimals) if decimals else round(v))
                    for v in values
                ],
            }
            for name, values in series
        ],
        "unit": unit,
        "decimals": decimals,
        "yMax": y_max,
    }


def _days(since: date, until: date) -> list[date]:
    return [since + timedelta(days=i) for i in range((until - since).days + 1)]


def _day_label(day: date) -> str:
    return f"{day.month:d}-{day.day:02d}"


def sla_board(*, days: int = 14, now: datetime | None = None) -> dict:
    """Per atom: on-time %, p50/p95 duration, open breaches; a daily on-time trend."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    finished = list(
        ServiceStep.objects.filter(status=StepStatus.DONE, finished_at__gte=since).values(
            "atom_id", "finished_at", "deadline", "ready_at", "started_at"
        )
    )
    open_breaches = dict(
        SlaAlert.objects.filter(resolved_at__isnull=True)
        .values_list("atom_id")
        .annotate(n=Count("id"))
        .values_list("atom_id", "n")
    )
    open_late = dict(
        ServiceStep.objects.filter(
            status__in=[StepStatus.WAITING, StepStatus.READY, StepStatus.RUNNING], deadline__lt=now
        )
        .values_list("atom_id")
        .annotate(n=Count("id"))
        .values_list("atom_id", "n")
    )
    by_atom: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    daily: dict[date, list[bool]] = defaultdict(list)
    for row in finished:
        by_atom[row["atom_id"]].append(row)
        finished_at = row["finished_at"]
        assert finished_at is not None  # filtered on finished_at__gte
        on_time = row["deadline"] is None or finished_at <= row["deadline"]
        daily[timezone.localdate(finished_at)].append(on_time)
    rows = []
    for atom in ServiceAtom.objects.order_by("code"):
        items = by_atom.get(atom.pk, [])
        durations = [
            (r["finished_at"] - (r["started_at"] or r["ready_at"])).total_seconds() / 60
            for r in items
            if r["started_at"] or r["ready_at"]
        ]
        on_time = [r["deadline"] is None or r["finished_at"] <= r["deadline"] for r in items]
        rows.append(
            {
                "atom": atom,
                "finished": len(items),
                "on_time_pct": round(100 * sum(on_time) / len(on_time), 1) if on_time else None,
                "p50": duration_text(percentile(durations, 50)),
                "p95": duration_text(percentile(durations, 95)),
                "open_breaches": open_breaches.get(atom.pk, 0),
                "late_open": open_late.get(atom.pk, 0),
                "sla": duration_text(atom.sla.total_seconds() / 60),
            }
        )
    day_list = _days(timezone.localdate(since), timezone.localdate(now))
    trend = [
        100 * sum(daily[day]) / len(daily[day]) if daily.get(day) else None for day in day_list
    ]
    alerts = list(
        SlaAlert.objects.filter(resolved_at__isnull=True)
        .select_related("atom", "order")
        .order_by("-detected_at")[:20]
    )
    return {
        "days": days,
        "rows": rows,
        "charts": {
            "charts": [
                chart(
                    "chart-sla-trend",
                    kind="bar",
                    labels=[_day_label(d) for d in day_list],
                    series=[(_("Steps on time"), trend)],
                    unit="%",
                    decimals=1,
                    y_max=100,
                )
            ]
        },
        "alerts": alerts,
        "total_open_breaches": sum(open_breaches.values()),
    }


def _merge_rate(since: datetime, merchant_id: int | None) -> float | None:
    """Share of new customers in the window that were merged into another (cross-channel)."""
    try:
        from customers.models import Customer, CustomerMerge
    except ImportError:  # pragma: no cover - customers app absent
        return None
    customers = Customer.objects.filter(created_at__gte=since)
    merges = CustomerMerge.objects.filter(created_at__gte=since, undone_at__isnull=True)
    if merchant_id:
        customers = customers.filter(merchant_id=merchant_id)
        merges = merges.filter(merchant_id=merchant_id)
    total = customers.count()
    return round(100 * merges.count() / total, 1) if total else None


def _config_effect(since: datetime) -> list[dict]:
    """Time from each routing-profile or service-template change to its first effect."""
    from orchestration.models import ServiceTemplate
    from routing.models import RoutingDecision, RoutingProfile

    results = []
    profiles = RoutingProfile.history.filter(history_date__gte=since).order_by("history_date")
    for record in profiles[:50]:
        first = (
            RoutingDecision.objects.filter(
                profile_id=record.id, created_at__gte=record.history_date
            )
            .order_by("created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        results.append(
            {
                "what": _("Routing profile %(name)s") % {"name": record.name},
                "changed_at": record.history_date,
                "minutes": (first - record.history_date).total_seconds() / 60 if first else None,
            }
        )
    templates = ServiceTemplate.history.filter(history_date__gte=since).order_by("history_date")
    for record in templates[:50]:
        first = (
            OrderTracking.objects.filter(template_id=record.id, created_at__gte=record.history_date)
            .order_by("created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        results.append(
            {
                "what": _("Service template %(name)s") % {"name": record.name},
                "changed_at": record.history_date,
                "minutes": (first - record.history_date).total_seconds() / 60 if first else None,
            }
        )
    for row in results:
        row["lag"] = duration_text(row["minutes"]) if row["minutes"] is not None else ""
    return results


def inventory_turnover(
    *, days: int, now: datetime | None = None, merchant_id: int | None = None
) -> dict[str, Any]:
    """Stock turns a year and days of stock, from goods shipped in the window and stock held.

    turns a year = value shipped in the window / average stock value x (365 / days);
    days of stock = average stock value / value shipped per day. Both sides are valued at the
    products' unit value, so the ratio does not depend on the price level. Stock history is not
    kept, so the average is taken between the stock now and the stock at the window's start,
    estimated as the stock now plus what was shipped since (receipts are not known). Orders
    count once, when their first shipment left.
    """
    now = now or timezone.now()
    since = now - timedelta(days=days)
    value = Sum(F("on_hand") * F("product__unit_value"), output_field=DecimalField())
    stock = InventoryBatch.objects.all()
    first_shipped = Shipment.objects.filter(shipped_at__gte=since, shipped_at__lte=now)
    if merchant_id:
        stock = stock.filter(warehouse__merchant_id=merchant_id)
        first_shipped = first_shipped.filter(order__merchant_id=merchant_id)
    stock_value = stock.aggregate(v=value)["v"] or Decimal(0)
    shipped_value = OrderLine.objects.filter(
        order_id__in=first_shipped.values("order_id")
    ).aggregate(v=Sum(F("quantity") * F("product__unit_value"), output_field=DecimalField()))[
        "v"
    ] or Decimal(0)
    average_stock = stock_value + shipped_value / 2
    if not shipped_value or not average_stock:
        return {
            "turns_per_year": None,
            "days_of_stock": None,
            "stock_value": stock_value,
            "shipped_value": shipped_value,
        }
    turns = float(shipped_value / average_stock) * 365 / days
    return {
        "turns_per_year": round(turns, 1),
        "days_of_stock": round(float(average_stock / (shipped_value / days))),
        "stock_value": stock_value.quantize(Decimal("0.01")),
        "shipped_value": shipped_value.quantize(Decimal("0.01")),
    }


def _live_conditions(*, merchant_id: int | None, now: datetime) -> dict[str, Any]:
    """Warehouses paused or closed, and weather alerts in force (latest per region)."""
    from routing.models import WeatherAlert

    warehouses = Warehouse.objects.exclude(status=WarehouseStatus.ACTIVE).select_related("merchant")
    alerts = WeatherAlert.objects.filter(
        expires_at__gt=now, level__gte=WeatherAlert.Level.BLUE
    ).order_by("region", "-observed_at")
    if merchant_id:
        warehouses = warehouses.filter(merchant_id=merchant_id)
        alerts = alerts.filter(Q(merchant__isnull=True) | Q(merchant_id=merchant_id))
    latest: dict[str, Any] = {}
    for alert in alerts:
        latest.setdefault(alert.region, alert)
    return {
        "stopped_warehouses": list(warehouses.order_by("merchant__code", "code")[:50]),
        "weather_alerts": sorted(latest.values(), key=lambda a: (-a.level, a.region)),
    }


def ops_dashboard(
    *,
    days: int = 30,
    merchant_id: int | None = None,
    channel_id: int | None = None,
    day: date | None = None,
    now: datetime | None = None,
) -> dict:
    """Cost per order, on-time rate, stock turnover, merge rate, status items, config lag,
    charts per day, the logistics heat map of ``day`` and what stops fulfilment now."""
    from routing.models import RoutingDecision

    now = now or timezone.now()
    since = now - timedelta(days=days)
    orders = Order.objects.filter(placed_at__gte=since, placed_at__lte=now)
    if merchant_id:
        orders = orders.filter(merchant_id=merchant_id)
    if channel_id:
        orders = orders.filter(channel_id=channel_id)
    decisions = RoutingDecision.objects.filter(
        outcome=RoutingDecision.Outcome.ROUTED, order__in=orders
    )
    cost_by_day = dict(
        decisions.annotate(day=TruncDate("order__placed_at"))
        .values_list("day")
        .annotate(avg=Avg("cost"))
        .values_list("day", "avg")
    )
    orders_by_day = dict(
        orders.annotate(day=TruncDate("placed_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    delivered = [
        (d, p, placed)
        for d, p, placed in Shipment.objects.filter(
            order__in=orders, delivered_at__isnull=False, order__promised_at__isnull=False
        ).values_list("delivered_at", "order__promised_at", "order__placed_at")
        if d is not None and p is not None  # as filtered; this tells the type checker
    ]
    on_time_rate = (
        round(100 * sum(d <= p for d, p, _placed in delivered) / len(delivered), 1)
        if delivered
        else None
    )
    on_time_by_day: dict[date, list[bool]] = defaultdict(list)
    for d, p, placed in delivered:
        on_time_by_day[timezone.localdate(placed)].append(d <= p)
    steps_done = [
        (f, d)
        for f, d in ServiceStep.objects.filter(
            order__in=orders, status=StepStatus.DONE
        ).values_list("finished_at", "deadline")
        if f is not None  # a done step has its finish time
    ]
    service_on_time = (
        round(100 * sum(d is None or f <= d for f, d in steps_done) / len(steps_done), 1)
        if steps_done
        else None
    )
    tracked = orders.filter(service_steps__isnull=False).distinct()
    tracked_count = tracked.count()
    step_total = ServiceStep.objects.filter(order__in=orders).count()
    shipment_total = Shipment.objects.filter(order__in=tracked).count()
    status_items = (
        round((step_total + shipment_total + tracked_count) / tracked_count, 1)
        if tracked_count
        else None
    )
    avg_cost = decisions.aggregate(avg=Avg("cost"))["avg"]
    day_list = _days(timezone.localdate(since), timezone.localdate(now))
    labels = [_day_label(d) for d in day_list]
    per_channel = list(
        orders.values("channel__name", "merchant__name")
        .annotate(
            n=Count("id", distinct=True),
            cost=Avg("routing_decisions__cost", filter=Q(routing_decisions__outcome="routed")),
        )
        .order_by("merchant__name", "channel__name")
    )
    config_lag = _config_effect(since)
    lag_values = [row["minutes"] for row in config_lag if row["minutes"] is not None]
    # By default the latest day whose orders are all due (promises run up to three days).
    heat_day = day if day is not None else timezone.localdate(now) - timedelta(days=3)
    charts = [
        chart(
            "chart-orders",
            kind="bar",
            labels=labels,
            series=[(_("Orders"), [orders_by_day.get(d, 0) for d in day_list])],
        ),
        chart(
            "chart-cost",
            kind="bar",
            labels=labels,
            series=[
                (
                    _("Cost per order"),
                    [float(cost_by_day[d]) if cost_by_day.get(d) else None for d in day_list],
                )
            ],
            unit=_("CNY"),
            decimals=2,
        ),
        chart(
            "chart-on-time",
            kind="line",
            labels=labels,
            series=[
                (
                    _("Delivered on time"),
                    [
                        100 * sum(on_time_by_day[d]) / len(on_time_by_day[d])
                        if on_time_by_day.get(d)
                        else None
                        for d in day_list
                    ],
                )
            ],
            unit="%",
            decimals=1,
            y_max=100,
        ),
    ]
    return {
        "days": days,
        "merchant_id": merchant_id,
        "channel_id": channel_id,
        "merchants": Merchant.objects.order_by("code"),
        "channels": SalesChannel.objects.select_related("merchant").order_by(
            "merchant__code", "code"
        ),
        "order_count": orders.count(),
        "avg_cost": avg_cost.quantize(Decimal("0.01")) if avg_cost is not None else None,
        "on_time_rate": on_time_rate,
        "service_on_time": service_on_time,
        "turnover": inventory_turnover(days=days, now=now, merchant_id=merchant_id),
        "merge_rate": _merge_rate(since, merchant_id),
        "status_items": status_items,
        "config_lag": config_lag[-10:],
        "config_lag_median": duration_text(statistics.median(lag_values)) if lag_values else None,
        "charts": {"charts": charts},
        "per_channel": per_channel,
        "heat": province_heat(orders=orders, day=heat_day, now=now),
        "heat_days": [(d.isoformat(), d.strftime("%m-%d")) for d in reversed(day_list)],
        **_live_conditions(merchant_id=merchant_id, now=now),
    }
