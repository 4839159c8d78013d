"""Plans laid out when an order is routed, steps run along the DAG, retries, completion."""

from datetime import timedelta

import pytest
from django.utils import timezone

from oms.services.orders import order_cancel, order_deliver, order_release, order_ship
from orchestration.models import OrderTracking, ServiceStep, StepStatus
from orchestration.selectors import order_customer_status
from orchestration.services.steps import step_complete, step_run, steps_due

pytestmark = pytest.mark.django_db


def _steps(order) -> dict[str, ServiceStep]:
    return {s.key: s for s in ServiceStep.objects.filter(order=order).select_related("atom")}


def test_a_routed_order_gets_its_template_laid_out_and_the_roots_run(routed):
    order = routed("furniture")
    steps = _steps(order)
    assert list(steps) == ["delivery", "ewarranty", "installation", "after-sales"]
    assert steps["ewarranty"].status == StepStatus.DONE
    assert steps["ewarranty"].reference.startswith("EW-")
    assert steps["delivery"].status == StepStatus.RUNNING  # booked, waits for the parcel
    assert steps["delivery"].reference.startswith("WB-")
    assert steps["delivery"].eta is not None
    assert steps["installation"].status == StepStatus.WAITING
    tracking = OrderTracking.objects.get(order=order)
    assert len(tracking.token) >= 32
    kinds = list(order.events.values_list("kind", flat=True))
    assert "services_planned" in kinds and "service_step" in kinds


def test_deadlines_are_cumulative_along_the_dag(routed):
    steps = _steps(routed("furniture"))
    assert steps["installation"].deadline == steps["delivery"].deadline + timedelta(hours=96)
    assert steps["after-sales"].deadline == steps["installation"].deadline + timedelta(days=45)


def test_an_order_no_template_matches_gets_no_services(routed):
    order = routed("other")
    assert not ServiceStep.objects.filter(order=order).exists()
    assert not OrderTracking.objects.filter(order=order).exists()


def test_delivery_completes_the_delivery_step_and_the_next_steps_run(
    routed, django_capture_on_commit_callbacks
):
    order = routed("furniture")
    with django_capture_on_commit_callbacks(execute=True):
        order_release(order=order, actor="test")
        order_ship(order=order, actor="test")
        order_deliver(order=order, actor="test")
    steps = _steps(order)
    assert steps["delivery"].status == StepStatus.DONE
    assert steps["installation"].status == StepStatus.RUNNING
    assert steps["installation"].result["data"]["service"] == "installation"
    assert order_customer_status(order=order).state == "in_progress"


def test_the_customer_status_is_derived_from_the_steps(routed, django_capture_on_commit_callbacks):
    order = routed("fresh")
    status = order_customer_status(order=order)
    assert (status.state, status.done, status.total) == ("in_progress", 0, 1)
    step = ServiceStep.objects.get(order=order)
    with django_capture_on_commit_callbacks(execute=True):
        step_complete(step=step, actor="test")
    status = order_customer_status(order=order)
    assert status.state == "completed" and status.percent == 100
    assert order.events.filter(kind="services_completed").count() == 1


def test_running_a_step_twice_books_once(routed):
    order = routed("furniture")
    step = _steps(order)["ewarranty"]
    reference = step.reference
    assert step_run(step_id=step.pk).state == "skipped"
    step.refresh_from_db()
    assert step.reference == reference and step.attempts == 1


def test_a_failing_external_system_is_retried_with_backoff_then_fails(
    routed, django_capture_on_commit_callbacks
):
    order = routed("ev")
    lock = _steps(order)["battery-lock"]
    assert lock.status == StepStatus.DONE  # the factory answered
    ServiceStep.objects.filter(pk=lock.pk).update(
        status=StepStatus.READY,
        parameters={"outage_attempts": 99},
        reference="",
        result={},
        attempts=0,
        max_attempts=3,
        plan_version=2,
    )
    first = step_run(step_id=lock.pk)
    assert first.state == "retry" and 15 <= first.retry_in <= 30  # 30 s, jitter 0.5..1
    lock.refresh_from_db()
    assert lock.status == StepStatus.READY and "factory MES" in lock.last_error
    assert step_run(step_id=lock.pk).state == "skipped"  # not due yet
    later = timezone.now() + timedelta(seconds=31)
    assert lock.pk in steps_due(now=later)
    assert 30 <= step_run(step_id=lock.pk, now=later).retry_in <= 60
    with django_capture_on_commit_callbacks(execute=True):
        final = step_run(step_id=lock.pk, now=later + timedelta(seconds=61))
    assert final.state == "failed"
    lock.refresh_from_db()
    assert lock.status == StepStatus.FAILED and lock.attempts == 3
    assert order_customer_status(order=order).state == "attention"


def test_parallel_roots_both_run_and_the_join_waits_for_both(routed):
    steps = _steps(routed("ev"))
    assert steps["battery-lock"].status == StepStatus.DONE
    assert steps["tariff"].status == StepStatus.DONE
    assert steps["inspection"].status == StepStatus.DONE
    assert steps["climate-transport"].status == StepStatus.RUNNING
    assert steps["handover"].status == StepStatus.WAITING
    assert steps["tariff"].result["data"]["regime"] in ("cbec", "general")


def test_cancelling_the_order_cancels_its_open_steps(routed, django_capture_on_commit_callbacks):
    order = routed("furniture")
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order=order, actor="test")
    statuses = {s.key: s.status for s in _steps(order).values()}
    assert statuses["delivery"] == StepStatus.CANCELLED
    assert statuses["ewarranty"] == StepStatus.DONE


def test_the_sweeper_lays_out_a_plan_the_receiver_missed(merchant, stocked):
    from datetime import timedelta as td

    from oms.models import Order
    from orchestration.catalogue import catalogue_install
    from orchestration.tasks import sweep_steps
    from tests.factories import make_order

    order = make_order(merchant=merchant, lines=[(stocked["fresh"], 1)])  # no template yet
    assert not OrderTracking.objects.filter(order=order).exists()
    catalogue_install()
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - td(minutes=5))
    sweep_steps()
    assert OrderTracking.objects.filter(order=order).exists()
    assert ServiceStep.objects.filter(order=order).count() == 1
