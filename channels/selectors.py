"""Reads of the channels app: channel prices, promotions, the price report and the metrics."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, F, Q

from channels.models import (
    ChannelInboxMessage,
    ChannelPrice,
    GiftGrant,
    GiftRefusal,
    InboxStatus,
    Promotion,
    SalesChannel,
)
from channels.pricing import PromotionRule
from oms.models import Merchant, Product


def _valid_at(at: datetime) -> Q:
    return (Q(valid_from__isnull=True) | Q(valid_from__lte=at)) & (
        Q(valid_to__isnull=True) | Q(valid_to__gt=at)
    )


def channel_prices_at(
    *, channel: SalesChannel, product_ids: Iterable[int], at: datetime
) -> dict[int, ChannelPrice]:
    """The channel's price of each product at ``at``; of overlapping windows the latest start wins."""
    if channel.price_list_id is None:
        return {}
    rows = ChannelPrice.objects.filter(
        _valid_at(at), price_list_id=channel.price_list_id, product_id__in=list(product_ids)
    ).order_by("product_id", F("valid_from").asc(nulls_first=True), "id")
    prices: dict[int, ChannelPrice] = {}
    for row in rows:  # ascending start (NULL first): the last one seen wins
        prices[row.product_id] = row
    return prices


def promotions_at(*, channel: SalesChannel, at: datetime) -> list[Promotion]:
    return list(
        Promotion.objects.filter(
            Q(channel=channel) | Q(channel__isnull=True),
            merchant_id=channel.merchant_id,
            active=True,
            starts_at__lte=at,
            ends_at__gt=at,
        )
        .select_related("gift_product")
        .prefetch_related("products")
        .order_by("id")
    )


def promotion_rule(promotion: Promotion) -> PromotionRule:
    return PromotionRule(
        id=promotion.pk,
        campaign_code=promotion.campaign_code,
        kind=promotion.kind,
        name=promotion.name,
        threshold=promotion.threshold_amount,
        discount_amount=promotion.discount_amount,
        percent_off=promotion.percent_off,
        gift_sku=promotion.gift_product.sku if promotion.gift_product_id else "",
        gift_quantity=promotion.gift_quantity,
        gift_list_price=promotion.gift_product.unit_value
        if promotion.gift_product_id
        else Decimal(0),
        skus=frozenset(p.sku for p in promotion.products.all()),
        once_per_customer=promotion.once_per_customer,
    )


def effective_price(
    list_price: Decimal, channel_price: Decimal | None, percent_off: Decimal
) -> Decimal:
    price = channel_price if channel_price is not None else list_price
    return (price * (100 - percent_off) / 100).quantize(Decimal("0.01"))


def price_differences(*, merchant: Merchant, at: datetime) -> list[dict]:
    """SKUs whose effective unit price differs between the merchant's active channels.

    Effective unit price = channel price (else list price) less the best per-SKU percentage
    promotion active at ``at``. Basket promotions (满减, gifts) depend on the order and are not
    unit prices, so they are left out.
    """
    channels = list(SalesChannel.objects.filter(merchant=merchant, active=True).order_by("code"))
    products = {p.pk: p for p in Product.objects.filter(merchant=merchant, active=True)}
    list_ids = {c.price_list_id for c in channels if c.price_list_id}
    by_list: dict[int, dict[int, ChannelPrice]] = defaultdict(dict)
    for row in ChannelPrice.objects.filter(
        _valid_at(at), price_list_id__in=list_ids, product_id__in=list(products)
    ).order_by("price_list_id", "product_id", F("valid_from").asc(nulls_first=True), "id"):
        by_list[row.price_list_id][row.product_id] = row
    promotions = list(
        Promotion.objects.filter(
            merchant=merchant, kind="percentage", active=True, starts_at__lte=at, ends_at__gt=at
        ).prefetch_related("products")
    )
    report = []
    for product in sorted(products.values(), key=lambda p: p.sku):
        per_channel = {}
        for channel in channels:
            rule = by_list.get(channel.price_list_id, {}).get(product.pk)
            percent = max(
                (
                    p.percent_off
                    for p in promotions
                    if (p.channel_id in (None, channel.pk))
                    and (not p.products.all() or product in p.products.all())
                ),
                default=Decimal(0),
            )
            per_channel[channel.code] = effective_price(
                product.unit_value, rule.price if rule else None, percent
            )
        if len(set(per_channel.values())) > 1:
            report.append(
                {
                    "sku": product.sku,
                    "name": product.name,
                    "list_price": product.unit_value,
                    "prices": per_channel,
                    "lowest": min(per_channel.values()),
                    "highest": max(per_channel.values()),
                }
            )
    return report


def ingest_metrics(*, merchant: Merchant, since: datetime | None = None) -> list[dict]:
    """Per channel: inbox deliveries by outcome and gifts refused as duplicates."""
    inbox = ChannelInboxMessage.objects.filter(merchant=merchant)
    refusals = GiftRefusal.objects.filter(merchant=merchant)
    grants = GiftGrant.objects.filter(merchant=merchant)
    if since is not None:
        inbox = inbox.filter(received_at__gte=since)
        refusals = refusals.filter(refused_at__gte=since)
        grants = grants.filter(granted_at__gte=since)
    counts = {
        row["channel_id"]: row
        for row in inbox.values("channel_id").annotate(
            received=Count("id"),
            parsed=Count("id", filter=Q(status=InboxStatus.PARSED)),
            failed=Count("id", filter=Q(status=InboxStatus.FAILED)),
            duplicates=Count("id", filter=Q(status=InboxStatus.DUPLICATE)),
            rejected=Count("id", filter=Q(status=InboxStatus.REJECTED)),
        )
    }
    refused = dict(refusals.values_list("channel_id").annotate(n=Count("id")))
    granted = dict(grants.values_list("channel_id").annotate(n=Count("id")))
    rows = []
    for channel in SalesChannel.objects.filter(merchant=merchant).order_by("code"):
        row = counts.get(channel.pk, {})
        rows.append(
            {
                "channel": channel.code,
                "kind": channel.kind,
                "received": row.get("received", 0),
                "parsed": row.get("parsed", 0),
                "failed": row.get("failed", 0),
                "duplicates": row.get("duplicates", 0),
                "rejected": row.get("rejected", 0),
                "gifts_granted": granted.get(channel.pk, 0),
                "gifts_refused_as_duplicate": refused.get(channel.pk, 0),
            }
        )
    return rows
