"""Resolve a sighting to a golden customer; link orders to their customer.

``customer_resolve`` fingerprints an observation with the merchant's matching key, reads only
the identities that share a blocking key with it (one indexed query), lets the matching core
decide, and stores the identity with its outcome and reasons. LINK files it under the matched
customer (and merges customers the sighting proves to be one person); REVIEW and NEW create a
new customer, REVIEW also opens a ``ReviewItem``: when unsure, keep apart and ask a person.
"""

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.db import OperationalError, connection, transaction
from django.db.models import Field, Model
from django.db.models.expressions import Col
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
    settled,
)
from customers.matching.keyed import derive_key
from customers.models import (
    Customer,
    Identity,
    IdentityKey,
    MatchRuleSet,
    ReviewItem,
)
from customers.services.merges import _live, customers_merge
from oms.crypto import pii_secret
from oms.models import Merchant, Order

# Newest identities read per blocking key. A strong key (phone digest, device, channel account)
# names one person unless it is shared; one holding more than 256 identities is a relay
# number or a group leader's phone, and its newest 256 are enough to see that it is shared.
# A weak key (address, unit, province + name) is shared by households, neighbours and
# namesakes: 420 identities under one common name at 1M. Capping each key separately keeps a
# hot weak key from pushing a returning customer's phone match out of the candidates.
STRONG_KEY_KINDS = frozenset({"phone", "device", "account"})
STRONG_KEY_LIMIT = 256
WEAK_KEY_LIMIT = 64


def key_limit(key: str) -> int:
    """How many of the newest identities filed under ``key`` a resolution reads."""
    return STRONG_KEY_LIMIT if key.partition(":")[0] in STRONG_KEY_KINDS else WEAK_KEY_LIMIT


def matching_key(merchant: Merchant) -> bytes:
    """The merchant's secret for phone and address digests (derived from the deployment key)."""
    return derive_key(pii_secret().encode(), f"customer-matching:{merchant.code}")


def rules_for(merchant: Merchant) -> tuple[MatchRules, MatchRuleSet | None]:
    row = (
        MatchRuleSet.objects.filter(merchant=merchant).first()
        or MatchRuleSet.objects.filter(merchant__isnull=True).first()
    )
    return (MatchRules.from_mapping(row.rules or {}) if row else MatchRules()), row


@lru_cache(maxsize=256)
def _parsed_rules(text: str | None) -> MatchRules:
    return MatchRules.from_mapping(json.loads(text) or {}) if text else MatchRules()


def _current_rules(merchant: Merchant) -> MatchRules:
    """The merchant's matching rules, read in one statement and parsed once per version.

    The stored JSON is read on every call, so an edit (from any process, by ``save`` or by
    ``update``) applies to the next resolution; only the parsing is cached, keyed by the
    text itself, so there is nothing to invalidate.
    """
    table = MatchRuleSet._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rules FROM {table} WHERE merchant_id = %s OR merchant_id IS NULL "
            "ORDER BY merchant_id IS NULL, id LIMIT 1",
            [merchant.pk],
        )
        row = cursor.fetchone()
    if row is None:
        return _parsed_rules(None)
    text = row[0] if isinstance(row[0], str) or row[0] is None else json.dumps(row[0])
    return _parsed_rules(text)


def column_of(field: Field) -> str:
    """The column of a concrete field (Django calls a field concrete when it has a column)."""
    assert field.column is not None
    return field.column


_CUSTOMER_COLUMNS = tuple(column_of(f) for f in Customer._meta.concrete_fields)
_CUSTOMER_ATTNAMES = tuple(f.attname for f in Customer._meta.concrete_fields)


@lru_cache(maxsize=8)
def _candidate_sql(key_count: int) -> str:
    """One statement for the newest identities of each key, with their customers.

    Each key is its own branch ``ORDER BY identity_id DESC LIMIT n`` (an index-only backward
    scan of ``identity_key_recent_idx`` on PostgreSQL), the branches are unioned, and the
    identities come back newest first with the columns of their customer, so linking needs
    no second query. The text depends only on the number of keys and is built once; the same
    SQL runs on PostgreSQL and SQLite.
    """
    keys = IdentityKey._meta.db_table
    branch = (
        f"SELECT identity_id FROM (SELECT identity_id FROM {keys} WHERE merchant_id = %s "
        "AND key = %s ORDER BY identity_id DESC LIMIT %s) AS k{n}"
    )
    union = " UNION ".join(branch.format(n=n) for n in range(key_count))
    return (
        f"SELECT i.fingerprint, {', '.join('c.' + c for c in _CUSTOMER_COLUMNS)} "
        f"FROM {Identity._meta.db_table} i JOIN {Customer._meta.db_table} c "
        f"ON c.id = i.customer_id WHERE i.id IN ({union}) ORDER BY i.id DESC"
    )


