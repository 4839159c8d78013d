"""Rule set versions: fit a draft to a merchant's identities, compare it, activate it.

``rule_set_fit`` reads the merchant's identities in arrival order, fits weights and thresholds
with the matching core's EM (:mod:`customers.matching.fit`) and stores them as a draft with
the fit's figures and a comparison against the rules in force. ``rule_set_activate`` makes a
version the active one (its rules go into the merchant's ``MatchRuleSet``, which the online
resolve reads) and enqueues the re-resolve, ``identities_reresolve``: the identities are
resolved afresh with the new rules in memory and the stored customers are changed to match,
split first, then merged, each step audited (``CustomerSplit``, ``CustomerMerge``) and
followed by the gift ledger through ``customers.signals``. Re-activating the previous version
undoes it: a merge this made is undone by ``customers_unmerge``, a split by merging back.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from customers.matching import Fingerprint, MatchRules, Outcome, fingerprint_from_dict
from customers.matching.fit import fit_records
from customers.matching.whatif import Resolution, compare_rule_sets, resolve_all
from customers.models import (
    Customer,
    CustomerMerge,
    CustomerSplit,
    Identity,
    MatchRuleSet,
    RuleSetVersion,
)
from customers.services.merges import customers_merge, customers_unmerge
from customers.services.resolve import rules_for
from customers.signals import customers_split
from oms.models import Consolidation, Merchant, Order
from oms.tasks_queue import enqueue

ORDER_RECORD_PREFIX = "oms-order:"


def _identities(merchant: Merchant) -> tuple[list[Fingerprint], dict[str, str], dict[str, int]]:
    """The merchant's identities in arrival order: fingerprints, record -> customer id, and
    record -> identity id."""
    records: list[Fingerprint] = []
    customer_of: dict[str, str] = {}
    identity_of: dict[str, int] = {}
    rows = (
        Identity.objects.filter(merchant=merchant)
        .order_by("pk")
        .values_list("pk", "customer_id", "fingerprint")
        .iterator(chunk_size=5000)
    )
    for pk, customer_id, data in rows:
        record = fingerprint_from_dict(data)
        records.append(record)
        customer_of[record.record_id] = str(customer_id)
        identity_of[record.record_id] = pk
    return records, customer_of, identity_of


def _in_force(merchant: Merchant) -> tuple[MatchRules, dict[str, Any]]:
    rules, row = rules_for(merchant)
    return rules, dict(row.rules or {}) if row else {}


def rule_set_compare(*, version: RuleSetVersion, examples: int = 10) -> dict[str, Any]:
    """How the merchant's customers would change under ``version``: stored on the version."""
    records, customer_of, _ids = _identities(version.merchant)
    current, _data = _in_force(version.merchant)
    comparison = compare_rule_sets(
        records,
        current,
        MatchRules.from_mapping(version.rules),
        examples=examples,
        before_assignments=customer_of,
    )
    version.comparison = {**comparison.as_dict(), "at": timezone.now().isoformat()}
    version.save(update_fields=["comparison"])
    return version.comparison


def rule_set_fit(
    *,
    merchant: Merchant,
    actor: str,
    link_posterior: float = 0.99,
    review_posterior: float = 0.5,
    max_per_key: int = 64,
    compare: bool = True,
) -> RuleSetVersion:
    """Fit weights and thresholds to the merchant's identities and store them as a draft."""
    started = timezone.now()
    records, customer_of, _ids = _identities(merchant)
    current, current_data = _in_force(merchant)
    fitted = fit_records(
        records,
        current,
        customer_of=customer_of,
        max_per_key=max_per_key,
        link_posterior=link_posterior,
        review_posterior=review_posterior,
    )
    report = {
        **fitted.report(),
        "records": len(records),
        "link_posterior": link_posterior,
        "review_posterior": review_posterior,
        "seconds": round((timezone.now() - started).total_seconds(), 2),
        "by": actor,
    }
    version = RuleSetVersion.objects.create(
        merchant=merchant,
        label=f"fitted {timezone.localtime(started):%Y-%m-%d %H:%M}",
        status=RuleSetVersion.Status.DRAFT,
        origin=RuleSetVersion.Origin.FITTED,
        rules=fitted.rules_mapping(current_data),
        fit_report=report,
    )
    if compare:
        rule_set_compare(version=version)
    return version


