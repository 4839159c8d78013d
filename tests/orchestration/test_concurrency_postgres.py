"""Two workers given the same step or the same webhook delivery: it runs exactly once.

Real threads on PostgreSQL (row locks); skipped on SQLite.
"""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection

from orchestration.models import ServiceAtom, ServiceStep, StepStatus
from orchestration.registry import HANDLERS, Handler, HandlerResult

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _in_threads(target, count: int = 4) -> None:
    barrier = threading.Barrier(count)

    def run():
        try:
            barrier.wait()
            target()
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)


@pytest.fixture
def slow_handler():
    calls: list[int] = []

    def run(*, step, params, now):
        calls.append(step.pk)
        time.sleep(0.2)
        return HandlerResult(reference=f"SLOW-{step.pk}", data={}, eta=now)

    HANDLERS["test_slow"] = Handler("test_slow", "slow (tests)", run)
    yield calls
    del HANDLERS["test_slow"]


def test_a_step_claimed_by_several_workers_runs_once(routed, slow_handler):
    from orchestration.services.steps import step_run

    order = routed("fresh")
    atom = ServiceAtom.objects.create(
        code="slow", label_en="Slow", handler="test_slow", sla=timedelta(hours=1)
    )
    step = ServiceStep.objects.create(order=order, atom=atom, key="slow", position=9)
    ServiceStep.objects.filter(pk=step.pk).update(status=StepStatus.READY)
    outcomes: list[str] = []
    _in_threads(lambda: outcomes.append(step_run(step_id=step.pk).state))
    assert slow_handler == [step.pk]
    assert sorted(outcomes) == ["done", "skipped", "skipped", "skipped"]
    step.refresh_from_db()
    assert step.status == StepStatus.DONE and step.attempts == 1


def test_a_delivery_claimed_by_several_workers_is_sent_once(merchant):
    import threading as _threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from orchestration.models import WebhookDelivery
    from orchestration.services.webhooks import webhook_deliver, webhook_emit, webhook_subscribe

    hits: list[bytes] = []

    class Handler_(BaseHTTPRequestHandler):
        def do_POST(self):
            hits.append(self.rfile.read(int(self.headers["Content-Length"])))
            time.sleep(0.2)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler_)
    _threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        webhook_subscribe(
            merchant=merchant,
            event_type="*",
            url=f"http://127.0.0.1:{server.server_address[1]}/h",
        )
        # Outside a transaction on-commit runs at once; keep the first attempt for the threads.
        from orchestration import tasks

        original = tasks.deliver_webhook.apply_async
        tasks.deliver_webhook.apply_async = lambda *a, **k: None
        try:
            webhook_emit(merchant_id=merchant.pk, event_type="service.step_done", data={})
        finally:
            tasks.deliver_webhook.apply_async = original
        delivery = WebhookDelivery.objects.get()
        states: list[str] = []
        _in_threads(lambda: states.append(webhook_deliver(delivery_id=delivery.pk)))
        assert len(hits) == 1
        assert sorted(states) == ["delivered", "skipped", "skipped", "skipped"]
    finally:
        server.shutdown()
        server.server_close()
