"""Scoring: turn the evidence on candidate pairs into a link / review / new decision.

A pair links outright when it matches an *exact key*, a combination of signals that one
person alone produces (same phone and same name, same address and same name, ...). Otherwise
its signal weights are summed, Fellegi-Sunter style: a sum at or above ``link_threshold``
links, one at or above ``review_threshold`` is flagged for review and kept apart, anything
lower starts a new customer. Negative weights (a different name, another room in the same
building) are what keep family members, roommates, neighbours, recycled numbers and group
leaders apart. A wrong merge leaks one person's orders to another, so the defaults are set
so that doubt ends in review, not in a link. Per customer the best pair counts; several
customers reaching the link bar are merged when ``merge_clusters`` allows it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from customers.matching.compare import CompareSettings, Evidence, Signal
from customers.matching.records import Fingerprint

DEFAULT_WEIGHTS: Mapping[Signal, float] = MappingProxyType(
    {
        Signal.PHONE_SAME: 8.0,
        Signal.PHONE_SAME_LONG_GAP: 5.0,
        Signal.PHONE_DIFFERENT: -3.0,
        Signal.PHONE_SHARED: 2.0,
        Signal.PHONE_PARTIAL: 4.0,
        Signal.DEVICE_SAME: 4.0,
        Signal.DEVICE_SHARED: 0.0,
        Signal.ACCOUNT_SAME: 6.0,
        Signal.ACCOUNT_SHARED: 0.0,
        Signal.NAME_SAME: 5.0,
        Signal.NAME_COMPATIBLE: 3.0,
        Signal.NAME_SIMILAR: 1.0,
        Signal.NAME_HONORIFIC: 0.0,
        Signal.NAME_SURNAME_ONLY: -3.0,
        Signal.NAME_DIFFERENT: -3.0,
        Signal.ADDRESS_SAME: 5.0,
        Signal.ADDRESS_SIMILAR: 2.0,
        Signal.ADDRESS_NEIGHBOUR: -6.0,
        Signal.ADDRESS_DIFFERENT: -1.0,
        Signal.ADMIN_DIFFERENT: -2.0,
        Signal.RECEIVER_MISMATCH: -12.0,
    }
)

_PHONE = frozenset({Signal.PHONE_SAME, Signal.PHONE_SAME_LONG_GAP})
# Signals of the buyer's own phone, device or account (the "carriers" of an order).
CARRIER_SIGNALS = frozenset(
    {*_PHONE, Signal.PHONE_PARTIAL, Signal.DEVICE_SAME, Signal.ACCOUNT_SAME}
)
# No receiver-only key (name + address) by default: buyers name relatives who share their
# flat as receivers, so name + address with another phone is one person only half the time
# on independent data. The optional key applies only to sightings whose phone, device and
# account nobody else uses (see ``resolve``), never between two different handsets, and a
# sighting filed by it lends its phone, device and account to nobody ordering under another
# name (``Fingerprint.receiver_linked``).
DEFAULT_EXACT_KEYS: tuple[tuple[str, frozenset[Signal], frozenset[Signal]], ...] = (
    ("phone + name", _PHONE, frozenset({Signal.NAME_SAME})),
    ("device + name", frozenset({Signal.DEVICE_SAME}), frozenset({Signal.NAME_SAME})),
    ("account + name", frozenset({Signal.ACCOUNT_SAME}), frozenset({Signal.NAME_SAME})),
)


NAME_ADDRESS_KEY: tuple[str, frozenset[Signal], frozenset[Signal]] = (
    "address + name",
    frozenset({Signal.ADDRESS_SAME}),
    frozenset({Signal.NAME_SAME}),
)

_COMPARE_SETTINGS: Mapping[str, type] = MappingProxyType(
    {
        "phone_recycle_days": int,
        "address_similarity": float,
        "dwelling_similarity": float,
        "shared_carrier_customers": int,
        "proxy_receivers": int,
    }
)


class Outcome(StrEnum):
    """What to do with an observation."""

    LINK = "link"
    REVIEW = "review"
    NEW = "new"


@dataclass(frozen=True)
class MatchRules:
    """Weights, thresholds and exact keys; the lead's admin edits and stores these.

    ``exact_keys`` are (label, any-of signals, any-of signals): a pair showing one signal
    of each set links regardless of its score.
    """

    weights: Mapping[Signal, float] = field(default_factory=lambda: DEFAULT_WEIGHTS)
    link_threshold: float = 10.0
    review_threshold: float = 5.0
    exact_keys: tuple[tuple[str, frozenset[Signal], frozenset[Signal]], ...] = DEFAULT_EXACT_KEYS
    compare: CompareSettings = field(default_factory=CompareSettings)
    merge_clusters: bool = True

    @property
    def receiver_key_labels(self) -> frozenset[str]:
        """Exact keys made of receiver signals only (name, address), no phone/device/account."""
        return frozenset(
            label
            for label, first, second in self.exact_keys
            if not (first | second) & CARRIER_SIGNALS
        )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> MatchRules:
        """Build rules from plain data (a JSON field): unknown weight names raise ValueError.

        Accepted keys: ``weights`` (signal name -> number, merged over the defaults),
        ``link_threshold``, ``review_threshold``, ``merge_clusters`` and the comparator
        settings ``phone_recycle_days``, ``address_similarity``, ``dwelling_similarity``,
        ``shared_carrier_customers``, ``proxy_receivers``. ``name_address_key: true`` adds the
        receiver-only exact key "address + name" (:data:`NAME_ADDRESS_KEY`), for merchants
        whose buyers rarely name a relative as receiver: a second phone at the same flat then
        joins its customer at once, unless its phone, device or account already ordered under
        another name, the two sightings come from different handsets, or the customer also
        ordered under another name there.
        """
        weights = dict(DEFAULT_WEIGHTS)
        for name, value in dict(data.get("weights", {})).items():
            weights[Signal(name)] = float(value)
        rules = cls(weights=MappingProxyType(weights))
        compare = rules.compare
        for name, kind in _COMPARE_SETTINGS.items():
            if name in data:
                compare = replace(compare, **{name: kind(data[name])})
        return replace(
            rules,
            link_threshold=float(data.get("link_threshold", rules.link_threshold)),
            review_threshold=float(data.get("review_threshold", rules.review_threshold)),
            merge_clusters=bool(data.get("merge_clusters", rules.merge_clusters)),
            compare=compare,
            exact_keys=(
                (*rules.exact_keys, NAME_ADDRESS_KEY)
                if data.get("name_address_key")
                else rules.exact_keys
            ),
        )


@dataclass(frozen=True, slots=True)
class PairScore:
    """The score of an observation against one stored record of a customer."""

    record_id: str
    customer_id: str
    score: float
    exact_key: str
    evidence: tuple[Evidence, ...]

    def qualifies(self, rules: MatchRules) -> bool:
        return bool(self.exact_key) or self.score >= rules.link_threshold


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome for one observation, with the customer concerned and the reasons why.

    ``customer_id`` is the customer linked to (LINK) or suggested to a reviewer (REVIEW);
    ``merge_customer_ids`` lists further customers the observation proves to be the same
    person (LINK only). ``comparisons`` counts the pairs scored, to show blocking works.
    """

    outcome: Outcome
    customer_id: str | None
    score: float
    reasons: tuple[str, ...]
    matched_record_id: str | None = None
    merge_customer_ids: tuple[str, ...] = ()
    comparisons: int = 0
    evidence: tuple[Evidence, ...] = ()
    carrier_proxy: bool = False
    # The link rests on a receiver-only key (name + address) and nothing of the buyer's.
    receiver_only: bool = False


