"""Batch routing: 5,000 pending orders x 50 nodes in one joint decision, CBC vs HiGHS.

Run: .venv/bin/python bench/routing_batch.py [--orders 5000] [--warehouses 50] [--tight 0.5]

The network is a generated peak day (50 warehouses over four regions, stock and capacity sized
for ``--day-orders`` orders); its first ``--orders`` orders (the midnight peak) are pending at
once - a backlog after an outage, say - and compete for front-warehouse stock. ``--tight`` leaves
only that share of every node's daily capacity (a stress test: 0.5 makes capacity, not just
stock, scarce). Each
master solver (CBC, HiGHS via pulp.HiGHS) routes the same batch; the table shows wall time, the
objective, the Lagrangian lower bound and the proven gap, and the objective of routing the same
orders one by one (greedy in arrival order, the online alternative) for comparison. "audit" is
the number of violations the independent audit (``routing.engine.audit``) finds in the batch's
plans taken together, with the units or parcels over the limit (0 / 0: every plan feasible).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from routing.engine.audit import audit
from routing.engine.batch import BatchOptions, route_batch
from routing.engine.milp import highs_available
from routing.engine.problem import RoutingContext
from routing.engine.router import route_order
from routing.engine.scenario import generate
from routing.engine.simulate import signals_at


def sequential_objective(orders, ctx: RoutingContext) -> tuple[float, float, int]:
    """Route one by one, consuming stock and capacity: the non-joint alternative."""
    from routing.engine.batch import unrouted_penalty
    from routing.engine.simulate import _Network

    started = time.perf_counter()
    network = _Network(_as_scenario(ctx))
    for node in ctx.nodes:  # start from the same remaining capacity as the batch
        network.units_used[node.code] = node.daily_capacity_units - node.remaining_capacity_units
    total, unrouted = 0.0, 0
    for order in orders:
        now = RoutingContext(nodes=network.nodes_at(0.0), signals=ctx.signals, profile=ctx.profile)
        result = route_order(order, now).result
        if result.routed:
            total += result.objective
            network.dispatch(result)
        else:
            total += unrouted_penalty(order)
            unrouted += 1
    return total, time.perf_counter() - started, unrouted


def _as_scenario(ctx: RoutingContext):
    from routing.engine.scenario import Scenario, Sku

    skus = {}
    for node in ctx.nodes:
        for batch in node.stock:
            skus.setdefault(batch.sku, None)
    return Scenario(
        name="batch",
        nodes=ctx.nodes,
        skus=tuple(Sku(s, TEMPERATURES[s], 0.0) for s in skus),
        orders=(),
    )


TEMPERATURES: dict = {}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--warehouses", type=int, default=50)
    parser.add_argument("--day-orders", type=int, default=20000)
    parser.add_argument("--tight", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--no-sequential", action="store_true")
    args = parser.parse_args()

    scenario = generate(seed=args.seed, warehouses=args.warehouses, orders=args.day_orders)
    TEMPERATURES.update({s.sku: s.temperature for s in scenario.skus})
    nodes = tuple(
        replace(n, remaining_capacity_units=int(n.daily_capacity_units * args.tight))
        for n in scenario.nodes
    )
    ctx = RoutingContext(nodes=nodes, signals=signals_at(scenario, 14.0))
    orders = list(scenario.orders)[: args.orders]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"batch of the first {len(orders)} orders of a {args.day_orders}-order day x {len(nodes)} "
        f"nodes, capacity left {args.tight:.0%}, "
        f"seed {args.seed}, {os.cpu_count()} cpus, load average {load:.1f}"
    )
    print(
        f"{'master':<8} {'seconds':>8} {'objective':>10} {'bound':>10} {'gap':>7} "
        f"{'iters':>5} {'columns':>7} {'master':>6} {'contested':>9} {'unrouted':>8} {'audit':>7}"
    )
    solvers = ["cbc"] + (["highs"] if highs_available() else [])
    for solver in solvers:
        fresh = RoutingContext(nodes=ctx.nodes, signals=ctx.signals, profile=ctx.profile)
        batch = route_batch(
            orders,
            fresh,
            BatchOptions(solver=solver, time_limit_seconds=args.time_limit, gap=0.002),
        )
        unrouted = sum(not r.routed for r in batch.results)
        violations = audit(orders, batch.results, ctx)
        found = f"{len(violations)}/{sum(v.excess for v in violations)}"
        verdict = "met" if batch.seconds <= 30 and batch.gap <= 0.01 else "MISSED"
        print(
            f"{solver:<8} {batch.seconds:8.2f} {batch.objective:10.3f} {batch.lower_bound:10.3f} "
            f"{batch.gap:7.3%} {batch.iterations:>5} {batch.columns:>7} {batch.master_orders:>6} "
            f"{batch.contested_resources:>9} {unrouted:>8} {found:>7}   target <= 30 s, gap <= 1 %: {verdict}"
        )
    if not args.no_sequential:
        total, seconds, unrouted = sequential_objective(orders, ctx)
        print(
            f"{'one-by-one':<8} {seconds:8.2f} {total:10.3f} {'':>10} {'':>7} {'':>5} {'':>7} {'':>6} {'':>9} {unrouted:>8}"
        )


if __name__ == "__main__":
    main()
