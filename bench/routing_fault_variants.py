"""Routed orders under other warehouse faults: the default profile against the nearest rule.

Run: .venv/bin/python bench/routing_fault_variants.py [--world ../shared/bench-data/routing-worlds/dev-8.json]
     [--variants 8] [--scarcity-price 300 [--scarcity-price 0 ...]]

Which warehouse fails, and when, decides how much stock is stranded for the rest of a day, and
so how many orders any online policy can route; no router knows it in advance. This keeps a
world's network and orders and replaces its faults ("node_paused" disruptions) with random ones
(seeded: one fault, sometimes two, at 03:00-18:00, 40 % of them ending 2-6 h later), then
replays the default profile at each given scarcity price (``Prices.scarcity``; 0 turns the bid
price off) and the nearest rule, aware and blind of pauses. Weather and carrier caps stay.
Variant 0 is the world as it is. This is how the default scarcity price was chosen; it is a
decision-quality check, not a timed benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from routing.engine.problem import Prices, Profile  # noqa: E402
from routing.engine.scenario import scenario_from_dict  # noqa: E402
from routing.engine.simulate import replay_nearest, replay_optimizer  # noqa: E402

DEFAULT_WORLD = ROOT.parent / "shared" / "bench-data" / "routing-worlds" / "dev-8.json"


def with_random_faults(document: dict, seed: int) -> dict:
    """``document`` with its warehouse faults replaced by a seeded random draw (0: unchanged)."""
    if seed == 0:
        return document
    rng = random.Random(seed)
    out = dict(document)
    disruptions = [d for d in document["disruptions"] if d["kind"] != "node_paused"]
    for _ in range(rng.choice([1, 1, 2])):
        node = rng.choice(document["warehouses"])["code"]
        start = round(rng.uniform(3, 18), 2)
        end = None if rng.random() < 0.6 else round(start + rng.uniform(2, 6), 2)
        disruptions.append(
            {"kind": "node_paused", "start_hour": start, "end_hour": end, "node": node}
        )
    out["disruptions"] = disruptions
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path, default=DEFAULT_WORLD)
    parser.add_argument("--variants", type=int, default=8)
    parser.add_argument("--scarcity-price", type=float, action="append", default=None)
    args = parser.parse_args()
    prices = args.scarcity_price or [Prices().scarcity, 0.0]
    document = json.loads(args.world.read_text(encoding="utf-8"))
    print(f"{args.world.name}: load average {os.getloadavg()[0]:.1f}")
    header = "variant | faults | aware routed | blind cost/order, on-time | " + " | ".join(
        f"default @¥{p:g}: routed (vs aware), cost/order, on-time" for p in prices
    )
    print(header)
    totals = dict.fromkeys(prices, 0)
    misses = dict.fromkeys(prices, 0)
    for seed in range(args.variants + 1):
        scenario = scenario_from_dict(with_random_faults(document, seed))
        aware = replay_nearest(scenario, honour_pause=True)
        blind = replay_nearest(scenario)
        cells = []
        for price in prices:
            profile = Profile(name="default", prices=replace(Prices(), scarcity=price))
            default = replay_optimizer(scenario, profile)
            diff = default.routed - aware.routed
            totals[price] += diff
            misses[price] += diff < 0
            cells.append(
                f"{default.routed} ({diff:+d}), {default.cost_per_order_all:.3f}, "
                f"{default.on_time_all:.2%}"
            )
        faults = ", ".join(
            f"{d.node}@{d.start_hour:g}-{'' if d.end_hour is None else f'{d.end_hour:g}'}"
            for d in scenario.disruptions
            if d.kind == "node_paused"
        )
        print(
            f"{seed} | {faults} | {aware.routed} | {blind.cost_per_order_all:.3f}, "
            f"{blind.on_time_all:.2%} | " + " | ".join(cells),
            flush=True,
        )
    for price in prices:
        print(
            f"default @¥{price:g}: routed {totals[price]:+d} vs aware nearest in all, "
            f"fewer on {misses[price]} of {args.variants + 1} days"
        )


if __name__ == "__main__":
    main()
