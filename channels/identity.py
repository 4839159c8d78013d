"""Who is this buyer? The seam between channels and the customer master (MDM).

``customer_for`` answers with a golden ``customers.Customer`` (or None when the order carries
nothing to identify the buyer by). It first takes a row lock on the buyer's key (a keyed HMAC
of the E.164 phone, else of the channel account), so concurrent orders of one buyer resolve one
after the other and the gift ledger sees one customer, never two fresh ones.

Then, when the customer master provides ``customers.services.customer_resolve``, the decision
is the MDM's (scored matching on phone, name, address, device, account). Without it, the
fallback is an exact match on the buyer key itself, kept in ``ChannelBuyerKey``: the same phone
is the same customer. Swapping the resolver needs no change here: ``_mdm_resolver`` looks the
service up at call time.
"""

import importlib
import logging
from collections.abc import Callable
from datetime import datetime

from django.db import transaction

from channels.models import ChannelBuyerKey
from customers.matching import normalize_phone
from customers.matching.keyed import derive_key, hmac_sha256
from customers.models import Customer
from oms.crypto import pii_secret
from oms.models import Merchant

logger = logging.getLogger(__name__)


def buyer_digest(merchant: Merchant, kind: str, value: str) -> str:
    """Keyed HMAC of a normalised identifier: a plain hash of a phone is brute-forced in minutes."""
    key = derive_key(pii_secret().encode(), f"channels-buyer:{merchant.code}")
    return hmac_sha256(key, f"{kind}:{value}".encode()).hex()


def _mdm_resolver() -> Callable | None:
    try:
        services = importlib.import_module("customers.services")
        matching = importlib.import_module("customers.matching")
    except ImportError:
        return None
    resolve = getattr(services, "customer_resolve", None)
    observation = getattr(matching, "Observation", None)
    if resolve is None or observation is None:
        return None
    return lambda **kwargs: resolve(
        merchant=kwargs.pop("merchant"), observation=observation(**kwargs)
    )[0]


def _key_row(merchant: Merchant, kind: str, digest: str) -> ChannelBuyerKey:
    """Get or create the key row, then lock it until the caller's transaction ends."""
    row, _created = ChannelBuyerKey.objects.get_or_create(
        merchant=merchant, kind=kind, digest=digest
    )
    return ChannelBuyerKey.objects.select_for_update().get(pk=row.pk)


@transaction.atomic
def customer_for(
    merchant: Merchant,
    phone: str = "",
    device_id: str = "",
    account_id: str = "",
    *,
    channel_kind: str = "",
    name: str = "",
    address: str = "",
    record_id: str = "",
    observed_at: datetime | None = None,
) -> Customer | None:
    """The unified customer of a buyer; locks the buyer's key for the rest of the transaction.

    ``device_id`` is passed to the MDM only: the fallback never links on a device alone
    (a family tablet is shared by several people).
    """
    normalized = normalize_phone(phone)
    e164 = normalized.e164 if normalized else None
    account = f"{channel_kind}:{account_id}" if account_id else ""
    keys = []
    if e164:
        keys.append((ChannelBuyerKey.Kind.PHONE, buyer_digest(merchant, "phone", e164)))
    if account:
        keys.append((ChannelBuyerKey.Kind.ACCOUNT, buyer_digest(merchant, "account", account)))
    if not keys:
        return None
    primary = _key_row(merchant, *keys[0])
    resolver = _mdm_resolver()
    if resolver is not None:
        customer = resolver(
            merchant=merchant,
            record_id=record_id or f"channels:{primary.digest[:16]}:{observed_at}",
            channel=channel_kind,
            channel_account_id=account_id,
            device_id=device_id,
            phone=e164 or phone,
            receiver_name=name,
            address=address,
            created_at=observed_at,
        )
    else:
        rows = [primary] + [
            ChannelBuyerKey.objects.get_or_create(merchant=merchant, kind=kind, digest=digest)[0]
            for kind, digest in keys[1:]
        ]
        customer = next((row.customer for row in rows if row.customer_id), None)
        if customer is None:
            customer = Customer.objects.create(
                merchant=merchant,
                display_name=name[:120],
                phone_masked=normalized.masked if normalized else "",
            )
        for row in rows:
            if row.customer_id is None:
                row.customer = customer
                row.save(update_fields=["customer"])
        return customer
    if primary.customer_id != customer.pk:
        primary.customer = customer
        primary.save(update_fields=["customer"])
    return customer
