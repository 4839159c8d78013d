"""SLA breaches: one alert per step and deadline, with the late party and the timeline."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from oms.permissions import OPERATIONS_GROUP
from orchestration.models import ServiceStep, SlaAlert, StepStatus
from orchestration.services.sla import sla_check
from orchestration.tasks import check_slas

pytestmark = pytest.mark.django_db


def _step(order, key) -> ServiceStep:
    return ServiceStep.objects.select_related("atom").get(order=order, key=key)


def test_a_failing_factory_is_named_as_the_late_party(routed):
    User.objects.create_user("ops1").groups.add(Group.objects.get(name=OPERATIONS_GROUP))
    order = routed("ev")
    lock = _step(order, "battery-lock")
    ServiceStep.objects.filter(pk=lock.pk).update(
        status=StepStatus.READY,
        attempts=2,
        last_error="factory MES did not answer",
        deadline=timezone.now() - timedelta(minutes=30),
    )
    assert sla_check() == 1
    alert = SlaAlert.objects.get()
    assert alert.step_id == lock.pk and alert.cause_kind == "external_system"
    assert "factory MES" in alert.cause_label
    assert alert.report["chain"][0]["key"] == "battery-lock"
    assert any(e["kind"] == "services_planned" for e in alert.report["timeline"])
    assert "operations:ops1" in alert.notified
    assert order.events.filter(kind="sla_breached").count() == 1


def test_the_check_is_idempotent(routed):
    order = routed("ev")
    ServiceStep.objects.filter(order=order, key="climate-transport").update(
        deadline=timezone.now() - timedelta(minutes=1)
    )
    assert check_slas() == 1
    assert check_slas() == 0
    assert SlaAlert.objects.count() == 1


def test_a_late_upstream_step_is_the_root_cause_downstream(routed):
    order = routed("ev")
    now = timezone.now()
    inspection = _step(order, "inspection")
    lock = _step(order, "battery-lock")
    # The factory finished two hours late; inspection then ran out of its own budget.
    ServiceStep.objects.filter(pk=lock.pk).update(
        deadline=now - timedelta(hours=5), finished_at=now - timedelta(hours=3)
    )
    ServiceStep.objects.filter(pk=inspection.pk).update(
        status=StepStatus.RUNNING,
        reference="QC-X",
        deadline=now - timedelta(minutes=10),
        finished_at=None,
    )
    sla_check(now=now)
    alert = SlaAlert.objects.get(step=inspection)
    assert alert.cause_kind == "upstream_step"
    assert "battery-lock" in alert.cause_label
    assert [c["key"] for c in alert.report["chain"]] == ["inspection", "battery-lock"]
    assert alert.report["chain"][1]["late_by_minutes"] == 120


def test_a_step_no_worker_picked_up_blames_the_queue(routed):
    order = routed("fresh")
    ServiceStep.objects.filter(order=order).update(
        status=StepStatus.READY, attempts=0, deadline=timezone.now() - timedelta(minutes=1)
    )
    sla_check()
    assert SlaAlert.objects.get().cause_kind == "worker_queue"


def test_finishing_the_step_resolves_its_alert(routed, django_capture_on_commit_callbacks):
    from orchestration.services.steps import step_complete

    order = routed("fresh")
    step = ServiceStep.objects.get(order=order)
    ServiceStep.objects.filter(pk=step.pk).update(deadline=timezone.now() - timedelta(minutes=5))
    sla_check()
    with django_capture_on_commit_callbacks(execute=True):
        step_complete(step=step, actor="test")
    assert SlaAlert.objects.get().resolved_at is not None


def test_the_beat_schedule_checks_every_minute(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["orchestration-check-slas"]
    assert entry["task"] == "orchestration.check_slas" and entry["schedule"] == 60.0


class RecordingNotifier:
    seen: list = []

    def notify_breach(self, *, alert, recipients):
        RecordingNotifier.seen.append((alert.pk, tuple(recipients)))


def test_the_configured_notifier_is_told_after_commit(
    routed, settings, django_capture_on_commit_callbacks
):
    settings.OMS_SLA_NOTIFIER = "tests.orchestration.test_sla.RecordingNotifier"
    order = routed("fresh")
    ServiceStep.objects.filter(order=order).update(deadline=timezone.now() - timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=True):
        sla_check()
    alert = SlaAlert.objects.get()
    assert RecordingNotifier.seen[-1] == (alert.pk, tuple(alert.notified))
