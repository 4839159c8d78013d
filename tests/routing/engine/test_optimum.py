"""The whole-day money MILP against brute force over every plan of every order, on tiny days."""

from __future__ import annotations

import itertools
import random

import pytest

from routing.engine.optimum import UNROUTED_PENALTY, OptimumOptions, solve_day
from routing.engine.problem import Node, Order, OrderLine, StockBatch, Temperature
from routing.engine.scenario import Disruption

REGIONS = ("East", "North")
MIN_DAYS = {Temperature.AMBIENT: 30.0, Temperature.CHILLED: 2.0, Temperature.FROZEN: 14.0}


def tiny_day(seed: int) -> tuple[tuple[Node, ...], tuple[Order, ...], dict, tuple[Disruption]]:
    rng = random.Random(seed)
    skus = {"A": Temperature.AMBIENT, "B": Temperature.AMBIENT, "C": Temperature.CHILLED}
    nodes = []
    for k in range(3):
        regions = [r for r in REGIONS if rng.random() < 0.85] or ["East"]
        stock = []
        for sku in skus:
            for _ in range(rng.randint(0, 2)):
                expiry = rng.choice([None, 1.0, 60.0, 400.0])
                stock.append(StockBatch(sku, rng.randint(1, 3), expiry))
        nodes.append(
            Node(
                code=f"N{k}",
                region="East",
                latitude=31.0,
                longitude=121.0,
                cold_chain=rng.random() < 0.5,
                daily_capacity_units=rng.choice([None, 3, 5]),
                remaining_capacity_orders=rng.choice([None, 2, 3]),
                stock=tuple(stock),
                shipping_cost_by_region={r: round(rng.uniform(3, 20), 2) for r in regions},
                transit_hours_by_region={r: 12.0 for r in regions},
                handling_cost_per_shipment=round(rng.uniform(1, 6), 2),
                handling_cost_per_unit=round(rng.uniform(0.2, 2), 2),
            )
        )
    orders = []
    for o in range(3):
        chosen = rng.sample(sorted(skus), rng.randint(1, 2))
        orders.append(
            Order(
                order_id=f"o{o}",
                region=rng.choice(REGIONS),
                latitude=31.0,
                longitude=121.0,
                lines=tuple(OrderLine(s, rng.randint(1, 2), skus[s]) for s in chosen),
            )
        )
    hour_of = {order.order_id: float(o) for o, order in enumerate(orders)}
    pause = (Disruption("node_paused", start_hour=1.0, node=f"N{rng.randrange(3)}"),)
    return tuple(nodes), tuple(orders), hour_of, pause


def order_plans(order: Order, nodes, hour: float, pause) -> list[dict]:
    """Every way to ship ``order``: per line, every split of its units over the usable nodes."""
    paused = {d.node for d in pause if d.active_at(hour)}
    per_line = []
    for line in order.lines:
        holders = [
            k
            for k, node in enumerate(nodes)
            if node.serves(order.region)
            and node.code not in paused
            and (node.cold_chain or not line.temperature.needs_cold_chain)
        ]
        splits = [
            dict(zip(holders, amounts, strict=True))
            for amounts in itertools.product(range(line.quantity + 1), repeat=len(holders))
            if sum(amounts) == line.quantity
        ]
        per_line.append([(line, split) for split in splits])
    return [dict(enumerate(choice)) for choice in itertools.product(*per_line)]


def usable(node: Node, sku: str, temperature: Temperature) -> int:
    return sum(
        b.quantity
        for b in node.stock
        if b.sku == sku
        and (b.expires_in_days is None or b.expires_in_days >= MIN_DAYS[temperature])
    )


def brute_force(nodes, orders, hour_of, pause) -> float:
    options = [
        [None, *order_plans(order, nodes, hour_of[order.order_id], pause)] for order in orders
    ]
    best = float("inf")
    for combination in itertools.product(*options):
        drawn: dict[tuple[int, str], int] = {}
        units = [0] * len(nodes)
        parcels = [0] * len(nodes)
        total = 0.0
        for order, plan in zip(orders, combination, strict=True):
            if plan is None:
                total += UNROUTED_PENALTY
                continue
            shipped: dict[int, int] = {}
            for line, split in plan.values():
                for k, qty in split.items():
                    if qty:
                        drawn[(k, line.sku)] = drawn.get((k, line.sku), 0) + qty
                        shipped[k] = shipped.get(k, 0) + qty
            for k, qty in shipped.items():
                units[k] += qty
                parcels[k] += 1
                total += nodes[k].shipment_cost(order.region, qty)
        feasible = all(
            qty
            <= usable(
                nodes[k],
                sku,
                next(li.temperature for o in orders for li in o.lines if li.sku == sku),
            )
            for (k, sku), qty in drawn.items()
        ) and all(
            (node.daily_capacity_units is None or units[k] <= node.daily_capacity_units)
            and (
                node.remaining_capacity_orders is None
                or parcels[k] <= node.remaining_capacity_orders
            )
            for k, node in enumerate(nodes)
        )
        if feasible:
            best = min(best, total)
    return best


@pytest.mark.parametrize("direct_columns", [60_000, 0], ids=["mip", "lp-first"])
@pytest.mark.parametrize("seed", range(12))
def test_the_day_optimum_matches_brute_force_on_tiny_days(seed: int, direct_columns: int) -> None:
    nodes, orders, hour_of, pause = tiny_day(seed)
    day = solve_day(
        nodes,
        orders,
        hour_of=hour_of,
        disruptions=pause,
        options=OptimumOptions(gap=1e-9, time_limit_seconds=120, direct_columns=direct_columns),
    )
    unrouted = sum(not r.routed for r in day.results)
    assert day.cost + UNROUTED_PENALTY * unrouted == pytest.approx(
        brute_force(nodes, orders, hour_of, pause), abs=1e-6
    )
    assert day.gap <= 1e-6
    paused = {d.node for d in pause}
    for order, result in zip(orders, day.results, strict=True):
        if hour_of[order.order_id] >= 1.0:
            assert not set(result.node_codes) & paused