@transaction.atomic
def rule_set_activate(*, version: RuleSetVersion, actor: str) -> RuleSetVersion:
    """Make ``version`` the merchant's rules and re-resolve its identities after the commit.

    The version active before is retired; when none was, the rules in force are kept first as
    a retired snapshot, so there is always a version to go back to.
    """
    merchant = version.merchant
    versions = list(
        RuleSetVersion.objects.select_for_update().filter(merchant=merchant).order_by("pk")
    )
    version = next(v for v in versions if v.pk == version.pk)
    active = [v for v in versions if v.status == RuleSetVersion.Status.ACTIVE]
    if version.status == RuleSetVersion.Status.ACTIVE:
        return version
    if not active:
        _rules, data = _in_force(merchant)
        RuleSetVersion.objects.create(
            merchant=merchant,
            label=f"before {version.label}"[:120],
            status=RuleSetVersion.Status.RETIRED,
            origin=RuleSetVersion.Origin.SNAPSHOT,
            rules=data,
        )
    for previous in active:
        previous.status = RuleSetVersion.Status.RETIRED
        previous._change_reason = f"retired: {version.label} activated by {actor}"[:100]
        previous.save(update_fields=["status"])
    row = MatchRuleSet.objects.select_for_update().filter(merchant=merchant).first()
    if row is None:
        default = MatchRuleSet.objects.filter(merchant__isnull=True).first()
        row = MatchRuleSet(
            merchant=merchant,
            merge_window_minutes=default.merge_window_minutes if default else 30,
        )
    row.rules = version.rules
    row._change_reason = f"rule set version {version.pk} activated by {actor}"[:100]
    row.save()
    version.status = RuleSetVersion.Status.ACTIVE
    version.activated_at, version.activated_by = timezone.now(), actor
    version.resolve_status, version.resolve_report = RuleSetVersion.Resolve.PENDING, {}
    version._change_reason = f"activated by {actor}"[:100]
    version.save(
        update_fields=[
            "status",
            "activated_at",
            "activated_by",
            "resolve_status",
            "resolve_report",
        ]
    )
    enqueue("customers.rule_set_reresolve", version.pk)
    return version


@transaction.atomic
def customer_split(
    *, customer: Customer, identity_ids: list[int], reason: str, actor: str
) -> CustomerSplit:
    """Move ``identity_ids`` of ``customer``, with the orders they were seen on, to a new
    customer; record it. Gift grants on those orders follow (``customers_split``), and so do
    merged fulfilments whose orders all moved."""
    identities = list(
        Identity.objects.filter(pk__in=identity_ids, customer=customer).order_by("pk")
    )
    if not identities or len(identities) == Identity.objects.filter(customer=customer).count():
        raise ValueError("a split moves some, not all nor none, of a customer's identities")
    first = identities[0]
    created = Customer.objects.create(
        merchant_id=customer.merchant_id,
        display_name=first.name,
        phone_masked=first.phone_masked,
    )
    moved_ids = [identity.pk for identity in identities]
    order_ids = [
        int(identity.record_id.removeprefix(ORDER_RECORD_PREFIX))
        for identity in identities
        if identity.record_id.startswith(ORDER_RECORD_PREFIX)
        and identity.record_id.removeprefix(ORDER_RECORD_PREFIX).isdigit()
    ]
    order_ids = list(
        Order.objects.filter(pk__in=order_ids, customer=customer).values_list("pk", flat=True)
    )
    Identity.objects.filter(pk__in=moved_ids).update(customer=created)
    Order.objects.filter(pk__in=order_ids).update(customer=created)
    touched = set(
        Order.objects.filter(pk__in=order_ids, consolidation__isnull=False).values_list(
            "consolidation_id", flat=True
        )
    )
    divided = set(
        Order.objects.filter(consolidation_id__in=touched, customer=customer).values_list(
            "consolidation_id", flat=True
        )
    )
    consolidations = sorted(touched - divided)
    Consolidation.objects.filter(pk__in=consolidations).update(customer=created)
    split = CustomerSplit(
        merchant_id=customer.merchant_id,
        source=customer,
        created=created,
        reason=reason[:300],
        actor=actor,
        moved_identity_ids=moved_ids,
        moved_order_ids=order_ids,
        moved_consolidation_ids=consolidations,
    )
    customers_split.send(sender=CustomerSplit, split=split)
    split.save(force_insert=True)
    return split


