"""Initial load of the customer master: many observations through the same matcher, fast.

Observations are fingerprinted and resolved in arrival order against one in-memory blocking
index that holds this run's records plus, chunk by chunk, the stored identities sharing a key
with them (one query per chunk). Decisions are the matching core's, exactly as for a single
order. Writes happen at the end in one transaction: customers, identities, their keys and
review items in bulk, and merges of stored customers the file proves to be one person, so an
import is all or nothing and never half-loaded.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction

from customers.matching import (
    BlockingIndex,
    Decision,
    Fingerprint,
    Observation,
    Outcome,
    blocking_keys,
    fingerprint,
    fingerprint_from_dict,
    fingerprint_to_dict,
    resolve,
)
from customers.models import Customer, Identity, IdentityKey, ReviewItem
from customers.services import customers_merge, matching_key, rules_for
from oms.models import Merchant

CHUNK = 2000
KEY_BATCH = 5000


def _insert_keys(rows: Iterable[tuple[int, int, str]]) -> None:
    """Insert (merchant id, identity id, key) rows with multi-row INSERTs, no model objects.

    Five keys per identity make the keys most of an import's rows; building and preparing an
    ``IdentityKey`` instance for each cost about 8x the CPU of this (100,000 keys: 4.3 s vs
    0.5 s) and was a fifth of a 100,000-row import. The table has no signals or history.
    """
    fields = [IdentityKey._meta.get_field(name) for name in ("merchant", "identity", "key")]
    quote = connection.ops.quote_name
    head = (
        f"INSERT INTO {quote(IdentityKey._meta.db_table)} "
        f"({', '.join(quote(f.column) for f in fields)}) VALUES "
    )
    size = max(min(KEY_BATCH, connection.ops.bulk_batch_size(fields, [None] * KEY_BATCH)), 1)
    rows = list(rows)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            batch = rows[start : start + size]
            values = ", ".join(["(%s, %s, %s)"] * len(batch))
            cursor.execute(head + values, [value for row in batch for value in row])


@dataclass
class ImportReport:
    read: int = 0
    skipped_existing: int = 0
    linked: int = 0
    new: int = 0
    review: int = 0
    customers_created: int = 0
    merges: int = 0
    assignments: dict[str, int] = field(default_factory=dict)


def identities_import(
    *,
    merchant: Merchant,
    observations: Iterable[Observation],
    progress: Callable[[int], None] = lambda n: None,
) -> ImportReport:
    rules, _row = rules_for(merchant)
    key = matching_key(merchant)
    index = BlockingIndex()
    report = ImportReport()
    loaded: set[int] = set()
    results: list[tuple[Fingerprint, Decision, str]] = []
    next_new = 0
    chunk: list[Observation] = []

    def run_chunk(batch: list[Observation]) -> None:
        nonlocal next_new
        known = set(
            Identity.objects.filter(
                merchant=merchant, record_id__in=[o.record_id for o in batch]
            ).values_list("record_id", flat=True)
        )
        seen_here: set[str] = set()
        records = []
        for observation in batch:
            if observation.record_id in known or observation.record_id in seen_here:
                report.skipped_existing += 1
                continue
            seen_here.add(observation.record_id)
            records.append(fingerprint(observation, key=key))
        keys = {k for record in records for k in blocking_keys(record)}
        stored = (
            Identity.objects.filter(merchant=merchant, keys__key__in=keys)
            .exclude(pk__in=loaded)
            .distinct()
            .values_list("pk", "fingerprint", "customer_id")
        )
        for pk, data, customer_id in stored:
            loaded.add(pk)
            index.add(fingerprint_from_dict(data), f"db:{customer_id}")
        for record in records:
            decision = resolve(record, index, rules)
            if decision.outcome is Outcome.LINK and decision.customer_id:
                customer_id = decision.customer_id
                for other in decision.merge_customer_ids:
                    customer_id = index.merge(customer_id, other)
            else:
                customer_id = f"new:{next_new}"
                next_new += 1
            index.add(record, customer_id)
            results.append((record, decision, customer_id))
        progress(len(batch))

    for observation in observations:
        report.read += 1
        chunk.append(observation)
        if len(chunk) >= CHUNK:
            run_chunk(chunk)
            chunk = []
    if chunk:
        run_chunk(chunk)

    with transaction.atomic():
        # Group every customer id of this run by its root; a group holding stored customers keeps
        # the oldest of them (the others are merged into it, with an audit record), a group of new
        # ids becomes one new customer.
        stored_ids = set(
            Identity.objects.filter(pk__in=loaded).values_list("customer_id", flat=True)
        )
        members: dict[str, set[str]] = {}
        for cid in {cid for _r, _d, cid in results} | {f"db:{pk}" for pk in stored_ids}:
            members.setdefault(index.find(cid), set()).add(cid)
        first_record: dict[str, Fingerprint] = {}
        for record, _decision, cid in results:
            first_record.setdefault(index.find(cid), record)
        survivor_of: dict[str, int] = {}
        new_roots = []
        for root, ids in members.items():
            stored = sorted(int(cid[3:]) for cid in ids if cid.startswith("db:"))
            if stored:
                survivor_of[root] = stored[0]
                for absorbed in stored[1:]:
                    customers_merge(
                        survivor=Customer.objects.get(pk=stored[0]),
                        absorbed=Customer.objects.get(pk=absorbed),
                        reason="same person in an imported file",
                        actor="import",
                    )
                    report.merges += 1
            else:
                new_roots.append(root)
        created = Customer.objects.bulk_create(
            Customer(
                merchant=merchant,
                display_name=first_record[root].name.full if first_record[root].name else "",
                phone_masked=first_record[root].phone_masked,
            )
            for root in new_roots
        )
        survivor_of.update(
            {root: customer.pk for root, customer in zip(new_roots, created, strict=True)}
        )
        report.customers_created = len(created)
        db_id = survivor_of
        identities = []
        for record, decision, cid in results:
            outcome = (
                Identity.Outcome.LINK
                if decision.outcome is Outcome.LINK
                else decision.outcome.value
            )
            identities.append(
                Identity(
                    merchant=merchant,
                    customer_id=db_id[index.find(cid)],
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
            )
            counter = {"link": "linked", "new": "new", "review": "review"}[decision.outcome.value]
            setattr(report, counter, getattr(report, counter) + 1)
        Identity.objects.bulk_create(identities, batch_size=2000)
        _insert_keys(
            (merchant.pk, identity.pk, k)
            for identity, (record, _d, _c) in zip(identities, results, strict=True)
            for k in blocking_keys(record)
        )
        reviews = []
        for identity, (_record, decision, _cid) in zip(identities, results, strict=True):
            if decision.outcome is Outcome.REVIEW and decision.customer_id:
                suggested = index.find(decision.customer_id)
                reviews.append(
                    ReviewItem(
                        identity=identity,
                        suggested_customer_id=db_id[suggested],
                        score=decision.score,
                        reasons=list(decision.reasons),
                    )
                )
        ReviewItem.objects.bulk_create(reviews, batch_size=2000)
        report.assignments = {identity.record_id: identity.customer_id for identity in identities}
    return report