@lru_cache(maxsize=4)
def _customer_converters(vendor: str) -> tuple[tuple[int, Callable, Col], ...]:
    """(column index, converter, column) the ORM applies to a fetched ``Customer`` row."""
    table = Customer._meta.db_table
    converters = []
    for index, field in enumerate(Customer._meta.concrete_fields):
        column = field.get_col(table)
        for converter in connection.ops.get_db_converters(column) + field.get_db_converters(
            connection
        ):
            converters.append((index, converter, column))
    return tuple(converters)


class DatabaseCandidates:
    """The matching core's candidate source over ``IdentityKey``: one indexed query per call.

    Reads the newest identities filed under each key (:func:`key_limit` per key kind), and
    keeps the row of each candidate's customer so :meth:`customer` needs no query.
    """

    def __init__(self, merchant: Merchant) -> None:
        self.merchant = merchant
        self._customer_rows: dict[str, tuple] = {}

    def candidates(self, keys: Sequence[str]) -> Iterable[tuple[Fingerprint, str]]:
        if not keys:
            return []
        params: list[int | str] = []
        for key in keys:
            params += [self.merchant.pk, key, key_limit(key)]
        with connection.cursor() as cursor:
            cursor.execute(_candidate_sql(len(keys)), params)
            rows = cursor.fetchall()
        found = []
        customer_rows = self._customer_rows
        for data, *customer in rows:
            customer_id = str(customer[0])
            customer_rows.setdefault(customer_id, customer)
            fields = json.loads(data) if isinstance(data, str) else data
            found.append((fingerprint_from_dict(fields), customer_id))
        return found

    def customer(self, customer_id: str) -> Customer:
        """The customer of a candidate, as read with it."""
        values = list(self._customer_rows[customer_id])
        for index, converter, column in _customer_converters(connection.vendor):
            values[index] = converter(values[index], column, connection)
        return Customer.from_db(connection.alias, _CUSTOMER_ATTNAMES, values)


def _lock_ids(merchant: Merchant, keys: Sequence[str]) -> list[int]:
    """The advisory-lock ids of a resolution's blocking keys, sorted."""
    return sorted(
        {
            int.from_bytes(
                hashlib.blake2b(f"{merchant.pk}|{key}".encode(), digest_size=8).digest(),
                "big",
                signed=True,
            )
            for key in keys
        }
    )


@lru_cache(maxsize=4)
def _opening_sql(vendor: str) -> str:
    identities, rule_sets = Identity._meta.db_table, MatchRuleSet._meta.db_table
    sql = (
        f"SELECT (SELECT id FROM {identities} WHERE merchant_id = %s AND record_id = %s), "
        f"(SELECT rules FROM {rule_sets} WHERE merchant_id = %s OR merchant_id IS NULL "
        "ORDER BY merchant_id IS NULL, id LIMIT 1)"
    )
    if vendor == "postgresql":
        sql += ", (SELECT count(pg_advisory_xact_lock(k)) FROM unnest(%s::bigint[]) AS k)"
    return sql


def _open(merchant: Merchant, record_id: str, keys: Sequence[str]) -> tuple[int | None, MatchRules]:
    """Lock the keys, and read whether the record is known and the rules: one statement.

    The locks serialise resolutions that could concern the same person (they share a
    blocking key): PostgreSQL transaction-level advisory locks, whose ids go in sorted and
    which ``unnest`` hands to ``pg_advisory_xact_lock`` in array order, so two resolutions
    never wait on each other in a cycle; sightings of different people run in parallel.
    Without them, two orders of one person arriving together would each create a customer.
    The candidates are read by the next statement, whose snapshot starts after the locks
    are held, so they include what the previous holder committed. SQLite serialises writers
    anyway and takes no locks here.
    """
    params: list[int | str | list[int]] = [merchant.pk, record_id, merchant.pk]
    if connection.vendor == "postgresql":
        params.append(_lock_ids(merchant, keys))
    with connection.cursor() as cursor:
        cursor.execute(_opening_sql(connection.vendor), params)
        existing_id, rules = cursor.fetchone()[:2]
    if rules is not None and not isinstance(rules, str):
        rules = json.dumps(rules)
    return existing_id, _parsed_rules(rules)


@lru_cache(maxsize=8)
def _insert_sql(model: type[Model], columns: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))}) RETURNING {quote(column_of(model._meta.pk))}"
    )