@dataclass
class ReresolveReport:
    """What a re-resolve changed."""

    identities: int = 0
    customers_before: int = 0
    customers_after: int = 0
    merges: int = 0
    unmerges: int = 0
    splits: int = 0
    updated_identities: int = 0
    merge_ids: list[int] = field(default_factory=list)
    split_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain data; the lists of merge and split ids are cut at 100 (the audit rows hold all)."""
        data = dict(self.__dict__)
        data["merge_ids"], data["split_ids"] = self.merge_ids[:100], self.split_ids[:100]
        return data


def _undoable_merge(customer_id: int, part: set[int]) -> CustomerMerge | None:
    """A merge into ``customer_id``, not undone, whose moved identities are exactly ``part``
    among those the customer holds: unmerging it is this split."""
    held = set(Identity.objects.filter(customer_id=customer_id).values_list("pk", flat=True))
    for merge in CustomerMerge.objects.filter(survivor_id=customer_id, undone_at__isnull=True):
        if set(merge.moved_identity_ids) & held == part:
            return merge
    return None


def _current(merchant: Merchant, target: dict[int, str]) -> list[tuple[int, int]]:
    """(identity id, customer id) of the identities in ``target``, as stored now."""
    rows = Identity.objects.filter(merchant=merchant).values_list("pk", "customer_id")
    return [(pk, customer_id) for pk, customer_id in rows.iterator(5000) if pk in target]


def _split_apart(
    merchant: Merchant, report: ReresolveReport, target: dict[int, str], reason: str, actor: str
) -> None:
    """Divide each customer whose identities the target puts under several customers."""
    parts: dict[int, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for identity_id, customer_id in _current(merchant, target):
        parts[customer_id][target[identity_id]].add(identity_id)
    for customer_id in sorted(parts):
        groups = sorted(parts[customer_id].values(), key=lambda ids: (-len(ids), min(ids)))
        if len(groups) < 2:
            continue
        remaining = list(groups)
        for part in groups:
            if len(remaining) < 2:
                break
            merge = _undoable_merge(customer_id, part)
            if merge is not None:
                customers_unmerge(merge=merge, actor=actor)
                report.unmerges += 1
                remaining.remove(part)
        customer = Customer.objects.get(pk=customer_id)
        for part in remaining[1:]:
            split = customer_split(
                customer=customer, identity_ids=sorted(part), reason=reason, actor=actor
            )
            report.splits += 1
            report.split_ids.append(split.pk)


def _join(
    merchant: Merchant, report: ReresolveReport, target: dict[int, str], reason: str, actor: str
) -> None:
    """Merge the customers the target puts together: into the oldest of them."""
    customers: dict[str, set[int]] = defaultdict(set)
    for identity_id, customer_id in _current(merchant, target):
        customers[target[identity_id]].add(customer_id)
    for group in customers.values():
        if len(group) < 2:
            continue
        survivor_id, *absorbed_ids = sorted(group)
        survivor = Customer.objects.get(pk=survivor_id)
        for absorbed_id in absorbed_ids:
            merge = customers_merge(
                survivor=survivor,
                absorbed=Customer.objects.get(pk=absorbed_id),
                reason=reason,
                actor=actor,
            )
            report.merges += 1
            report.merge_ids.append(merge.pk)


def _record_decisions(merchant: Merchant, resolution: Resolution) -> int:
    """Store each identity's new outcome, score, reasons and filing flags; count changes."""
    changed = []
    rows = Identity.objects.filter(merchant=merchant).only(
        "pk", "record_id", "outcome", "score", "reasons", "fingerprint"
    )
    for identity in rows.iterator(5000):
        if (
            identity.outcome == Identity.Outcome.MANUAL
            or identity.record_id not in resolution.decisions
        ):
            continue
        decision = resolution.decisions[identity.record_id]
        record = resolution.settled[identity.record_id]
        data = {
            key: value
            for key, value in identity.fingerprint.items()
            if key not in ("named_other", "carrier_proxy")
        }
        if record.named_other:
            data["named_other"] = True
        if record.carrier_proxy:
            data["carrier_proxy"] = True
        outcome = (
            Identity.Outcome.LINK if decision.outcome is Outcome.LINK else decision.outcome.value
        )
        values = (outcome, decision.score, list(decision.reasons), data)
        if values != (identity.outcome, identity.score, identity.reasons, identity.fingerprint):
            identity.outcome, identity.score, identity.reasons, identity.fingerprint = values
            changed.append(identity)
    Identity.objects.bulk_update(
        changed, ["outcome", "score", "reasons", "fingerprint"], batch_size=2000
    )
    return len(changed)


