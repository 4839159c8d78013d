"""A real Celery worker on PostgreSQL + Redis: after-commit enqueue, no lost tasks, the sweeper.

Each test starts ``celery -A oms worker`` as a subprocess against the pytest-django test
database and the Redis broker, on a queue of its own, with the production Celery settings
(late acks, reject on worker lost, prefetch 1). Skipped on SQLite and without REDIS_URL.
"""

import os
import signal
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from celery.signals import after_task_publish
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from oms.celery import app as celery_app
from oms.models import Order, OrderStatus
from oms.services.orders import LineInput, order_create
from routing.tasks import route_ready, sweep_unrouted
from tests.celery_workers import (
    Worker,
    purge_queue,
    redis_client,
    stop_worker,
)
from tests.celery_workers import start_worker as start_celery_worker
from tests.factories import (
    ADDRESS,
    BatchFactory,
    ChannelFactory,
    MerchantFactory,
    ProductFactory,
    WarehouseFactory,
    make_order,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(60),
]
PROBE_TASK = "tests.celery_probe.record_attempt"  # sent by name: the test never imports it


@pytest.fixture
def start_worker(transactional_db, tmp_path) -> Iterator[Callable[..., Worker]]:
    """Start prefork workers (one pool process each) on a queue of this test's own.

    Eager mode is switched off for the test and the app's default queue is pointed at that
    queue, so ``route_order.delay`` from the order signal reaches the real worker. Every
    worker is stopped at teardown (bounded waits) and its log printed, which pytest shows
    when the test fails.
    """
    if not settings.REDIS_URL:
        pytest.skip("needs Redis (set REDIS_URL)")
    cache.clear()  # no routing doorbell left ringing by an earlier test
    queue = f"oms-test-{uuid.uuid4().hex[:12]}"
    purge_queue(queue)  # a fresh name; purge anyway so the queue starts empty
    started: list[Worker] = []

    def start(**env_overrides: str) -> Worker:
        log_path = tmp_path / f"worker{len(started) + 1}.log"
        started.append(start_celery_worker(queue, log_path, **env_overrides))
        return started[-1]

    eager, default_queue = celery_app.conf.task_always_eager, celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        yield start
    finally:
        celery_app.conf.task_always_eager = eager
        celery_app.conf.task_default_queue = default_queue
        for handle in started:
            stop_worker(handle.process)
        purge_queue(queue)
        for handle in started:
            print(f"--- {handle.log_path} ---\n{handle.log()}")


@pytest.fixture
def worker(start_worker) -> Worker:
    return start_worker()


@pytest.fixture
def published() -> Iterator[list[tuple[str, tuple]]]:
    """Names and args of the task messages this process got onto the broker, in order."""
    messages: list[tuple[str, tuple]] = []

    def record(sender=None, body=None, **kwargs):
        args = body[0] if isinstance(body, tuple) else ()
        messages.append((sender, tuple(args)))

    after_task_publish.connect(record, weak=False)
    yield messages
    after_task_publish.disconnect(record)


@pytest.fixture
def stocked_product():
    merchant = MerchantFactory()
    warehouse = WarehouseFactory(merchant=merchant)
    product = ProductFactory(merchant=merchant)
    BatchFactory(warehouse=warehouse, product=product, on_hand=50)
    return product


def _status(order_id: int) -> str:
    return Order.objects.values_list("status", flat=True).get(pk=order_id)


def test_a_real_worker_routes_an_order_only_after_its_transaction_commits(
    worker, published, stocked_product
):
    product = stocked_product
    with transaction.atomic():
        order = order_create(
            merchant=product.merchant,
            channel=ChannelFactory(merchant=product.merchant),
            external_id="AFTER-COMMIT",
            lines=[LineInput(product, 2, product.unit_value)],
            address=ADDRESS,
            actor="test",
        )
        # The worker is idle and listening: had anything been sent, it would route the
        # order now. Nothing is sent while the transaction is open.
        time.sleep(0.5)
        assert published == []
        assert redis_client().llen(worker.queue) == 0
        assert " received" not in worker.log()
    # The order rang its merchant's routing doorbell: one task for the merchant's waiting orders.
    assert published == [("routing.route_ready", (product.merchant_id,))]
    worker.wait_until(lambda: _status(order.pk) == OrderStatus.ROUTED, "the order to be routed")
    assert "Task routing.route_ready[" in worker.log()

    # The factory path (order_create + on-commit callbacks) reaches the worker the same way.
    second = make_order(merchant=product.merchant, lines=[(product, 1)])
    worker.wait_until(lambda: _status(second.pk) == OrderStatus.ROUTED, "the second order")


