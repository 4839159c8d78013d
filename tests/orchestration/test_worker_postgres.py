"""Order services with a real Celery worker on PostgreSQL + Redis.

The worker routes the order, lays out its plan, runs the ready steps and retries a failing one
after the atom's backoff through a countdown message (not the sweeper). Reuses the worker
helpers of ``tests/celery_workers.py``; skipped on SQLite and without Redis.
Tasks the worker enqueues itself go to the project's default queue, so the worker here also
consumes that queue (purged first: use a Redis database of your own, as the README says).
"""

import pytest
from django.db import transaction

from oms.services.orders import LineInput, order_create
from orchestration.models import ServiceAtom, ServiceStep, StepStatus
from tests import celery_workers as harness
from tests.factories import ADDRESS, ChannelFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(90),
]


@pytest.fixture
def worker(transactional_db, tmp_path):
    import uuid

    from django.conf import settings

    from oms.celery import app as celery_app

    if not settings.REDIS_URL:
        pytest.skip("needs Redis (set REDIS_URL)")
    queue = f"oms-test-{uuid.uuid4().hex[:12]}"
    default = settings.CELERY_TASK_DEFAULT_QUEUE
    harness.purge_queue(queue)
    harness.purge_queue(default)
    eager, previous = celery_app.conf.task_always_eager, celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    handle = harness.start_worker(f"{queue},{default}", tmp_path / "worker.log")
    try:
        yield handle
    finally:
        celery_app.conf.task_always_eager = eager
        celery_app.conf.task_default_queue = previous
        harness.stop_worker(handle.process)
        harness.purge_queue(queue)
        harness.purge_queue(default)
        print(handle.log())


def test_a_worker_plans_and_runs_the_steps_and_retries_with_backoff(
    worker, merchant, stocked, catalogue
):
    ServiceAtom.objects.filter(code="battery-lock").update(
        parameters={"serial_prefix": "BAT", "outage_attempts": 1}, backoff_seconds=1
    )
    product = stocked["ev"]
    with transaction.atomic():
        order = order_create(
            merchant=merchant,
            channel=ChannelFactory(merchant=merchant),
            external_id="W-EV-1",
            lines=[LineInput(product, 1, product.unit_value)],
            address=ADDRESS,
            actor="test",
        )

    def transport_booked():
        step = ServiceStep.objects.filter(order=order, key="climate-transport").first()
        return step is not None and step.status == StepStatus.RUNNING and step.reference

    worker.wait_until(transport_booked, "the climate transport to be booked")
    lock = ServiceStep.objects.get(order=order, key="battery-lock")
    assert lock.status == StepStatus.DONE and lock.attempts == 2
    assert lock.result["data"]["serials"][0].startswith("BAT")
    notes = list(order.events.filter(kind="service_step").values_list("message", flat=True))
    assert any("attempt 1 failed" in note for note in notes)
    assert ServiceStep.objects.get(order=order, key="tariff").status == StepStatus.DONE
    assert ServiceStep.objects.get(order=order, key="handover").status == StepStatus.WAITING
