"""Benchmark of the customer 360 admin page: a customer with 1,000 orders, logged-in staff.

Target: the customer's change page (lifetime value, the latest orders across channels, the
newest identities with their reasons in words) answers in at most 300 ms, median and p99,
with a number of queries that does not grow with the customer's orders.

Method: a fresh database per backend (SQLite file; PostgreSQL database ``--pg-db`` dropped and
recreated), migrated. One merchant with three channels; the measured customer has ``--orders``
orders spread over the channels (one in twenty cancelled) and one identity per order carrying
the matcher's reasons, two customers merged into it; around it ``--others`` other customers
with ``--others-orders`` orders each, so the indexes have something to skip. Rows are written
with ``bulk_create`` (the page reads orders and identities, not how they were made). Server
time is the wall time of Django's test client ``get`` in-process, logged in as an Operations
staff user: URL resolution, middleware, session and permission checks, queries, templates; no
network. The channel repeat-rate report of the merchant is timed too (``--report-requests``).
Each backend runs in its own process and the parent prints the table; the Python CPU time of
the request (``time.process_time``, the database server's own CPU not included) is given beside
the wall time, which on a shared machine includes waiting for a core.

    .venv/bin/python bench/customer360.py                       # SQLite and, if reachable, PostgreSQL
    .venv/bin/python bench/customer360.py --backend postgres --pg-db wt_c360 --requests 100
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from machine import describe  # bench/ is the script's directory: on sys.path

ROOT = Path(__file__).resolve().parent.parent
SQLITE_FILE = Path("/tmp/oms_bench_customer360.sqlite3")
REASONS = [
    "exact key phone + name",
    "same phone 138****8001",
    "same receiver name 林**",
    "address same building, same room",
]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def _populate(orders: int, others: int, others_orders: int):
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from customers.models import Customer, Identity
    from oms.models import ChannelKind, Merchant, Order, OrderStatus, SalesChannel

    merchant = Merchant.objects.create(code="bench-c360", name="Bench 360")
    channels = [
        SalesChannel.objects.create(merchant=merchant, code=kind, name=label, kind=kind)
        for kind, label in (
            (ChannelKind.DOUYIN, "抖音旗舰店"),
            (ChannelKind.WECHAT_MINI, "微信小程序商城"),
            (ChannelKind.TMALL, "天猫旗舰店"),
        )
    ]
    customer = Customer.objects.create(merchant=merchant, display_name="林小雨")
    for _ in range(2):
        Customer.objects.create(merchant=merchant, display_name="林小雨", merged_into=customer)
    now = timezone.now()

    def order(owner, channel, number, minutes, cancelled=False):
        return Order(
            merchant=merchant,
            channel=channel,
            customer=owner,
            external_id=f"B-{owner.pk}-{number}",
            status=OrderStatus.CANCELLED if cancelled else OrderStatus.DELIVERED,
            receiver_name="林小雨",
            receiver_phone="13800138001",
            province="上海",
            city="上海",
            address_line="世纪大道100号3号楼1201室",
            total=Decimal("99.90") + number % 7,
            placed_at=now - timedelta(minutes=minutes),
        )

    def identity(owner, channel, number, minutes):
        return Identity(
            merchant=merchant,
            customer=owner,
            record_id=f"channel:{channel.pk}:B-{owner.pk}-{number}",
            channel=channel.kind,
            account_key=f"{channel.kind}:acct-{owner.pk}",
            phone_masked="138****8001",
            name="林小雨",
            fingerprint={},
            observed_at=now - timedelta(minutes=minutes),
            outcome="link",
            score=20,
            reasons=REASONS,
        )

    Order.objects.bulk_create(
        (
            order(customer, channels[i % 3], i, i * 90, cancelled=i % 20 == 19)
            for i in range(orders)
        ),
        batch_size=1000,
    )
    Identity.objects.bulk_create(
        (identity(customer, channels[i % 3], i, i * 90) for i in range(orders)), batch_size=1000
    )
    crowd = Customer.objects.bulk_create(
        Customer(merchant=merchant, display_name=f"客户{n}") for n in range(others)
    )
    Order.objects.bulk_create(
        (
            order(owner, channels[(owner.pk + i) % 3], i, owner.pk + i * 600)
            for owner in crowd
            for i in range(others_orders)
        ),
        batch_size=2000,
    )
    Identity.objects.bulk_create(
        (
            identity(owner, channels[(owner.pk + i) % 3], i, owner.pk + i * 600)
            for owner in crowd
            for i in range(others_orders)
        ),
        batch_size=2000,
    )
    return merchant, customer


def _time(client, url: str, requests: int, warmup: int) -> dict:
    from django.db import connection

    for _ in range(warmup):
        assert client.get(url).status_code == 200
    executed: list[str] = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(url)
    times, cpu = [], []
    for _ in range(requests):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200
    return {
        "requests": requests,
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(_percentile(times, 95), 1),
        "p99_ms": round(_percentile(times, 99), 1),
        "max_ms": round(max(times), 1),
        "cpu_median_ms": round(statistics.median(cpu), 1),
        "cpu_p99_ms": round(_percentile(cpu, 99), 1),
        "queries": len(executed),
        "bytes": len(response.content),
    }


def run_backend(args) -> dict:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from oms.models import Order
    from oms.permissions import OPERATIONS_GROUP

    call_command("migrate", verbosity=0, interactive=False)
    started = time.perf_counter()
    merchant, customer = _populate(args.orders, args.others, args.others_orders)
    populate_s = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    user = get_user_model().objects.create_user("bench-ops", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=OPERATIONS_GROUP))
    client = Client(HTTP_ACCEPT_LANGUAGE=args.language)
    client.force_login(user)
    page = reverse("admin:customers_customer_change", args=[customer.pk])
    report = reverse("admin:customers_customer_channel_repeat_rates") + f"?merchant={merchant.pk}"
    html = client.get(page).content.decode()
    assert f"({args.orders})" in html or f"（{args.orders}）" in html, "every order must count"
    return {
        "backend": connection.vendor,
        "orders_of_customer": Order.objects.filter(customer=customer).count(),
        "orders_total": Order.objects.count(),
        "populate_s": round(populate_s, 1),
        "page": _time(client, page, args.requests, args.warmup),
        "report": _time(client, report, args.report_requests, 1),
    }


def _child(backend: str, args) -> dict | None:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="oms.settings", OMS_BENCH_CHILD="1")
    env.pop("REDIS_URL", None)
    if backend == "sqlite":
        SQLITE_FILE.unlink(missing_ok=True)
        env.pop("DATABASE_URL", None)
        env["SQLITE_PATH"] = str(SQLITE_FILE)
    else:
        import psycopg2

        try:
            admin = psycopg2.connect(
                host=args.pg_host, port=args.pg_port, user="postgres", dbname="postgres"
            )
        except psycopg2.OperationalError as exc:
            print(f"PostgreSQL not reachable ({exc}); skipped", flush=True)
            return None
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{args.pg_db}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{args.pg_db}"')
        admin.close()
        env["DATABASE_URL"] = f"postgres://postgres@{args.pg_host}:{args.pg_port}/{args.pg_db}"
    flags = [
        *("--requests", str(args.requests), "--warmup", str(args.warmup)),
        *("--report-requests", str(args.report_requests), "--orders", str(args.orders)),
        *("--others", str(args.others), "--others-orders", str(args.others_orders)),
        *("--language", args.language),
    ]
    output = subprocess.run(
        [sys.executable, __file__, "--child", *flags],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if output.returncode:
        print(output.stdout[-3000:], output.stderr[-3000:])
        raise SystemExit(f"{backend} run failed")
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--report-requests", type=int, default=5)
    parser.add_argument("--orders", type=int, default=1000, help="orders of the measured customer")
    parser.add_argument("--others", type=int, default=5000, help="other customers")
    parser.add_argument("--others-orders", type=int, default=4, help="orders per other customer")
    parser.add_argument("--language", default="zh-hans", help="Accept-Language of the staff user")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-db", default="oms_bench_customer360")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(run_backend(args)))
        return 0
    if args.pg_db in ("test", "postgres", "template0", "template1"):
        raise SystemExit(f"refusing to use database {args.pg_db!r}")
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    results = [r for b in backends if (r := _child(b, args))]
    load = os.getloadavg()[0]
    lines = [
        f"Customer 360 page; machine: {describe()}; load {load:.1f}; {time.strftime('%Y-%m-%d %H:%M')}",
        "",
        "| backend | orders (customer / all) | page median ms | p95 | p99 | max |"
        " Python CPU median / p99 ms | queries | report median ms | report queries | target |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    ok = True
    for r in results:
        page, report = r["page"], r["report"]
        met = page["median_ms"] <= 300 and page["p99_ms"] <= 300
        ok &= met
        lines.append(
            f"| {r['backend']} | {r['orders_of_customer']} / {r['orders_total']} | "
            f"{page['median_ms']} | {page['p95_ms']} | {page['p99_ms']} | {page['max_ms']} | "
            f"{page['cpu_median_ms']} / {page['cpu_p99_ms']} | {page['queries']} | {report['median_ms']} | {report['queries']} | "
            f"{'met' if met else 'NOT met'} (median and p99 <= 300 ms) |"
        )
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
