"""The console's long lists at 100,000 orders: the order list and the exceptions queue.

Fills a scratch database (the PostgreSQL one ``DATABASE_URL`` names: give it a new one; without
it a SQLite file in /tmp) with ``--orders`` orders of one merchant, ``--attention`` of them waiting for
attention, and times, as a logged-in superuser through Django's test client (the whole view,
templates included, no network): the order list's first page, the order list filtered to
``needs_attention``, a search by a whole external id and by a part of one (10 orders), and
``/ops/exceptions/``. On PostgreSQL the search reads trigram indexes
(``oms/migrations/0015_order_search_trigram_indexes.py``); ``--no-trigram`` drops them for the
comparison (a run without it builds them again). Prints median and p99
of ``--requests`` requests each, and the queries per request.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_console .venv/bin/python bench/console_lists.py
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--attention", type=int, default=2_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--no-trigram", action="store_true", help="time the search without them")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    if not os.environ.get("DATABASE_URL"):  # never the developer's own database
        os.environ["DATABASE_URL"] = "sqlite:////tmp/oms_bench_console.sqlite3"
    import django

    django.setup()
    from datetime import timedelta
    from decimal import Decimal

    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from oms.models import ChannelKind, Merchant, Order, OrderStatus, SalesChannel

    call_command("migrate", verbosity=0)
    # The migration's own functions: drop the indexes for the comparison, or build them again.
    trigram = importlib.import_module("oms.migrations.0015_order_search_trigram_indexes")
    with connection.schema_editor(atomic=False) as editor:
        (trigram.drop if args.no_trigram else trigram.create)(None, editor)
    started = time.perf_counter()
    merchant, _ = Merchant.objects.get_or_create(code="bench-console", defaults={"name": "Bench"})
    channel, _ = SalesChannel.objects.get_or_create(
        merchant=merchant, code="bench-tmall", defaults={"name": "Tmall", "kind": ChannelKind.TMALL}
    )
    if Order.objects.count() != args.orders:
        now = timezone.now()
        batch = []
        for index in range(args.orders):
            batch.append(
                Order(
                    merchant=merchant,
                    channel=channel,
                    external_id=f"B{index:07d}",
                    status=OrderStatus.NEEDS_ATTENTION
                    if index % (args.orders // args.attention) == 0
                    else OrderStatus.ROUTED,
                    status_reason="only 0 of 1 units available",
                    receiver_name="张伟",
                    receiver_phone="13800138000",
                    province="浙江省",
                    city="杭州市",
                    address_line="文三路90号",
                    region="east",
                    subtotal=Decimal("99.00"),
                    total=Decimal("99.00"),
                    placed_at=now - timedelta(minutes=index),
                )
            )
            if len(batch) == 5000:
                Order.objects.bulk_create(batch)
                batch = []
        Order.objects.bulk_create(batch)
    print(f"{Order.objects.count()} orders ready in {time.perf_counter() - started:.1f} s")
    user = User.objects.filter(username="bench-root").first() or User.objects.create_superuser(
        "bench-root", password="pw-12345-long"
    )
    client = Client()
    client.force_login(user)
    pages = {
        "order list": "/admin/oms/order/",
        "order list, needs attention": "/admin/oms/order/?status__exact=needs_attention",
        "order search": "/admin/oms/order/?q=B0099999",
        "order search, part of an id": "/admin/oms/order/?q=B009999",
        "exceptions queue": "/ops/exceptions/",
    }
    print("| page | median ms | p99 ms | queries |\n|---|---|---|---|")
    for label, url in pages.items():
        client.get(url)  # warm
        times = []
        for _ in range(args.requests):
            with CaptureQueriesContext(connection) as queries:
                begin = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - begin) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        print(
            f"| {label} | {statistics.median(times):.1f} | {percentile(times, 0.99):.1f} | "
            f"{len(queries)} |"
        )
    with connection.cursor() as cursor:
        indexed = False
        if connection.vendor == "postgresql":
            cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = 'order_external_id_trgm'")
            indexed = cursor.fetchone() is not None
    print(
        f"database: {connection.vendor}; trigram indexes: {'yes' if indexed else 'no'}; "
        f"load average: {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
