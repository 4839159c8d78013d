"""Observations (one order's identity fields, as received) and their normalised fingerprints.

An :class:`Observation` is a row of the import CSV or the identity part of a channel order.
:func:`fingerprint` turns it into a :class:`Fingerprint`: the keyed hashes, masked phone and
parsed name/address that matching compares and that the database stores per Identity row.
The raw phone never leaves this step; the HMAC key is the only secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from customers.matching.normalize import (
    NormalizedAddress,
    NormalizedName,
    address_digest,
    fold_width,
    masked_phone_form,
    normalize_address,
    normalize_name,
    normalize_phone,
    phone_digest,
)

# Advertising ids that tracking-limited devices report; they identify nobody.
_PLACEHOLDER_DEVICE = re.compile(r"^(?:0|-)*$|^(?:null|none|unknown|undefined|nan)$")


@dataclass(frozen=True, slots=True)
class Observation:
    """One sighting of a customer: the columns of the ``import_identities`` CSV."""

    record_id: str
    channel: str
    channel_account_id: str
    device_id: str
    phone: str
    receiver_name: str
    address: str
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """The normalised, matchable form of an :class:`Observation`.

    ``account_key`` is "channel:account id"; ``phone_digest`` and ``address_digest`` are
    keyed HMACs (empty when the field is missing or invalid); ``phone_masked`` is for
    explanations only.
    """

    record_id: str
    channel: str
    account_key: str
    device_id: str
    phone_digest: str
    phone_masked: str
    name: NormalizedName | None
    address: NormalizedAddress | None
    address_digest: str
    created_at: datetime | None
    # The receiver named on this sighting is someone other than its customer (a relative
    # ordered for): its name then says nothing about who the customer is.
    named_other: bool = False
    # The phone, device and account on this sighting are someone else's, used to order for
    # this customer (a group-buy leader's, a relative's tablet): they say nothing about who
    # the customer is. Set when they already carry other receivers (see ``resolve``).
    carrier_proxy: bool = False
    # Filed under its customer on the receiver alone (same name and flat, see the optional
    # "address + name" key): its phone, device and account were never shown to be that
    # customer's, so once someone else orders with them they are no evidence for it.
    receiver_linked: bool = False


def normalize_device_id(raw: str) -> str:
    """Lower-case a device id; return "" for missing or all-zero advertising ids."""
    device = fold_width(raw or "").lower()
    return "" if _PLACEHOLDER_DEVICE.match(device) else device


def fingerprint(observation: Observation, *, key: bytes) -> Fingerprint:
    """Normalise an observation; ``key`` is the HMAC key for phone and address digests."""
    phone = normalize_phone(observation.phone or "")
    address = normalize_address(observation.address) if observation.address else None
    account = fold_width(observation.channel_account_id or "")
    return Fingerprint(
        record_id=observation.record_id,
        channel=observation.channel,
        account_key=f"{observation.channel}:{account}" if account else "",
        device_id=normalize_device_id(observation.device_id),
        phone_digest=phone_digest(phone.e164, key) if phone else "",
        phone_masked=phone.masked if phone else masked_phone_form(observation.phone),
        name=normalize_name(observation.receiver_name or ""),
        address=address,
        address_digest=address_digest(address, key) if address else "",
        created_at=observation.created_at,
    )


_NAME_FIELDS = tuple(f.name for f in fields(NormalizedName))
_ADDRESS_FIELDS = tuple(f.name for f in fields(NormalizedAddress))


def fingerprint_to_dict(record: Fingerprint) -> dict[str, Any]:
    """Plain JSON-ready form of a fingerprint (for an Identity row's JSON column).

    Holds no raw phone: only the digest and the mask. ``created_at`` becomes ISO 8601.
    """
    name, address = record.name, record.address
    return {
        "record_id": record.record_id,
        "channel": record.channel,
        "account_key": record.account_key,
        "device_id": record.device_id,
        "phone_digest": record.phone_digest,
        "phone_masked": record.phone_masked,
        # Field by field: ``dataclasses.asdict`` deep-copies every value, 13 % of an import.
        "name": {f: getattr(name, f) for f in _NAME_FIELDS} if name else None,
        "address": {f: getattr(address, f) for f in _ADDRESS_FIELDS} if address else None,
        "address_digest": record.address_digest,
        "created_at": record.created_at.isoformat() if record.created_at else None,
        **({"named_other": True} if record.named_other else {}),
        **({"carrier_proxy": True} if record.carrier_proxy else {}),
        **({"receiver_linked": True} if record.receiver_linked else {}),
    }


def fingerprint_from_dict(data: Mapping[str, Any]) -> Fingerprint:
    """Inverse of :func:`fingerprint_to_dict`."""
    name = data.get("name")
    address = data.get("address")
    created_at = data.get("created_at")
    return Fingerprint(
        record_id=data["record_id"],
        channel=data["channel"],
        account_key=data["account_key"],
        device_id=data["device_id"],
        phone_digest=data["phone_digest"],
        phone_masked=data["phone_masked"],
        name=NormalizedName(**name) if name else None,
        address=NormalizedAddress(**address) if address else None,
        address_digest=data["address_digest"],
        created_at=datetime.fromisoformat(created_at) if created_at else None,
        named_other=bool(data.get("named_other", False)),
        carrier_proxy=bool(data.get("carrier_proxy", False)),
        receiver_linked=bool(data.get("receiver_linked", False)),
    )
