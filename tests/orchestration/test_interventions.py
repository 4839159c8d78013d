"""Customer interventions: validated, confirmed by a one-time code, re-plan only what changes."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from orchestration.exceptions import CodeRejected, InterventionNotAllowed, InvalidSlot
from orchestration.models import (
    InterventionRequest,
    OrderTracking,
    PickupPoint,
    ServiceStep,
    StepStatus,
    WebhookEvent,
)
from orchestration.senders import DevelopmentSender
from orchestration.services.interventions import intervention_confirm, intervention_request
from orchestration.services.webhooks import webhook_subscribe
from orchestration.slots import available_slots

pytestmark = pytest.mark.django_db


@pytest.fixture
def furniture(routed):
    order = routed("furniture")
    tracking = OrderTracking.objects.get(order=order)
    delivery = ServiceStep.objects.get(order=order, key="delivery")
    return order, tracking, delivery


def _last_code() -> str:
    return DevelopmentSender.outbox[-1].code


def test_a_confirmed_reschedule_rebooks_the_step_and_tells_everyone(
    furniture, merchant, django_capture_on_commit_callbacks
):
    order, tracking, delivery = furniture
    webhook_subscribe(merchant=merchant, event_type="*", url="http://127.0.0.1:9/hook")
    old_reference = delivery.reference
    untouched = ServiceStep.objects.get(order=order, key="ewarranty")
    slot = available_slots(params=delivery.parameters)[5]
    with django_capture_on_commit_callbacks(execute=True):
        request = intervention_request(
            tracking=tracking, step=delivery, kind="reschedule", value=slot.value
        )
    assert DevelopmentSender.outbox[-1].phone_masked == "138****8000"
    assert request.code_hash and _last_code() not in request.code_hash
    with django_capture_on_commit_callbacks(execute=True):
        intervention_confirm(request=request, code=_last_code())
    delivery.refresh_from_db()
    assert delivery.status == StepStatus.RUNNING
    assert delivery.plan_version == 2 and delivery.reference != old_reference
    assert delivery.eta == slot.end
    assert delivery.result["previous"][0]["reference"] == old_reference
    assert delivery.deadline >= slot.end
    untouched_after = ServiceStep.objects.get(pk=untouched.pk)
    assert untouched_after.updated_at == untouched.updated_at  # not re-planned
    note = order.events.get(kind="customer_intervention")
    assert "rescheduled" in note.message
    event = WebhookEvent.objects.get(event_type="service.intervention")
    # The rescheduled step, plus the downstream steps its new slot pushes back (which ones
    # depends on the weekday the slot falls on).
    assert "delivery" in event.payload["data"]["replanned_steps"]
    assert "13800138000" not in str(event.payload)


def test_a_slot_not_offered_is_refused(furniture):
    order, tracking, delivery = furniture
    with pytest.raises(InvalidSlot):
        intervention_request(
            tracking=tracking,
            step=delivery,
            kind="reschedule",
            value=(timezone.now() + timedelta(minutes=7)).isoformat(),
        )


def test_a_step_the_customer_may_not_change_is_refused(routed):
    order = routed("ev")
    tracking = OrderTracking.objects.get(order=order)
    transport = ServiceStep.objects.get(order=order, key="climate-transport")
    with pytest.raises(InterventionNotAllowed):
        intervention_request(tracking=tracking, step=transport, kind="reschedule", value="x")


def test_wrong_codes_are_counted_and_lock_the_request(furniture, settings):
    settings.OMS_OTP_MAX_ATTEMPTS = 3
    order, tracking, delivery = furniture
    slot = available_slots(params=delivery.parameters)[0]
    request = intervention_request(
        tracking=tracking, step=delivery, kind="reschedule", value=slot.value
    )
    for _ in range(3):
        with pytest.raises(CodeRejected):
            intervention_confirm(request=request, code="000000x")
    request.refresh_from_db()
    assert request.state == InterventionRequest.State.LOCKED and request.attempts == 3


def test_an_expired_code_is_refused(furniture, django_capture_on_commit_callbacks):
    order, tracking, delivery = furniture
    slot = available_slots(params=delivery.parameters)[0]
    with django_capture_on_commit_callbacks(execute=True):
        request = intervention_request(
            tracking=tracking, step=delivery, kind="reschedule", value=slot.value
        )
    with pytest.raises(CodeRejected, match="expired"):
        intervention_confirm(
            request=request, code=_last_code(), now=timezone.now() + timedelta(hours=1)
        )


def test_switching_to_a_nearby_pickup_point(furniture, django_capture_on_commit_callbacks):
    order, tracking, delivery = furniture
    point = PickupPoint.objects.get(code="sh-lujiazui")
    far = PickupPoint.objects.get(code="bj-guomao")
    with pytest.raises(InvalidSlot):
        intervention_request(tracking=tracking, step=delivery, kind="pickup", value=str(far.pk))
    with django_capture_on_commit_callbacks(execute=True):
        request = intervention_request(
            tracking=tracking, step=delivery, kind="pickup", value=str(point.pk)
        )
    with django_capture_on_commit_callbacks(execute=True):
        intervention_confirm(request=request, code=_last_code())
    delivery.refresh_from_db()
    assert delivery.result["data"]["pickup_point"]["code"] == "sh-lujiazui"


def test_the_page_flow_reschedules_with_the_code(
    client, furniture, django_capture_on_commit_callbacks
):
    order, tracking, delivery = furniture
    slot = available_slots(params=delivery.parameters)[3]
    page = client.get(reverse("orchestration:track", args=[tracking.token]))
    assert slot.value in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("orchestration:track-change", args=[tracking.token, delivery.pk]),
            {"kind": "reschedule", "slot": slot.value},
        )
    assert response.status_code == 302 and response["Referrer-Policy"] == "no-referrer"
    confirm_url = response["Location"]
    bad = client.post(confirm_url, {"code": "999999" if _last_code() != "999999" else "111111"})
    assert bad.status_code == 400 and "Wrong code" in bad.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        good = client.post(confirm_url, {"code": _last_code()})
    assert good.status_code == 302
    page = client.get(good["Location"])
    assert "Your change is confirmed." in page.content.decode()
    delivery.refresh_from_db()
    assert delivery.eta == slot.end


def test_another_orders_step_cannot_be_changed_through_this_link(client, furniture, routed):
    _order, tracking, _delivery = furniture
    other = ServiceStep.objects.get(order=routed("furniture"), key="delivery")
    response = client.post(
        reverse("orchestration:track-change", args=[tracking.token, other.pk]),
        {"kind": "reschedule", "slot": "x"},
    )
    assert response.status_code == 404


def test_an_invalid_choice_on_the_page_is_a_400_with_the_reason(client, furniture):
    _order, tracking, delivery = furniture
    response = client.post(
        reverse("orchestration:track-change", args=[tracking.token, delivery.pk]),
        {"kind": "reschedule", "slot": "2001-01-01T09:00:00+08:00"},
    )
    assert response.status_code == 400
    assert "offered time slots" in response.content.decode()
