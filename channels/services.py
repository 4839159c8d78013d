"""Channel ingestion: store the raw delivery, verify it, adapt, price, claim gifts, create the order.

``inbox_receive`` finds the channel whose secret signed the delivery (``inbox_verify``) and
commits the raw body before anything parses it, so nothing a channel sent is ever lost; an
unsigned or oversized delivery keeps only its first bytes, size and hash; ``inbox_process`` (the
API and the admin "replay" action both call it) adapts the payload, prices it, claims
once-per-customer campaigns in the gift ledger and creates the order through
``oms.services.orders.order_create``, all in one transaction. A redelivery of an order that
exists answers with that order and marks the message ``duplicate``.
"""

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import NoReturn

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from channels import identity, selectors, signing, timeline_text
from channels.adapters import CanonicalOrder, PayloadError, parse_payload
from channels.exceptions import (
    ChannelNotFound,
    IngestDeferred,
    NotReplayable,
    PayloadInvalid,
    PayloadTooLarge,
    SignatureRejected,
)
from channels.models import (
    ChannelInboxMessage,
    ChannelOrder,
    ChannelPriceList,
    ChannelPricing,
    GiftGrant,
    GiftRefusal,
    InboxStatus,
    OrderLinePricing,
)
from channels.pricing import LineToPrice, PricingResult, price_order
from customers.matching import mask_phone
from oms.exceptions import DomainError, DuplicateOrder
from oms.models import Order, Product, SalesChannel, new_signing_secret
from oms.services.orders import AddressInput, LineInput, order_create, order_note
from oms.stored_text import message as stored_message

logger = logging.getLogger(__name__)

KEPT_HEADERS = (
    "Content-Type",
    "Content-Length",
    "User-Agent",
    signing.SIGNATURE_HEADER,
    signing.TIMESTAMP_HEADER,
    "X-Request-Id",
    "X-Merchant",
)
MAX_CANDIDATES = 20  # channels sharing one code tried without an X-Merchant header
INBOX_EXCERPT_BYTES = 2048  # what a rejected delivery keeps of its body


def _tolerance() -> int:
    return getattr(
        settings, "CHANNEL_SIGNATURE_TOLERANCE_SECONDS", signing.DEFAULT_TOLERANCE_SECONDS
    )


# --- Secrets --------------------------------------------------------------------------------
@transaction.atomic
def channel_secret_rotate(*, channel: SalesChannel, grace: timedelta = timedelta(hours=24)) -> str:
    """Give the channel a new signing secret; the old one keeps verifying for ``grace``."""
    locked = SalesChannel.objects.select_for_update().get(pk=channel.pk)
    locked.previous_signing_secret = locked.signing_secret
    locked.previous_secret_valid_until = timezone.now() + grace
    locked.signing_secret = new_signing_secret()
    locked.save(
        update_fields=["signing_secret", "previous_signing_secret", "previous_secret_valid_until"]
    )
    channel.signing_secret = locked.signing_secret
    return locked.signing_secret


# --- Prices -------------------------------------------------------------------------------
def channel_price_list_set(*, channel: SalesChannel, price_list: ChannelPriceList | None) -> None:
    """Make the channel sell at ``price_list``; None returns it to the products' list prices."""
    if price_list is None:
        ChannelPricing.objects.filter(channel_id=channel.pk).delete()
        return
    if price_list.merchant_id != channel.merchant_id:
        raise DomainError("A channel can only sell at a price list of its own merchant.")
    ChannelPricing.objects.update_or_create(channel=channel, defaults={"price_list": price_list})


def _secrets_of(channel: SalesChannel) -> list[str]:
    return signing.secrets_in_force(
        current=channel.signing_secret,
        previous=channel.previous_signing_secret,
        previous_until=channel.previous_secret_valid_until,
        now=timezone.now(),
    )


# --- Inbox ----------------------------------------------------------------------------------
def inbox_candidates(*, code: str, merchant_code: str = "") -> list[SalesChannel]:
    """The active channels a delivery's code (and ``X-Merchant``) may name.

    Unknown codes raise ``ChannelNotFound`` and nothing is stored (nobody to replay them for).
    """
    candidates = SalesChannel.objects.filter(code=code, active=True).select_related("merchant")
    if merchant_code:
        candidates = candidates.filter(merchant__code=merchant_code)
    found = list(candidates.order_by("pk")[: MAX_CANDIDATES + 1])
    if not found:
        raise ChannelNotFound("Not found.")
    return found


