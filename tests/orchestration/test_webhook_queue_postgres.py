"""Webhook deliveries run on a queue of their own (#11 item 17), with real workers.

PostgreSQL + Redis, the workers as ``make worker`` and ``make webhook-worker`` run them (one
pool process each here): ``-Q oms`` routes and runs service steps, ``-Q webhooks`` delivers.
The merchant subscribes to every event at a receiver on 127.0.0.1 that accepts connections and
never answers (``OMS_OUTBOUND_ALLOW_ADDRESSES`` lets the workers call it); each routed
furniture order finishes its e-warranty step at once, so the ``oms`` worker emits a delivery
that then hangs for ``OMS_WEBHOOK_TIMEOUT_SECONDS`` (60 s here). With the split, orders keep
being routed at once; with one worker on both queues (the control), they wait behind the
delivery. The tests use the real queue names (the workers send to them by the settings) and
purge them before and after. Skipped on SQLite and without REDIS_URL.
"""

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from django.core.cache import cache

from oms.celery import app as celery_app
from oms.models import Order, OrderEvent, OrderStatus
from oms.services.orders import AddressInput, LineInput, order_create
from orchestration.models import WebhookAttempt, WebhookDelivery
from orchestration.services.webhooks import webhook_subscribe
from tests.celery_workers import Worker, purge_queue, redis_client, start_worker, stop_worker
from tests.factories import BatchFactory, ChannelFactory, ProductFactory, WarehouseFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(120),
]
QUEUES = ("oms", "webhooks")
HANG_SECONDS = 60  # the delivery's timeout: far longer than any wait of these tests
PROMPT_SECONDS = 5.0  # "routed at once" on a loaded two-core machine (p95 0.36 s in the benchmark)


@dataclass
class HangingReceiver:
    """Accepts every connection on 127.0.0.1 and never sends a byte back."""

    sock: socket.socket = field(default_factory=lambda: socket.create_server(("127.0.0.1", 0)))
    held: list[socket.socket] = field(default_factory=list)

    def __post_init__(self) -> None:
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/hooks"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)  # held open, never answered

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def receiver(transactional_db, tmp_path) -> Iterator[HangingReceiver]:
    hanging = HangingReceiver()
    yield hanging
    hanging.close()


@pytest.fixture
def workers(receiver, tmp_path):
    """``workers(queue, ...)`` starts one; at teardown the receiver lets go first, so the
    workers' warm shutdown does not wait out a hanging delivery."""
    started: list[Worker] = []

    def start(queue: str) -> Worker:
        handle = start_worker(
            queue,
            tmp_path / f"worker-{queue.replace(',', '-')}.log",
            include=[],
            OMS_OUTBOUND_ALLOW_ADDRESSES="127.0.0.1",
            OMS_WEBHOOK_TIMEOUT_SECONDS=str(HANG_SECONDS),
        )
        started.append(handle)
        return handle

    cache.clear()  # no routing doorbell left ringing by an earlier test
    for queue in QUEUES:
        purge_queue(queue)
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield start
    finally:
        celery_app.conf.task_always_eager = eager
        receiver.close()
        for handle in started:
            stop_worker(handle.process)
        for queue in QUEUES:
            purge_queue(queue)
        for handle in started:
            print(f"--- {handle.log_path} ---\n{handle.log()}")


@pytest.fixture
def furniture(receiver):
    """A stocked furniture product (its orders get an e-warranty step) of a merchant who
    subscribes to every event at the hanging receiver."""
    from orchestration.catalogue import catalogue_install

    catalogue_install()
    warehouse = WarehouseFactory()
    product = ProductFactory(merchant=warehouse.merchant, category="furniture", name="Sofa")
    BatchFactory(warehouse=warehouse, product=product, on_hand=100)
    webhook_subscribe(merchant=warehouse.merchant, event_type="*", url=receiver.url)
    return product


def _order(product, buyer: int) -> Order:
    """An order of a customer of its own (no merges), committed: routing starts on the commit."""
    channel = ChannelFactory(merchant=product.merchant, code=f"q{buyer}")
    return order_create(
        merchant=product.merchant,
        channel=channel,
        external_id=f"HANG-{buyer}",
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


def _routed_after(order: Order) -> float | None:
    """Seconds from the order's creation to its routing, both as the database has them."""
    event = OrderEvent.objects.filter(
        order_id=order.pk, kind="status", to_status=OrderStatus.ROUTED
    ).first()
    return None if event is None else (event.at - order.created_at).total_seconds()


def _hanging_delivery(receiver: HangingReceiver) -> bool:
    """A delivery is in flight: the receiver holds its connection and no attempt has ended."""
    return bool(receiver.held) and not WebhookAttempt.objects.exists()


def test_orders_are_routed_at_once_while_a_webhook_receiver_hangs(workers, receiver, furniture):
    routing, delivering = workers("oms"), workers("webhooks")
    first = _order(furniture, buyer=1)
    delivering.wait_until(lambda: _hanging_delivery(receiver), "a delivery to hang")
    assert _routed_after(first) is not None

    latencies = []
    for buyer in (2, 3, 4):
        order = _order(furniture, buyer)
        latencies.append(
            routing.wait_until(lambda o=order: _routed_after(o), f"order {buyer} to be routed")
        )
        time.sleep(0.5)

    assert max(latencies) < PROMPT_SECONDS, latencies
    # The mechanism: the delivery still hangs in the webhooks worker, the later ones wait on
    # their queue, and the routing worker never took one.
    assert len(receiver.held) == 1 and not WebhookAttempt.objects.exists()
    assert WebhookDelivery.objects.filter(state=WebhookDelivery.State.PENDING).count() >= 4
    assert redis_client().llen("webhooks") >= 1
    assert "Task orchestration.deliver_webhook[" in delivering.log()
    assert "orchestration.deliver_webhook" not in routing.log().split(" ready.", 1)[1]
    assert "Task routing.route_ready[" in routing.log()


def test_control_one_worker_on_both_queues_holds_routing_up_behind_the_delivery(
    workers, receiver, furniture
):
    """What the split prevents, so the test above can fail: one pool for everything."""
    shared = workers("oms,webhooks")
    first = _order(furniture, buyer=1)
    shared.wait_until(lambda: _hanging_delivery(receiver), "a delivery to hang")
    assert _routed_after(first) is not None

    waiting = _order(furniture, buyer=2)
    time.sleep(PROMPT_SECONDS)

    assert _routed_after(waiting) is None
    assert Order.objects.get(pk=waiting.pk).status == OrderStatus.CREATED
