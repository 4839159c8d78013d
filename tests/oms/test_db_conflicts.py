"""Transactions PostgreSQL aborts as a deadlock run again (#11 item 18), and webhook deliveries
run on a queue of their own (item 17)."""

import threading

import pytest
from django.db import OperationalError, close_old_connections, connection, transaction

from oms.celery import app as celery_app
from oms.db import is_retryable_conflict, retry_on_conflict


class _PgError(Exception):
    def __init__(self, pgcode: str) -> None:
        super().__init__(pgcode)
        self.pgcode = pgcode


def _operational(pgcode: str) -> OperationalError:
    error = OperationalError("conflict")
    error.__cause__ = _PgError(pgcode)
    return error


def test_deadlocks_and_serialization_failures_are_retryable_other_errors_are_not():
    assert is_retryable_conflict(_operational("40P01"))
    assert is_retryable_conflict(_operational("40001"))
    assert not is_retryable_conflict(_operational("57P01"))  # server shutting down
    assert not is_retryable_conflict(OperationalError("database is locked"))


def test_a_transaction_aborted_as_a_deadlock_runs_again():
    calls = []

    def work():
        calls.append(1)
        if len(calls) < 3:
            raise _operational("40P01")
        return "done"

    assert retry_on_conflict(work, base=0.001) == "done" and len(calls) == 3


def test_other_database_errors_and_the_last_attempt_propagate():
    with pytest.raises(OperationalError):
        retry_on_conflict(lambda: (_ for _ in ()).throw(_operational("57P01")), base=0.001)
    with pytest.raises(OperationalError):
        retry_on_conflict(
            lambda: (_ for _ in ()).throw(_operational("40P01")), attempts=2, base=0.001
        )


@pytest.mark.django_db
def test_run_step_retries_a_step_the_database_aborted_as_a_deadlock(monkeypatch):
    from orchestration import tasks
    from orchestration.services import steps

    calls = []

    class Outcome:
        state = "done"
        retry_in = None

    def step_run(*, step_id):
        calls.append(step_id)
        if len(calls) == 1:
            raise _operational("40P01")
        return Outcome()

    monkeypatch.setattr(steps, "step_run", step_run)
    assert tasks.run_step(7) == "done" and calls == [7, 7]


def test_webhook_deliveries_go_to_their_own_queue_and_routing_does_not():
    def queue_of(name):
        return celery_app.amqp.router.route({}, name)["queue"].name

    assert queue_of("orchestration.deliver_webhook") == "webhooks"
    assert queue_of("orchestration.dispatch_webhooks") == "webhooks"
    for name in ("routing.route_order", "routing.route_ready", "orchestration.run_step"):
        assert queue_of(name) == "oms"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_deadlock_on_postgresql_is_retried_and_both_transactions_finish():
    """Two transactions lock two rows in opposite order; PostgreSQL aborts one (40P01)."""
    from tests.factories import MerchantFactory

    first, second = MerchantFactory(), MerchantFactory()
    barrier = threading.Barrier(2, timeout=10)
    outcomes: dict[str, object] = {}
    aborted: list[BaseException] = []

    def lock_both(name: str, order: tuple[int, int]) -> None:
        from oms.models import Merchant

        attempt = {"n": 0}

        def work() -> str:
            attempt["n"] += 1
            with transaction.atomic():
                Merchant.objects.select_for_update().get(pk=order[0])
                if attempt["n"] == 1:
                    barrier.wait()  # both hold their first row
                Merchant.objects.select_for_update().get(pk=order[1])
                Merchant.objects.filter(pk=order[1]).update(name=f"{name} won")
            return name

        try:
            outcomes[name] = retry_on_conflict(_recording(work, aborted), base=0.01)
        finally:
            close_old_connections()
            connection.close()

    threads = [
        threading.Thread(target=lock_both, args=("a", (first.pk, second.pk))),
        threading.Thread(target=lock_both, args=("b", (second.pk, first.pk))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes == {"a": "a", "b": "b"}  # both finished
    assert len(aborted) == 1 and is_retryable_conflict(aborted[0])  # one was a real deadlock


def _recording(work, aborted):
    def run():
        try:
            return work()
        except OperationalError as exc:
            aborted.append(exc)
            raise

    return run


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_run_step_runs_a_step_again_after_a_real_postgresql_deadlock(monkeypatch, caplog):
    """The task as a worker runs it: two steps whose transactions lock two rows in opposite
    order, so PostgreSQL aborts one of them (40P01); ``run_step`` runs it again and both finish.
    The step's work is the deadlock itself, so the test depends on no DAG's timing."""
    from oms.models import Merchant
    from orchestration import tasks
    from orchestration.services import steps
    from tests.factories import MerchantFactory

    first, second = MerchantFactory(), MerchantFactory()
    rows = {1: (first.pk, second.pk), 2: (second.pk, first.pk)}
    barrier = threading.Barrier(2, timeout=10)
    attempts = {1: 0, 2: 0}

    class Done:
        state = "done"
        retry_in = None

    def step_run(*, step_id: int) -> Done:
        attempts[step_id] += 1
        with transaction.atomic():
            Merchant.objects.select_for_update().get(pk=rows[step_id][0])
            if attempts[step_id] == 1:
                barrier.wait()  # both hold their first row
            Merchant.objects.select_for_update().get(pk=rows[step_id][1])
        return Done()

    monkeypatch.setattr(steps, "step_run", step_run)
    outcomes: dict[int, str] = {}

    def run(step_id: int) -> None:
        try:
            outcomes[step_id] = tasks.run_step(step_id)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(step_id,)) for step_id in rows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert outcomes == {1: "done", 2: "done"}
    assert sorted(attempts.values()) == [1, 2]  # one was aborted and ran again
    assert "deadlock detected" in caplog.text
