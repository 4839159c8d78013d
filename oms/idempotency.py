"""Idempotency keys for POST requests, with the semantics payment APIs use.

``begin`` claims a key for one merchant in its own committed row before the request runs, so a
concurrent request with the same key sees it in flight (409). Same key + same request replays
the stored response; same key + another request is refused (422). Responses that say "fix your
request and try again" (400, 401, 403, 413, 429) and server errors are not stored: the record
is dropped, so a corrected retry with the same key runs. A record whose worker died is taken
over once its lock expires; records are kept ``OMS_IDEMPOTENCY_TTL_HOURS`` (>= 24 h).
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from oms.models import IdempotencyRecord, Merchant

NOT_STORED = frozenset({400, 401, 403, 413, 429})


class IdempotencyError(Exception):
    status = 409
    code = "idempotency_error"


class KeyInFlight(IdempotencyError):
    status = 409
    code = "idempotency_key_in_flight"


class KeyReused(IdempotencyError):
    status = 422
    code = "idempotency_key_reused"


@dataclass(frozen=True)
class Replay:
    status: int
    body: bytes
    content_type: str


def fingerprint(*, method: str, path: str, body: bytes) -> str:
    """Hash of the request; JSON bodies are canonicalised so key order and spacing don't count."""
    try:
        canonical = json.dumps(
            json.loads(body or b"null"), sort_keys=True, separators=(",", ":")
        ).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


def begin(*, merchant: Merchant, key: str, request_fingerprint: str) -> IdempotencyRecord | Replay:
    """Claim ``key`` for this request, or return the stored response to replay.

    Raises ``KeyInFlight`` while another request holds the key and ``KeyReused`` when the key
    was used for a different request.
    """
    now = timezone.now()
    lock_until = now + timedelta(seconds=settings.OMS_IDEMPOTENCY_LOCK_SECONDS)
    for _attempt in range(2):
        try:
            return _insert(
                IdempotencyRecord(
                    merchant=merchant,
                    key=key,
                    fingerprint=request_fingerprint,
                    locked_until=lock_until,
                )
            )
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(merchant=merchant, key=key).first()
        if existing is None:
            continue  # dropped between our insert and read: claim it again
        if existing.created_at < now - timedelta(hours=settings.OMS_IDEMPOTENCY_TTL_HOURS):
            IdempotencyRecord.objects.filter(pk=existing.pk).delete()
            continue
        if existing.fingerprint != request_fingerprint:
            raise KeyReused("This Idempotency-Key was used with a different request.")
        if existing.state == IdempotencyRecord.State.COMPLETED:
            assert existing.response_status is not None  # ``complete`` stores it with the state
            return Replay(
                existing.response_status,
                bytes(existing.response_body or b""),
                existing.response_content_type,
            )
        taken_over = IdempotencyRecord.objects.filter(
            pk=existing.pk, state=IdempotencyRecord.State.IN_FLIGHT, locked_until__lte=now
        ).update(locked_until=lock_until)
        if taken_over:
            existing.locked_until = lock_until
            return existing
        raise KeyInFlight(
            "A request with this Idempotency-Key is still being processed; retry later."
        )
    raise KeyInFlight("A request with this Idempotency-Key is still being processed; retry later.")


def _insert(record: IdempotencyRecord) -> IdempotencyRecord:
    """Insert and commit the claim; a savepoint only when inside a caller's transaction.

    In autocommit the single INSERT commits on its own and a unique violation leaves the
    connection usable, so BEGIN/COMMIT would only add round trips.
    """
    if transaction.get_connection().in_atomic_block:
        with transaction.atomic():
            record.save(force_insert=True)
    else:
        record.save(force_insert=True)
    return record


def finish(*, record: IdempotencyRecord, status: int, body: bytes, content_type: str) -> None:
    """Store the response for replay, or drop the record when the response is not stored."""
    if status in NOT_STORED or status >= 500:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        return
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyRecord.State.COMPLETED,
        response_status=status,
        response_body=body,
        response_content_type=content_type,
    )


def abandon(*, record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyRecord.State.IN_FLIGHT).delete()


def purge_expired() -> int:
    cutoff = timezone.now() - timedelta(hours=settings.OMS_IDEMPOTENCY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