def _probe_lines(path: Path, kind: str) -> list[tuple[int, int]]:
    """(attempt, pid) of each ``start`` or ``done`` line the probe task wrote."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return [
        (int(attempt), int(pid))
        for line_kind, attempt, pid in (line.split() for line in text.splitlines())
        if line_kind == kind
    ]


def test_a_killed_pool_process_loses_no_task(worker, tmp_path):
    attempts = tmp_path / "attempts.log"
    celery_app.send_task(PROBE_TASK, args=[str(attempts), 120.0], queue=worker.queue)
    [(_, child_pid)] = worker.wait_until(
        lambda: _probe_lines(attempts, "start"), "the first attempt"
    )
    assert child_pid != worker.process.pid  # the pool process, not the worker's main process

    os.kill(child_pid, signal.SIGKILL)
    worker.wait_until(lambda: _probe_lines(attempts, "done"), "the re-delivered task to finish")
    time.sleep(0.5)  # a duplicate delivery would show up here

    starts, dones = _probe_lines(attempts, "start"), _probe_lines(attempts, "done")
    assert [attempt for attempt, _pid in starts] == [1, 2]
    assert [attempt for attempt, _pid in dones] == [2]
    assert starts[1][1] != child_pid  # a fresh pool process ran it again
    assert worker.process.poll() is None  # the main process survived and re-queued it
    assert "WorkerLostError" in worker.log()
    assert redis_client().llen(worker.queue) == 0


def test_a_whole_worker_killed_mid_task_loses_no_task(start_worker, tmp_path):
    """SIGKILL to the main process too (OOM killer, lost host): nobody can reject the message.

    With late acks it stays in Redis' ``unacked`` set; once the visibility timeout has passed,
    the next worker to start puts it back on the queue and runs it. Production waits
    ``CELERY_VISIBILITY_TIMEOUT`` (15 minutes, always longer than the task time limit); the second
    worker here uses 2 s (with a 1 s task limit, which the restored attempt easily meets).
    """
    first = start_worker()
    attempts = tmp_path / "attempts.log"
    message = celery_app.send_task(PROBE_TASK, args=[str(attempts), 120.0], queue=first.queue)
    first.wait_until(lambda: _probe_lines(attempts, "start"), "the first attempt")

    os.killpg(first.process.pid, signal.SIGKILL)  # main process and pool process at once
    first.process.wait(timeout=10)
    parked = [value for value in redis_client().hvals("unacked") if message.id.encode() in value]
    assert len(parked) == 1  # not lost: held unacknowledged by the broker
    assert redis_client().llen(first.queue) == 0

    time.sleep(2.5)  # the message is now older than the second worker's visibility timeout
    second = start_worker(
        CELERY_VISIBILITY_TIMEOUT="2", CELERY_TASK_TIME_LIMIT="1", CELERY_TASK_SOFT_TIME_LIMIT="1"
    )
    second.wait_until(lambda: _probe_lines(attempts, "done"), "the restored task to finish")
    time.sleep(0.5)  # a duplicate delivery would show up here

    assert [attempt for attempt, _pid in _probe_lines(attempts, "start")] == [1, 2]
    assert [attempt for attempt, _pid in _probe_lines(attempts, "done")] == [2]
    assert not [value for value in redis_client().hvals("unacked") if message.id.encode() in value]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_sweeper_routes_an_order_the_broker_never_got(
    worker, published, stocked_product, monkeypatch, caplog
):
    """The broker is down when the order commits: the order is accepted and left ``created``.

    The doorbell's ``route_ready.delay`` really publishes, but over a connection to a closed
    port, so kombu raises its ``OperationalError`` as it does when Redis is unreachable.
    """
    product = stocked_product
    with celery_app.connection_for_write(f"redis://127.0.0.1:{_closed_port()}/0") as down:

        class RouteReadyWhileBrokerDown:
            def delay(self, *args, **kwargs):
                return route_ready.apply_async(args, kwargs, connection=down)

        with monkeypatch.context() as patch:
            patch.setattr("routing.tasks.route_ready", RouteReadyWhileBrokerDown())
            stranded = make_order(merchant=product.merchant, lines=[(product, 1)])
            recent = make_order(merchant=product.merchant, lines=[(product, 1)])
    assert published == []  # nothing reached the broker ...
    assert "Connection refused" in caplog.text  # ... because it was unreachable
    assert "the sweeper will retry" in caplog.text
    Order.objects.filter(pk=stranded.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    time.sleep(0.5)
    assert _status(stranded.pk) == OrderStatus.CREATED

    assert sweep_unrouted(older_than_seconds=120) == 1
    assert published == [("routing.route_order", (stranded.pk,))]
    worker.wait_until(lambda: _status(stranded.pk) == OrderStatus.ROUTED, "the swept order")
    assert _status(recent.pk) == OrderStatus.CREATED  # too young to sweep: left alone


def test_a_burst_of_orders_rings_the_doorbell_once_and_every_order_is_routed(
    start_worker, published, stocked_product
):
    """Thirty orders commit while no worker runs yet: one task message, not thirty; none lost."""
    product = stocked_product
    orders = [make_order(merchant=product.merchant, lines=[(product, 1)]) for _ in range(30)]
    assert published == [("routing.route_ready", (product.merchant_id,))]
    worker = start_worker()
    worker.wait_until(
        lambda: all(_status(order.pk) == OrderStatus.ROUTED for order in orders),
        "every order of the burst to be routed",
    )
    assert not cache.get(f"routing:bell:{product.merchant_id}")  # silenced by its task
    later = make_order(merchant=product.merchant, lines=[(product, 1)])  # rings again
    worker.wait_until(lambda: _status(later.pk) == OrderStatus.ROUTED, "an order after the burst")
    assert len(published) == 2
