"""Keyed hashes (HMAC-SHA256): the one module that calls ``hmac.new``.

Every keyed digest of the project is built here: phone and address digests of the matching
core, the merchant keys they use, the channels' buyer keys, the hash of a one-time
confirmation code and the signatures of channel deliveries and merchant webhooks
(:mod:`channels.signing`). The module imports no Django, so the pure matching core can use it;
it sits in ``customers.matching`` because that is the lowest Django-free package every app may
import (importing any ``oms`` module loads Django through the Celery app in
``oms/__init__.py``, and ``customers`` imports neither ``channels`` nor ``routing``).

Stored rows depend on these outputs (``Identity.phone_digest``, ``IdentityKey.key``,
``ChannelBuyerKey.digest``, ``InterventionRequest.code_hash``) and their inputs are not kept,
so no migration could recompute them: the formulas must not change. That is also why
``django.utils.crypto.salted_hmac`` (which derives its key as SHA-256 of salt + secret) is not
used. Tests pin known outputs.
"""

import hashlib
import hmac


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 of ``message`` under ``key`` (raw 32 bytes)."""
    return hmac.new(key, message, hashlib.sha256).digest()


def derive_key(secret: bytes, context: str) -> bytes:
    """A key for one use of a deployment secret: HMAC(secret, context).

    ``context`` names the use and its scope (``"customer-matching:<merchant code>"``), so a
    digest made for one merchant or one purpose is useless for another.
    """
    return hmac_sha256(secret, context.encode())


def keyed_hash(value: str, key: bytes, *, purpose: str) -> str:
    """HMAC-SHA256 of ``value`` under ``key``, hex, domain-separated by ``purpose``.

    The purpose ("phone", "address") goes into the message so a phone digest can never
    collide with an address digest computed under the same key.
    """
    return hmac_sha256(key, f"{purpose}\x1f{value}".encode()).hex()
