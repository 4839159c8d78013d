"""The gift ledger follows customer merges: grants move to the survivor and back on an unmerge,
and with their orders when a customer is split.

The customer master sends ``customers_merged`` / ``customers_unmerged`` / ``customers_split``
inside the merge's transaction (``channels.receivers`` connects these functions), so the ledger
moves atomically with the customer's identities and orders, and ``customers`` never imports
``channels``.
"""

from datetime import datetime

from django.db import IntegrityError, transaction

from channels.models import GiftGrant, GiftRefusal
from customers.models import CustomerMerge, CustomerSplit

GRANTED_TWICE = "granted twice before the customers were merged"


def gift_grants_merge(*, merge: CustomerMerge) -> None:
    """Give the survivor the absorbed customer's gift grants: one grant per campaign and person.

    ``GiftGrant`` is unique per (merchant, campaign, customer), so a campaign both customers
    claimed before anyone knew they were one person cannot simply move. The earlier grant
    (by ``granted_at``, then id) is kept and held by the survivor; the later one is deleted
    and recorded as a ``GiftRefusal`` with the reason "granted twice before the customers
    were merged" on its order (the gift itself already went out: the refusal is the ledger's
    note, not a withdrawal). Refusals that cited the dropped grant now cite the kept one.
    Records on ``merge`` (saved by the caller) the ids of the grants that moved and, per
    dropped grant, what an unmerge needs to put it back.
    """
    survivor, absorbed = merge.survivor, merge.absorbed
    grants = list(
        GiftGrant.objects.select_for_update()
        .filter(merchant_id=survivor.merchant_id, customer__in=[survivor, absorbed])
        .order_by("pk")
    )
    if not any(grant.customer_id == absorbed.pk for grant in grants):
        return
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
    merge.moved_gift_grant_ids, merge.dropped_gift_grants = moved, dropped


def gift_grants_unmerge(*, merge: CustomerMerge) -> None:
    """Put the gift ledger back as it was before ``merge`` (see :func:`gift_grants_merge`)."""
    if not merge.moved_gift_grant_ids and not merge.dropped_gift_grants:
        return
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


def gift_grants_split(*, split: CustomerSplit) -> None:
    """Grants claimed on the orders that moved in ``split`` go with them to the new customer.

    Recorded on ``split`` (saved by the caller). The new customer holds no grant yet, so the
    one-grant-per-campaign rule cannot be broken by the move.
    """
    moved = list(
        GiftGrant.objects.filter(
            merchant_id=split.merchant_id,
            customer=split.source,
            order_id__in=split.moved_order_ids,
        ).values_list("pk", flat=True)
    )
    GiftGrant.objects.filter(pk__in=moved).update(customer=split.created)
    split.moved_gift_grant_ids = moved
