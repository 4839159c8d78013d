"""All weight on money: is the engine's single-order plan the cheapest feasible one, to the fen?

Run: .venv/bin/python bench/routing_exact.py [--worlds ../shared/bench-data/routing-worlds]
     [--orders-per-world 250] [--seed 7]

Each world's day is replayed order by order with the all-money profile (``route_order`` at the
order's hour: pauses, signals, and the stock and capacity left by earlier orders, parcel caps
counted down), so later orders meet depleted warehouses and need splits. For a random sample
of orders, the engine's money cost is compared with an exhaustive search over warehouse sets
with a min-cost assignment (``tests/routing/engine/cheapest_plan.py``: no engine solver code),
on the same network state. Equal means within half a fen. Not a timed benchmark.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from routing.engine.problem import DemandOutlook, Profile, RoutingContext, Weights
from routing.engine.router import route_order
from routing.engine.scenario import scenario_from_dict
from tests.routing.engine.cheapest_plan import cheapest_plan

# ``routing.engine`` re-exports a function named ``simulate``; the module is what is needed.
replay = importlib.import_module("routing.engine.simulate")

ALL_MONEY = Profile(
    name="all money",
    weights=Weights(**dict.fromkeys(Weights().as_dict(), 0.0) | {"shipping_cost": 1.0}),
)


def _nodes_with_parcels_left(network, hour: float):
    """The replay's nodes with the day's parcel cap counted down by the parcels sent so far."""
    caps = {n.code: n.remaining_capacity_orders for n in network.scenario.nodes}
    return tuple(
        n
        if caps[n.code] is None
        else replace(n, remaining_capacity_orders=caps[n.code] - network.orders_sent[n.code])
        for n in network.nodes_at(hour)
    )


def check_world(path: Path, per_world: int, seed: int) -> dict:
    scenario = scenario_from_dict(json.loads(path.read_text(encoding="utf-8")))
    orders = sorted(scenario.orders, key=lambda o: o.created_hour)
    sample = set(random.Random(seed).sample(range(len(orders)), min(per_world, len(orders))))
    network = replay._Network(scenario)
    out = {"world": scenario.name, "drawn": 0, "equal": 0, "splits": 0, "unroutable": 0}
    mismatches: list[str] = []
    engine_total = reference_total = 0.0
    seen: dict[str, float] = {}
    for index, order in enumerate(orders):
        hour = order.created_hour
        for line in order.lines:
            seen[line.sku] = seen.get(line.sku, 0.0) + line.quantity
        # The day's demand so far, as online routing has it: with all weight on money the
        # scarcity bid price it feeds must be zero, so the plan is still the cheapest.
        outlook = DemandOutlook(
            units_so_far=dict(seen),
            hours_elapsed=hour,
            hours_left=max(0.0, scenario.horizon_hours - hour),
        )
        ctx = RoutingContext(
            nodes=_nodes_with_parcels_left(network, hour),
            signals=replay.signals_at(scenario, hour, network),
            profile=ALL_MONEY,
            outlook=outlook,
        )
        result = route_order(order, ctx).result
        if index in sample:
            out["drawn"] += 1
            reference = cheapest_plan(order, ctx.nodes)
            if reference is None:
                out["unroutable"] += 1
                if result.routed:
                    mismatches.append(f"{order.order_id}: engine routed, reference finds no plan")
                else:
                    out["equal"] += 1
            elif not result.routed:
                mismatches.append(f"{order.order_id}: engine unroutable, reference {reference}")
            else:
                out["splits"] += len(reference.node_codes) > 1
                engine_total += result.cost
                reference_total += reference.cost
                if abs(result.cost - reference.cost) < 0.005:
                    out["equal"] += 1
                else:
                    mismatches.append(
                        f"{order.order_id}: engine {result.cost:.2f} {result.node_codes} "
                        f"({result.method}) vs cheapest {reference.cost:.2f} {reference.node_codes}"
                    )
        network.dispatch(result)
    out["mismatches"] = mismatches
    out["engine_cost"] = round(engine_total, 2)
    out["reference_cost"] = round(reference_total, 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_worlds = Path(__file__).resolve().parents[2] / "shared/bench-data/routing-worlds"
    parser.add_argument("--worlds", type=Path, default=default_worlds)
    parser.add_argument("--orders-per-world", type=int, default=250)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    paths = sorted(args.worlds.glob("*.json"))
    if not paths:
        raise SystemExit(f"no worlds in {args.worlds}")
    print(
        f"{'world':<22} {'drawn':>5} {'equal':>5} {'splits':>6} {'unroutable':>10} {'seconds':>8}"
    )
    drawn = equal = splits = unroutable = 0
    for path in paths:
        started = time.perf_counter()
        report = check_world(path, args.orders_per_world, args.seed)
        drawn += report["drawn"]
        equal += report["equal"]
        splits += report["splits"]
        unroutable += report["unroutable"]
        print(
            f"{report['world']:<22} {report['drawn']:>5} {report['equal']:>5} "
            f"{report['splits']:>6} {report['unroutable']:>10} "
            f"{time.perf_counter() - started:8.1f}",
            flush=True,
        )
        for line in report["mismatches"]:
            print(f"  mismatch {line}")
    print(
        f"total: {equal} of {drawn} equal to the fen ({drawn - equal} mismatches); "
        f"{drawn - unroutable} routable ({splits} need a split), {unroutable} with no plan"
    )


if __name__ == "__main__":
    main()
