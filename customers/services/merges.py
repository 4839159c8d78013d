"""Merge and unmerge golden customers (with their orders and gift grants), decide reviews."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.models import (
    Customer,
    CustomerMerge,
    Identity,
    ReviewItem,
)
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


GRANTED_TWICE = "granted twice before the customers were merged"


def _gift_grants_merge(*, survivor: Customer, absorbed: Customer) -> tuple[list[int], list[dict]]:
    """Give the survivor the absorbed customer's gift grants: one grant per campaign and person.

    ``GiftGrant`` is unique per (merchant, campaign, customer), so a campaign both customers
    claimed before anyone knew they were one person cannot simply move. The earlier grant
    (by ``granted_at``, then id) is kept and held by the survivor; the later one is deleted
    and recorded as a ``GiftRefusal`` with the reason "granted twice before the customers
    were merged" on its order (the gift itself already went out: the refusal is the ledger's
    note, not a withdrawal). Refusals that cited the dropped grant now cite the kept one.
    Returns the ids of the grants that moved and, per dropped grant, what an unmerge needs
    to put it back.
    """
    from channels.models import GiftGrant, GiftRefusal  # the ledger is the channels app's

    grants = list(
        GiftGrant.objects.select_for_update()
        .filter(merchant_id=survivor.merchant_id, customer__in=[survivor, absorbed])
        .order_by("pk")
    )
    if not any(grant.customer_id == absorbed.pk for grant in grants):
        return [], []
    held = {g.campaign_code: g for g in grants if g.customer_id == survivor.pk}
    moved: list[int] = []
    dropped: list[dict] = []
    for grant in (g for g in grants if g.customer_id == absorbed.pk):
        other = held.get(grant.campaign_code)
        if other is None:
            moved.append(grant.pk)
            continue
        kept, later = sorted((grant, other), key=lambda g: (g.granted_at, g.pk))
        repointed = list(later.refusals.values_list("pk", flat=True))
        GiftRefusal.objects.filter(pk__in=repointed).update(grant=kept)
        refusal = GiftRefusal.objects.create(
            merchant_id=later.merchant_id,
            campaign_code=later.campaign_code,
            customer=survivor,
            channel_id=later.channel_id,
            order_id=later.order_id,
            grant=kept,
            reason=(
                f"Campaign {later.campaign_code} {GRANTED_TWICE} (customer #{absorbed.pk} into "
                f"#{survivor.pk}): the grant on order #{later.order_id} is dropped from the "
                f"ledger, the earlier one on order #{kept.order_id} kept."
            )[:300],
        )
        dropped.append(
            {
                "id": later.pk,
                "campaign_code": later.campaign_code,
                "customer_id": later.customer_id,
                "channel_id": later.channel_id,
                "order_id": later.order_id,
                "granted_at": later.granted_at.isoformat(),
                "refusal_id": refusal.pk,
                "repointed_refusal_ids": repointed,
            }
        )
        later.delete()
        if kept is grant:
            moved.append(grant.pk)
    GiftGrant.objects.filter(pk__in=moved).update(customer=survivor)
    return moved, dropped


def _gift_grants_unmerge(merge: CustomerMerge) -> None:
    """Put the gift ledger back as it was before ``merge`` (see :func:`_gift_grants_merge`)."""
    if not merge.moved_gift_grant_ids and not merge.dropped_gift_grants:
        return
    from channels.models import GiftGrant, GiftRefusal

    GiftGrant.objects.filter(pk__in=merge.moved_gift_grant_ids, customer=merge.survivor).update(
        customer=merge.absorbed
    )
    for item in merge.dropped_gift_grants:
        try:
            with transaction.atomic():
                GiftGrant.objects.create(
                    pk=item["id"],
                    merchant_id=merge.merchant_id,
                    campaign_code=item["campaign_code"],
                    customer_id=item["customer_id"],
                    channel_id=item["channel_id"],
                    order_id=item["order_id"],
                )
        except IntegrityError:
            continue  # the campaign was claimed again since; the refusal stays as the record
        GiftGrant.objects.filter(pk=item["id"]).update(
            granted_at=datetime.fromisoformat(item["granted_at"])
        )
        GiftRefusal.objects.filter(pk__in=item["repointed_refusal_ids"]).update(grant_id=item["id"])
        GiftRefusal.objects.filter(pk=item["refusal_id"]).delete()


@transaction.atomic
def customers_merge(
    *, survivor: Customer, absorbed: Customer, reason: str, actor: str
) -> CustomerMerge:
    """Move every identity, order and gift grant of ``absorbed`` to ``survivor``; remember what.

    Gift grants follow the rule of :func:`_gift_grants_merge`: one grant per campaign and
    person, the earlier one kept, the later one recorded as granted twice.
    """
    if survivor.merchant_id != absorbed.merchant_id or survivor.pk == absorbed.pk:
        raise ValueError("only two different customers of one merchant can be merged")
    identity_ids = list(Identity.objects.filter(customer=absorbed).values_list("pk", flat=True))
    order_ids = list(Order.objects.filter(customer=absorbed).values_list("pk", flat=True))
    Identity.objects.filter(pk__in=identity_ids).update(customer=survivor)
    Order.objects.filter(pk__in=order_ids).update(customer=survivor)
    grant_ids, dropped_grants = _gift_grants_merge(survivor=survivor, absorbed=absorbed)
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
        moved_gift_grant_ids=grant_ids,
        dropped_gift_grants=dropped_grants,
    )


@transaction.atomic
def customers_unmerge(*, merge: CustomerMerge, actor: str) -> None:
    """Undo a merge: identities, orders and gift grants that moved go back to the absorbed."""
    if merge.undone_at:
        return
    Identity.objects.filter(pk__in=merge.moved_identity_ids, customer=merge.survivor).update(
        customer=merge.absorbed
    )
    Order.objects.filter(pk__in=merge.moved_order_ids, customer=merge.survivor).update(
        customer=merge.absorbed
    )
    _gift_grants_unmerge(merge)
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
