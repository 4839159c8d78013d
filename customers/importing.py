"""Initial load of the customer master: many observations through the same matcher, fast.

Observations are fingerprinted and resolved in arrival order against one in-memory blocking
index that holds this run's records plus, chunk by chunk, the stored identities sharing a key
with them (one query per chunk). Decisions are the matching core's, exactly as for a single
order. Writes happen at the end in one transaction: customers, identities, their keys and
review items in bulk (``COPY`` on PostgreSQL, with ids reserved from the sequences), and
merges of stored customers the file proves to be one person, so an import is all or nothing
and never half-loaded. Imported rows get no simple-history records (nor did ``bulk_create``):
each identity keeps its own outcome, score and reasons, which is the audit of the link.
"""

import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Field, Model
from django.utils import timezone

from customers.matching import (
    BlockingIndex,
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
    settled,
)
from customers.models import Customer, Identity, IdentityKey, ReviewItem
from customers.services import customers_merge, matching_key, rules_for
from customers.services.resolve import column_of, identity_of
from oms.models import Merchant

CHUNK = 2000
KEY_BATCH = 5000
COPY_BATCH = 20000


def _insert_keys(rows: Iterable[tuple[int, int, str]]) -> None:
    """Insert (merchant id, identity id, key) rows with multi-row INSERTs, no model objects.

    Five keys per identity make the keys most of an import's rows; building and preparing an
    ``IdentityKey`` instance for each cost about 8x the CPU of this (100,000 keys: 4.3 s vs
    0.5 s) and was a fifth of a 100,000-row import. The table has no signals or history.
    """
    meta = IdentityKey._meta
    fields: list[Field] = [
        meta.get_field("merchant"),
        meta.get_field("identity"),
        meta.get_field("key"),
    ]
    quote = connection.ops.quote_name
    head = (
        f"INSERT INTO {quote(IdentityKey._meta.db_table)} "
        f"({', '.join(quote(column_of(f)) for f in fields)}) VALUES "
    )
    size = max(min(KEY_BATCH, connection.ops.bulk_batch_size(fields, [None] * KEY_BATCH)), 1)
    rows = list(rows)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            batch = rows[start : start + size]
            values = ", ".join(["(%s, %s, %s)"] * len(batch))
            cursor.execute(head + values, [value for row in batch for value in row])


def _copy_field(value: object) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    text = value if isinstance(value, str) else str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


