"""Carrier choice on simulated days: warehouse x carrier service against warehouse-only routing.

Run: .venv/bin/python bench/routing_carriers.py [--seeds 7 11 23] [--warehouses 30] [--orders 4000]

Each day is ``make_scenario``'s generator with carrier services (``routing.engine.carrier_world``:
five carriers with zone rate cards per warehouse, provinces, parcel weights, an orange storm over
the two busiest provinces 13:00-19:00). On the same day and the same luck (the replay's on-time
draw is per order and warehouse) it replays online, in 5-minute windows, with the default
profile plus the rule "weather >= orange: down-weight cold-chain carriers 50 %":

  carriers     routing over warehouse x carrier service (the engine chooses both)
  wh-only      warehouse-only routing: each warehouse ships with its default service only,
               with that service's daily cap (the same world and caps carrier routing has)
  wh-only+     the same with the default service's cap lifted (it takes the warehouse's whole
               volume: more parcel slots than the world has, so only prices and times differ)
  no rule      carrier choice without the storm rule (for the rule's effect)

and reports cost per order and on-time over all orders, unroutable orders, and, in the storm's
provinces while the storm lasts, ambient parcels (no chilled or frozen line) on cold-chain
services with and without the rule. Targets (issue 14): carriers cheaper than wh-only and at least
as punctual (reported against wh-only+ too); ambient parcels on cold chain in the storm's
provinces down >= 50 % with the rule.
The generator's seeds are varied and nothing here is tuned to them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from routing.engine.carrier_world import (
    default_carrier_only,
    order_lookup,
    storm_provinces,
    with_carriers,
)
from routing.engine.problem import Profile, Rule, RuleCondition, RuleEffect
from routing.engine.scenario import Scenario, generate
from routing.engine.simulate import PolicyMetrics, replay_optimizer

STORM_RULE = Rule(
    "storm: cold-chain carriers -50 %",
    RuleCondition.WEATHER_AT_LEAST,
    RuleEffect.DOWN_WEIGHT,
    threshold=3,
    amount=0.5,
    service_level="cold_chain",
)
WITH_RULE = Profile(name="default+storm rule", rules=(STORM_RULE,))
NO_RULE = Profile(name="default")


def storm_ambient_on_cold_chain(scenario: Scenario, plans: list[dict[str, Any]]) -> tuple[int, int]:
    """(ambient parcels on cold-chain services, ambient parcels) to or from a storm province
    while its alert is on."""
    stormy = set(storm_provinces(scenario))
    alerts = [
        d
        for d in scenario.disruptions
        if d.kind == "weather" and d.region in stormy and d.level >= 3
    ]
    cold = {sku.sku for sku in scenario.skus if sku.temperature.needs_cold_chain}
    orders = order_lookup(scenario)
    nodes = {node.code: node for node in scenario.nodes}
    on_cold = ambient = 0
    for record in plans:
        order = orders[record["order_id"]]
        for shipment in record.get("shipments", []):
            node = nodes[shipment["warehouse"]]
            if not any(
                d.active_at(record["hour"]) and d.region in (order.province, node.province)
                for d in alerts
            ):
                continue
            if any(line["sku"] in cold for line in shipment["lines"]):
                continue
            ambient += 1
            service = node.service_by_code[shipment["carrier_service"]]
            on_cold += service.level.value == "cold_chain"
    return on_cold, ambient


def run_day(seed: int, warehouses: int, orders: int) -> dict[str, Any]:
    day = with_carriers(generate(seed=seed, warehouses=warehouses, orders=orders))
    results: dict[str, PolicyMetrics] = {}
    plans: dict[str, list[dict[str, Any]]] = {}
    for name, scenario, profile in (
        ("carriers", day, WITH_RULE),
        ("wh-only", default_carrier_only(day), WITH_RULE),
        ("wh-only+", default_carrier_only(day, lift_cap=True), WITH_RULE),
        ("no rule", day, NO_RULE),
    ):
        plans[name] = []
        results[name] = replay_optimizer(scenario, profile, plans=plans[name])
    with_rule = storm_ambient_on_cold_chain(day, plans["carriers"])
    without = storm_ambient_on_cold_chain(day, plans["no rule"])
    return {
        "seed": seed,
        "storm": storm_provinces(day),
        "metrics": results,
        "storm_with_rule": with_rule,
        "storm_without_rule": without,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 11, 23])
    parser.add_argument("--warehouses", type=int, default=30)
    parser.add_argument("--orders", type=int, default=4000)
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"carrier days: {args.warehouses} warehouses x 5 carrier services, {args.orders} orders, "
        f"seeds {args.seeds}; {os.cpu_count()} cpus, load average {load:.1f}"
    )
    header = (
        f"{'seed':>5} {'policy':<9} {'cost/order':>10} {'on-time':>8} {'unroutable':>10} "
        f"{'wall s':>7}"
    )
    verdicts = []
    for seed in args.seeds:
        started = time.perf_counter()
        day = run_day(seed, args.warehouses, args.orders)
        print(f"\nseed {seed}: storm over {', '.join(day['storm'])}")
        print(header)
        for name, m in day["metrics"].items():
            print(
                f"{seed:>5} {name:<9} {m.cost_per_order_all:10.3f} {m.on_time_all:8.2%} "
                f"{m.unroutable:>10} {m.seconds:7.1f}"
            )
        carriers = day["metrics"]["carriers"]
        for name in ("wh-only+", "wh-only"):  # the verdict is against wh-only (same caps)
            wh_only = day["metrics"][name]
            cheaper = carriers.cost_per_order_all < wh_only.cost_per_order_all
            punctual = carriers.on_time_all >= wh_only.on_time_all
            change = carriers.cost_per_order_all / wh_only.cost_per_order_all - 1
            print(
                f"carriers vs {name}: {change:+.1%} cost "
                f"({'cheaper' if cheaper else 'NOT cheaper'}), "
                f"{(carriers.on_time_all - wh_only.on_time_all) * 100:+.2f} points on time "
                f"({'at least as punctual' if punctual else 'LESS punctual'})"
            )
        on_cold, ambient = day["storm_with_rule"]
        base_cold, base_ambient = day["storm_without_rule"]
        fall = 1 - on_cold / base_cold if base_cold else float("nan")
        print(
            f"storm provinces during the storm: ambient parcels on cold chain {on_cold} of "
            f"{ambient} with the rule, {base_cold} of {base_ambient} without: "
            f"{fall:.0%} fewer ({'met' if fall >= 0.5 else 'MISSED'} >= 50 %)"
        )
        print(f"(seed {seed} took {time.perf_counter() - started:.0f} s)")
        verdicts.append(cheaper and punctual and fall >= 0.5)
    print(
        "\nall targets met on every seed"
        if all(verdicts)
        else f"\ntargets MISSED on {verdicts.count(False)} of {len(verdicts)} seeds"
    )


if __name__ == "__main__":
    main()
