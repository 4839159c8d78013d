"""HMAC request signatures of channel deliveries. Pure: no Django import.

The signed message is ``"{timestamp}." + raw body`` (as Stripe signs webhooks): binding the
timestamp into the MAC means a captured request cannot be replayed later with a fresh
timestamp header. Headers: ``X-Timestamp: <unix seconds>``, ``X-Signature: sha256=<hex>``.
"""

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Timestamp"
DEFAULT_TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-Signature`` value for ``body`` sent at ``timestamp``."""
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


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
    if abs(now - int(timestamp)) > tolerance_seconds:
        return Verdict(False, f"{TIMESTAMP_HEADER} is more than {tolerance_seconds} s off.")
    if not signature.startswith("sha256="):
        return Verdict(False, f"{SIGNATURE_HEADER} must look like sha256=<hex>.")
    for secret in secrets:
        if secret and hmac.compare_digest(sign(secret, timestamp, body), signature):
            return Verdict(True)
    return Verdict(False, "Signature does not match.")
