"""OR-Library GAP instances through the batch master MILP: CBC vs HiGHS against known optima.

Run: .venv/bin/python bench/routing_gap.py [--time-limit 30] [--set quick|full]

Each GAP problem (agents = warehouses, jobs = orders, a cost and a capacity use per pair) is
solved with ``routing.engine.batch.solve_assignment`` - the same PuLP master model the batch
router uses - once with CBC and once with HiGHS (pulp.HiGHS, in-process). Every solution is
re-checked (each job assigned once, capacities kept, objective recomputed) and compared with the
known optimum from ../shared/bench-data/gap/optima.csv.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from routing.engine.batch import solve_assignment
from routing.engine.milp import highs_available

DATA = Path(__file__).resolve().parents[2] / "shared" / "bench-data" / "gap"
if not DATA.exists():
    DATA = Path("/work/shared/bench-data/gap")

QUICK = [("gap1", k, "min") for k in range(1, 6)] + [
    ("gap1", 1, "max"),
    ("gap12", 1, "min"),
    ("gap12", 2, "min"),
    ("gapa", 1, "min"),
    ("gapb", 1, "min"),
    ("gapc", 1, "min"),
    ("gapb", 3, "min"),
]
FULL = [*QUICK, ("gapc", 3, "min"), ("gapd", 1, "min")]


def read_problems(name: str) -> list[tuple[list[list[int]], list[list[int]], list[int]]]:
    numbers = iter(int(x) for x in (DATA / f"{name}.txt").read_text().split())
    problems = []
    for _ in range(next(numbers)):
        m, n = next(numbers), next(numbers)
        cost = [[next(numbers) for _ in range(n)] for _ in range(m)]
        use = [[next(numbers) for _ in range(n)] for _ in range(m)]
        cap = [next(numbers) for _ in range(m)]
        problems.append((cost, use, cap))
    return problems


def read_optima() -> dict[tuple[str, int, str], tuple[float, str]]:
    """(file, index, sense) -> (value, status) from optima.csv."""
    with (DATA / "optima.csv").open() as handle:
        return {
            (row["file"], int(row["index"]), row["sense"]): (float(row["value"]), row["status"])
            for row in csv.DictReader(handle)
        }


def check(cost, use, cap, assignment) -> float | None:
    if any(a < 0 for a in assignment):
        return None
    load = [0] * len(cap)
    for j, i in enumerate(assignment):
        load[i] += use[i][j]
    if any(load[i] > cap[i] for i in range(len(cap))):
        return None
    return float(sum(cost[i][j] for j, i in enumerate(assignment)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--set", choices=["quick", "full"], default="quick")
    args = parser.parse_args()
    optima = read_optima()
    solvers = ["cbc"] + (["highs"] if highs_available() else [])
    print(
        f"GAP via the batch master MILP, time limit {args.time_limit:.0f} s, {os.cpu_count()} cpus"
    )
    header = f"{'instance':<10} {'m x n':>7} {'sense':>5} {'optimum':>8}"
    for s in solvers:
        header += f" | {s + ' obj':>10} {s + ' s':>8} {'status':>7}"
    print(header)
    totals = {s: 0.0 for s in solvers}
    hits = {s: 0 for s in solvers}
    instances = QUICK if args.set == "quick" else FULL
    for name, index, sense in instances:
        cost, use, cap = read_problems(name)[index - 1]
        optimum, _ = optima.get((name, index, sense), (None, ""))
        signed = cost if sense == "min" else [[-c for c in row] for row in cost]
        line = f"{name}#{index:<4} {len(cap):>3}x{len(cost[0]):<3} {sense:>5} {optimum if optimum is not None else '?':>8}"
        for s in solvers:
            outcome = solve_assignment(
                signed, use, cap, solver=s, time_limit_seconds=args.time_limit
            )
            value = check(cost, use, cap, outcome.assignment)
            status = "opt" if outcome.optimal else "feas" if value is not None else "none"
            totals[s] += outcome.seconds
            if value is not None and optimum is not None and abs(value - optimum) < 0.5:
                hits[s] += 1
            shown = "-" if value is None else f"{value:.0f}"
            if value is not None and optimum is not None and abs(value - optimum) >= 0.5:
                shown += f" ({(value - optimum) / optimum:+.2%})"
            line += f" | {shown:>10} {outcome.seconds:8.2f} {status:>7}"
        print(line)
    for s in solvers:
        print(
            f"{s}: {hits[s]}/{len(instances)} equal to the known optimum, total {totals[s]:.1f} s"
        )


if __name__ == "__main__":
    main()