NAME_DISAGREES = frozenset({Signal.NAME_DIFFERENT, Signal.NAME_SURNAME_ONLY})


def settled(record: Fingerprint, decision: Decision) -> Fingerprint:
    """``record`` as it is filed after ``decision``: a link despite a receiver name that
    disagrees marks the sighting as made for someone else (``named_other``), so its name
    links nobody to this customer later; a link on the receiver alone marks it
    ``receiver_linked``, so its phone, device and account do not vouch for this customer."""
    if decision.carrier_proxy:
        record = replace(record, carrier_proxy=True)
    if decision.outcome is Outcome.LINK and decision.receiver_only:
        record = replace(record, receiver_linked=True)
    if decision.outcome is Outcome.LINK and any(
        item.signal in NAME_DISAGREES for item in decision.evidence
    ):
        return replace(record, named_other=True)
    return record


def score_pair(
    evidence: tuple[Evidence, ...], rules: MatchRules, *, receiver_keys: bool = True
) -> tuple[float, str]:
    """Sum the weights of the evidence and name the exact key it satisfies ("" if none).

    ``receiver_keys=False`` skips the keys made of receiver signals only (name, address):
    the caller passes it when the sighting's phone, device or account is already someone's.
    """
    signals = {item.signal for item in evidence}
    score = sum(rules.weights.get(signal, 0.0) for signal in signals)
    for label, first, second in rules.exact_keys:
        if not receiver_keys and not (first | second) & CARRIER_SIGNALS:
            continue
        if signals & first and signals & second:
            return score, label
    return score, ""


def _rank(pair: PairScore) -> tuple[float, bool]:
    return pair.score, bool(pair.exact_key)


def decide(pairs: Iterable[PairScore], rules: MatchRules) -> Decision:
    """Choose the outcome from all scored pairs of one observation.

    The best pair of each customer represents it; the best customer decides the outcome.
    """
    best_per_customer: dict[str, PairScore] = {}
    count = 0
    for pair in pairs:
        count += 1
        current = best_per_customer.get(pair.customer_id)
        if current is None or _rank(pair) > _rank(current):
            best_per_customer[pair.customer_id] = pair
    ranked = sorted(best_per_customer.values(), key=_rank, reverse=True)
    if not ranked:
        return Decision(Outcome.NEW, None, 0.0, ("no candidate shares a key",), comparisons=count)
    best = ranked[0]
    reasons = tuple(item.detail for item in best.evidence)
    if best.qualifies(rules):
        because = (
            f"exact key {best.exact_key}"
            if best.exact_key
            else f"score {best.score:g} >= link {rules.link_threshold:g}"
        )
        merged = tuple(
            pair.customer_id
            for pair in ranked[1:]
            if rules.merge_clusters and pair.qualifies(rules)
        )
        return Decision(
            Outcome.LINK,
            best.customer_id,
            best.score,
            (because, *reasons),
            best.record_id,
            merged,
            count,
            best.evidence,
            receiver_only=best.score < rules.link_threshold
            and best.exact_key in rules.receiver_key_labels,
        )
    if best.score >= rules.review_threshold:
        because = f"score {best.score:g} between review {rules.review_threshold:g} and link {rules.link_threshold:g}"
        return Decision(
            Outcome.REVIEW,
            best.customer_id,
            best.score,
            (because, *reasons),
            best.record_id,
            (),
            count,
        )
    because = f"best score {best.score:g} < review {rules.review_threshold:g}"
    return Decision(Outcome.NEW, None, best.score, (because, *reasons), best.record_id, (), count)
