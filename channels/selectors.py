"""Reads of the channels app: channel prices, promotions, the price report and the metrics."""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q

from channels.models import (
    ChannelInboxMessage,
    ChannelPrice,
    ChannelPricing,
    GiftGrant,
    GiftRefusal,
    InboxStatus,
    Promotion,
)
from channels.pricing import PromotionRule
from oms.models import Merchant, Order, Product, SalesChannel


def _valid_at(at: datetime) -> Q:
    return (Q(valid_from__isnull=True) | Q(valid_from__lte=at)) & (
        Q(valid_to__isnull=True) | Q(valid_to__gt=at)
    )


def price_list_id_of(channel: SalesChannel) -> int | None:
    """The id of the price list the channel sells at, or None (list prices)."""
    return (
        ChannelPricing.objects.filter(channel_id=channel.pk)
        .values_list("price_list_id", flat=True)
        .first()
    )


def channel_prices_at(
    *, channel: SalesChannel, product_ids: Iterable[int], at: datetime
) -> dict[int, ChannelPrice]:
    """The channel's price of each product at ``at``; of overlapping windows the latest start wins."""
    price_list_id = price_list_id_of(channel)
    if price_list_id is None:
        return {}
    rows = ChannelPrice.objects.filter(
        _valid_at(at), price_list_id=price_list_id, product_id__in=list(product_ids)
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
    gift = promotion.gift_product  # no query when gift_product_id is null
    return PromotionRule(
        id=promotion.pk,
        campaign_code=promotion.campaign_code,
        kind=promotion.kind,
        name=promotion.name,
        threshold=promotion.threshold_amount,
        discount_amount=promotion.discount_amount,
        percent_off=promotion.percent_off,
        gift_sku=gift.sku if gift is not None else "",
        gift_quantity=promotion.gift_quantity,
        gift_list_price=gift.unit_value if gift is not None else Decimal(0),
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
    list_of = dict(
        ChannelPricing.objects.filter(channel__in=channels).values_list(
            "channel_id", "price_list_id"
        )
    )
    list_ids = set(list_of.values())
    # Channels without a price list look up ``None`` and find nothing.
    by_list: dict[int | None, dict[int, ChannelPrice]] = defaultdict(dict)
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
            rule = by_list.get(list_of.get(channel.pk), {}).get(product.pk)
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


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def fusion_metrics(*, merchant: Merchant, since: datetime | None = None) -> dict[int, dict]:
    """Per channel id: how much one-customer fusion happens on it.

    Over the merchant's orders received since ``since`` (all when None), whatever their status:

    - ``orders``: orders of the channel.
    - ``merged_orders``: of those, orders shipped as part of a merged fulfilment.
    - ``cross_channel_merged``: of those, orders whose merged fulfilment holds an order from
      another channel; ``cross_channel_merge_rate`` = cross_channel_merged / orders.
    - ``customers``: distinct unified customers with an order on the channel (orders the
      customer master has not resolved yet are not counted).
    - ``multi_channel_customers``: of those, customers with an order on another channel of the
      merchant in the same period; ``duplicate_customer_rate`` = multi_channel_customers /
      customers: the share of the channel's buyers each channel alone would count as a customer
      of its own, i.e. the duplicates the customer master folds into one.

    Rates are shares between 0 and 1 (4 decimals), 0 when the channel has no orders/customers.
    """
    orders = Order.objects.filter(merchant=merchant)
    if since is not None:
        orders = orders.filter(created_at__gte=since)
    other_channel_in_fulfilment = Order.objects.filter(
        consolidation_id=OuterRef("consolidation_id")
    ).exclude(channel_id=OuterRef("channel_id"))
    counts = {
        row["channel_id"]: row
        for row in orders.order_by()
        .annotate(cross=Exists(other_channel_in_fulfilment))
        .values("channel_id")
        .annotate(
            orders=Count("id"),
            merged=Count("id", filter=Q(consolidation__isnull=False)),
            cross_merged=Count("id", filter=Q(cross=True)),
        )
    }
    pairs = set(
        orders.filter(customer__isnull=False)
        .order_by()
        .values_list("customer_id", "channel_id")
        .distinct()
    )
    channels_of: dict[int, int] = defaultdict(int)
    for customer_id, _channel_id in pairs:
        channels_of[customer_id] += 1
    customers: dict[int, int] = defaultdict(int)
    multi: dict[int, int] = defaultdict(int)
    for customer_id, channel_id in pairs:
        customers[channel_id] += 1
        multi[channel_id] += channels_of[customer_id] > 1
    result = {}
    for channel_id in set(counts) | set(customers):
        row: Mapping[str, Any] = counts.get(channel_id, {})
        total, cross = row.get("orders", 0), row.get("cross_merged", 0)
        result[channel_id] = {
            "orders": total,
            "merged_orders": row.get("merged", 0),
            "cross_channel_merged": cross,
            "cross_channel_merge_rate": _rate(cross, total),
            "customers": customers[channel_id],
            "multi_channel_customers": multi[channel_id],
            "duplicate_customer_rate": _rate(multi[channel_id], customers[channel_id]),
        }
    return result


_NO_ORDERS = {
    "orders": 0,
    "merged_orders": 0,
    "cross_channel_merged": 0,
    "cross_channel_merge_rate": 0.0,
    "customers": 0,
    "multi_channel_customers": 0,
    "duplicate_customer_rate": 0.0,
}


def ingest_metrics(*, merchant: Merchant, since: datetime | None = None) -> list[dict]:
    """Per channel: inbox deliveries by outcome, gifts refused as duplicates, and fusion.

    The fusion figures (orders, merges across channels, duplicate customers) are those of
    ``fusion_metrics``, over orders received since ``since``.
    """
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
    fusion = fusion_metrics(merchant=merchant, since=since)
    rows = []
    for channel in SalesChannel.objects.filter(merchant=merchant).order_by("code"):
        row: Mapping[str, Any] = counts.get(channel.pk, {})
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
                **fusion.get(channel.pk, _NO_ORDERS),
            }
        )
    return rows
