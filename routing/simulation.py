"""What-if: route recent real orders with a draft profile, next to the profile in force.

Nothing is written. Every order is replayed against today's network (stock, warehouse status,
live signals) with its original promise window (promised_at - placed_at), once per profile and
once with the static baseline, so staff see what a change would do before activating it. Orders
are evaluated independently (stock is not drawn down between them), which the report says.
"""

from dataclasses import dataclass

from django.utils import timezone

from oms.models import Order, OrderStatus
from routing import context
from routing.engine.baseline import route_baseline
from routing.engine.problem import NodeStatus, RoutingContext, RoutingResult
from routing.engine.router import route_order
from routing.models import RoutingProfile


@dataclass
class Figures:
    label: str
    orders: int = 0
    routed: int = 0
    cost: float = 0.0
    on_time: int = 0
    split: int = 0
    to_paused: int = 0

    def add(self, result: RoutingResult, promised_hours: float, paused: set[str]) -> None:
        self.orders += 1
        if not result.routed:
            return
        self.routed += 1
        self.cost += result.cost
        self.on_time += result.transit_hours <= promised_hours
        self.split += result.split
        self.to_paused += any(code in paused for code in result.node_codes)

    def as_row(self) -> dict:
        routed = max(self.routed, 1)
        return {
            "label": self.label,
            "orders": self.orders,
            "routed": self.routed,
            "cost_per_order": round(self.cost / routed, 2),
            "on_time_rate": round(self.on_time / routed, 4),
            "split_rate": round(self.split / routed, 4),
            "to_paused": self.to_paused,
        }


def profile_what_if(
    *, draft: RoutingProfile, last_n: int = 200, merchant_id: int | None = None
) -> dict:
    orders_qs = (
        Order.objects.exclude(status=OrderStatus.CANCELLED)
        .select_related("customer")
        .prefetch_related("lines__product")
        .order_by("-created_at")
    )
    scope_id = merchant_id or draft.merchant_id
    if scope_id:
        orders_qs = orders_qs.filter(merchant_id=scope_id)
    orders = list(orders_qs[:last_n])
    now = timezone.now()
    rows: dict[str, Figures] = {}
    by_merchant: dict[int, list[Order]] = {}
    for order in orders:
        by_merchant.setdefault(order.merchant_id, []).append(order)
    for merchant_id_, merchant_orders in by_merchant.items():
        current = context.active_profile(merchant_id=merchant_id_, now=now)
        engine_orders = []
        for order in merchant_orders:
            window = (
                ((order.promised_at - order.placed_at).total_seconds() / 3600)
                if order.promised_at
                else 48.0
            )
            engine_orders.append(
                (context.engine_order(order, now=order.placed_at), max(window, 0.0))
            )
        skus = {line.sku for eo, _ in engine_orders for line in eo.lines}
        nodes = context.engine_nodes(merchant_id=merchant_id_, skus=skus, now=now)
        signals = context.live_signals(merchant_id=merchant_id_, now=now)
        paused = {node.code for node in nodes if node.status is NodeStatus.PAUSED}
        contexts = {
            f"draft: {draft.name}": RoutingContext(
                nodes=nodes, signals=signals, profile=context.engine_profile(draft), now=now
            ),
            f"in force: {current.name if current else 'built-in'}": RoutingContext(
                nodes=nodes, signals=signals, profile=context.engine_profile(current), now=now
            ),
        }
        for label, ctx in contexts.items():
            figures = rows.setdefault(label, Figures(label))
            for engine_order, window in engine_orders:
                figures.add(route_order(engine_order, ctx).result, window, paused)
        baseline = rows.setdefault("static baseline", Figures("static baseline"))
        any_ctx = next(iter(contexts.values()))
        for engine_order, window in engine_orders:
            baseline.add(route_baseline(engine_order, any_ctx), window, paused)
    return {
        "orders": len(orders),
        "rows": [figures.as_row() for figures in rows.values()],
        "note": "Each order is replayed alone against today's stock and signals; stock is not drawn down.",
    }
