"""Re-sending a webhook from the order workspace: staff pick a past delivery (or the order's
latest event), it goes on the webhooks queue and out through the outbound guard, and the
re-send is recorded (delivery log, order timeline). Permissions as the order's other actions.

Deliveries go to a tiny HTTP server on 127.0.0.1 started by the test (loopback only)."""

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from oms.models import OrderEvent
from oms.permissions import OPERATIONS_GROUP
from orchestration.models import WebhookAttempt, WebhookDelivery, WebhookEvent
from orchestration.services.webhooks import webhook_subscribe
from tests.orchestration.test_webhooks import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def ops_client(client):
    user = User.objects.create_user("ops", password="pw-12345-long", is_staff=True)
    user.groups.add(Group.objects.get(name=OPERATIONS_GROUP))
    client.force_login(user)
    return client


@pytest.fixture
def delivered(merchant, receiver, routed, django_capture_on_commit_callbacks):
    """A routed order whose 'step done' webhook reached the merchant once."""
    webhook_subscribe(merchant=merchant, event_type="service.step_done", url=receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        order = routed("furniture")  # the electronic warranty is issued at once: step_done
    delivery = WebhookDelivery.objects.get(event__order=order)
    assert delivery.state == WebhookDelivery.State.DELIVERED and len(receiver.requests) == 1
    return order, delivery


def _url(order) -> str:
    return reverse("orchestration:ops-order-webhooks", args=[order.pk])


def test_staff_resend_a_past_delivery_with_the_same_event_id(
    ops_client, delivered, receiver, django_capture_on_commit_callbacks
):
    order, delivery = delivered
    page = ops_client.get(_url(order)).content.decode()
    assert f'value="{delivery.pk}"' in page and "service.step_done" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = ops_client.post(_url(order), {"delivery": delivery.pk})

    assert response.status_code == 302
    assert response.url == reverse("admin:oms_order_change", args=[order.pk])
    assert len(receiver.requests) == 2
    first, again = (r["headers"]["OMS-Event-Id"] for r in receiver.requests)
    assert first == again == str(delivery.event.event_id)
    assert receiver.requests[0]["body"] == receiver.requests[1]["body"]
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.DELIVERED and delivery.attempts == 2
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 2
    note = OrderEvent.objects.get(order=order, kind="webhook_resent")
    assert note.actor == "user:ops" and note.data["delivery"] == delivery.pk
    assert "service.step_done" in note.message and "127.0.0.1" in note.message


def test_the_latest_event_goes_to_a_subscription_added_since(
    ops_client, delivered, merchant, django_capture_on_commit_callbacks
):
    order, delivery = delivered
    late = Receiver()
    try:
        added = webhook_subscribe(merchant=merchant, event_type="*", url=late.url)
        with django_capture_on_commit_callbacks(execute=True):
            response = ops_client.post(_url(order), {"delivery": "latest"})
        assert response.status_code == 302
        latest = WebhookEvent.objects.filter(order=order).order_by("-created_at", "-pk").first()
        assert len(late.requests) == 1
        assert late.requests[0]["headers"]["OMS-Event-Id"] == str(latest.event_id)
        assert WebhookDelivery.objects.get(event=latest, subscription=added).state == "delivered"
    finally:
        late.close()


def test_an_address_the_guard_refuses_is_said_and_nothing_is_queued(
    ops_client, delivered, receiver, django_capture_on_commit_callbacks
):
    order, delivery = delivered
    # The URL passed the check when saved; its name resolves to a private address now.
    type(delivery.subscription).objects.filter(pk=delivery.subscription_id).update(
        url="http://10.0.0.7/hooks"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = ops_client.post(_url(order), {"delivery": delivery.pk})

    assert response.status_code == 400
    assert "nothing was sent" in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.state == WebhookDelivery.State.DELIVERED
    assert len(receiver.requests) == 1
    assert not OrderEvent.objects.filter(order=order, kind="webhook_resent").exists()


def test_a_switched_off_subscription_is_not_sent_to(ops_client, delivered, receiver):
    order, delivery = delivered
    type(delivery.subscription).objects.filter(pk=delivery.subscription_id).update(active=False)
    response = ops_client.post(_url(order), {"delivery": delivery.pk})
    assert response.status_code == 400 and "switched off" in response.content.decode()
    assert len(receiver.requests) == 1


def test_another_orders_delivery_is_a_404_and_view_only_staff_are_refused(
    client, ops_client, delivered, routed
):
    order, delivery = delivered
    other = routed("other")
    assert ops_client.post(_url(other), {"delivery": delivery.pk}).status_code == 404
    assert ops_client.post(_url(order), {"delivery": "x"}).status_code == 404

    viewer = User.objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.add(*Group.objects.get(name=OPERATIONS_GROUP).permissions.all())
    viewer.user_permissions.remove(viewer.user_permissions.get(codename="change_order"))
    client.force_login(viewer)
    assert client.get(_url(order)).status_code == 403
    assert client.post(_url(order), {"delivery": delivery.pk}).status_code == 403
    page = client.get(reverse("admin:oms_order_change", args=[order.pk])).content.decode()
    assert "Webhooks" in page and _url(order) not in page  # listed, not offered


def test_the_order_page_lists_its_webhooks_with_the_way_to_resend(ops_client, delivered):
    order, delivery = delivered
    page = ops_client.get(reverse("admin:oms_order_change", args=[order.pk])).content.decode()
    assert "Webhooks" in page and "service.step_done" in page
    assert f'href="{_url(order)}"' in page
    zh = ops_client.get(
        reverse("admin:oms_order_change", args=[order.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "重新发送 Webhook" in zh


def test_an_order_without_webhooks_says_so(ops_client, routed):
    order = routed("other")
    page = ops_client.get(_url(order)).content.decode()
    assert "No webhook was written for this order yet." in page
    response = ops_client.post(_url(order), {"delivery": "latest"})
    assert response.status_code == 400
