"""Promise a cart to an address: the routing context as routing builds it, with ATP stock.

``cart_promise`` is read-only. It uses routing's own pieces (``routing.context``: the active
profile, the warehouses with their lanes and today's shipments, live signals, the day's demand)
so options are what routing would choose; only the stock comes from the available-to-promise
cache (``atp``) instead of a query per request. Each shipment line names the batches it would
take, first expiry first, as ``oms.services.inventory.stock_reserve`` will.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo

from django.utils import timezone

from customers.selectors import MergeCheck, merge_check
from oms.geo import city_key, province_point, region_for_province
from oms.models import Merchant, Product
from oms.selectors import local_midnight
from routing.carriers import province_of
from routing.engine import problem as p
from routing.engine.factors import MIN_SHELF_LIFE_DAYS
from routing.explaining import merchant_tz
from routing.holds import held_nodes_for
from routing.models import RoutingProfile
from routing.promise import atp, network
from routing.promise.options import PromiseAnswer, promise_options


@dataclass(frozen=True)
class CartLine:
    product: Product
    quantity: int


@dataclass(frozen=True)
class Buyer:
    """Who is buying, for the merge-check (optional in a promise request)."""

    phone: str
    name: str
    device_id: str = ""
    account_id: str = ""
    channel: str = ""


@dataclass(frozen=True)
class LineAvailability:
    sku: str
    quantity: int
    available: int  # units that can be promised to the province


@dataclass(frozen=True)
class Promise:
    merchant: Merchant
    province: str
    region: str
    now: datetime
    tz: tzinfo
    answer: PromiseAnswer
    lines: list[LineAvailability]
    batches: dict[str, list[atp.BatchStock]]  # per SKU, FEFO
    temperatures: dict[str, p.Temperature]
    warehouse_names: dict[str, str]
    profile: RoutingProfile | None
    profile_version: int
    merge: MergeCheck | None = None
    address_text: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def promisable(self) -> bool:
        return bool(self.answer.options)

    def batches_for(
        self, node_code: str, sku: str, quantity: int
    ) -> list[tuple[atp.BatchStock, int]]:
        """The batches ``quantity`` units of ``sku`` would come from at ``node_code``, FEFO."""
        min_days = MIN_SHELF_LIFE_DAYS[self.temperatures[sku]]
        today = timezone.localdate(self.now, self.tz)
        taken = []
        for batch in self.batches.get(sku, []):
            if quantity <= 0:
                break
            if batch.warehouse != node_code:
                continue
            if batch.expiry_date is not None and (batch.expiry_date - today).days < min_days:
                continue
            take = min(quantity, batch.available)
            taken.append((batch, take))
            quantity -= take
        return taken


def cart_promise(
    *,
    merchant: Merchant,
    lines: list[CartLine],
    province: str,
    city: str = "",
    address: str = "",
    buyer: Buyer | None = None,
    now: datetime | None = None,
    hold_reference: str = "",
) -> Promise:
    """What can be promised for ``lines`` delivered to ``province`` (see the module docstring).

    With a ``buyer`` and an ``address`` the merge-check runs too. Other checkouts' live holds
    (``routing.holds``) are not available; the hold of ``hold_reference`` (the order reference
    this checkout holds for) is.
    """
    now = now or timezone.now()
    region = region_for_province(province)
    products = [line.product for line in lines]
    tokens = atp.read_tokens(merchant_id=merchant.pk, product_ids=[prod.pk for prod in products])
    batches = atp.available_to_promise(
        merchant_id=merchant.pk, products=products, province=province, tokens=tokens
    )
    skus = {product.sku for product in products}
    # Warehouses, lanes, capacity left and the profile, as routing reads them; the stock from
    # the ATP cache.
    net = network.network(
        merchant_id=merchant.pk,
        region=region,
        province=province_of(province),
        tokens=tokens.network_key,
        now=now,
    )
    today = local_midnight(merchant.pk, now).date()
    stock: dict[str, list[p.StockBatch]] = {}
    for sku, rows in batches.items():
        for row in rows:
            stock.setdefault(row.warehouse, []).append(
                p.StockBatch(
                    sku=sku,
                    quantity=row.available,
                    expires_in_days=(row.expiry_date - today).days if row.expiry_date else None,
                )
            )
    # Snapshot nodes carry no stock; only those holding some of the cart get a copy with it,
    # and only they are routing's candidates: a node without any of the cart can ship none of
    # it, so leaving it out changes no plan and spares the engine pricing its services.
    nodes = tuple(
        replace(node, stock=tuple(stock[node.code])) for node in net.nodes if node.code in stock
    )
    temperatures = {prod.sku: p.Temperature(prod.temperature_class) for prod in products}
    # Other checkouts' live holds are not for this cart (its own, by order reference, is).
    nodes = held_nodes_for(
        nodes,
        merchant_id=merchant.pk,
        now=now,
        own=[hold_reference] if hold_reference else (),
        temperatures=temperatures,
        version=tokens.holds,
    )
    held_stock: dict[str, int] = {}
    for node in nodes:
        for batch in node.stock:
            held_stock[batch.sku] = held_stock.get(batch.sku, 0) + batch.quantity
    ctx = p.RoutingContext(
        nodes=nodes,
        signals=network.signals(merchant_id=merchant.pk, now=now),
        profile=net.engine_profile,
        now=now,
        outlook=network.outlook(merchant_id=merchant.pk, skus=skus, now=now, nodes=net.nodes),
    )
    lat, lon = province_point(province) or (31.23, 121.47)
    order = p.Order(
        order_id="promise",
        region=region,
        latitude=lat,
        longitude=lon,
        lines=tuple(
            p.OrderLine(
                sku=line.product.sku,
                quantity=line.quantity,
                temperature=p.Temperature(line.product.temperature_class),
                unit_value=float(line.product.unit_value),
                unit_weight_kg=float(line.product.weight_kg),
                unit_volume_litres=float(line.product.volume_litres),
            )
            for line in lines
        ),
        province=province_of(province),
        city=city_key(city),
    )
    tz = merchant_tz(merchant)
    answer = promise_options(order, ctx, now=now, tz=tz, carriers=net.carriers)
    merge = None
    if buyer is not None and address:
        merge = merge_check(
            merchant=merchant,
            phone=buyer.phone,
            name=buyer.name,
            address=address,
            device_id=buyer.device_id,
            account_id=buyer.account_id,
            channel=buyer.channel,
            at=now,
        )
    return Promise(
        merchant=merchant,
        province=province,
        region=region,
        now=now,
        tz=tz,
        answer=answer,
        lines=[
            LineAvailability(
                sku=line.product.sku,
                quantity=line.quantity,
                available=held_stock.get(line.product.sku, 0),
            )
            for line in lines
        ],
        batches=batches,
        temperatures=temperatures,
        warehouse_names={node.code: node.name for node in net.nodes},
        profile=net.profile,
        profile_version=net.profile_version,
        merge=merge,
        address_text=address,
    )
