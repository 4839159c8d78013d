"""The exceptions queue: open SLA alerts, failed steps and orders needing attention, with the
actions staff take on them (acknowledge, assign, retry, route again), each on the timeline."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils import timezone

from oms.models import InventoryBatch, OrderStatus
from oms.permissions import OPERATIONS_GROUP
from orchestration.models import ServiceStep, SlaAlert, StepStatus
from orchestration.services.sla import sla_check
from tests.factories import make_order

pytestmark = pytest.mark.django_db

URL = "/ops/exceptions/"
ACT = "/ops/exceptions/act/"


def _ops(client, name="ops1"):
    user = User.objects.create_user(name, password="pw-12345-long", is_staff=True)
    user.groups.add(Group.objects.get(name=OPERATIONS_GROUP))
    client.force_login(user)
    return user


@pytest.fixture
def breach(routed):
    """An EV order whose battery lock is late: the factory did not answer twice."""
    order = routed("ev")
    lock = ServiceStep.objects.get(order=order, key="battery-lock")
    ServiceStep.objects.filter(pk=lock.pk).update(
        status=StepStatus.FAILED,
        attempts=5,
        max_attempts=5,
        finished_at=timezone.now(),
        last_error="factory MES did not answer",
        deadline=timezone.now() - timedelta(minutes=30),
    )
    # A failed step is not open any more; the alert of its deadline was raised while it was.
    ServiceStep.objects.filter(pk=lock.pk).update(status=StepStatus.READY)
    assert sla_check() == 1
    ServiceStep.objects.filter(pk=lock.pk).update(status=StepStatus.FAILED)
    return SlaAlert.objects.get()


def test_the_queue_lists_each_kind_with_counts_in_both_languages(client, breach, merchant, stocked):
    waiting = make_order(merchant=merchant, lines=[(stocked["other"], 500)])
    _ops(client)
    page = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Open SLA alerts" in page and "Failed service steps" in page
    assert breach.order.external_id in page and waiting.external_id in page
    assert "factory MES did not answer" in page
    zh = client.get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for words in (
        "未关闭的 SLA 告警",
        "失败的服务步骤",
        "待处理订单",
        "确认",
        "指派",
        "重试步骤",
        "重新路由",
    ):
        assert words in zh
    for english in ("Acknowledge", "Retry step", "Route again", "Orders needing attention"):
        assert english not in zh


def test_acknowledge_assign_and_retry_an_alert(client, breach, django_capture_on_commit_callbacks):
    user = _ops(client)
    colleague = User.objects.create_user("ops2", is_staff=True)
    assert client.post(ACT, {"action": "acknowledge", "id": breach.pk}).status_code == 302
    assert (
        client.post(
            ACT, {"action": "assign", "id": breach.pk, "assignee": colleague.pk}
        ).status_code
        == 302
    )
    breach.refresh_from_db()
    assert breach.acknowledged_by == user.username and breach.acknowledged_at is not None
    assert breach.assignee == colleague and breach.assigned_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        client.post(ACT, {"action": "retry_alert", "id": breach.pk})
    step = ServiceStep.objects.get(pk=breach.step_id)
    # Retried at once (eager): the demo factory answers now, or fails again with more attempts.
    assert step.attempts > 5 or step.status == StepStatus.DONE
    notes = list(breach.order.events.filter(kind="exception").values_list("message", flat=True))
    assert any("acknowledged" in note for note in notes)
    assert any("assigned to ops2" in note for note in notes)
    assert any("retried by staff" in note for note in notes)


def test_a_failed_step_is_retried_from_the_queue(
    client, breach, django_capture_on_commit_callbacks
):
    _ops(client)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(ACT, {"action": "retry_step", "id": breach.step_id})
    step = ServiceStep.objects.get(pk=breach.step_id)
    assert step.status != StepStatus.FAILED or step.attempts > 5
    assert step.max_attempts >= 8


def test_route_again_after_stock_arrives(
    client, merchant, stocked, django_capture_on_commit_callbacks
):
    order = make_order(merchant=merchant, lines=[(stocked["other"], 150)])
    order.refresh_from_db()
    assert order.status == OrderStatus.NEEDS_ATTENTION
    _ops(client)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ACT, {"action": "route_again", "id": order.pk})
    order.refresh_from_db()
    assert order.status == OrderStatus.NEEDS_ATTENTION  # tried again, still short
    assert "sent to routing again" in client.get(response.url).content.decode()
    # Stock corrected behind routing's back (a raw update sends no "stock arrived" signal), so
    # only the staff action routes the order.
    InventoryBatch.objects.filter(product=stocked["other"]).update(on_hand=200)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ACT, {"action": "route_again", "id": order.pk})
    order.refresh_from_db()
    assert order.status == OrderStatus.ROUTED
    assert order.external_id not in client.get(response.url).content.decode()
    assert order.events.filter(kind="exception", message="routed again by staff").count() == 2


def test_actions_need_the_change_permission(client, breach):
    viewer = User.objects.create_user("viewer", password="pw-12345-long", is_staff=True)
    client.force_login(viewer)
    assert client.post(ACT, {"action": "acknowledge", "id": breach.pk}).status_code == 403
    breach.refresh_from_db()
    assert breach.acknowledged_at is None


def test_unknown_actions_and_ids_are_404(client, breach):
    _ops(client)
    assert client.post(ACT, {"action": "explode", "id": breach.pk}).status_code == 404
    assert client.post(ACT, {"action": "acknowledge", "id": "x"}).status_code == 404
    assert client.post(ACT, {"action": "acknowledge", "id": 999999}).status_code == 404
    assert client.get(ACT).status_code == 405


def test_the_queue_page_is_for_staff_only(client):
    assert client.get(URL).status_code == 302
    assert reverse("orchestration:ops-exceptions") == URL