def _history_insert(model: type[Customer | Identity], source: str) -> str:
    """SQL copying a just-written row from ``source`` into simple-history as a creation ("+").

    The one parameter is ``history_date``; the user is empty, as in a save by a worker.
    """
    history = model.history.model
    quote = connection.ops.quote_name
    copied = [
        column_of(f) for f in history._meta.concrete_fields if not f.attname.startswith("history_")
    ]
    own = ["history_date", "history_change_reason", "history_type", "history_user_id"]
    return (
        f"INSERT INTO {quote(history._meta.db_table)} "
        f"({', '.join(quote(c) for c in copied + own)}) "
        f"SELECT {', '.join(quote(c) for c in copied)}, %s, NULL, '+', NULL FROM {source}"
    )


@lru_cache(maxsize=8)
def _history_sql(model: type[Customer | Identity]) -> str:
    quote = connection.ops.quote_name
    return _history_insert(
        model, f"{quote(model._meta.db_table)} WHERE {quote(column_of(model._meta.pk))} = %s"
    )


def _prepared(instance: Model, now: datetime) -> list[Any]:
    """The instance's column values (primary key apart) as a save would send them."""
    values = []
    for f in instance._meta.concrete_fields:
        if f.primary_key:
            continue
        if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False):
            setattr(instance, f.attname, now)
        values.append(f.get_db_prep_save(getattr(instance, f.attname), connection))
    return values


@lru_cache(maxsize=4)
def _store_sql(with_customer: bool) -> str:
    """PostgreSQL: the customer (if new), the identity, their history and keys in one statement.

    Data-modifying CTEs chained on ``RETURNING *``; the foreign keys are checked at commit
    (Django declares them deferrable), so the identity may name the customer inserted beside
    it. Every parameter is cast to its column type because ``INSERT ... SELECT`` does not
    infer types from the target columns as ``VALUES`` does.
    """
    quote = connection.ops.quote_name

    def columns(model: type[Model]) -> list[Field]:
        return [f for f in model._meta.concrete_fields if not f.primary_key]

    def placeholder(f: Field) -> str:
        return f"%s::{f.db_type(connection)}"

    parts = []
    identity_fields = columns(Identity)
    identity_columns = ", ".join(quote(column_of(f)) for f in identity_fields)
    if with_customer:
        customer_fields = columns(Customer)
        parts.append(
            f"new_customer AS (INSERT INTO {quote(Customer._meta.db_table)} "
            f"({', '.join(quote(column_of(f)) for f in customer_fields)}) "
            f"VALUES ({', '.join(placeholder(f) for f in customer_fields)}) RETURNING *)"
        )
        parts.append(f"customer_history AS ({_history_insert(Customer, 'new_customer')})")
        values = ", ".join(
            "new_customer.id" if f.attname == "customer_id" else placeholder(f)
            for f in identity_fields
        )
        parts.append(
            f"new_identity AS (INSERT INTO {quote(Identity._meta.db_table)} ({identity_columns}) "
            f"SELECT {values} FROM new_customer RETURNING *)"
        )
    else:
        parts.append(
            f"new_identity AS (INSERT INTO {quote(Identity._meta.db_table)} ({identity_columns}) "
            f"VALUES ({', '.join(placeholder(f) for f in identity_fields)}) RETURNING *)"
        )
    parts.append(f"identity_history AS ({_history_insert(Identity, 'new_identity')})")
    parts.append(
        f"identity_keys AS (INSERT INTO {quote(IdentityKey._meta.db_table)} "
        "(merchant_id, identity_id, key) SELECT new_identity.merchant_id, new_identity.id, k "
        "FROM new_identity CROSS JOIN unnest(%s::varchar[]) AS k)"
    )
    return "WITH " + ", ".join(parts) + " SELECT id, customer_id FROM new_identity"


def _created_at_value(model: type[Model], now: datetime) -> Any:
    """``now`` as the model's ``created_at`` column stores it."""
    field = model._meta.get_field("created_at")
    assert isinstance(field, Field)  # a column, not a relation
    return field.get_db_prep_save(now, connection)


def _insert(instance: Customer | Identity, *, history: bool) -> Model:
    """INSERT one row with its creation history, without the ORM's per-save machinery.

    ``Model.save`` builds and compiles an INSERT, sends signals, and simple-history then does
    the same for the history row: about 2 ms of CPU per resolution, most of its cost. Rows
    written here have no save signals besides simple-history's, whose record (a "+" row with
    no user, as a save by a worker writes) is copied in SQL. Values are prepared by the
    fields themselves, so JSON and time zones are stored exactly as a save would.
    """
    meta = instance._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    values = _prepared(instance, now)
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(type(instance), tuple(column_of(f) for f in fields)), values)
        instance.pk = cursor.fetchone()[0]
        if history:
            cursor.execute(
                _history_sql(type(instance)),
                [_created_at_value(type(instance), now), instance.pk],
            )
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


