"""Rules fitted to a merchant's own identities, judged on the independent identity sample.

Through the management commands a user runs: ``import_identities`` the blind observations
into a fresh merchant (resolved with the rules in force), ``export_customers`` and score that
clustering; ``fit_match_rules`` (timed, ``--repeat`` times: median and max), activate the last
draft (the re-resolve runs in-process: Celery eager), ``export_customers`` again and score the
re-resolved clustering pairwise against the answer (``observations.csv`` person ids; the pair
count is checked against ``truth_pairs.csv``). The database is the one ``DATABASE_URL`` names
(SQLite by default), migrated first.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_fit .venv/bin/python bench/fit_match_rules.py
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "bench-data" / "identity-dev"


def pairs(size: int) -> int:
    return size * (size - 1) // 2


def score(assignments: dict[str, str], person_of: dict[str, str]) -> tuple[float, float, int]:
    """Pairwise precision, recall and the number of predicted pairs of a clustering."""
    cells = Counter((assignments[r], person_of[r]) for r in assignments)
    true_positive = sum(pairs(n) for n in cells.values())
    predicted = sum(pairs(n) for n in Counter(assignments.values()).values())
    actual = sum(pairs(n) for n in Counter(person_of[r] for r in assignments).values())
    return true_positive / max(predicted, 1), true_positive / max(actual, 1), predicted


def exported(code: str) -> dict[str, str]:
    from django.core.management import call_command

    with tempfile.NamedTemporaryFile("r", suffix=".csv", encoding="utf-8") as handle:
        call_command("export_customers", handle.name, merchant=code, stderr=io.StringIO())
        return {row["record_id"]: row["customer_id"] for row in csv.DictReader(handle)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--merchant", default="bench-fit")
    parser.add_argument("--repeat", type=int, default=3, help="timed fits (median and max)")
    parser.add_argument("--link-posterior", type=float, default=0.99)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from customers.models import RuleSetVersion
    from customers.services import rule_set_activate
    from oms.models import Merchant

    call_command("migrate", verbosity=0)
    data = Path(args.data)
    person_of = {
        row["record_id"]: row["person_id"]
        for row in csv.DictReader((data / "observations.csv").open(encoding="utf-8"))
    }
    with (data / "truth_pairs.csv").open(encoding="utf-8") as handle:
        truth_pairs = sum(1 for _ in handle) - 1

    Merchant.objects.filter(code=args.merchant).delete()
    Merchant.objects.create(code=args.merchant, name="bench: fitted rules")
    started = time.perf_counter()
    call_command(
        "import_identities",
        str(data / "observations_blind.csv"),
        merchant=args.merchant,
        no_progress=True,
        stdout=io.StringIO(),
    )
    imported_s = time.perf_counter() - started
    before = exported(args.merchant)
    p0, r0, _n = score(before, person_of)

    timings = []
    output = io.StringIO()
    for _ in range(args.repeat):
        output = io.StringIO()
        started = time.perf_counter()
        with redirect_stdout(output):
            call_command(
                "fit_match_rules",
                merchant=args.merchant,
                link_posterior=args.link_posterior,
                stdout=output,
            )
        timings.append(time.perf_counter() - started)
    draft = RuleSetVersion.objects.filter(
        merchant__code=args.merchant, status=RuleSetVersion.Status.DRAFT
    ).latest("pk")
    started = time.perf_counter()
    version = rule_set_activate(version=draft, actor="bench")  # eager: re-resolves at commit
    activated_s = time.perf_counter() - started
    version.refresh_from_db()
    after = exported(args.merchant)
    p1, r1, _n = score(after, person_of)
    actual = sum(pairs(n) for n in Counter(person_of.values()).values())

    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}; database "
        f"{django.db.connection.vendor}\n"
    )
    print(
        f"{len(person_of):,} records, {actual:,} true pairs (truth_pairs.csv: {truth_pairs:,}); "
        f"import {imported_s:.1f} s\n"
    )
    print(output.getvalue().strip() + "\n")
    print(
        f"fit_match_rules wall time over {len(timings)} runs: median {statistics.median(timings):.2f} s, "
        f"max {max(timings):.2f} s; activation + re-resolve {activated_s:.2f} s: "
        f"{version.resolve_report}\n"
    )
    print("| clustering | pairwise precision | pairwise recall |")
    print("|---|---|---|")
    print(f"| imported with the rules in force (defaults) | {p0:.4f} | {r0:.4f} |")
    print(f"| re-resolved with the fitted draft | {p1:.4f} | {r1:.4f} |")


if __name__ == "__main__":
    main()
