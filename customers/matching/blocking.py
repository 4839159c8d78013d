"""Blocking index, the ``resolve`` entry point and an incremental resolver over a stream.

Blocking keeps resolution sub-linear: every stored record is filed under a handful of keys
(:func:`blocking_keys`: phone digest, device id, channel account, address digest, a
building/unit/room signature, and administrative prefix + name) and an incoming observation
is compared only with the records that share one of its keys. Each posting list keeps the
most recent ``max_postings_per_key`` records, so a key shared by thousands (a group leader's
phone, 张伟 in one province) bounds the work instead of turning it into a scan. The database
version of the index is a table of (key, identity id) with an index on key; it only needs to
implement :class:`CandidateSource`.

:class:`IncrementalResolver` feeds a stream of fingerprints through ``resolve`` and keeps
customers as a union-find over customer ids: a link adds the record to a customer, a bridge
(one observation qualifying for two customers) unions them, a review or new outcome starts a
customer of its own.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Protocol

from customers.matching.compare import Signal, compare, receivers_disagree
from customers.matching.records import Fingerprint
from customers.matching.score import (
    CARRIER_SIGNALS,
    NAME_DISAGREES,
    Decision,
    MatchRules,
    Outcome,
    PairScore,
    decide,
    score_pair,
    settled,
)


def blocking_keys(record: Fingerprint) -> tuple[str, ...]:
    """The keys a record is filed under and looked up by.

    The unit signature (province + number + building + unit + room) survives typos in the
    street name; the name key (province + name) finds a person who changed phone and whose
    address has a typo. Keys of empty fields are omitted.
    """
    keys = []
    if record.phone_digest:
        keys.append("phone:" + record.phone_digest)
    if record.phone_masked and not record.phone_masked.startswith("+"):
        # Full and masked phones meet here: a masked phone has no digest to file under.
        keys.append("pmask:" + record.phone_masked)
    if record.device_id:
        keys.append("device:" + record.device_id)
    if record.account_key:
        keys.append("account:" + record.account_key)
    address = record.address
    if record.address_digest:
        keys.append("address:" + record.address_digest)
    if address is not None and address.room:
        province = address.admin_prefix[:2]
        keys.append(
            f"unit:{province}|{address.number}|{address.building}|{address.unit}|{address.room}"
        )
    if (
        record.name is not None
        and address is not None
        and address.admin_prefix
        and not record.name.honorific
    ):
        keys.append(f"name:{address.admin_prefix[:2]}|{record.name.full}")
    return tuple(keys)


class CandidateSource(Protocol):
    """Where ``resolve`` finds candidates: the in-memory index or a database query."""

    def candidates(self, keys: Sequence[str]) -> Iterable[tuple[Fingerprint, str]]:
        """Distinct (record, current customer id) pairs filed under any of ``keys``."""
        ...


class BlockingIndex:
    """In-memory blocking index with customer ids kept in a union-find."""

    def __init__(self, max_postings_per_key: int = 64) -> None:
        self.max_postings_per_key = max_postings_per_key
        self._postings: dict[str, deque[str]] = {}
        self._records: dict[str, Fingerprint] = {}
        self._customer_of_record: dict[str, str] = {}
        self._parent: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._records)

    def add(self, record: Fingerprint, customer_id: str) -> None:
        """File ``record`` under its keys as a record of ``customer_id``."""
        self._records[record.record_id] = record
        self._customer_of_record[record.record_id] = customer_id
        self._parent.setdefault(customer_id, customer_id)
        for key in blocking_keys(record):
            posting = self._postings.get(key)
            if posting is None:
                posting = self._postings[key] = deque(maxlen=self.max_postings_per_key)
            posting.append(record.record_id)

    def find(self, customer_id: str) -> str:
        """The surviving id of a customer after merges (path-halving union-find)."""
        parent = self._parent
        while parent[customer_id] != customer_id:
            parent[customer_id] = parent[parent[customer_id]]
            customer_id = parent[customer_id]
        return customer_id

    def merge(self, survivor: str, absorbed: str) -> str:
        """Union two customers; ``survivor``'s root id is kept. Returns that id."""
        root, other = self.find(survivor), self.find(absorbed)
        if root != other:
            self._parent[other] = root
        return root

    def customer_of(self, record_id: str) -> str:
        return self.find(self._customer_of_record[record_id])

    def record_ids(self) -> Iterator[str]:
        """Every record filed, in the order added."""
        return iter(self._records)

    def candidates(self, keys: Sequence[str]) -> Iterator[tuple[Fingerprint, str]]:
        seen: set[str] = set()
        for key in keys:
            for record_id in self._postings.get(key, ()):
                if record_id not in seen:
                    seen.add(record_id)
                    yield self._records[record_id], self.customer_of(record_id)


