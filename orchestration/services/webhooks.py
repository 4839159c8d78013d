"""Merchant webhooks: an outbox written with the event, signed deliveries retried for 3 days.

``webhook_emit`` runs inside the caller's transaction: the event and one delivery row per
matching subscription commit (or roll back) together with what caused them, and delivery is
enqueued only after the commit. A beat job (``orchestration.dispatch_webhooks``) re-enqueues due
deliveries, so a lost task or a broker outage delays a webhook but never drops it.

Signature (documented for merchants): ``OMS-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]``
where each ``v1`` is HMAC-SHA256 over ``f"{t}.{raw body}"`` with one active secret (two during a
rotation). Receivers recompute it with their secret, compare in constant time, and refuse a
``t`` more than 300 seconds from their clock (``channels.signing.verify_webhook_signature``).
``OMS-Event-Id`` is the same on every attempt, so receivers deduplicate on it.
"""

import json
import logging
import secrets
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from channels import signing
from oms.backoff import backoff_seconds
from oms.models import Merchant, Order
from oms.outbound import OutboundFailed, outbound_post, url_refusal
from oms.stored_text import message
from oms.tasks_queue import enqueue
from orchestration.exceptions import WebhookNotResent
from orchestration.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookEventType,
    WebhookSubscription,
)
from orchestration.privacy import scrub

logger = logging.getLogger(__name__)

GIVE_UP_AFTER = timedelta(days=3)
LEASE = timedelta(seconds=120)


def new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def webhook_subscribe(
    *, merchant: Merchant, event_type: str, url: str, secret: str | None = None
) -> WebhookSubscription:
    """Create a subscription with a fresh signing secret (shown to the merchant once)."""
    return WebhookSubscription.objects.create(
        merchant=merchant, event_type=event_type, url=url, secret=secret or new_secret()
    )


@transaction.atomic
def webhook_secret_rotate(
    *, subscription: WebhookSubscription, overlap: timedelta = timedelta(hours=24)
) -> WebhookSubscription:
    """Issue a new secret; the old one keeps signing (as a second ``v1``) for ``overlap``."""
    locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    locked.previous_secret = locked.secret
    locked.previous_secret_expires_at = timezone.now() + overlap
    locked.secret = new_secret()
    locked.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    return locked


def webhook_emit(
    *, merchant_id: int, event_type: str, data: dict, order: Order | None = None
) -> WebhookEvent | None:
    """Write an event and its deliveries in the current transaction; deliver after commit.

    Nothing is written when no active subscription wants the event. Phone numbers in ``data``
    are masked before anything is stored.
    """
    subscriptions = list(
        WebhookSubscription.objects.filter(
            merchant_id=merchant_id, active=True, event_type__in=[event_type, WebhookEventType.ANY]
        ).order_by("pk")
    )
    if not subscriptions:
        return None
    event = WebhookEvent(merchant_id=merchant_id, event_type=event_type, order=order, payload={})
    event.payload = {
        "id": str(event.event_id),
        "type": event_type,
        "created_at": timezone.now().isoformat(),
        "data": scrub(data),
    }
    event.save()
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(event=event, subscription=s, next_attempt_at=now) for s in subscriptions
    )
    for delivery in deliveries:
        enqueue("orchestration.deliver_webhook", delivery.pk)
    return event


def _secrets_in_force(subscription: WebhookSubscription) -> list[str]:
    return signing.secrets_in_force(
        current=subscription.secret,
        previous=subscription.previous_secret,
        previous_until=subscription.previous_secret_expires_at,
        now=timezone.now(),
    )


def event_body(event: WebhookEvent) -> bytes:
    return json.dumps(event.payload, sort_keys=True, separators=(",", ":")).encode()


def _claim(delivery_id: int, *, now: datetime, force: bool) -> WebhookDelivery | None:
    """Take a due delivery for one attempt; a lease keeps other workers off while it runs."""
    with transaction.atomic():
        rows = WebhookDelivery.objects.select_for_update(skip_locked=True).filter(
            pk=delivery_id, state=WebhookDelivery.State.PENDING
        )
        if not force:
            rows = rows.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        delivery = rows.select_related("event", "subscription").first()
        if delivery is None:
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = now + LEASE
        delivery.save(update_fields=["attempts", "next_attempt_at"])
        return delivery


