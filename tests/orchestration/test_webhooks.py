"""Merchant webhooks: outbox in the event's transaction, signed, retried, logged, replayed.

Deliveries go to a tiny HTTP server on 127.0.0.1 started by the test (loopback only).
"""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from channels.signing import verify_webhook_signature, webhook_signature_header
from orchestration.models import WebhookAttempt, WebhookDelivery, WebhookEvent
from orchestration.services.webhooks import (
    webhook_deliver,
    webhook_emit,
    webhook_secret_rotate,
    webhook_subscribe,
)

pytestmark = pytest.mark.django_db


class Receiver:
    """A local endpoint that records requests and answers with the next queued status."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": self.headers, "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"boom")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def subscription(merchant, receiver):
    return webhook_subscribe(merchant=merchant, event_type="*", url=receiver.url)


def _emit(merchant, data=None, capture=None):
    with capture(execute=True), transaction.atomic():
        return webhook_emit(
            merchant_id=merchant.pk,
            event_type="service.step_done",
            data=data or {"order_id": 1, "step": "delivery"},
        )


def test_a_delivery_is_signed_over_timestamp_and_body(
    merchant, subscription, receiver, django_capture_on_commit_callbacks
):
    event = _emit(merchant, capture=django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    headers = request["headers"]
    assert headers["OMS-Event-Id"] == str(event.event_id)
    assert json.loads(request["body"])["id"] == str(event.event_id)
    assert verify_webhook_signature(
        header=headers["OMS-Signature"], body=request["body"], secret=subscription.secret
    )
    assert not verify_webhook_signature(
        header=headers["OMS-Signature"], body=request["body"] + b" ", secret=subscription.secret
    )
    delivery = WebhookDelivery.objects.get(event=event)
    assert delivery.state == WebhookDelivery.State.DELIVERED
    assert delivery.log.get().status_code == 200


def test_the_signature_is_refused_outside_the_300_second_tolerance(subscription):
    body = b"{}"
    header = webhook_signature_header(secrets=[subscription.secret], timestamp=1000, body=body)
    assert verify_webhook_signature(header=header, body=body, secret=subscription.secret, now=1299)
    assert not verify_webhook_signature(
        header=header, body=body, secret=subscription.secret, now=1301
    )


def test_a_failed_attempt_is_retried_with_the_same_event_id(
    merchant, subscription, receiver, django_capture_on_commit_callbacks
):
    receiver.statuses = [500]
    event = _emit(merchant, capture=django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get(event=event)
    assert delivery.state == WebhookDelivery.State.PENDING and delivery.last_status_code == 500
    wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
    assert 10 < wait <= 30  # first backoff: 30 s with jitter 0.5..1
    assert webhook_deliver(delivery_id=delivery.pk) == "skipped"  # not due yet
    assert webhook_deliver(delivery_id=delivery.pk, force=True) == "delivered"
    ids = {r["headers"]["OMS-Event-Id"] for r in receiver.requests}
    assert ids == {str(event.event_id)} and len(receiver.requests) == 2
    assert list(
        WebhookAttempt.objects.filter(delivery=delivery).values_list("status_code", flat=True)
    ) == [500, 200]


def test_delivery_gives_up_three_days_after_the_event(
    merchant, subscription, receiver, django_capture_on_commit_callbacks
):
    receiver.statuses = [503, 503]
    event = _emit(merchant, capture=django_capture_on_commit_callbacks)
    WebhookEvent.objects.filter(pk=event.pk).update(
        created_at=timezone.now() - timedelta(days=3) + timedelta(seconds=5)
    )
    delivery = WebhookDelivery.objects.get(event=event)
    assert webhook_deliver(delivery_id=delivery.pk, force=True) == "gave_up"


def test_the_outbox_row_rolls_back_with_its_transaction(merchant, subscription):
    with pytest.raises(RuntimeError), transaction.atomic():
        webhook_emit(merchant_id=merchant.pk, event_type="service.step_done", data={})
        raise RuntimeError("the cause of the event failed")
    assert not WebhookEvent.objects.exists() and not WebhookDelivery.objects.exists()


def test_no_raw_phone_number_in_payloads_or_logs(
    merchant, subscription, receiver, django_capture_on_commit_callbacks, caplog
):
    receiver.statuses = [500]
    event = _emit(
        merchant,
        data={"note": "call 13800138000 or +86 139-1234-5678", "nested": [{"p": "13900001111"}]},
        capture=django_capture_on_commit_callbacks,
    )
    stored = json.dumps(WebhookEvent.objects.get(pk=event.pk).payload)
    sent = receiver.requests[0]["body"].decode()
    for text in (stored, sent, caplog.text):
        # The raw numbers in any spelling; a bare "5678" could be part of a random port.
        for raw in ("13800138000", "13912345678", "139-1234-5678", "1234-5678", "13900001111"):
            assert raw not in text
    assert "138****8000" in sent


def test_during_a_rotation_both_secrets_sign(
    merchant, subscription, receiver, django_capture_on_commit_callbacks
):
    old_secret = subscription.secret
    rotated = webhook_secret_rotate(subscription=subscription)
    _emit(merchant, capture=django_capture_on_commit_callbacks)
    request = receiver.requests[0]
    header = request["headers"]["OMS-Signature"]
    assert header.count("v1=") == 2
    assert verify_webhook_signature(header=header, body=request["body"], secret=old_secret)
    assert verify_webhook_signature(header=header, body=request["body"], secret=rotated.secret)


def test_only_matching_subscriptions_get_the_event(merchant, receiver):
    webhook_subscribe(merchant=merchant, event_type="service.sla_breached", url=receiver.url)
    assert webhook_emit(merchant_id=merchant.pk, event_type="service.step_done", data={}) is None


def test_replay_in_admin_sends_the_same_event_again(
    client, merchant, subscription, receiver, django_capture_on_commit_callbacks
):
    event = _emit(merchant, capture=django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get(event=event)
    admin = User.objects.create_superuser("root", password="pw-12345-long")
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/orchestration/webhookdelivery/",
            {"action": "replay", "_selected_action": [delivery.pk]},
        )
    assert response.status_code == 302
    assert len(receiver.requests) == 2
    assert {r["headers"]["OMS-Event-Id"] for r in receiver.requests} == {str(event.event_id)}
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.log.count() == 2


def test_the_dispatcher_picks_up_deliveries_whose_task_was_lost(merchant, subscription, receiver):
    from orchestration.tasks import dispatch_webhooks

    with transaction.atomic():  # on_commit never fires inside the test transaction: "lost"
        webhook_emit(merchant_id=merchant.pk, event_type="service.step_done", data={})
    assert receiver.requests == []
    assert dispatch_webhooks() == 1
    assert len(receiver.requests) == 1
