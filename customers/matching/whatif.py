"""What another rule set would change: two clusterings of the same records, compared.

:func:`resolve_all` runs records through :class:`~customers.matching.blocking.IncrementalResolver`
as a fresh stream (flags an earlier resolution set are cleared), and :func:`compare_rule_sets`
does it with two rule sets and counts how many customers the second would merge (customers of
the first joined into one) and split (a customer of the first divided), with example pairs of
records that change side, each shown with masked names and phones and the evidence in words.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from customers.matching.blocking import IncrementalResolver
from customers.matching.compare import compare, mask_name
from customers.matching.fit import candidate_pairs
from customers.matching.records import Fingerprint
from customers.matching.score import Decision, MatchRules, score_pair, settled


@dataclass(frozen=True, slots=True)
class Resolution:
    """Every record's customer (``assignments``), decision and record as filed (``settled``:
    with the flags the decision set), from one stream."""

    assignments: dict[str, str]
    decisions: dict[str, Decision]
    settled: dict[str, Fingerprint]


def resolve_all(records: Sequence[Fingerprint], rules: MatchRules) -> Resolution:
    """Resolve ``records`` (arrival order) from scratch with ``rules``."""
    resolver = IncrementalResolver(rules)
    decisions: dict[str, Decision] = {}
    filed: dict[str, Fingerprint] = {}
    for record in records:
        plain = replace(record, named_other=False, carrier_proxy=False, receiver_linked=False)
        decision = decisions[record.record_id] = resolver.add(plain)
        filed[record.record_id] = settled(plain, decision)
    return Resolution(resolver.assignments(), decisions, filed)


def _groups(assignments: Mapping[str, str]) -> dict[str, set[str]]:
    groups: dict[str, set[str]] = defaultdict(set)
    for record_id, customer in assignments.items():
        groups[customer].add(record_id)
    return groups


def merges_and_splits(before: Mapping[str, str], after: Mapping[str, str]) -> tuple[int, int]:
    """(merges, splits) that turn clustering ``before`` into ``after``.

    A customer of ``after`` made of k customers of ``before`` counts k - 1 merges; a customer of
    ``before`` spread over k customers of ``after`` counts k - 1 splits.
    """
    merges = sum(len({before[r] for r in group}) - 1 for group in _groups(after).values())
    splits = sum(len({after[r] for r in group}) - 1 for group in _groups(before).values())
    return merges, splits


@dataclass(frozen=True, slots=True)
class ChangedPair:
    """Two records the rule sets disagree on: together under one, apart under the other."""

    change: str  # "merge" (apart before, together after) or "split"
    first: str
    second: str
    names: tuple[str, str]
    phones: tuple[str, str]
    reasons: tuple[str, ...]
    score_before: float
    score_after: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "change": self.change,
            "records": [self.first, self.second],
            "names": list(self.names),
            "phones": list(self.phones),
            "reasons": list(self.reasons),
            "score_before": round(self.score_before, 2),
            "score_after": round(self.score_after, 2),
        }


@dataclass(frozen=True, slots=True)
class RuleSetComparison:
    """Customers under each rule set, merges and splits, and examples of pairs that change."""

    records: int
    customers_before: int
    customers_after: int
    merges: int
    splits: int
    pairs_joined: int
    pairs_parted: int
    examples: tuple[ChangedPair, ...] = field(default=())
    after: Resolution | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "customers_before": self.customers_before,
            "customers_after": self.customers_after,
            "merges": self.merges,
            "splits": self.splits,
            "pairs_joined": self.pairs_joined,
            "pairs_parted": self.pairs_parted,
            "examples": [example.as_dict() for example in self.examples],
        }


def _masked_name(record: Fingerprint) -> str:
    return mask_name(record.name) if record.name else "-"


def compare_rule_sets(
    records: Sequence[Fingerprint],
    before: MatchRules,
    after: MatchRules,
    *,
    examples: int = 10,
    before_assignments: Mapping[str, str] | None = None,
) -> RuleSetComparison:
    """Resolve ``records`` with both rule sets and describe the difference.

    ``before_assignments`` replaces the first resolution (the clustering as stored). Examples
    are candidate pairs (records sharing a blocking key) that change side, at most
    ``examples`` merges and as many splits, scored under both rule sets.
    """
    first = before_assignments or resolve_all(records, before).assignments
    second = resolve_all(records, after)
    merges, splits = merges_and_splits(first, second.assignments)
    joined = parted = 0
    found: dict[str, list[ChangedPair]] = {"merge": [], "split": []}
    plain = [
        replace(record, named_other=False, carrier_proxy=False, receiver_linked=False)
        for record in records
    ]
    for later, earlier in candidate_pairs(plain):
        one, other = plain[later], plain[earlier]
        together_before = first[one.record_id] == first[other.record_id]
        together_after = second.assignments[one.record_id] == second.assignments[other.record_id]
        if together_before == together_after:
            continue
        change = "merge" if together_after else "split"
        if change == "merge":
            joined += 1
        else:
            parted += 1
        if len(found[change]) >= examples:
            continue
        evidence = compare(one, other, after.compare)
        found[change].append(
            ChangedPair(
                change=change,
                first=one.record_id,
                second=other.record_id,
                names=(_masked_name(one), _masked_name(other)),
                phones=(one.phone_masked or "-", other.phone_masked or "-"),
                reasons=tuple(item.detail for item in evidence),
                score_before=score_pair(evidence, before)[0],
                score_after=score_pair(evidence, after)[0],
            )
        )
    return RuleSetComparison(
        records=len(records),
        customers_before=len(set(first.values())),
        customers_after=len(set(second.assignments.values())),
        merges=merges,
        splits=splits,
        pairs_joined=joined,
        pairs_parted=parted,
        examples=(*found["merge"], *found["split"]),
        after=second,
    )
