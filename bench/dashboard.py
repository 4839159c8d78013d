"""Benchmark of the staff dashboards on the demo data: ``/ops/dashboard/`` and ``/ops/sla/``.

Target (issue 12): the operations dashboard answers in at most 300 ms on the demo data.

Method: a fresh SQLite file (or the PostgreSQL database of ``DATABASE_URL``: give it a new one, the seeds only fill gaps)
is migrated and loaded with the demo, exactly as ``make run`` loads it (``seed_demo``,
``seed_routing_demo``, ``seed_channels_demo``, ``seed_groupbuy_demo``, ``seed_services``: 4,000+
orders over 60 days, a month of decisions, steps and SLA history). A logged-in Operations user
then asks for each page ``--requests`` times through Django's test client in-process (URL
resolution, middleware, session and auth, selectors, queries, template rendering; no network,
no browser). Wall time per request; median and p99 are reported.

    .venv/bin/python bench/dashboard.py                    # SQLite file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms_bench_dash .venv/bin/python bench/dashboard.py
"""

import argparse
import os
import statistics
import sys
import time
from io import StringIO
from pathlib import Path

from machine import describe  # bench/ is the script's directory: on sys.path

ROOT = Path(__file__).resolve().parent.parent
SQLITE_FILE = Path("/tmp/oms_bench_dashboard.sqlite3")
SEEDS = [
    "seed_demo",
    "seed_routing_demo",
    "seed_channels_demo",
    "seed_groupbuy_demo",
    "seed_services",
]
PAGES = ["/ops/dashboard/", "/ops/dashboard/?days=90", "/ops/sla/"]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        SQLITE_FILE.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{SQLITE_FILE}"
    os.environ.pop("REDIS_URL", None)  # Celery eager, as under make run
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    for seed in SEEDS:
        call_command(seed, stdout=StringIO(), stderr=StringIO())
    seeded = time.perf_counter() - started
    from oms.models import Order

    client = Client()
    client.force_login(get_user_model().objects.get(username="ops"))
    print(
        f"{describe()}\nbackend {connection.vendor}; demo seeded in {seeded:.1f} s; "
        f"{Order.objects.count()} orders\n"
    )
    print("| page | requests | median ms | p99 ms |\n|---|---|---|---|")
    for page in PAGES:
        for _ in range(3):  # warm-up: templates, translations, first connection
            assert client.get(page).status_code == 200
        times = []
        for _ in range(args.requests):
            start = time.perf_counter()
            response = client.get(page)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
        print(
            f"| `{page}` | {args.requests} | {statistics.median(times):.1f} | "
            f"{_percentile(times, 99):.1f} |"
        )


if __name__ == "__main__":
    main()
