"""Template matching, labels per language, request limits, stale-step recovery."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from oms.models import Order
from orchestration.exceptions import InterventionNotAllowed
from orchestration.models import OrderTracking, ServiceStep, ServiceTemplate, StepStatus
from orchestration.services.interventions import intervention_request
from orchestration.services.plans import template_for_order
from orchestration.services.steps import steps_due
from orchestration.slots import available_slots

pytestmark = pytest.mark.django_db


def test_the_highest_priority_then_most_specific_template_wins(routed, merchant):
    order = Order.objects.select_related("channel").get(pk=routed("furniture").pk)
    assert template_for_order(order=order).code == "furniture-home"
    specific = ServiceTemplate.objects.create(
        code="vip-furniture", name="VIP", match_category="furniture", merchant=merchant, priority=5
    )
    assert template_for_order(order=order) == specific
    ServiceTemplate.objects.create(code="other", name="O", match_category="ev", priority=99)
    assert template_for_order(order=order) == specific
    specific.enabled = False
    specific.save()
    assert template_for_order(order=order).code == "furniture-home"


def test_labels_follow_the_language_of_the_request(client, routed):
    order = routed("furniture")
    url = reverse("orchestration:track", args=[OrderTracking.objects.get(order=order).token])
    assert "送货上门" in client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "Home delivery" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_code_requests_are_limited_per_link(routed, settings):
    settings.OMS_OTP_MAX_REQUESTS_PER_HOUR = 2
    order = routed("furniture")
    tracking = OrderTracking.objects.get(order=order)
    delivery = ServiceStep.objects.get(order=order, key="delivery")
    slot = available_slots(params=delivery.parameters)[0]
    for _ in range(2):
        intervention_request(tracking=tracking, step=delivery, kind="reschedule", value=slot.value)
    with pytest.raises(InterventionNotAllowed, match="Too many"):
        intervention_request(tracking=tracking, step=delivery, kind="reschedule", value=slot.value)


def test_a_step_left_running_without_a_booking_is_picked_up_again(routed):
    order = routed("fresh")
    step = ServiceStep.objects.get(order=order)
    ServiceStep.objects.filter(pk=step.pk).update(
        status=StepStatus.RUNNING, reference="", updated_at=timezone.now() - timedelta(hours=1)
    )
    assert step.pk in steps_due()
    step.refresh_from_db()
    assert step.status == StepStatus.READY
    # A booked step waiting for the real world is left alone.
    ServiceStep.objects.filter(pk=step.pk).update(
        status=StepStatus.RUNNING, reference="WB-1", updated_at=timezone.now() - timedelta(hours=1)
    )
    assert step.pk not in steps_due()
