"""Merge and unmerge golden customers with their identities and orders; decide reviews.

Apps that hold rows of a customer follow a merge through ``customers.signals`` (the gift ledger
of ``channels`` moves its grants), inside the merge's transaction; this module imports none.
"""

from django.db import transaction
from django.utils import timezone

from customers.models import (
    Customer,
    CustomerMerge,
    Identity,
    ReviewItem,
)
from customers.signals import customers_merged, customers_unmerged
from oms.models import Order


def _live(customer: Customer) -> Customer:
    """Follow merges to the surviving customer."""
    seen = set()
    while customer.merged_into_id and customer.pk not in seen:
        seen.add(customer.pk)
        survivor = customer.merged_into
        assert survivor is not None  # merged_into_id is set
        customer = survivor
    return customer


@transaction.atomic
def customers_merge(
    *, survivor: Customer, absorbed: Customer, reason: str, actor: str
) -> CustomerMerge:
    """Move every identity and order of ``absorbed`` to ``survivor``; remember what.

    ``customers_merged`` is sent in the same transaction, before the merge row is saved, so
    other apps move what they hold of ``absorbed`` (the gift ledger keeps one grant per
    campaign and person) and record it on the row for the unmerge.
    """
    if survivor.merchant_id != absorbed.merchant_id or survivor.pk == absorbed.pk:
        raise ValueError("only two different customers of one merchant can be merged")
    identity_ids = list(Identity.objects.filter(customer=absorbed).values_list("pk", flat=True))
    order_ids = list(Order.objects.filter(customer=absorbed).values_list("pk", flat=True))
    Identity.objects.filter(pk__in=identity_ids).update(customer=survivor)
    Order.objects.filter(pk__in=order_ids).update(customer=survivor)
    merge = CustomerMerge(
        merchant_id=survivor.merchant_id,
        survivor=survivor,
        absorbed=absorbed,
        reason=reason[:300],
        actor=actor,
        moved_identity_ids=identity_ids,
        moved_order_ids=order_ids,
    )
    customers_merged.send(sender=CustomerMerge, merge=merge)
    absorbed.merged_into = survivor
    absorbed._change_reason = f"merged into {survivor.pk}: {reason}"[:100]
    absorbed.save(update_fields=["merged_into"])
    if absorbed.vip and not survivor.vip:
        survivor.vip = True
        survivor.save(update_fields=["vip"])
    merge.save(force_insert=True)
    return merge


@transaction.atomic
def customers_unmerge(*, merge: CustomerMerge, actor: str) -> None:
    """Undo a merge: identities and orders that moved go back to the absorbed.

    ``customers_unmerged`` is sent in the same transaction, so other apps put back what they
    moved (gift grants).
    """
    if merge.undone_at:
        return
    Identity.objects.filter(pk__in=merge.moved_identity_ids, customer=merge.survivor).update(
        customer=merge.absorbed
    )
    Order.objects.filter(pk__in=merge.moved_order_ids, customer=merge.survivor).update(
        customer=merge.absorbed
    )
    customers_unmerged.send(sender=CustomerMerge, merge=merge)
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