@transaction.atomic
def identities_reresolve(
    *, merchant: Merchant, rules: MatchRules, reason: str, actor: str
) -> ReresolveReport:
    """Resolve the merchant's identities afresh with ``rules`` and change the stored customers
    to match: splits first (unmerging where a merge moved exactly that part), then merges.

    The customers of the merchant are locked for the duration (primary-key order).
    """
    list(
        Customer.objects.select_for_update()
        .filter(merchant=merchant, merged_into__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    records, customer_of, identity_of = _identities(merchant)
    report = ReresolveReport(
        identities=len(records), customers_before=len(set(customer_of.values()))
    )
    resolution = resolve_all(records, rules)
    target = {identity_of[record_id]: c for record_id, c in resolution.assignments.items()}
    _split_apart(merchant, report, target, reason, actor)
    _join(merchant, report, target, reason, actor)
    report.updated_identities = _record_decisions(merchant, resolution)
    report.customers_after = (
        Identity.objects.filter(merchant=merchant).values("customer_id").distinct().count()
    )
    return report


def rule_set_reresolve(*, version_id: int) -> RuleSetVersion | None:
    """Re-resolve the identities of an activated version's merchant (the task's body).

    Safe to run twice: a second run finds nothing to change. Skipped when another version
    became active meanwhile (its own re-resolve follows).
    """
    version = RuleSetVersion.objects.select_related("merchant").filter(pk=version_id).first()
    if version is None or version.status != RuleSetVersion.Status.ACTIVE:
        return version
    try:
        report = identities_reresolve(
            merchant=version.merchant,
            rules=MatchRules.from_mapping(version.rules),
            reason=f"rule set version {version.pk} ({version.label}) activated"[:300],
            actor=f"rules:{version.pk}",
        )
    except Exception as exc:
        RuleSetVersion.objects.filter(pk=version.pk).update(
            resolve_status=RuleSetVersion.Resolve.FAILED,
            resolve_report={"error": str(exc)[:500]},
        )
        raise
    version.resolve_status = RuleSetVersion.Resolve.DONE
    version.resolve_report = {**report.as_dict(), "at": timezone.now().isoformat()}
    version._change_reason = "re-resolved"
    version.save(update_fields=["resolve_status", "resolve_report"])
    return version