def inbox_verify(
    *, candidates: list[SalesChannel], signature: str, timestamp: str, body: bytes
) -> signing.Verdict | SalesChannel:
    """The candidate whose secret signed ``body``, else the verdict that says why none did."""
    verdict = signing.Verdict(False, "Too many channels share this code: send X-Merchant.")
    if len(candidates) <= MAX_CANDIDATES:
        for channel in candidates:
            verdict = signing.verify(
                secrets=_secrets_of(channel),
                signature=signature,
                timestamp=timestamp,
                body=body,
                now=time.time(),
                tolerance_seconds=_tolerance(),
            )
            if verdict.ok:
                return channel
            if not verdict.reason.startswith("Signature"):
                break  # header problems are the same for every candidate
    return verdict


def _evidence(
    *,
    code: str,
    candidates: list[SalesChannel],
    headers: dict[str, str],
    excerpt: bytes,
    size: int,
    sha256: str,
    error: dict,
) -> ChannelInboxMessage:
    """Record a rejected delivery by its first bytes, size and hash: never the whole body."""
    only = candidates[0] if len(candidates) == 1 else None
    kept = excerpt[:INBOX_EXCERPT_BYTES]
    return ChannelInboxMessage.objects.create(
        merchant=only.merchant if only else None,
        channel=only,
        channel_code=code[:40],
        headers=_kept_headers(headers),
        body=kept,
        body_size=size,
        body_sha256=sha256,
        body_truncated=len(kept) < size,
        status=InboxStatus.REJECTED,
        error=error,
        processed_at=timezone.now(),
    )


def _kept_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: v[:300] for k, v in headers.items() if k in KEPT_HEADERS}


def inbox_receive(
    *, code: str, body: bytes, headers: dict[str, str], merchant_code: str = ""
) -> tuple[ChannelInboxMessage, SalesChannel]:
    """Verify a delivery and store it, before anything is parsed; committed on return.

    A delivery a candidate channel signed is stored whole, so nothing a channel sent is ever
    lost. Any other is stored as evidence only (the first ``INBOX_EXCERPT_BYTES``, size and
    SHA-256), so that an unsigned sender cannot fill the database, and ``SignatureRejected``
    (401) is raised after its row is committed.
    """
    candidates = inbox_candidates(code=code, merchant_code=merchant_code)
    signed_by = inbox_verify(
        candidates=candidates,
        signature=headers.get(signing.SIGNATURE_HEADER, ""),
        timestamp=headers.get(signing.TIMESTAMP_HEADER, ""),
        body=body,
    )
    if isinstance(signed_by, signing.Verdict):
        message = _evidence(
            code=code,
            candidates=candidates,
            headers=headers,
            excerpt=body,
            size=len(body),
            sha256=hashlib.sha256(body).hexdigest(),
            error={"signature": [signed_by.reason]},
        )
        raise SignatureRejected(signed_by.reason, inbox_id=message.pk)
    message = ChannelInboxMessage.objects.create(
        merchant=signed_by.merchant,
        channel=signed_by,
        channel_code=code[:40],
        headers=_kept_headers(headers),
        body=body,
        body_size=len(body),
        body_sha256=hashlib.sha256(body).hexdigest(),
        signature_valid=True,
    )
    return message, signed_by


def inbox_refuse_oversized(
    *, code: str, headers: dict[str, str], excerpt: bytes, size: int
) -> NoReturn:
    """Record a delivery larger than the limit by its first bytes and size; raise 413.

    The body is not read past the excerpt, so it is neither verified nor hashed: no signature
    makes an oversized delivery acceptable.
    """
    candidates = inbox_candidates(code=code, merchant_code=headers.get("X-Merchant", "")[:40])
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    reason = f"The body ({size} bytes) is larger than the {limit} bytes this endpoint accepts."
    message = _evidence(
        code=code,
        candidates=candidates,
        headers=headers,
        excerpt=excerpt,
        size=size,
        sha256="",
        error={"payload": [reason]},
    )
    raise PayloadTooLarge(reason, inbox_id=message.pk)


