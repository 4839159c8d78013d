"""How much of the all-money profile's distance to the day's money optimum is foresight.

Run: .venv/bin/python bench/routing_foresight.py [--worlds DIR] [--only dev-30,...]
     [--generated-orders 10000] [--optimum-seconds 600] [--plans-dir DIR]
     [--out bench/RESULTS-routing-foresight.md]

For every ``*.json`` world in ``--worlds`` (default ../shared/bench-data/routing-worlds) and a
generated day (``--generated-warehouses``, ``--generated-orders``, ``--seed``), three plans
of the same day, all in money (cost over all orders, an unroutable order at a parcel per SKU
by the dearest route):

- **hindsight**: the whole-day money MILP (``simulate.money_optimum``), knowing every order;
- **myopic**: the same MILP solved window by window (``simulate.myopic_optimum``): each
  5-minute window's orders exactly, in arrival order, on the stock and caps the earlier windows
  left, knowing nothing of later orders; the best any router that plans window by window
  without a view of the future can do;
- **online**: the all-money profile replayed online (``simulate.replay_optimizer``), each window
  a ``route_batch``.

hindsight -> myopic is the value of foresight; myopic -> online is the router's own loss within
its windows. Every plan is scored and audited by bench/score_plans.py (no engine code); the
table shows the scorer's figures. The hindsight MILP is slow on large days: with
``--plans-dir`` its plans and bound are kept there (``LABEL.optimum.jsonl`` / ``.json``) and
reused by later runs unless ``--optimum-seconds`` is given again with ``--resolve``.
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
from bench.routing_worlds import money_profile  # noqa: E402
from bench.score_plans import score  # noqa: E402
from routing.engine.optimum import OptimumOptions  # noqa: E402
from routing.engine.scenario import generate, scenario_from_dict, scenario_to_dict  # noqa: E402
from routing.engine.simulate import money_optimum, myopic_optimum, replay_optimizer  # noqa: E402

DEFAULT_WORLDS = ROOT.parent / "shared" / "bench-data" / "routing-worlds"


def _hindsight(label, scenario, document, args) -> dict:
    """The whole-day optimum's scored plan and bound, solved or read from ``--plans-dir``."""
    plans_file = args.plans_dir / f"{label}.optimum.jsonl" if args.plans_dir else None
    meta_file = args.plans_dir / f"{label}.optimum.json" if args.plans_dir else None
    if plans_file and meta_file and plans_file.exists() and meta_file.exists() and not args.resolve:
        plans = [json.loads(line) for line in plans_file.read_text(encoding="utf-8").splitlines()]
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        meta["reused"] = True
    else:
        target = 0.01 if len(scenario.nodes) <= 30 else 0.02
        options = OptimumOptions(time_limit_seconds=args.optimum_seconds, gap=min(0.005, target))
        plans = []
        load = os.getloadavg()[0]
        started = time.perf_counter()
        metrics = money_optimum(scenario, options=options, plans=plans)
        meta = {
            "gap": metrics.gap,
            "lower_bound": metrics.lower_bound,
            "seconds": time.perf_counter() - started,
            "load": f"{load:.1f} -> {os.getloadavg()[0]:.1f}",
            "reused": False,
        }
        if plans_file and meta_file:
            plans_file.write_text(
                "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in plans), encoding="utf-8"
            )
            meta_file.write_text(json.dumps(meta), encoding="utf-8")
    return {"plans": plans, **meta}


def run_world(label: str, scenario, document: dict, args) -> dict:
    rows = []
    keys = ["hindsight", "myopic", "online", *(f"bid-{value:g}" for value in args.bid_value)]
    for key in keys:
        load = os.getloadavg()[0]
        started = time.perf_counter()
        extra: dict = {}
        if key == "hindsight":
            if args.optimum_seconds <= 0 and not (
                args.plans_dir and (args.plans_dir / f"{label}.optimum.json").exists()
            ):
                continue
            found = _hindsight(label, scenario, document, args)
            plans = found.pop("plans")
            extra = found
        elif key == "myopic":
            plans = []
            metrics = myopic_optimum(scenario, plans=plans)
            extra = {"gap": metrics.gap}
        elif key == "online":
            plans = []
            replay_optimizer(scenario, money_profile(), plans=plans)
        else:
            plans = []
            myopic_optimum(scenario, plans=plans, bid_value=float(key.split("-", 1)[1]))
        seconds = extra.pop("seconds", time.perf_counter() - started)
        figures = score(document, plans)
        rows.append(
            {
                "key": key,
                "routed": figures["routed"],
                "cost_total_all": figures["cost_per_order_all"] * figures["orders"],
                "cost_per_order_all": figures["cost_per_order_all"],
                "cost_per_routed": figures["cost_per_order"],
                "violations": figures["violations"],
                "seconds": seconds,
                "load": extra.pop("load", f"{load:.1f} -> {os.getloadavg()[0]:.1f}"),
                **extra,
            }
        )
        print(label, json.dumps(rows[-1]), flush=True)
    return {
        "label": label,
        "warehouses": len(scenario.nodes),
        "orders": len(scenario.orders),
        "rows": rows,
    }


