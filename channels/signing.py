"""Signatures over ``"{timestamp}." + raw body``: the one module that signs and verifies them.

Channel deliveries coming in and merchant webhooks going out are signed alike. Pure: no
Django import. Binding the timestamp into the MAC (as Stripe signs webhooks) means a captured
request cannot be replayed later with a fresh timestamp header; both directions refuse a
timestamp more than 300 seconds from the clock and compare signatures in constant time. The
MAC is HMAC-SHA256 from :mod:`customers.matching.keyed`. Two header schemes, both published:

- channel deliveries (inbound): ``X-Timestamp: <unix seconds>``, ``X-Signature: sha256=<hex>``
  (:func:`sign`, :func:`verify`);
- merchant webhooks (outbound): ``OMS-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]``, one
  ``v1`` per secret in force, two during a rotation (:func:`webhook_signature_header`,
  :func:`verify_webhook_signature`, which is what a merchant's receiver does).
"""

import hmac
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from customers.matching.keyed import hmac_sha256

SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Timestamp"
DEFAULT_TOLERANCE_SECONDS = 300


def signature_hex(secret: str, timestamp: int | str, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``f"{timestamp}."`` + ``body`` under ``secret``: both schemes' MAC."""
    return hmac_sha256(secret.encode(), f"{timestamp}.".encode() + body).hex()


def secrets_in_force(
    *, current: str, previous: str, previous_until: datetime | None, now: datetime
) -> list[str]:
    """The secrets that sign and verify now, current first.

    During a rotation the previous secret stays in force until ``previous_until`` (None: until
    it is cleared), so senders and receivers can switch at different moments.
    """
    in_force = [current]
    if previous and (previous_until is None or previous_until > now):
        in_force.append(previous)
    return in_force


def _fresh(timestamp: int, now: float, tolerance_seconds: int) -> bool:
    return abs(now - timestamp) <= tolerance_seconds


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-Signature`` value for ``body`` sent at ``timestamp``."""
    return "sha256=" + signature_hex(secret, timestamp, body)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""


def verify(
    *,
    secrets: Sequence[str],
    signature: str,
    timestamp: str,
    body: bytes,
    now: float,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> Verdict:
    """Check the signature against each valid secret (current, then previous) in constant time."""
    if not signature:
        return Verdict(False, f"Missing {SIGNATURE_HEADER} header.")
    if not timestamp:
        return Verdict(False, f"Missing {TIMESTAMP_HEADER} header.")
    if not timestamp.isdigit() or len(timestamp) > 12:
        return Verdict(False, f"{TIMESTAMP_HEADER} must be Unix seconds.")
    if not _fresh(int(timestamp), now, tolerance_seconds):
        return Verdict(False, f"{TIMESTAMP_HEADER} is more than {tolerance_seconds} s off.")
    if not signature.startswith("sha256="):
        return Verdict(False, f"{SIGNATURE_HEADER} must look like sha256=<hex>.")
    for secret in secrets:
        if secret and hmac.compare_digest(sign(secret, timestamp, body), signature):
            return Verdict(True)
    return Verdict(False, "Signature does not match.")


def webhook_signature_header(*, secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    """``t=...,v1=...`` with one ``v1`` per secret in force (two during a rotation)."""
    parts = [f"t={timestamp}"]
    parts += [f"v1={signature_hex(secret, timestamp, body)}" for secret in secrets]
    return ",".join(parts)


def verify_webhook_signature(
    *,
    header: str,
    body: bytes,
    secret: str,
    now: float | None = None,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """What a merchant's receiver does: any ``v1`` matches and ``t`` is within the tolerance."""
    fields = [part.split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [value for name, value in fields if name == "t"]
    if len(timestamps) != 1 or not timestamps[0].isdigit():
        return False
    timestamp = int(timestamps[0])
    if not _fresh(timestamp, time.time() if now is None else now, tolerance_seconds):
        return False
    expected = signature_hex(secret, timestamp, body)
    return any(hmac.compare_digest(expected, value) for name, value in fields if name == "v1")