def inbox_purge_rejected(*, older_than: timedelta, batch: int = 5000) -> int:
    """Delete rejected deliveries (unsigned or oversized) received before ``older_than`` ago.

    Deletes in batches of primary keys so that no statement holds a long lock. Signed
    deliveries are never purged here. Returns how many rows went.
    """
    cutoff = timezone.now() - older_than
    rejected = ChannelInboxMessage.objects.filter(
        signature_valid=False, status=InboxStatus.REJECTED, received_at__lt=cutoff
    )
    deleted = 0
    while True:
        ids = list(rejected.order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        deleted += ChannelInboxMessage.objects.filter(pk__in=ids).delete()[0]


@dataclass(frozen=True)
class IngestResult:
    order: Order
    duplicate: bool
    message: ChannelInboxMessage
    notes: tuple[str, ...] = ()


def _decode(body: bytes) -> object:
    def no_constants(name: str) -> object:
        raise ValueError(f"{name} is not a number")

    try:
        decoded = json.loads(body.decode("utf-8"), parse_float=Decimal, parse_constant=no_constants)
    except UnicodeDecodeError:
        raise PayloadError({"payload": ["The body is not UTF-8."]}) from None
    except RecursionError:
        raise PayloadError({"payload": ["The JSON is nested too deeply."]}) from None
    except ValueError as exc:
        raise PayloadError({"payload": [f"Malformed JSON: {exc}"]}) from None
    where = _unstorable_text_at(decoded)
    if where is not None:
        raise PayloadError(
            {
                "payload": [
                    f"The text at {where} holds a NUL character or an unpaired surrogate "
                    "(\\u0000, \\ud800-\\udfff), which no order field can store."
                ]
            }
        )
    return decoded


def _unstorable_text(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate escaped in the JSON
        return True
    return False


def _unstorable_text_at(decoded: object) -> str | None:
    """The JSON path of the first key or string the database cannot store, else None.

    Iterative, so a payload nested as deep as the parser allows cannot exhaust the stack.
    """
    stack: list[tuple[str, object]] = [("$", decoded)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if _unstorable_text(value):
                return path
        elif isinstance(value, dict):
            for key, item in value.items():
                if _unstorable_text(key):
                    return path
                stack.append((f"{path}.{key}", item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{index}]", item) for index, item in enumerate(value))
    return None


def _fail(message: ChannelInboxMessage, errors: dict[str, list[str]]) -> PayloadInvalid:
    message.status = InboxStatus.FAILED
    message.error = errors
    message.processed_at = timezone.now()
    message.save(update_fields=["status", "error", "processed_at"])
    return PayloadInvalid(
        "The payload cannot become an order; see errors.", errors=errors, inbox_id=message.pk
    )


def _mark(message: ChannelInboxMessage, *, status: str, order_id: int, external_id: str) -> None:
    message.status = status
    message.order_id = order_id
    message.external_id = external_id[:64]
    message.error = {}
    message.processed_at = timezone.now()
    message.save(update_fields=["status", "order", "external_id", "error", "processed_at"])


def inbox_process(*, message: ChannelInboxMessage, actor: str) -> IngestResult:
    """Turn a verified inbox message into an order (or find the order it already made).

    Raises ``PayloadInvalid`` (400) with field messages and leaves the message ``failed``;
    the same call replays it once the cause (an unknown SKU, a bug in an adapter) is fixed.
    """
    if not message.signature_valid or message.channel_id is None:
        raise NotReplayable("Only deliveries with a valid signature are processed.")
    channel = SalesChannel.objects.select_related("merchant").get(pk=message.channel_id)
    ChannelInboxMessage.objects.filter(pk=message.pk).update(attempts=message.attempts + 1)
    message.attempts += 1
    try:
        canonical = parse_payload(channel.kind, _decode(bytes(message.body)))
        products = _products(channel, canonical)
    except PayloadError as exc:
        raise _fail(message, exc.errors) from None
    existing = Order.objects.filter(
        merchant_id=channel.merchant_id, channel=channel, external_id=canonical.external_id
    ).first()
    if existing is not None:
        _mark(
            message,
            status=InboxStatus.DUPLICATE,
            order_id=existing.pk,
            external_id=existing.external_id,
        )
        return IngestResult(order=existing, duplicate=True, message=message)
    try:
        order, notes = _create(
            channel=channel, canonical=canonical, products=products, message=message, actor=actor
        )
    except DuplicateOrder as exc:  # a concurrent delivery of the same order won the race
        order_id = exc.details["order_id"]
        assert isinstance(order_id, int)  # order_create puts the existing order's id there
        order = Order.objects.get(pk=order_id)
        _mark(
            message, status=InboxStatus.DUPLICATE, order_id=order.pk, external_id=order.external_id
        )
        return IngestResult(order=order, duplicate=True, message=message)
    except PayloadError as exc:
        raise _fail(message, exc.errors) from None
    return IngestResult(order=order, duplicate=False, message=message, notes=tuple(notes))


def _products(channel: SalesChannel, canonical: CanonicalOrder) -> dict[str, Product]:
    errors: dict[str, list[str]] = {}
    if len(canonical.lines) > settings.OMS_MAX_ORDER_LINES:
        errors["lines"] = [f"At most {settings.OMS_MAX_ORDER_LINES} lines per order."]
    if canonical.currency != channel.merchant.currency:
        errors["currency"] = [f"Orders of this merchant are in {channel.merchant.currency}."]
    skus = {line.sku for line in canonical.lines}
    products = {
        p.sku: p
        for p in Product.objects.filter(merchant_id=channel.merchant_id, sku__in=skus, active=True)
    }
    for index, line in enumerate(canonical.lines):
        if line.sku not in products:
            errors.setdefault(f"lines.{index}.sku", []).append(f"Unknown SKU {line.sku!r}.")
    if errors:
        raise PayloadError(errors)
    return products


@transaction.atomic
def _create(
    *,
    channel: SalesChannel,
    canonical: CanonicalOrder,
    products: dict[str, Product],
    message: ChannelInboxMessage,
    actor: str,
) -> tuple[Order, list[str]]:
    merchant = channel.merchant
    buyer, address = canonical.buyer, canonical.address
    customer = identity.customer_for(
        merchant,
        buyer.phone or address.receiver_phone,
        buyer.device_id,
        buyer.account_id,
        channel_kind=channel.kind,
        name=buyer.name or address.receiver_name,
        address=" ".join(
            p for p in (address.province, address.city, address.district, address.address_line) if p
        ),
        record_id=f"channel:{channel.pk}:{canonical.external_id}",
        observed_at=canonical.placed_at,
    )
    rules = {p.pk: p for p in selectors.promotions_at(channel=channel, at=canonical.placed_at)}
    for promotion in rules.values():
        gift = promotion.gift_product  # no query when gift_product_id is null
        if gift is not None:
            products.setdefault(gift.sku, gift)
    channel_prices = selectors.channel_prices_at(
        channel=channel, product_ids=[p.pk for p in products.values()], at=canonical.placed_at
    )
    to_price = []
    for line in canonical.lines:
        product = products[line.sku]
        rule = channel_prices.get(product.pk)
        to_price.append(
            LineToPrice(
                sku=line.sku,
                quantity=line.quantity,
                list_price=product.unit_value,
                channel_price=rule.price if rule else product.unit_value,
                channel_rule=f"{rule.price_list.name}: {rule.price}" if rule else "",
                is_gift=line.is_gift,
                campaign_code=line.campaign_code,
            )
        )
    promotion_rules = [selectors.promotion_rule(p) for p in rules.values()]

    # Claim once-per-customer campaigns; a refused one is priced out and the order re-priced
    # (dropping one campaign can let another qualify, hence the loop; it ends, campaigns only go).
    refused: dict[str, GiftGrant | None] = {}
    grants: list[GiftGrant] = []
    notes: list[str] = []
    pricing: PricingResult = price_order(to_price, promotion_rules)
    for _round in range(10):
        new_refusals = False
        for campaign, once in pricing.claims.items():
            if (
                not once
                or customer is None
                or campaign in refused
                or any(g.campaign_code == campaign for g in grants)
            ):
                continue
            try:
                with transaction.atomic():
                    grants.append(
                        GiftGrant.objects.create(
                            merchant=merchant,
                            campaign_code=campaign,
                            customer=customer,
                            channel=channel,
                        )
                    )
            except IntegrityError:
                refused[campaign] = GiftGrant.objects.filter(
                    merchant=merchant, campaign_code=campaign, customer=customer
                ).first()
                new_refusals = True
        if not new_refusals:
            break
        pricing = price_order(to_price, promotion_rules, excluded_campaigns=frozenset(refused))
    kept = {g.campaign_code for g in grants}
    for grant in [g for g in grants if g.campaign_code not in pricing.claims]:
        grant.delete()  # claimed in an earlier round, priced out in a later one
        kept.discard(grant.campaign_code)
    unchecked = None
    if customer is None and any(once for once in pricing.claims.values()):
        unchecked = stored_message(
            "channels.promotions_unchecked",
            campaigns=sorted(c for c, once in pricing.claims.items() if once),
        )
        notes.append(unchecked.english)

    order = order_create(
        merchant=merchant,
        channel=channel,
        external_id=canonical.external_id,
        lines=[
            LineInput(products[line.sku], line.quantity, line.channel_price)
            for line in pricing.lines
        ],
        address=AddressInput(
            receiver_name=address.receiver_name,
            receiver_phone=address.receiver_phone,
            province=address.province,
            city=address.city,
            district=address.district,
            address_line=address.address_line,
            postal_code=address.postal_code,
        ),
        actor=actor,
        placed_at=canonical.placed_at,
        promised_at=canonical.promised_at,
        shipping_fee=canonical.shipping_fee,
        discount_total=pricing.discount_total,
        currency=canonical.currency,
    )
    order_lines = list(order.lines.all())
    OrderLinePricing.objects.bulk_create(
        OrderLinePricing(
            line=order_line,
            list_price=priced.list_price,
            channel_price=priced.channel_price,
            channel_rule=channel_prices.get(order_line.product_id) if not priced.is_gift else None,
            channel_rule_label=priced.channel_rule[:200],
            promotion_discount=priced.discount,
            promotions=priced.promotions,
            final_line_total=priced.final_line_total,
            reported_unit_price=canonical.lines[priced.source_index].reported_unit_price
            if priced.source_index is not None
            else None,
            is_gift=priced.is_gift,
            gift_campaign=priced.gift_campaign,
        )
        for order_line, priced in zip(order_lines, pricing.lines, strict=True)
    )
    GiftGrant.objects.filter(pk__in=[g.pk for g in grants if g.campaign_code in kept]).update(
        order=order
    )
    group = canonical.group_buy
    ChannelOrder.objects.create(
        order=order,
        channel=channel,
        inbox_message=message,
        customer=customer,
        buyer_phone_masked=mask_phone(buyer.phone),
        buyer_device_id=buyer.device_id,
        buyer_account_id=buyer.account_id,
        reported_total=canonical.reported_total,
        group_order_type=group.order_type if group else "",
        group_leader_id=group.leader_id if group else "",
        group_leader_name=group.leader_name if group else "",
        pickup_point_id=group.pickup_point_id if group else "",
        pickup_point_name=group.pickup_point_name[:120] if group else "",
        group_activity_id=group.activity_id if group else "",
    )
    if customer is not None:
        # The customer master's own link task then finds the order linked and leaves it.
        Order.objects.filter(pk=order.pk, customer__isnull=True).update(customer=customer)
        order.customer = customer
    for campaign, grant in sorted(refused.items()):
        assert customer is not None  # only a known customer's claims are refused
        reason = timeline_text.gift_refused(
            campaign=campaign,
            customer=customer.pk,
            order=grant.order_id if grant and grant.order_id else None,
            channel=grant.channel.name if grant and grant.order_id else "",
        )
        GiftRefusal.objects.create(
            merchant=merchant,
            campaign_code=campaign,
            customer=customer,
            channel=channel,
            order=order,
            grant=grant,
            reason=reason.english[:300],
        )
        order_note(
            order=order,
            actor=actor,
            kind="gift_refused",
            message=reason,
            data={
                "campaign": campaign,
                "customer_id": customer.pk,
                "granted_order_id": grant.order_id if grant else None,
            },
        )
        notes.append(reason.english)
    computed_total = order.total
    if canonical.reported_total is not None and canonical.reported_total != computed_total:
        note = stored_message(
            "channels.price_mismatch",
            reported=str(canonical.reported_total),
            total=str(computed_total),
        )
        order_note(
            order=order,
            actor=actor,
            kind="channel_price_mismatch",
            message=note,
            data={"reported_total": str(canonical.reported_total), "total": str(computed_total)},
        )
        notes.append(note.english)
    if unchecked is not None:
        order_note(order=order, actor=actor, kind="promotion_unchecked", message=unchecked)
    _mark(message, status=InboxStatus.PARSED, order_id=order.pk, external_id=order.external_id)
    return order, notes


def channel_order_ingest(
    *, code: str, body: bytes, headers: dict[str, str], actor: str | None = None
) -> IngestResult:
    """The whole ingest of one delivery: store, verify, process (the API view calls only this)."""
    message, channel = inbox_receive(
        code=code, body=body, headers=headers, merchant_code=headers.get("X-Merchant", "")[:40]
    )
    try:
        return inbox_process(message=message, actor=actor or f"channel:{channel.code}")
    except DomainError:
        raise
    except Exception:
        # Never a bare 500: the delivery is stored; mark it failed so staff can replay it.
        logger.exception("ingest of inbox message %s failed unexpectedly", message.pk)
        _fail(message, {"internal": ["Unexpected error while processing; replay from admin."]})
        raise IngestDeferred(
            "The delivery is stored and will be processed; retry later.", inbox_id=message.pk
        ) from None


def inbox_replay(*, message: ChannelInboxMessage, actor: str) -> IngestResult:
    """Process a failed (or stuck) delivery again, after whatever made it fail was fixed."""
    if message.status not in (InboxStatus.FAILED, InboxStatus.RECEIVED):
        raise NotReplayable(f"Message #{message.pk} is {message.status}; only failed ones replay.")
    return inbox_process(message=message, actor=actor)
