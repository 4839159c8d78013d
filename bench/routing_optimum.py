"""The day's money optimum alone: its plan, and how each bound step closes the proven gap.

Run: .venv/bin/python bench/routing_optimum.py [--worlds DIR] [--only dev-30,...]
     [--generated-orders 10000] [--seconds 600] [--out bench/RESULTS-routing-optimum.md]

For every ``*.json`` world in ``--worlds`` (default ../shared/bench-data/routing-worlds) and a
30-warehouse day of the project's generator (seed 7), ``money_optimum`` as bench/routing_worlds.py
runs it (each order routed at the end of its 5-minute window, unrouted orders at the policies'
penalty), with the figures the summary table cannot show: the LP relaxation's bound (the
baseline, computed in the same run), the Lagrangian bound (``optimum._lagrangian``), the whole
MIP's dual bound, and the gap each alone proves against the plan. The plan is scored by the
independent scorer (bench/score_plans.py), whose audit must find 0 violations. The load average is
printed before and after each world: the machine is shared and the solver's time is wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.machine import describe  # noqa: E402
from bench.score_plans import score  # noqa: E402
from routing.engine import optimum  # noqa: E402
from routing.engine.scenario import generate, scenario_from_dict, scenario_to_dict  # noqa: E402
from routing.engine.simulate import money_optimum  # noqa: E402

DEFAULT_WORLDS = ROOT.parent / "shared" / "bench-data" / "routing-worlds"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=Path, default=DEFAULT_WORLDS)
    parser.add_argument("--only", default="")
    parser.add_argument("--generated-orders", type=int, default=10000, help="0: skip")
    parser.add_argument("--generated-warehouses", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--gap", type=float, default=0.005, help="relative gap asked of HiGHS")
    parser.add_argument("--lagrangian-share", type=float, default=0.4)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS-routing-optimum.md")
    args = parser.parse_args()

    worlds = []
    for path in sorted(args.worlds.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        worlds.append((path.stem, document))
    if args.generated_orders:
        generated = generate(
            seed=args.seed, warehouses=args.generated_warehouses, orders=args.generated_orders
        )
        worlds.append(
            (
                f"generated-{args.generated_warehouses}",
                json.loads(json.dumps(scenario_to_dict(generated))),
            )
        )
    only = {name for name in args.only.split(",") if name}
    rows = []
    captured: list[optimum.DayOptimum] = []
    for label, document in worlds:
        if only and label not in only:
            continue
        scenario = scenario_from_dict(document)
        target = 0.01 if len(scenario.nodes) <= 30 else 0.02
        options = optimum.OptimumOptions(
            time_limit_seconds=args.seconds,
            gap=min(args.gap, target),
            lagrangian_share=args.lagrangian_share,
        )
        load_before = os.getloadavg()[0]
        plans: list[dict] = []
        started = time.perf_counter()
        metrics = money_optimum(scenario, options=options, plans=plans, solved=captured)
        seconds = time.perf_counter() - started
        day = captured[-1]
        figures = score(document, plans)
        # The bounds are on the solver's objective; the orders outside the model add the same
        # amount to plan and bound, so the gaps are taken on the solver's figures.

        def gap(bound: float | None, objective: float = day.objective) -> str:
            if bound is None:
                return "-"
            return f"{(objective - bound) / objective:.3%}"

        row = {
            "world": label,
            "warehouses": len(scenario.nodes),
            "orders": len(scenario.orders),
            "columns": day.columns,
            "objective": day.objective,
            "lp": day.lp_bound,
            "lagrangian": day.lagrangian_bound,
            "mip": day.mip_bound,
            "bound": day.lower_bound,
            "gap": day.gap,
            "gap_lp": gap(day.lp_bound),
            "gap_lagrangian": gap(day.lagrangian_bound),
            "gap_mip": gap(day.mip_bound),
            "target": target,
            "status": day.status,
            "seconds": seconds,
            "cost_per_order_all": figures["cost_per_order_all"],
            "routed": figures["routed"],
            "violations": figures["violations"],
            "load": f"{load_before:.1f} -> {os.getloadavg()[0]:.1f}",
        }
        assert abs(figures["cost_total"] - metrics.cost_total) <= 0.01 + 1e-9 * metrics.cost_total
        rows.append(row)
        print(json.dumps(row), flush=True)

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    out = [
        "# The day's money optimum (`bench/routing_optimum.py`)",
        "",
        f"Command: `python bench/routing_optimum.py {' '.join(sys.argv[1:])}`  ",
        f"Machine: {describe()}; commit {commit}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "Objective = money of the routed orders + the penalty of the unrouted ones (the figure "
        "the policies are compared on), over the orders in the model. Each bound column is the "
        "gap that bound alone proves against the plan; LP is the baseline (the bound before "
        "the Lagrangian step), measured in the same run.",
        "",
        "| world | columns | objective | cost/order (all) | routed | audit violations "
        "| gap, LP bound | gap, Lagrangian | gap, whole MIP | proven gap (target) | seconds "
        "| load before -> after |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r['world']} ({r['warehouses']} wh, {r['orders']} orders) | {r['columns']:,} "
            f"| {r['objective']:.2f} | {r['cost_per_order_all']:.3f} | {r['routed']} "
            f"| {r['violations']} | {r['gap_lp']} | {r['gap_lagrangian']} | {r['gap_mip']} "
            f"| **{r['gap']:.3%}** ({r['target']:.0%}) | {r['seconds']:.0f} | {r['load']} |"
        )
    out.append("")
    args.out.write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
