"""Webhook URLs reach public addresses only: refused on subscribe (API, admin) and on send.

The delivery log the merchant reads holds plain reasons, never a socket error.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse

from orchestration.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from orchestration.services.webhooks import webhook_deliver, webhook_emit, webhook_subscribe

pytestmark = pytest.mark.django_db


@pytest.fixture
def nothing_allowed(settings):
    settings.OMS_OUTBOUND_ALLOW_ADDRESSES = []


def _deliver_one(merchant, capture) -> WebhookDelivery:
    with capture(execute=False), transaction.atomic():
        webhook_emit(merchant_id=merchant.pk, event_type="service.step_done", data={"n": 1})
    delivery = WebhookDelivery.objects.get()
    webhook_deliver(delivery_id=delivery.pk, force=True)
    delivery.refresh_from_db()
    return delivery


def test_the_api_refuses_a_metadata_service_url_at_the_field(api, fake_dns, nothing_allowed):
    fake_dns["metadata.merchant.test"] = ["169.254.169.254"]
    for url in ("http://metadata.merchant.test/latest", "http://[::1]:8000/", "http://10.0.0.5/"):
        response = api.post("/api/webhooks/", {"event_type": "*", "url": url})
        assert response.status_code == 400, url
        assert set(response.json()) == {"url"}
        assert "public address" in response.json()["url"][0]
    assert not WebhookSubscription.objects.exists()


def test_the_api_refuses_credentials_in_the_url(api, fake_dns):
    fake_dns["hooks.merchant.test"] = ["93.184.215.14"]
    response = api.post(
        "/api/webhooks/", {"event_type": "*", "url": "https://u:p@hooks.merchant.test/x"}
    )
    assert response.status_code == 400
    assert response.json() == {"url": ["Leave the user name and password out of the URL."]}


def test_the_admin_refuses_a_private_url(merchant, fake_dns, nothing_allowed, client):
    user = User.objects.create_superuser("root", "root@example.com", "pw-12345-long")
    client.force_login(user)
    fake_dns["intranet.merchant.test"] = ["192.168.0.10"]
    response = client.post(
        reverse("admin:orchestration_webhooksubscription_add"),
        {
            "merchant": merchant.pk,
            "event_type": "*",
            "url": "http://intranet.merchant.test/hook",
            "active": "on",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert "use a public address" in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_a_url_that_resolves_privately_later_is_refused_at_send_time(
    merchant, fake_dns, no_connections, nothing_allowed, django_capture_on_commit_callbacks
):
    fake_dns["hooks.merchant.test"] = ["93.184.215.14"]
    webhook_subscribe(merchant=merchant, event_type="*", url="http://hooks.merchant.test:6379/")
    fake_dns["hooks.merchant.test"] = ["127.0.0.1"]
    delivery = _deliver_one(merchant, django_capture_on_commit_callbacks)
    assert no_connections == []
    assert delivery.state == WebhookDelivery.State.PENDING  # retried: the name may change back
    assert delivery.last_error == "refused: address not allowed"
    assert WebhookAttempt.objects.get().error == "refused: address not allowed"


def test_the_delivery_log_says_connection_failed_without_socket_details(
    merchant, django_capture_on_commit_callbacks, api
):
    webhook_subscribe(merchant=merchant, event_type="*", url="http://127.0.0.1:9/hook")
    delivery = _deliver_one(merchant, django_capture_on_commit_callbacks)
    assert delivery.last_error == "connection failed"
    logged = api.get("/api/webhooks/deliveries/").json()["results"][0]
    assert logged["last_error"] == "connection failed"
    assert "Errno" not in str(logged) and "refused" not in str(logged).lower()


def test_a_redirect_is_a_failed_attempt_and_not_followed(
    merchant, django_capture_on_commit_callbacks
):
    followed: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == "/elsewhere":
                followed.append(self.path)
            self.send_response(302)
            self.send_header("Location", "/elsewhere")
            self.end_headers()

        def do_GET(self):
            followed.append(self.path)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        webhook_subscribe(merchant=merchant, event_type="*", url=url)
        delivery = _deliver_one(merchant, django_capture_on_commit_callbacks)
    finally:
        server.shutdown()
        server.server_close()
    assert followed == []
    assert delivery.state == WebhookDelivery.State.PENDING
    assert delivery.last_status_code == 302
    assert delivery.last_error == "HTTP 302: redirects are not followed"
