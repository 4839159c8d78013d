"""Benchmark of the routing canvas's what-if: the last 200 orders replayed as a slider moves.

Target (issue 12): the what-if for 200 orders answers in at most 1 s.

Method: a fresh SQLite file (or the PostgreSQL database of ``DATABASE_URL``: give it a new one,
the seeds only fill gaps) is migrated and loaded with the demo exactly as ``make run`` loads it
(4,000+ orders, 90 warehouses, three merchants). A logged-in Operations user then POSTs the
canvas endpoint (``/admin/routing/routingprofile/<id>/canvas/what-if/``) through Django's test
client in-process (URL resolution, middleware, session, CSRF, validation, the replay, JSON),
with other weights each time, as a moving slider sends them:

- ``slider move``: the worlds of the last 200 orders are cached (as between two slider moves):
  the draft's 200 orders are routed again, one by one against the stock of the time;
- ``first load``: the cache emptied before each request: the worlds are rebuilt from the
  database (orders, stock of the time, lanes, signals) and the profile in force and the nearest
  rule replayed too: what the first request of a page, or the first after new orders, costs.

Both for one merchant's profile scope and for a global profile over all merchants. Wall time
per request; median and p99; the ratio of the two medians is what the cache buys.

    .venv/bin/python bench/canvas_whatif.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms_bench_canvas .venv/bin/python bench/canvas_whatif.py
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from io import StringIO
from pathlib import Path

from machine import describe  # bench/ is the script's directory: on sys.path

ROOT = Path(__file__).resolve().parent.parent
SQLITE_FILE = Path("/tmp/oms_bench_canvas.sqlite3")
SEEDS = [
    "seed_demo",
    "seed_routing_demo",
    "seed_channels_demo",
    "seed_groupbuy_demo",
    "seed_services",
]
FACTORS = (
    "stock",
    "status",
    "capacity",
    "carrier_saturation",
    "weather",
    "courier_load",
    "shipping_cost",
    "handling_cost",
    "lateness",
    "splits",
    "distance",
    "certainty",
)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def _weights(rng: random.Random, base: dict[str, int]) -> dict[str, int]:
    """The base weights with one factor moved and the rest rebalanced, as the page does."""
    moved = rng.choice(FACTORS)
    value = rng.randint(0, 80)
    others = [f for f in FACTORS if f != moved]
    rest = sum(base[f] for f in others) or 1
    out = {f: base[f] * (100 - value) // rest for f in others}
    out[moved] = value
    out[others[0]] += 100 - sum(out.values())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30, help="slider moves per scope")
    parser.add_argument("--cold", type=int, default=10, help="first loads per scope")
    parser.add_argument("--orders", type=int, default=200, choices=(50, 100, 200, 500))
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
    from django.db.models import Count
    from django.test import Client
    from django.urls import reverse

    from oms.models import Merchant, Order
    from routing.models import RoutingProfile
    from routing.simulation import clear_cache

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    for seed in SEEDS:
        call_command(seed, stdout=StringIO(), stderr=StringIO())
    seeded = time.perf_counter() - started

    client = Client()
    client.force_login(get_user_model().objects.get(username="ops"))
    default = RoutingProfile.objects.get(is_default=True)
    merchant = Merchant.objects.annotate(n=Count("orders")).order_by("-n", "pk").first()
    scoped, _ = RoutingProfile.objects.get_or_create(
        name="Bench draft (one merchant)",
        defaults={"merchant": merchant, "enabled": False},
    )
    print(
        f"{describe()}\nbackend {connection.vendor}; demo seeded in {seeded:.1f} s; "
        f"{Order.objects.count()} orders; load average {os.getloadavg()[0]:.2f} (1 min)\n"
    )
    rng = random.Random(12)
    base = default.weights_percent()
    rows = []
    for label, profile in (
        (f"merchant {merchant.code} (its profile)", scoped),
        ("all merchants (global profile)", default),
    ):
        url = reverse("admin:routing_routingprofile_what_if", args=[profile.pk])

        def ask(url=url):
            body = {"weights": _weights(rng, base), "orders": args.orders}
            start = time.perf_counter()
            response = client.post(url, data=json.dumps(body), content_type="application/json")
            elapsed = (time.perf_counter() - start) * 1000
            assert response.status_code == 200, response.content[:300]
            return elapsed, response.json()["report"]["orders"]

        cold = []
        for _ in range(args.cold):
            clear_cache()
            cold.append(ask()[0])
        ask()  # warm-up of the cached path
        warm, replayed = [], 0
        for _ in range(args.requests):
            elapsed, replayed = ask()
            warm.append(elapsed)
        rows.append((label, replayed, cold, warm))
    print(f"load average after {os.getloadavg()[0]:.2f} (1 min)\n")
    print(
        "| scope | orders replayed | first load median / p99 ms | slider move median / p99 ms "
        "| first load ÷ slider move |\n|---|---|---|---|---|"
    )
    for label, replayed, cold, warm in rows:
        print(
            f"| {label} | {replayed} | {statistics.median(cold):.0f} / "
            f"{_percentile(cold, 99):.0f} | {statistics.median(warm):.0f} / "
            f"{_percentile(warm, 99):.0f} | {statistics.median(cold) / statistics.median(warm):.1f}x |"
        )


if __name__ == "__main__":
    main()