def _copy(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Load rows with PostgreSQL ``COPY FROM STDIN``, in batches of ``COPY_BATCH`` rows.

    COPY skips parsing and planning a statement per batch; for the identities, with their
    JSON fingerprints, it is several times faster than multi-row INSERTs.
    """
    quote = connection.ops.quote_name
    statement = (
        f"COPY {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    )
    buffer = io.StringIO()
    count = 0
    with connection.cursor() as cursor:
        for row in rows:
            buffer.write("\t".join(_copy_field(value) for value in row))
            buffer.write("\n")
            count += 1
            if count % COPY_BATCH == 0:
                buffer.seek(0)
                cursor.copy_expert(statement, buffer)
                buffer.seek(0)
                buffer.truncate()
        if buffer.tell():
            buffer.seek(0)
            cursor.copy_expert(statement, buffer)


def _next_ids(model: type[Model], count: int) -> list[int]:
    """Reserve ``count`` primary keys from the table's sequence (PostgreSQL)."""
    if not count:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _write_customers(merchant: Merchant, rows: list[tuple[str, str]]) -> list[int]:
    """Create one customer per (display name, masked phone); their ids, in order."""
    if connection.vendor != "postgresql":
        created = Customer.objects.bulk_create(
            Customer(merchant=merchant, display_name=name, phone_masked=phone)
            for name, phone in rows
        )
        return [customer.pk for customer in created]
    ids = _next_ids(Customer, len(rows))
    now = timezone.now()
    _copy(
        Customer,
        ("id", "merchant_id", "display_name", "phone_masked", "vip", "created_at"),
        (
            (pk, merchant.pk, name, phone, False, now)
            for pk, (name, phone) in zip(ids, rows, strict=True)
        ),
    )
    return ids


def _write_identities(
    merchant: Merchant, rows: list[tuple[Fingerprint, Decision, int]]
) -> list[int]:
    """Store (record, decision, customer id) rows as identities; their ids, in order.

    On PostgreSQL the ids are reserved from the sequence and the rows go in with COPY; the
    values are what ``Identity.save`` would store (an observation time without an offset is
    read in the current time zone, as the ORM does).
    """

    def outcome(decision: Decision) -> str:
        return Identity.Outcome.LINK if decision.outcome is Outcome.LINK else decision.outcome.value

    if connection.vendor != "postgresql":
        identities = [
            identity_of(merchant, customer_id, record, decision, outcome(decision))
            for record, decision, customer_id in rows
        ]
        Identity.objects.bulk_create(identities, batch_size=2000)
        return [identity.pk for identity in identities]
    ids = _next_ids(Identity, len(rows))
    now = timezone.now()

    def observed(record: Fingerprint) -> datetime | None:
        at = record.created_at
        return timezone.make_aware(at) if at is not None and timezone.is_naive(at) else at

    _copy(
        Identity,
        (
            "id",
            "merchant_id",
            "customer_id",
            "record_id",
            "channel",
            "account_key",
            "device_id",
            "phone_digest",
            "phone_masked",
            "name",
            "fingerprint",
            "observed_at",
            "outcome",
            "score",
            "reasons",
            "created_at",
        ),
        (
            (
                pk,
                merchant.pk,
                customer_id,
                record.record_id,
                record.channel,
                record.account_key,
                record.device_id,
                record.phone_digest,
                record.phone_masked,
                record.name.full if record.name else "",
                json.dumps(fingerprint_to_dict(record), ensure_ascii=False),
                observed(record),
                outcome(decision),
                repr(float(decision.score)),
                json.dumps(list(decision.reasons), ensure_ascii=False),
                now,
            )
            for pk, (record, decision, customer_id) in zip(ids, rows, strict=True)
        ),
    )
    return ids


def _sharing_a_key(merchant: Merchant, keys: set[str]) -> Iterable[tuple[int, dict, int]]:
    """(id, fingerprint, customer id) of the stored identities filed under any of ``keys``.

    On PostgreSQL the keys go as one array parameter; the ORM's ``key__in`` with a chunk's
    ~10,000 keys spent more time building the statement than the database spent on it.
    """
    if connection.vendor != "postgresql":
        yield from (
            Identity.objects.filter(merchant=merchant, keys__key__in=keys)
            .distinct()
            .values_list("pk", "fingerprint", "customer_id")
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, fingerprint, customer_id FROM {Identity._meta.db_table} WHERE id IN "
            f"(SELECT identity_id FROM {IdentityKey._meta.db_table} "
            "WHERE merchant_id = %s AND key = ANY(%s)) ORDER BY id DESC",  # as the ORM's
            [merchant.pk, list(keys)],
        )
        for pk, data, customer_id in cursor.fetchall():
            yield pk, (json.loads(data) if isinstance(data, str) else data), customer_id


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


@dataclass
class _ImportRun:
    """What resolving the file builds up, chunk by chunk, for the writes at the end.

    ``index`` holds this run's records (customer ids ``new:<n>``) and the stored identities
    loaded so far (``db:<customer id>``); ``results`` is every new record with its decision and
    the customer id the index gave it, in arrival order.
    """

    merchant: Merchant
    rules: MatchRules
    key: bytes
    index: BlockingIndex = field(default_factory=BlockingIndex)
    report: ImportReport = field(default_factory=ImportReport)
    loaded: set[int] = field(default_factory=set)  # stored identities already in the index
    results: list[tuple[Fingerprint, Decision, str]] = field(default_factory=list)
    next_new: int = 0


def _full_name(record: Fingerprint) -> str:
    return record.name.full if record.name else ""


def identities_import(
    *,
    merchant: Merchant,
    observations: Iterable[Observation],
    progress: Callable[[int], object] = lambda n: None,
) -> ImportReport:
    """Resolve ``observations`` in chunks of ``CHUNK``, then write everything in one
    transaction (see the module docstring)."""
    rules, _row = rules_for(merchant)
    run = _ImportRun(merchant=merchant, rules=rules, key=matching_key(merchant))
    chunk: list[Observation] = []
    for observation in observations:
        run.report.read += 1
        chunk.append(observation)
        if len(chunk) >= CHUNK:
            _resolve_chunk(run, chunk)
            progress(len(chunk))
            chunk = []
    if chunk:
        _resolve_chunk(run, chunk)
        progress(len(chunk))
    with transaction.atomic():
        _write_run(run)
    return run.report


def _resolve_chunk(run: _ImportRun, batch: list[Observation]) -> None:
    """Fingerprint the chunk's new observations, load the stored identities sharing a key with
    them into the index, and resolve each record in arrival order."""
    known = set(
        Identity.objects.filter(
            merchant=run.merchant, record_id__in=[o.record_id for o in batch]
        ).values_list("record_id", flat=True)
    )
    seen_here: set[str] = set()
    records = []
    for observation in batch:
        if observation.record_id in known or observation.record_id in seen_here:
            run.report.skipped_existing += 1
            continue
        seen_here.add(observation.record_id)
        records.append(fingerprint(observation, key=run.key))
    keys = {k for record in records for k in blocking_keys(record)}
    index, loaded = run.index, run.loaded
    # Identities loaded by an earlier chunk are skipped here, not in SQL: excluding them
    # there sent every id loaded so far with each chunk's query.
    for pk, data, customer_id in _sharing_a_key(run.merchant, keys):
        if pk in loaded:
            continue
        loaded.add(pk)
        index.add(fingerprint_from_dict(data), f"db:{customer_id}")
    for record in records:
        decision = resolve(record, index, run.rules)
        if decision.outcome is Outcome.LINK and decision.customer_id:
            customer_id = decision.customer_id
            for other in decision.merge_customer_ids:
                customer_id = index.merge(customer_id, other)
        else:
            customer_id = f"new:{run.next_new}"
            run.next_new += 1
        record = settled(record, decision)
        index.add(record, customer_id)
        run.results.append((record, decision, customer_id))


def _write_run(run: _ImportRun) -> None:
    """Customers (merged or created), identities, their keys and review items of ``run``."""
    merchant, index, results, report = run.merchant, run.index, run.results, run.report
    survivor_of = _settle_customers(run)
    identity_ids = _write_identities(
        merchant,
        [(record, decision, survivor_of[index.find(cid)]) for record, decision, cid in results],
    )
    for _record, decision, _cid in results:
        counter = {"link": "linked", "new": "new", "review": "review"}[decision.outcome.value]
        setattr(report, counter, getattr(report, counter) + 1)
    key_rows = (
        (merchant.pk, identity_id, k)
        for identity_id, (record, _d, _c) in zip(identity_ids, results, strict=True)
        for k in blocking_keys(record)
    )
    if connection.vendor == "postgresql":
        _copy(IdentityKey, ("merchant_id", "identity_id", "key"), key_rows)
    else:
        _insert_keys(key_rows)
    reviews = []
    for identity_id, (_record, decision, _cid) in zip(identity_ids, results, strict=True):
        if decision.outcome is Outcome.REVIEW and decision.customer_id:
            suggested = index.find(decision.customer_id)
            reviews.append(
                ReviewItem(
                    identity_id=identity_id,
                    suggested_customer_id=survivor_of[suggested],
                    score=decision.score,
                    reasons=list(decision.reasons),
                )
            )
    ReviewItem.objects.bulk_create(reviews, batch_size=2000)
    report.assignments = {
        record.record_id: survivor_of[index.find(cid)] for record, _d, cid in results
    }


def _settle_customers(run: _ImportRun) -> dict[str, int]:
    """The stored customer id of every root of the index that this run touched.

    Every customer id of this run is grouped by its root; a group holding stored customers
    keeps the oldest of them (the others are merged into it, with an audit record), a group of
    new ids becomes one new customer.
    """
    index, results, report = run.index, run.results, run.report
    stored_ids = set(
        Identity.objects.filter(pk__in=run.loaded).values_list("customer_id", flat=True)
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
    customer_ids = _write_customers(
        run.merchant,
        [
            (
                _full_name(first_record[root]),
                first_record[root].phone_masked,
            )
            for root in new_roots
        ],
    )
    survivor_of.update(zip(new_roots, customer_ids, strict=True))
    report.customers_created = len(customer_ids)
    return survivor_of