def webhook_deliver(*, delivery_id: int, force: bool = False) -> str:
    """Make one HTTP attempt for a due delivery and record it; returns the delivery's state.

    2xx is delivered. Anything else (status, redirect, timeout, refused address) schedules the
    next attempt with backoff, until three days after the event, when the delivery gives up
    (replay in admin). The URL is checked again before each attempt (``oms.outbound``).
    """
    now = timezone.now()
    delivery = _claim(delivery_id, now=now, force=force)
    if delivery is None:
        return "skipped"
    body = event_body(delivery.event)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "OMS-Webhooks/1",
        "OMS-Event-Id": str(delivery.event.event_id),
        "OMS-Event-Type": delivery.event.event_type,
        "OMS-Timestamp": str(timestamp),
        "OMS-Signature": signing.webhook_signature_header(
            secrets=_secrets_in_force(delivery.subscription), timestamp=timestamp, body=body
        ),
    }
    # The merchant reads ``error`` in the delivery log: only plain reasons go there (refused,
    # host not found, connection failed, timed out, HTTP <status>), never a socket error.
    status_code, error, excerpt = None, "", ""
    started = time.perf_counter()
    try:
        response = outbound_post(
            delivery.subscription.url,
            body=body,
            headers=headers,
            timeout=settings.OMS_WEBHOOK_TIMEOUT_SECONDS,
        )
    except OutboundFailed as exc:
        error = exc.reason
    else:
        status_code, excerpt = response.status_code, response.excerpt
        if 300 <= status_code < 400:
            error = f"HTTP {status_code}: redirects are not followed"
        elif not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    duration_ms = (time.perf_counter() - started) * 1000
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            status_code=status_code,
            duration_ms=duration_ms,
            error=scrub(error)[:300],
            response_excerpt=scrub(excerpt)[:300],
        )
        delivery.last_status_code = status_code
        delivery.last_error = scrub(error)[:300]
        if status_code is not None and 200 <= status_code < 300:
            delivery.state = WebhookDelivery.State.DELIVERED
            delivery.delivered_at = timezone.now()
            delivery.next_attempt_at = None
        else:
            delay = backoff_seconds(
                delivery.attempts,
                base=settings.OMS_WEBHOOK_BACKOFF_BASE_SECONDS,
                cap=settings.OMS_WEBHOOK_BACKOFF_MAX_SECONDS,
            )
            next_at = timezone.now() + timedelta(seconds=delay)
            if next_at > delivery.event.created_at + GIVE_UP_AFTER:
                delivery.state = WebhookDelivery.State.GAVE_UP
                delivery.next_attempt_at = None
            else:
                delivery.next_attempt_at = next_at
        delivery.save()
    logger.info(
        "webhook event=%s delivery=%s attempt=%s status=%s state=%s",
        delivery.event.event_id,
        delivery.pk,
        delivery.attempts,
        status_code,
        delivery.state,
    )
    return delivery.state


@transaction.atomic
def webhook_replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now (same event id and body), whatever its state."""
    locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    locked.state = WebhookDelivery.State.PENDING
    locked.next_attempt_at = timezone.now()
    locked.save(update_fields=["state", "next_attempt_at"])
    enqueue("orchestration.deliver_webhook", locked.pk)
    return locked


def webhooks_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def _resendable(delivery: WebhookDelivery) -> None:
    subscription = delivery.subscription
    if not subscription.active:
        raise WebhookNotResent(
            _("The subscription to %(url)s is switched off: nothing was sent.")
            % {"url": _host(subscription.url)},
            delivery=delivery.pk,
        )
    refusal = url_refusal(subscription.url)
    if refusal:
        raise WebhookNotResent(
            _("%(url)s cannot be called (%(reason)s): nothing was sent.")
            % {"url": _host(subscription.url), "reason": refusal},
            delivery=delivery.pk,
        )


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


@transaction.atomic
def webhook_resend(
    *, order: Order, actor: str, delivery: WebhookDelivery | None = None
) -> list[WebhookDelivery]:
    """Send one of an order's webhooks again, as staff asked; returns the deliveries queued.

    With ``delivery``: that delivery, again (same event id and body, so the merchant can
    deduplicate). Without: the order's latest event, to every active subscription that wants
    it now (a subscription added since gets its first delivery). Each goes on the webhooks queue
    like any delivery and through the same outbound guard when sent; the guard is asked first
    too, so a refused address is said at once and nothing is queued. Each re-send is written on
    the order's timeline with who asked; the delivery log records the attempts.
    """
    if delivery is not None:
        chosen = (
            WebhookDelivery.objects.select_related("event", "subscription")
            .filter(pk=delivery.pk, event__order=order)
            .first()
        )
        if chosen is None:
            raise WebhookNotResent(_("This webhook is not one of the order's."))
        deliveries = [chosen]
    else:
        event = WebhookEvent.objects.filter(order=order).order_by("-created_at", "-pk").first()
        if event is None:
            raise WebhookNotResent(_("No webhook was written for this order yet."))
        wanted = WebhookSubscription.objects.filter(
            merchant_id=event.merchant_id,
            active=True,
            event_type__in=[event.event_type, WebhookEventType.ANY],
        ).order_by("pk")
        deliveries = []
        for subscription in wanted:
            found, _created = WebhookDelivery.objects.get_or_create(
                event=event, subscription=subscription, defaults={"next_attempt_at": None}
            )
            deliveries.append(found)
        if not deliveries:
            raise WebhookNotResent(_("No active subscription wants this order's latest webhook."))
    for each in deliveries:
        _resendable(each)
    from oms.services.orders import order_note

    queued = []
    for each in deliveries:
        queued.append(webhook_replay(delivery=each))
        order_note(
            order=order,
            actor=actor,
            kind="webhook_resent",
            message=message(
                "order.webhook_resent",
                event_type=each.event.event_type,
                url=_host(each.subscription.url),
            ),
            data={"delivery": each.pk, "event": str(each.event.event_id)},
        )
    return queued
