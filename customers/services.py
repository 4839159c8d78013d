"""Customer master services: resolve a sighting to a golden customer, merge, unmerge, review.

``customer_resolve`` fingerprints an observation with the merchant's matching key, reads only
the identities that share a blocking key with it (one indexed query), lets the matching core
decide, and stores the identity with its outcome and reasons. LINK files it under the matched
customer (and merges customers the sighting proves to be one person); REVIEW and NEW create a
new customer, REVIEW also opens a ``ReviewItem``: when unsure, keep apart and ask a person.
"""

import hashlib
import hmac
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from customers.matching import (
    Decision,
    Fingerprint,
    MatchRules,
    Observation,
    Outcome,
    blocking_keys,
    fingerprint,
    fingerprint_from_dict,
    fingerprint_to_dict,
    resolve,
)
from customers.models import (
    Customer,
    CustomerMerge,
    Identity,
    IdentityKey,
    MatchRuleSet,
    ReviewItem,
)
from oms.models import Merchant, Order

CANDIDATE_LIMIT = 256  # most recent identities read per resolution; hot keys are capped


def matching_key(merchant: Merchant) -> bytes:
    """The merchant's secret for phone and address digests (derived from the deployment key)."""
    secret = (settings.OMS_PII_KEY or settings.SECRET_KEY).encode()
    return hmac.new(secret, f"customer-matching:{merchant.code}".encode(), hashlib.sha256).digest()


def rules_for(merchant: Merchant) -> tuple[MatchRules, MatchRuleSet | None]:
    row = (
        MatchRuleSet.objects.filter(merchant=merchant).first()
        or MatchRuleSet.objects.filter(merchant__isnull=True).first()
    )
    return (MatchRules.from_mapping(row.rules or {}) if row else MatchRules()), row


class DatabaseCandidates:
    """The matching core's candidate source over ``IdentityKey``: one indexed query per call."""

    def __init__(self, merchant: Merchant) -> None:
        self.merchant = merchant

    def candidates(self, keys: Sequence[str]) -> Iterable[tuple[Fingerprint, str]]:
        if not keys:
            return []
        rows = Identity.objects.filter(
            pk__in=IdentityKey.objects.filter(merchant=self.merchant, key__in=list(keys))
            .order_by("-identity_id")
            .values("identity_id")[:CANDIDATE_LIMIT]
        ).values_list("fingerprint", "customer_id")
        return [(fingerprint_from_dict(data), str(customer_id)) for data, customer_id in rows]


def _lock_keys(merchant: Merchant, keys: Sequence[str]) -> None:
    """Serialise resolutions that could concern the same person (they share a blocking key).

    PostgreSQL transaction-level advisory locks, taken in sorted order so two resolutions
    never wait on each other in a cycle; sightings of different people run in parallel.
    Without them, two orders of one person arriving together would each create a customer.
    SQLite serialises writers anyway.
    """
    if connection.vendor != "postgresql" or not keys:
        return
    ids = sorted(
        {
            int.from_bytes(
                hashlib.blake2b(f"{merchant.pk}|{key}".encode(), digest_size=8).digest(),
                "big",
                signed=True,
            )
            for key in keys
        }
    )
    with connection.cursor() as cursor:
        for lock_id in ids:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])


def _store(
    merchant: Merchant, record: Fingerprint, customer: Customer, decision: Decision, outcome: str
) -> Identity:
    identity = Identity.objects.create(
        merchant=merchant,
        customer=customer,
        record_id=record.record_id,
        channel=record.channel,
        account_key=record.account_key,
        device_id=record.device_id,
        phone_digest=record.phone_digest,
        phone_masked=record.phone_masked,
        name=record.name.full if record.name else "",
        fingerprint=fingerprint_to_dict(record),
        observed_at=record.created_at,
        outcome=outcome,
        score=decision.score,
        reasons=list(decision.reasons),
    )
    IdentityKey.objects.bulk_create(
        IdentityKey(merchant=merchant, identity=identity, key=key) for key in blocking_keys(record)
    )
    return identity


@transaction.atomic
def customer_resolve(
    *,
    merchant: Merchant,
    observation: Observation,
    actor: str = "system:mdm",
    rules: MatchRules | None = None,
) -> tuple[Customer, Identity, Decision]:
    """Find or create the golden customer of ``observation`` and record why.

    Idempotent per record id: the same sighting resolved twice returns its first identity.
    """
    existing = (
        Identity.objects.filter(merchant=merchant, record_id=observation.record_id)
        .select_related("customer")
        .first()
    )
    if existing is not None:
        return (
            existing.customer,
            existing,
            Decision(
                Outcome(existing.outcome) if existing.outcome != "manual" else Outcome.LINK,
                str(existing.customer_id),
                existing.score,
                tuple(existing.reasons),
            ),
        )
    rules = rules or rules_for(merchant)[0]
    record = fingerprint(observation, key=matching_key(merchant))
    _lock_keys(merchant, blocking_keys(record))
    decision = resolve(record, DatabaseCandidates(merchant), rules)
    if decision.outcome is Outcome.LINK and decision.customer_id:
        customer = _live(Customer.objects.get(pk=int(decision.customer_id)))
        for other_id in decision.merge_customer_ids:
            other = _live(Customer.objects.get(pk=int(other_id)))
            if other.pk != customer.pk:
                customers_merge(
                    survivor=customer,
                    absorbed=other,
                    actor=actor,
                    reason="; ".join(decision.reasons)[:300] or "bridged by a new sighting",
                )
        identity = _store(merchant, record, customer, decision, Identity.Outcome.LINK)
    else:
        customer = Customer.objects.create(
            merchant=merchant,
            display_name=record.name.full if record.name else "",
            phone_masked=record.phone_masked,
        )
        identity = _store(merchant, record, customer, decision, decision.outcome.value)
        if decision.outcome is Outcome.REVIEW and decision.customer_id:
            ReviewItem.objects.create(
                identity=identity,
                suggested_customer_id=int(decision.customer_id),
                score=decision.score,
                reasons=list(decision.reasons),
            )
    return customer, identity, decision