def _insert_keys(merchant: Merchant, identity_id: int, keys: Sequence[str]) -> None:
    if not keys:
        return
    table = connection.ops.quote_name(IdentityKey._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (merchant_id, identity_id, key) VALUES "
            + ", ".join(["(%s, %s, %s)"] * len(keys)),
            [value for key in keys for value in (merchant.pk, identity_id, key)],
        )


def identity_of(
    merchant: Merchant,
    customer_id: int | None,
    record: Fingerprint,
    decision: Decision,
    outcome: str,
) -> Identity:
    """The (unsaved) identity row of a resolved sighting: what was seen, and why it went where."""
    return Identity(
        merchant=merchant,
        # None for a customer not inserted yet (``_store`` fills it in); Django allows an
        # unsaved row without its foreign key, the stubs do not.
        customer_id=customer_id,  # type: ignore[misc]
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


def _store(
    merchant: Merchant, record: Fingerprint, customer: Customer, decision: Decision, outcome: str
) -> Identity:
    """Write the identity (and ``customer`` when it is new), their creation history and keys.

    One statement on PostgreSQL (:func:`_store_sql`); elsewhere an INSERT per table.
    """
    identity = identity_of(merchant, customer.pk, record, decision, outcome)
    keys = list(blocking_keys(record))
    new_customer = customer.pk is None
    if connection.vendor != "postgresql":
        if new_customer:
            _insert(customer, history=True)
            identity.customer_id = customer.pk
        _insert(identity, history=True)
        _insert_keys(merchant, identity.pk, keys)
    else:
        now = timezone.now()
        stamp = Identity._meta.get_field("created_at").get_db_prep_save(now, connection)
        params: list[Any] = []  # values the fields prepared for the database
        if new_customer:
            params += [*_prepared(customer, now), stamp]
        identity_values = _prepared(identity, now)
        if new_customer:  # the identity's customer_id comes from the new_customer CTE
            attnames = [f.attname for f in Identity._meta.concrete_fields if not f.primary_key]
            del identity_values[attnames.index("customer_id")]
        params += [*identity_values, stamp, keys]
        with connection.cursor() as cursor:
            cursor.execute(_store_sql(new_customer), params)
            identity.pk, customer_id = cursor.fetchone()
        for instance in (customer, identity) if new_customer else (identity,):
            instance._state.adding = False
            instance._state.db = connection.alias
        customer.pk = identity.customer_id = customer_id
    identity.customer = customer
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
    On PostgreSQL one resolution is three statements: key locks + known record + rules
    (:func:`_open`), the candidates with their customers (:class:`DatabaseCandidates`), and
    the writes (:func:`_store`); a review adds its ``ReviewItem``, a bridge its merges. They
    are hand-written SQL because building them with the ORM cost more CPU than the database
    spent running them, and each round trip waits for a CPU on a busy machine (see
    bench/RESULTS-customers-db.md).
    """
    record = fingerprint(observation, key=matching_key(merchant))
    keys = blocking_keys(record)
    existing_id, stored_rules = _open(merchant, observation.record_id, keys)
    if existing_id is not None:
        existing = Identity.objects.select_related("customer").get(pk=existing_id)
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
    rules = rules or stored_rules
    source = DatabaseCandidates(merchant)
    decision = resolve(record, source, rules)
    record = settled(record, decision)
    if decision.outcome is Outcome.LINK and decision.customer_id:
        customer = _live(source.customer(decision.customer_id))
        for other_id in decision.merge_customer_ids:
            other = _live(source.customer(other_id))
            if other.pk != customer.pk:
                customers_merge(
                    survivor=customer,
                    absorbed=other,
                    actor=actor,
                    reason="; ".join(decision.reasons)[:300] or "bridged by a new sighting",
                )
        identity = _store(merchant, record, customer, decision, Identity.Outcome.LINK)
    else:
        customer = Customer(
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
    record = fingerprint(observation, key=matching_key(merchant))
    source = DatabaseCandidates(merchant)
    decision = resolve(record, source, _current_rules(merchant))
    if decision.outcome is not Outcome.LINK or not decision.customer_id:
        return None, decision
    return _live(source.customer(decision.customer_id)), decision


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
