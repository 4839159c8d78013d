"""Run every benchmark in turn (``make bench``) and print where its figures are.

Each benchmark is its own script with its own flags (``--help``); this runner calls them with
the arguments their targets name and stops at the first that fails. ``--only NAME`` runs a
subset; ``--list`` shows them. Figures are recorded in BENCHMARKS.md with the command used.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BENCHMARKS = {
    "routing_single": [PY, "bench/routing_single.py", "--carriers"],
    "routing_carriers": [PY, "bench/routing_carriers.py"],
    "routing_carrier_preference": [PY, "bench/routing_carrier_preference.py"],
    "routing_batch": [PY, "bench/routing_batch.py"],
    "routing_simulate": [
        PY,
        "bench/routing_simulate.py",
        "--orders",
        "10000",
        "--warehouses",
        "30",
    ],
    "routing_gap": [PY, "bench/routing_gap.py", "--set", "quick"],
    "routing_optimum": [
        PY,
        "bench/routing_optimum.py",
        "--only",
        "dev-8",
        "--generated-orders",
        "0",
    ],
    "matching_quality": [PY, "bench/matching_quality.py", "--count", "20000"],
    "fit_match_rules": [PY, "bench/fit_match_rules.py"],
    "api_orders": [PY, "bench/api_orders.py", "--seconds", "15", "--clients", "32"],
    "customers_db": [
        PY,
        "bench/customers_db.py",
        *("--db", "bench_customers", "--reuse-db", "--import", "--no-sqlite"),
        *("--probes", "1000", "--warmup", "100", "--committed", "100"),
    ],
    "promise_api": [PY, "bench/promise_api.py", "--requests", "1000"],
    "promise_kept": [PY, "bench/promise_kept.py", "--orders", "3000", "--warehouses", "50"],
    "promise_api_carriers": [PY, "bench/promise_api.py", "--requests", "1000", "--carriers"],
    "promise_kept_holds": [
        PY,
        "bench/promise_kept.py",
        "--world",
        "../shared/bench-data/routing-worlds/dev-30.json",
        "--buyers",
        "mixed",
        "--hold-minutes",
        "15",
    ],
    "status_page": [PY, "bench/status_page.py", "--backend", "both", "--requests", "300"],
    "dashboard": [PY, "bench/dashboard.py", "--requests", "30"],
    "canvas_whatif": [PY, "bench/canvas_whatif.py", "--requests", "30", "--cold", "10"],
    "console_lists": [PY, "bench/console_lists.py", "--requests", "30"],
    "customer360": [PY, "bench/customer360.py", "--backend", "both", "--requests", "100"],
    "groupbuy": [PY, "bench/groupbuy.py", "--backend", "both", "--reps", "20", "--core-reps", "50"],
    "outages": [PY, "bench/outages.py", "--scenario", "both", "--rate", "2", "--seconds", "60"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHMARKS))
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    if args.list:
        for name, command in BENCHMARKS.items():
            print(f"{name:<18} {' '.join(command[1:])}")
        return 0
    summary = []
    for name in args.only or BENCHMARKS:
        command = BENCHMARKS[name]
        if not (ROOT / command[1]).exists():
            summary.append((name, "missing", 0.0))
            continue
        print(f"\n=== {name}: {' '.join(command[1:])}", flush=True)
        started = time.perf_counter()
        code = subprocess.call(command, cwd=ROOT)
        summary.append((name, "ok" if code == 0 else f"exit {code}", time.perf_counter() - started))
        if code:
            break
    print("\nbenchmark            result    seconds")
    for name, result, seconds in summary:
        print(f"{name:<20} {result:<9} {seconds:8.1f}")
    return 0 if all(result in ("ok", "missing") for _n, result, _s in summary) else 1


if __name__ == "__main__":
    raise SystemExit(main())
