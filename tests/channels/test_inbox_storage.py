"""What the ingest endpoint stores: signed deliveries whole, anything else as capped evidence.

A sender without the secret can make the inbox count its deliveries, but never store them
whole; it is rate-limited per channel code and address, and its rows are purged.
"""

import hashlib
import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from channels.models import ChannelInboxMessage, InboxStatus
from channels.services import INBOX_EXCERPT_BYTES, inbox_purge_rejected
from channels.tasks import purge_rejected_inbox
from oms.models import ChannelKind, Order
from tests.channels.conftest import sample_bytes
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db

MEGABYTE = 1_000_000


@pytest.fixture
def channel(merchant):
    return ChannelFactory(merchant=merchant, code="douyin", kind=ChannelKind.DOUYIN, name="dy")


def _stored_bytes() -> int:
    return sum(len(bytes(m.body)) for m in ChannelInboxMessage.objects.all())


def test_a_signed_delivery_is_stored_whole_with_its_size_and_hash(
    merchant, catalogue, channel, post_signed
):
    body = sample_bytes("douyin")

    response = post_signed(channel, body)

    assert response.status_code == 201
    message = ChannelInboxMessage.objects.get(pk=response.json()["inbox_id"])
    assert bytes(message.body) == body and message.signature_valid
    assert message.body_size == len(body) and not message.body_truncated
    assert message.body_sha256 == hashlib.sha256(body).hexdigest()


def test_a_signed_delivery_that_cannot_be_parsed_is_still_kept_whole(
    merchant, channel, post_signed
):
    body = b'{"not": "an order", "pad": "' + b"x" * 10_000 + b'"}'

    response = post_signed(channel, body)

    assert response.status_code == 400
    message = ChannelInboxMessage.objects.get()
    assert bytes(message.body) == body and message.status == InboxStatus.FAILED


def test_twenty_unsigned_megabytes_store_twenty_excerpts(merchant, channel, post_signed):
    body = b'{"pad": "' + b"a" * (MEGABYTE - 20) + b'"}'

    for _ in range(20):
        response = post_signed(channel, body, secret="not-the-secret")
        assert response.status_code == 401

    messages = ChannelInboxMessage.objects.all()
    assert messages.count() == 20  # counted
    assert _stored_bytes() == 20 * INBOX_EXCERPT_BYTES  # 40 KB, not 20 MB
    message = messages.first()
    assert message.status == InboxStatus.REJECTED and not message.signature_valid
    assert bytes(message.body) == body[:INBOX_EXCERPT_BYTES] and message.body_truncated
    assert message.body_size == len(body)
    assert message.body_sha256 == hashlib.sha256(body).hexdigest()
    assert not Order.objects.exists()


def test_an_oversized_delivery_is_a_413_counted_by_its_first_bytes(
    merchant, channel, post_signed, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    body = b'{"pad": "' + b"a" * 300_000 + b'"}'

    response = post_signed(channel, body)  # validly signed: too large all the same

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert "100000 bytes" in response.json()["detail"]
    message = ChannelInboxMessage.objects.get()
    assert message.status == InboxStatus.REJECTED and not message.signature_valid
    assert bytes(message.body) == body[:INBOX_EXCERPT_BYTES] and message.body_truncated
    assert message.body_size == len(body) and "payload" in message.error


def test_an_oversized_delivery_to_an_unknown_code_stores_nothing(merchant, client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.generic(
        "POST", "/api/channels/nobody/orders", b"x" * 5000, content_type="application/json"
    )
    assert response.status_code == 404
    assert not ChannelInboxMessage.objects.exists()


def test_deliveries_are_limited_per_channel_code_and_address(
    merchant, channel, post_signed, settings
):
    settings.OMS_CHANNEL_INGEST_RATE = "3/min"
    other = ChannelFactory(merchant=merchant, code="tmall", kind=ChannelKind.TMALL, name="tm")
    for _ in range(3):
        assert post_signed(channel, b"{}", secret="x").status_code == 401

    limited = post_signed(channel, b"{}", secret="x")
    spoofed = post_signed(channel, b"{}", secret="x", headers={"HTTP_X_FORWARDED_FOR": "9.9.9.9"})
    elsewhere = post_signed(channel, b"{}", secret="x", headers={"REMOTE_ADDR": "10.0.0.2"})
    other_code = post_signed(other, b"{}", secret="x")

    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert limited.json()["detail"]
    assert spoofed.status_code == 429  # X-Forwarded-For is not trusted without NUM_PROXIES
    assert elsewhere.status_code == 401 and other_code.status_code == 401
    assert ChannelInboxMessage.objects.count() == 5  # refused ones are not stored


def test_the_limit_fails_open_when_the_cache_is_down(
    merchant, catalogue, channel, post_signed, monkeypatch, caplog
):
    def cache_down(key, *, ttl):
        raise ConnectionError("cache unavailable")

    monkeypatch.setattr("oms.api.throttling._count", cache_down)
    with caplog.at_level(logging.WARNING, logger="channels.api"):
        response = post_signed(channel, sample_bytes("douyin"))
    assert response.status_code == 201
    assert "throttle skipped" in caplog.text


def test_old_rejected_deliveries_are_purged_and_signed_ones_kept(
    merchant, catalogue, channel, post_signed
):
    assert post_signed(channel, sample_bytes("douyin")).status_code == 201
    assert post_signed(channel, b"{}", secret="x").status_code == 401
    assert post_signed(channel, b"{}", secret="y").status_code == 401
    long_ago = timezone.now() - timedelta(days=30)
    ChannelInboxMessage.objects.update(received_at=long_ago)
    assert post_signed(channel, b"{}", secret="z").status_code == 401  # recent: kept

    assert inbox_purge_rejected(older_than=timedelta(days=7), batch=1) == 2

    left = ChannelInboxMessage.objects.order_by("pk")
    assert [m.signature_valid for m in left] == [True, False]
    assert left[1].received_at > long_ago


def test_the_purge_runs_from_the_task_and_the_command(merchant, channel, post_signed, settings):
    settings.OMS_INBOX_REJECTED_KEEP_DAYS = 3
    for secret in ("a", "b"):
        assert post_signed(channel, b"{}", secret=secret).status_code == 401
    ChannelInboxMessage.objects.update(received_at=timezone.now() - timedelta(days=5))

    assert purge_rejected_inbox() == 2
    assert post_signed(channel, b"{}", secret="c").status_code == 401
    ChannelInboxMessage.objects.update(received_at=timezone.now() - timedelta(days=2))
    call_command("purge_rejected_inbox", "--days", "1")
    assert not ChannelInboxMessage.objects.exists()