def table_rows(world: dict) -> list[str]:
    row = {r["key"]: r for r in world["rows"]}
    hindsight, myopic, online = row.get("hindsight"), row["myopic"], row["online"]

    def versus(r: dict | None, base: dict | None) -> str:
        if r is None or base is None:
            return "-"
        return f"{r['cost_per_order_all'] / base['cost_per_order_all'] - 1:+.2%}"

    def cell(r: dict | None) -> str:
        if r is None:
            return "-"
        return f"{r['cost_per_order_all']:.3f} ({r['routed']})"

    def gap(r: dict | None) -> str:
        return "-" if r is None or r.get("gap") is None else f"{r['gap']:.2%}"

    share = "-"
    if hindsight is not None:
        total = online["cost_total_all"] - hindsight["cost_total_all"]
        foresight = myopic["cost_total_all"] - hindsight["cost_total_all"]
        share = f"{foresight / total:.0%}" if total > 0 else "-"
    violations = "/".join(str(r["violations"]) for r in (hindsight, myopic, online) if r)
    seconds = "/".join(f"{r['seconds']:.0f}" for r in (hindsight, myopic, online) if r)
    loads = "; ".join(r["load"] for r in (hindsight, myopic, online) if r)
    return [
        f"| {world['label']} ({world['warehouses']} wh, {world['orders']}) | {cell(hindsight)} "
        f"| {gap(hindsight)} | {cell(myopic)} | {cell(online)} | {versus(online, hindsight)} "
        f"| {versus(myopic, hindsight)} | {versus(online, myopic)} | {share} | {violations} "
        f"| {seconds} | {loads} |"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=Path, default=DEFAULT_WORLDS)
    parser.add_argument("--only", default="")
    parser.add_argument("--generated-orders", type=int, default=10000, help="0: skip")
    parser.add_argument("--generated-warehouses", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--optimum-seconds", type=float, default=600.0, help="0: no hindsight unless kept"
    )
    parser.add_argument("--plans-dir", type=Path, default=None)
    parser.add_argument("--resolve", action="store_true", help="solve the hindsight MILP again")
    parser.add_argument(
        "--bid-value",
        type=float,
        action="append",
        default=[],
        help="also the myopic optimum with scarcity bid prices at this CNY value (repeatable)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS-routing-foresight.md")
    args = parser.parse_args()
    if args.plans_dir:
        args.plans_dir.mkdir(parents=True, exist_ok=True)

    worlds = []
    for path in sorted(args.worlds.glob("*.json")):
        worlds.append((path.stem, json.loads(path.read_text(encoding="utf-8"))))
    if args.generated_orders:
        generated = generate(
            seed=args.seed, warehouses=args.generated_warehouses, orders=args.generated_orders
        )
        worlds.append(
            (
                f"generated-{args.generated_warehouses}-s{args.seed}",
                json.loads(json.dumps(scenario_to_dict(generated))),
            )
        )
    only = {name for name in args.only.split(",") if name}
    results = []
    for label, document in worlds:
        if only and label not in only:
            continue
        results.append(run_world(label, scenario_from_dict(document), document, args))

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    out = [
        "# Foresight: the all-money profile, the window-by-window optimum and the day's optimum",
        "",
        f"Command: `python bench/routing_foresight.py {' '.join(sys.argv[1:])}`  ",
        f"Machine: {describe()}; commit {commit}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "Cost per order over all orders (an unroutable order at a parcel per SKU by the dearest "
        "route), routed orders in brackets, by the independent scorer; violations are its audit "
        "(hindsight/myopic/online). Foresight share: (myopic - hindsight) / (online - "
        "hindsight), in CNY over the day. A hindsight plan read from the plans directory was "
        "solved by an earlier run (its seconds and load are that run's).",
        "",
        "| world | hindsight optimum | its proven gap | myopic (window) optimum | all-money online "
        "| online vs hindsight | foresight (myopic vs hindsight) | router's own (online vs "
        "myopic) | foresight share | violations | seconds | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for world in results:
        out.extend(table_rows(world))
    out.append("")
    bids = [(w, r) for w in results for r in w["rows"] if r["key"].startswith("bid-")]
    if bids:
        out += [
            "Myopic optimum with scarcity bid prices (``scarcity.bid_prices`` at the value given, "
            "on the demand seen so far): a window may turn an order away to keep scarce units "
            "for later ones. Against the plain myopic optimum and the hindsight optimum:",
            "",
            "| world | bid value (CNY) | cost/order (routed) | vs myopic | vs hindsight "
            "| violations | seconds |",
            "|---|---|---|---|---|---|---|",
        ]
        for world, r in bids:
            row = {x["key"]: x for x in world["rows"]}
            hindsight = row.get("hindsight")
            versus = (
                f"{r['cost_per_order_all'] / hindsight['cost_per_order_all'] - 1:+.2%}"
                if hindsight
                else "-"
            )
            out.append(
                f"| {world['label']} | {r['key'][4:]} | {r['cost_per_order_all']:.3f} "
                f"({r['routed']}) "
                f"| {r['cost_per_order_all'] / row['myopic']['cost_per_order_all'] - 1:+.2%} "
                f"| {versus} | {r['violations']} | {r['seconds']:.0f} |"
            )
        out.append("")
    args.out.write_text("\n".join(out) + "\n", encoding="utf-8")
    print("\n".join(out))


if __name__ == "__main__":
    main()