def resolve(observation: Fingerprint, index: CandidateSource, rules: MatchRules) -> Decision:
    """Decide whether ``observation`` belongs to a known customer; changes nothing.

    Compares the observation with every candidate sharing a blocking key, scores each pair
    and lets :func:`~customers.matching.score.decide` pick the outcome. The candidates also
    tell how many customers the observation's phone, device and account are already filed
    under, which is what marks a group leader's phone as shared.
    """
    candidates = list(index.candidates(blocking_keys(observation)))
    carriers = {}
    proxied: set[str] = set()
    for carrier, value, field in (
        ("phone", observation.phone_digest, "phone_digest"),
        ("device", observation.device_id, "device_id"),
        ("account", observation.account_key, "account_key"),
    ):
        if value:
            customers = set()
            for record, customer_id in candidates:
                if getattr(record, field) == value:
                    customers.add(customer_id)
                    if not record.carrier_proxy and receivers_disagree(
                        observation, record, rules.compare
                    ):
                        proxied.add(customer_id)
            carriers[carrier] = len(customers)
    if len(proxied) >= rules.compare.proxy_receivers:
        # The phone, device or account already ordered for other receivers: on this
        # sighting it is a proxy's (a group-buy leader's), not the customer's.
        observation = replace(observation, carrier_proxy=True)
    compared = [
        (record, customer_id, compare(observation, record, rules.compare, carriers))
        for record, customer_id in candidates
    ]
    # Receiver-only keys (name + address) apply when the sighting's phone, device and account
    # are new, or every earlier sighting with them named this same receiver: then they may be
    # this person's own (a second phone), not a relative's who ordered for them. Not between
    # two handsets (``_other_handset``), and not to a customer who also ordered under another
    # name here (below).
    carried = [
        evidence
        for _record, _customer, evidence in compared
        if any(item.signal in CARRIER_SIGNALS for item in evidence)
    ]
    receiver_keys = all(
        any(item.signal is Signal.NAME_SAME for item in evidence) for evidence in carried
    )
    pairs = []
    others_named: set[str] = set()  # customers with a record whose name is not this one's
    for record, customer_id, evidence in compared:
        score, exact_key = score_pair(evidence, rules, receiver_keys=receiver_keys)
        if exact_key and _other_handset(observation, record, exact_key, rules):
            exact_key = ""
        pairs.append(PairScore(record.record_id, customer_id, score, exact_key, evidence))
        if any(item.signal in NAME_DISAGREES for item in evidence):
            others_named.add(customer_id)
    if others_named:
        # A receiver-only key (name + address) does not reach a customer who also ordered
        # under another name here: that customer may have named this person as receiver.
        pairs = [
            replace(pair, exact_key="")
            if pair.customer_id in others_named
            and pair.exact_key
            and pair.exact_key in rules.receiver_key_labels
            else pair
            for pair in pairs
        ]
    decision = decide(pairs, rules)
    return replace(decision, carrier_proxy=True) if observation.carrier_proxy else decision


def _other_handset(
    observation: Fingerprint, record: Fingerprint, exact_key: str, rules: MatchRules
) -> bool:
    """A receiver-only key between two sightings placed from different handsets.

    With another phone and no account in common, the device is the one thing of the buyer's
    both sightings report: when it differs too, nothing of the buyer's is shared and the
    name and flat fit a housemate ordering for this person as well as the person.
    """
    return (
        exact_key in rules.receiver_key_labels
        and bool(observation.device_id)
        and bool(record.device_id)
        and observation.device_id != record.device_id
    )


class IncrementalResolver:
    """Resolve a stream of fingerprints into customers, in arrival order.

    A LINK files the record under the linked customer and unions any bridged customers into
    it; REVIEW and NEW give the record a new customer (REVIEW is also remembered in
    ``reviews`` for a human). Customer ids are "C" + a zero-padded sequence number.
    """

    def __init__(self, rules: MatchRules | None = None, index: BlockingIndex | None = None) -> None:
        self.rules = rules or MatchRules()
        self.index = index or BlockingIndex()
        self.reviews: list[tuple[str, Decision]] = []
        self.comparisons = 0
        self._next_customer = 1

    def new_customer_id(self) -> str:
        customer_id = f"C{self._next_customer:08d}"
        self._next_customer += 1
        return customer_id

    def add(self, observation: Fingerprint) -> Decision:
        """Resolve ``observation`` and apply the decision to the index."""
        decision = resolve(observation, self.index, self.rules)
        self.comparisons += decision.comparisons
        if decision.outcome is Outcome.LINK and decision.customer_id is not None:
            customer_id = decision.customer_id
            for other in decision.merge_customer_ids:
                customer_id = self.index.merge(customer_id, other)
        else:
            customer_id = self.new_customer_id()
            if decision.outcome is Outcome.REVIEW:
                self.reviews.append((observation.record_id, decision))
        self.index.add(settled(observation, decision), customer_id)
        return decision

    def add_all(self, observations: Iterable[Fingerprint]) -> None:
        for observation in observations:
            self.add(observation)

    def assignments(self) -> dict[str, str]:
        """record id -> current customer id for every record seen."""
        return {
            record_id: self.index.customer_of(record_id) for record_id in self.index.record_ids()
        }
