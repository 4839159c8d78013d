"""Selectors for the staff boards: SLA performance per atom and the operations dashboard.

Figures are computed from rows in the window (steps, decisions, shipments, stock movements) with
a handful of grouped queries; percentiles are exact over the window's durations. Charts are inline
SVG built here (no JavaScript, no CDN), escaped like any other template output.
"""

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from oms.models import InventoryBatch, Merchant, Order, OrderLine, SalesChannel, Shipment
from orchestration.models import OrderTracking, ServiceAtom, ServiceStep, SlaAlert, StepStatus


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of unsorted values; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def bar_chart(
    series: Sequence[tuple[str, float | None]],
    *,
    unit: str = "",
    height: int = 120,
    width: int = 640,
) -> SafeString:
    """A bar chart as inline SVG; ``None`` values leave a gap. Labels are escaped."""
    values = [v for _label, v in series if v is not None]
    top = max(values) if values else 1.0
    top = top or 1.0
    slot = width / max(len(series), 1)
    bar = max(slot * 0.7, 1)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height + 20}" width="100%" role="img" '
        f'preserveAspectRatio="none" xmlns="http://www.w3.org/2000/svg">'
    ]
    for index, (label, value) in enumerate(series):
        if value is None:
            continue
        h = height * value / top
        x = index * slot + (slot - bar) / 2
        title = escape(f"{label}: {value:.1f}{unit}")
        parts.append(
            f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{bar:.1f}" height="{h:.1f}">'
            f"<title>{title}</title></rect>"
        )
    if series:
        parts.append(f'<text x="0" y="{height + 15}">{escape(series[0][0])}</text>')
        parts.append(
            f'<text x="{width}" y="{height + 15}" text-anchor="end">{escape(series[-1][0])}</text>'
        )
    parts.append(f'<text x="{width}" y="12" text-anchor="end">max {top:.1f}{escape(unit)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))


def _days(since: date, until: date) -> list[date]:
    return [since + timedelta(days=i) for i in range((until - since).days + 1)]


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
                "p50_minutes": percentile(durations, 50),
                "p95_minutes": percentile(durations, 95),
                "open_breaches": open_breaches.get(atom.pk, 0),
                "late_open": open_late.get(atom.pk, 0),
                "sla_minutes": atom.sla.total_seconds() / 60,
            }
        )
    trend = [
        (
            day.isoformat(),
            round(100 * sum(daily[day]) / len(daily[day]), 1) if daily.get(day) else None,
        )
        for day in _days(timezone.localdate(since), timezone.localdate(now))
    ]
    alerts = list(
        SlaAlert.objects.filter(resolved_at__isnull=True)
        .select_related("atom", "order")
        .order_by("-detected_at")[:20]
    )
    return {
        "days": days,
        "rows": rows,
        "trend": trend,
        "trend_chart": bar_chart(trend, unit="%"),
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


def _config_effect_minutes(since: datetime) -> list[dict]:
    """Time from each routing-profile or service-template change to its first effect."""
    from orchestration.models import ServiceTemplate
    from routing.models import RoutingDecision, RoutingProfile

    results = []
    for record in RoutingProfile.history.filter(history_date__gte=since).order_by("history_date")[
        :50
    ]:
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
                "what": f"routing profile {record.name}",
                "changed_at": record.history_date,
                "minutes": round((first - record.history_date).total_seconds() / 60, 1)
                if first
                else None,
            }
        )
    for record in ServiceTemplate.history.filter(history_date__gte=since).order_by("history_date")[
        :50
    ]:
        first = (
            OrderTracking.objects.filter(template_id=record.id, created_at__gte=record.history_date)
            .order_by("created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        results.append(
            {
                "what": f"service template {record.name}",
                "changed_at": record.history_date,
                "minutes": round((first - record.history_date).total_seconds() / 60, 1)
                if first
                else None,
            }
        )
    return results


def ops_dashboard(
    *,
    days: int = 30,
    merchant_id: int | None = None,
    channel_id: int | None = None,
    now: datetime | None = None,
) -> dict:
    """Cost per order, on-time rate, stock turnover, merge rate, status items, config lag."""
    from routing.models import RoutingDecision

    now = now or timezone.now()
    since = now - timedelta(days=days)
    orders = Order.objects.filter(created_at__gte=since)
    if merchant_id:
        orders = orders.filter(merchant_id=merchant_id)
    if channel_id:
        orders = orders.filter(channel_id=channel_id)
    decisions = RoutingDecision.objects.filter(
        outcome=RoutingDecision.Outcome.ROUTED, order__in=orders
    )
    cost_by_day = dict(
        decisions.annotate(day=TruncDate("created_at"))
        .values_list("day")
        .annotate(avg=Avg("cost"))
        .values_list("day", "avg")
    )
    orders_by_day = dict(
        orders.annotate(day=TruncDate("created_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    delivered = [
        (d, p)
        for d, p in Shipment.objects.filter(
            order__in=orders, delivered_at__isnull=False, order__promised_at__isnull=False
        ).values_list("delivered_at", "order__promised_at")
        if d is not None and p is not None  # as filtered; this tells the type checker
    ]
    on_time_rate = (
        round(100 * sum(d <= p for d, p in delivered) / len(delivered), 1) if delivered else None
    )
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
    # Turnover: stock on hand now over the average units leaving per day (lines of orders
    # shipped in the window, by the shipment's date).
    stock = InventoryBatch.objects.all()
    shipped = OrderLine.objects.filter(
        order__shipments__shipped_at__gte=since, order__status__in=["shipped", "delivered"]
    )
    if merchant_id:
        stock = stock.filter(warehouse__merchant_id=merchant_id)
        shipped = shipped.filter(order__merchant_id=merchant_id)
    on_hand = stock.aggregate(n=Sum("on_hand"))["n"] or 0
    units_out = shipped.distinct().aggregate(n=Sum("quantity"))["n"] or 0
    turnover_days = round(on_hand / (units_out / days), 1) if units_out else None
    avg_cost = decisions.aggregate(avg=Avg("cost"))["avg"]
    day_list = _days(timezone.localdate(since), timezone.localdate(now))
    cost_series = [
        (d.isoformat(), float(cost_by_day[d]) if cost_by_day.get(d) is not None else None)
        for d in day_list
    ]
    order_series = [(d.isoformat(), float(orders_by_day.get(d, 0))) for d in day_list]
    per_channel = list(
        orders.values("channel__name", "merchant__name")
        .annotate(
            n=Count("id", distinct=True),
            cost=Avg("routing_decisions__cost", filter=Q(routing_decisions__outcome="routed")),
        )
        .order_by("merchant__name", "channel__name")
    )
    config_lag = _config_effect_minutes(since)
    lag_values = [row["minutes"] for row in config_lag if row["minutes"] is not None]
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
        "turnover_days": turnover_days,
        "merge_rate": _merge_rate(since, merchant_id),
        "status_items": status_items,
        "config_lag": config_lag[-10:],
        "config_lag_median": round(statistics.median(lag_values), 1) if lag_values else None,
        "cost_chart": bar_chart(cost_series, unit=" CNY"),
        "orders_chart": bar_chart(order_series),
        "per_channel": per_channel,
    }