def customer_lookup(
    *, merchant: Merchant, observation: Observation
) -> tuple[Customer | None, Decision]:
    """Who is this, without storing anything: the linked (surviving) customer, or None."""
    rules, _row = rules_for(merchant)
    record = fingerprint(observation, key=matching_key(merchant))
    decision = resolve(record, DatabaseCandidates(merchant), rules)
    if decision.outcome is not Outcome.LINK or not decision.customer_id:
        return None, decision
    customer = Customer.objects.filter(merchant=merchant, pk=int(decision.customer_id)).first()
    return (_live(customer) if customer else None), decision


def _live(customer: Customer) -> Customer:
    """Follow merges to the surviving customer."""
    seen = set()
    while customer.merged_into_id and customer.pk not in seen:
        seen.add(customer.pk)
        customer = customer.merged_into
    return customer


def observation_for_order(
    order: Order, *, device_id: str = "", account_id: str = ""
) -> Observation:
    address = " ".join(
        part for part in (order.province, order.city, order.district, order.address_line) if part
    )
    return Observation(
        record_id=f"oms-order:{order.pk}",
        channel=order.channel.kind if order.channel_id else "",
        channel_account_id=account_id,
        device_id=device_id,
        phone=order.receiver_phone,
        receiver_name=order.receiver_name,
        address=address,
        created_at=order.placed_at,
    )


def order_customer_link(
    *, order_id: int, device_id: str = "", account_id: str = ""
) -> Customer | None:
    """Attach the golden customer to an order (idempotent: an order keeps its customer).

    The order row is not held while matching: resolution runs in its own transaction (under
    the key locks of ``customer_resolve``) and the order is then updated only if it still has
    no customer, so a merge moving orders never waits on a lock held by another resolution.
    A deadlock the database breaks anyway is retried.
    """
    order = Order.objects.select_related("merchant", "channel").filter(pk=order_id).first()
    if order is None:
        return None
    if order.customer_id:
        return order.customer
    observation = observation_for_order(order, device_id=device_id, account_id=account_id)
    for attempt in range(3):
        try:
            customer, _identity, _decision = customer_resolve(
                merchant=order.merchant, observation=observation
            )
            break
        except OperationalError:
            if attempt == 2 or transaction.get_connection().in_atomic_block:
                raise
    Order.objects.filter(pk=order_id, customer__isnull=True).update(
        customer=customer, updated_at=timezone.now()
    )
    return _live(customer)


@transaction.atomic
def customers_merge(
    *, survivor: Customer, absorbed: Customer, reason: str, actor: str
) -> CustomerMerge:
    """Move every identity and order of ``absorbed`` to ``survivor``; remember what moved."""
    if survivor.merchant_id != absorbed.merchant_id or survivor.pk == absorbed.pk:
        raise ValueError("only two different customers of one merchant can be merged")
    identity_ids = list(Identity.objects.filter(customer=absorbed).values_list("pk", flat=True))
    order_ids = list(Order.objects.filter(customer=absorbed).values_list("pk", flat=True))
    Identity.objects.filter(pk__in=identity_ids).update(customer=survivor)
    Order.objects.filter(pk__in=order_ids).update(customer=survivor)
    absorbed.merged_into = survivor
    absorbed._change_reason = f"merged into {survivor.pk}: {reason}"[:100]
    absorbed.save(update_fields=["merged_into"])
    if absorbed.vip and not survivor.vip:
        survivor.vip = True
        survivor.save(update_fields=["vip"])
    return CustomerMerge.objects.create(
        merchant_id=survivor.merchant_id,
        survivor=survivor,
        absorbed=absorbed,
        reason=reason[:300],
        actor=actor,
        moved_identity_ids=identity_ids,
        moved_order_ids=order_ids,
    )


@transaction.atomic
def customers_unmerge(*, merge: CustomerMerge, actor: str) -> None:
    """Undo a merge: the identities and orders that moved go back to the absorbed customer."""
    if merge.undone_at:
        return
    Identity.objects.filter(pk__in=merge.moved_identity_ids, customer=merge.survivor).update(
        customer=merge.absorbed
    )
    Order.objects.filter(pk__in=merge.moved_order_ids, customer=merge.survivor).update(
        customer=merge.absorbed
    )
    absorbed = merge.absorbed
    absorbed.merged_into = None
    absorbed._change_reason = f"unmerged from {merge.survivor_id} by {actor}"[:100]
    absorbed.save(update_fields=["merged_into"])
    merge.undone_at, merge.undone_by = timezone.now(), actor
    merge.save(update_fields=["undone_at", "undone_by"])


@transaction.atomic
def review_decide(*, item: ReviewItem, merge: bool, actor: str) -> ReviewItem:
    """A person settles a doubtful match: merge the two customers, or keep them apart."""
    if item.status != ReviewItem.Status.OPEN:
        return item
    if merge:
        survivor = _live(item.suggested_customer)
        absorbed = _live(item.identity.customer)
        if survivor.pk != absorbed.pk:
            customers_merge(
                survivor=survivor,
                absorbed=absorbed,
                actor=actor,
                reason=f"review: {'; '.join(item.reasons)}"[:300],
            )
    item.status = ReviewItem.Status.MERGED if merge else ReviewItem.Status.KEPT_APART
    item.decided_at, item.decided_by = timezone.now(), actor
    item.save(update_fields=["status", "decided_at", "decided_by"])
    return item
