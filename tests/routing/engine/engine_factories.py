"""Small hand-made networks for the engine tests (plain functions, no fixtures files)."""

from __future__ import annotations

import random

from routing.engine.problem import (
    Node,
    NodeKind,
    NodeStatus,
    Order,
    OrderLine,
    RoutingContext,
    StockBatch,
    Temperature,
)

EAST = "East"


def make_node(
    code: str,
    *,
    stock: dict[str, int],
    shipping: float = 8.0,
    transit: float = 12.0,
    cold_chain: bool = False,
    status: NodeStatus = NodeStatus.ACTIVE,
    kind: NodeKind = NodeKind.LOCAL,
    region: str = EAST,
    handling_per_shipment: float = 3.0,
    handling_per_unit: float = 0.5,
    capacity: int | None = None,
    on_time_rate: float = 0.98,
    **extra,
) -> Node:
    return Node(
        code=code,
        name=extra.pop("name", code),
        region=region,
        latitude=extra.pop("latitude", 31.2),
        longitude=extra.pop("longitude", 121.5),
        kind=kind,
        cold_chain=cold_chain,
        status=status,
        stock=tuple(StockBatch(sku, qty) for sku, qty in stock.items()),
        shipping_cost_by_region={EAST: shipping, "North": shipping + 6},
        transit_hours_by_region={EAST: transit, "North": transit + 24},
        handling_cost_per_shipment=handling_per_shipment,
        handling_cost_per_unit=handling_per_unit,
        remaining_capacity_units=capacity,
        daily_capacity_units=None if capacity is None else max(capacity, 1) * 2,
        on_time_rate=on_time_rate,
        **extra,
    )


def make_order(*lines: tuple[str, int], cold: set[str] = frozenset(), **extra) -> Order:
    return Order(
        order_id=extra.pop("order_id", "o1"),
        region=extra.pop("region", EAST),
        latitude=31.3,
        longitude=121.4,
        lines=tuple(
            OrderLine(
                sku,
                qty,
                Temperature.CHILLED if sku in cold else Temperature.AMBIENT,
                unit_value=20.0,
            )
            for sku, qty in lines
        ),
        promised_hours=extra.pop("promised_hours", 48.0),
        **extra,
    )


def random_instance(
    seed: int,
    n_nodes: int = 12,
    n_lines: int = 4,
    stock_choices: tuple[int, ...] = (0, 0, 1, 2, 5, 20),
    capacity_choices: tuple[int | None, ...] = (None, None, 3, 10),
) -> tuple[Order, RoutingContext]:
    """A random order over random nodes: costs, stock and transit vary so splits sometimes pay."""
    rng = random.Random(seed)
    skus = [f"S{i}" for i in range(n_lines)]
    nodes = []
    for k in range(n_nodes):
        stock = {sku: rng.choice(stock_choices) for sku in skus}
        nodes.append(
            make_node(
                f"N{k}",
                stock=stock,
                shipping=rng.uniform(4, 20),
                transit=rng.uniform(6, 60),
                cold_chain=rng.random() < 0.6,
                handling_per_shipment=rng.uniform(1, 6),
                handling_per_unit=rng.uniform(0.2, 2),
                capacity=rng.choice(capacity_choices),
                on_time_rate=rng.uniform(0.9, 0.999),
                latitude=rng.uniform(22, 40),
                longitude=rng.uniform(100, 122),
            )
        )
    lines = [(sku, rng.randint(1, 4)) for sku in skus]
    cold = {sku for sku in skus if rng.random() < 0.25}
    order = make_order(*lines, cold=cold, promised_hours=rng.choice([24.0, 48.0]))
    return order, RoutingContext(nodes=tuple(nodes))
