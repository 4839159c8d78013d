"""A routing worker killed mid-routing (#11 item 20): the sweeper routes its order, not the claim.

Real workers on PostgreSQL + Redis, on the ``oms`` queue as ``make worker`` runs them (the
sweeper's ``route_order`` and beat's messages go to the default queue, so the test uses it and
purges it before and after). The first worker holds every order in ``before_route``
(``tests/routing_probe.py``), so it is killed (SIGKILL to its process group: main process,
pool process) with the order claimed. The figures are made small for the test: the sweeper
runs every second and takes orders waiting over 2 s; the claim is the issue's 600 s, to show
that the sweeper does not wait for it. Skipped on SQLite and without REDIS_URL.
"""

import json
import os
import re
import signal
import time
from pathlib import Path

import pytest
from django.core.cache import cache

from oms.celery import app as celery_app
from oms.models import Order, OrderEvent, OrderStatus
from oms.services.orders import AddressInput, LineInput, order_create
from tests.celery_workers import purge_queue, redis_client, start_worker, stop_worker
from tests.factories import BatchFactory, ChannelFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(120),
]
QUEUES = ("oms", "webhooks")  # beat sends the webhook sweep to its queue; nobody consumes it here
CLAIM_SECONDS = 600
SWEEP_AFTER_SECONDS = 2
SWEEP_INTERVAL_SECONDS = 1
SLACK_SECONDS = 3.0  # a sweep message's trip, the routing itself, a loaded machine


def _attempts(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _unacked_for(queues: tuple[str, ...]) -> list[str]:
    """Delivery tags of messages held unacknowledged in Redis, taken from ``queues``."""
    client = redis_client()
    return [
        tag.decode()
        for tag, value in client.hgetall("unacked").items()
        if json.loads(value)[2] in queues  # [message, exchange, routing key]
    ]


def _forget_unacked(queues: tuple[str, ...]) -> None:
    """A killed worker's messages would come back to a later test run's worker: drop them."""
    client = redis_client()
    for tag in _unacked_for(queues):
        client.hdel("unacked", tag)
        client.zrem("unacked_index", tag)


@pytest.fixture
def workers(transactional_db, tmp_path):
    started = []

    def start(name: str, **kwargs):
        handle = start_worker(
            "oms", tmp_path / f"{name}.log", include=["tests.routing_probe"], **kwargs
        )
        started.append(handle)
        return handle

    cache.clear()  # no routing doorbell or claim left by an earlier test
    for queue in QUEUES:
        purge_queue(queue)
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield start
    finally:
        celery_app.conf.task_always_eager = eager
        for handle in started:
            stop_worker(handle.process)
        for queue in QUEUES:
            purge_queue(queue)
        _forget_unacked(QUEUES)
        for handle in started:
            print(f"--- {handle.log_path} ---\n{handle.log()}")


def _order(channel, product, buyer: int) -> Order:
    """An order of a customer of its own (no merge with the other order), committed."""
    return order_create(
        merchant=channel.merchant,
        channel=channel,
        external_id=f"KILL-{buyer}",
        lines=[LineInput(product, 1, product.unit_value)],
        address=AddressInput(
            receiver_name=f"顾客{buyer}",
            receiver_phone=f"1390000000{buyer}",
            province="上海",
            city="上海",
            address_line=f"世纪大道{buyer}号",
        ),
        actor="test",
    )


def _status(order_id: int) -> str:
    return Order.objects.values_list("status", flat=True).get(pk=order_id)


def test_a_killed_routing_tasks_order_is_routed_by_the_sweeper_without_waiting_for_its_claim(
    workers, tmp_path
):
    batch = BatchFactory(on_hand=50)
    channel, product = ChannelFactory(merchant=batch.warehouse.merchant), batch.product
    probe = tmp_path / "routing-probe.log"

    # 1. The first worker takes the doorbell's route_ready, claims the order and is killed
    #    while it plans it.
    first = workers(
        "killed",
        TEST_ROUTING_PROBE_LOG=str(probe),
        TEST_ROUTING_HOLD_SECONDS="300",
        OMS_ROUTING_CLAIM_SECONDS=str(CLAIM_SECONDS),
    )
    orphan = _order(channel, product, buyer=1)
    [held] = first.wait_until(lambda: _attempts(probe), "the worker to start routing the order")
    assert (held["order"], held["task"]) == (orphan.pk, "routing.route_ready")
    os.killpg(first.process.pid, signal.SIGKILL)
    first.process.wait(timeout=10)
    killed_at = time.time()

    claim = f"routing:claim:{orphan.pk}"
    assert cache.get(claim) == 1  # left behind by the killed task ...
    assert redis_client().ttl(cache.make_key(claim)) > CLAIM_SECONDS - 60  # ... for minutes
    [parked] = _unacked_for(("oms",))  # its message is held until the visibility timeout
    assert _status(orphan.pk) == OrderStatus.CREATED

    # 2. An order committed now rings the doorbell; the next worker's route_ready routes it
    #    and passes the claimed order by.
    newcomer = _order(channel, product, buyer=2)
    second = workers(
        "restarted",
        TEST_ROUTING_PROBE_LOG=str(probe),
        OMS_ROUTING_SWEEP_AFTER_SECONDS=str(SWEEP_AFTER_SECONDS),
        OMS_ROUTING_SWEEP_INTERVAL_SECONDS=str(SWEEP_INTERVAL_SECONDS),
        beat_schedule=tmp_path / "beat-schedule",
    )
    ready_at = time.time()
    second.wait_until(
        lambda: _status(orphan.pk) == OrderStatus.ROUTED, "the killed task's order to be routed"
    )
    routed_at = OrderEvent.objects.get(
        order_id=orphan.pk, kind="status", to_status=OrderStatus.ROUTED
    ).at.timestamp()

    # 3. The sweeper routed it (route_order takes no claim), while the claim still stood.
    after_kill = [(a["order"], a["task"]) for a in _attempts(probe)[1:]]
    assert after_kill == [
        (newcomer.pk, "routing.route_ready"),
        (orphan.pk, "routing.route_order"),
    ]
    assert _status(newcomer.pk) == OrderStatus.ROUTED
    assert re.search(
        r"routing\.sweep_unrouted\[[^\]]+\] succeeded in [0-9.e-]+s: 1\b", second.log()
    )
    assert cache.get(claim) == 1  # not expired: the sweeper did not wait for it
    assert parked in _unacked_for(("oms",))  # nor for the killed worker's message to return

    # 4. Within one sweep interval of the order becoming old enough, once a worker runs.
    due_at = max(ready_at, orphan.created_at.timestamp() + SWEEP_AFTER_SECONDS)
    assert routed_at - due_at <= SWEEP_INTERVAL_SECONDS + SLACK_SECONDS, (
        f"routed {routed_at - due_at:.1f} s after it was due for the sweeper"
    )
    print(
        f"kill -> routed {routed_at - killed_at:.1f} s (worker ready after {ready_at - killed_at:.1f} s)"
    )
