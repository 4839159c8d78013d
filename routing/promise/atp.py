"""Available-to-promise per SKU and destination province, cached, dropped when stock moves.

What can be promised of a SKU to a province is its units in batches that are not expired, keep
the shelf life routing asks for the SKU's temperature class (``MIN_SHELF_LIFE_DAYS``), and are
not reserved, at the merchant's active warehouses that can ship it there (cold chain for chilled
and frozen SKUs; today every warehouse ships to every province, at its lane's terms or an
estimate, ``routing.context``), kept per warehouse and batch so the promise can name them.

Cache (Django's: Redis in production, local memory embedded). An entry's key carries two
version tokens, one per product and one per merchant network, and the local date (shelf life is
counted in days). A stock movement (``oms.signals.stock_changed``, sent after the commit by every
``oms.services.inventory`` function, and saves or deletes of a batch) replaces the product's
token; a warehouse or lane change replaces the merchant's. Old entries are then never read again
and expire after ``TTL_SECONDS``. Tokens are read before the database, so a movement committed
while an entry is computed leaves it under a token nobody reads: no stale entry survives a
movement. A token missing from the cache (evicted) is made anew, which also orphans old entries. The
same tokens (and one for routing profiles) key the per-process network snapshot
(``network``), so the one cache round trip that reads them serves both.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.cache import cache
from django.db.models import F, Q
from django.utils import timezone

from oms.geo import province_key
from oms.models import InventoryBatch, Product, WarehouseStatus
from oms.selectors import local_midnight
from routing import holds
from routing.engine.factors import MIN_SHELF_LIFE_DAYS
from routing.engine.problem import Temperature

TTL_SECONDS = 600
_PREFIX = "promise:atp"


@dataclass(frozen=True)
class BatchStock:
    """Units of one batch that can be promised."""

    warehouse: str  # warehouse code
    batch_number: str
    expiry_date: date | None
    available: int


def _product_token_key(merchant_id: int, product_id: int) -> str:
    return f"{_PREFIX}:v:{merchant_id}:p{product_id}"


def _network_token_key(merchant_id: int) -> str:
    return f"{_PREFIX}:v:{merchant_id}:net"


def _profiles_token_key() -> str:
    return f"{_PREFIX}:v:profiles"


def _carriers_token_key() -> str:
    return f"{_PREFIX}:v:carriers"


def _tokens(keys: list[str]) -> dict[str, str]:
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            token = uuid.uuid4().hex
            if not cache.add(key, token, timeout=None):
                token = cache.get(key) or token
            found[key] = token
    return found


def invalidate_products(*, merchant_id: int, product_ids: Iterable[int]) -> None:
    """Stock of these products moved: their cached ATP is not read again."""
    cache.set_many(
        {_product_token_key(merchant_id, pid): uuid.uuid4().hex for pid in set(product_ids)},
        timeout=None,
    )


def invalidate_network(*, merchant_id: int) -> None:
    """A warehouse or lane of the merchant changed: all its cached ATP is not read again."""
    cache.set(_network_token_key(merchant_id), uuid.uuid4().hex, timeout=None)


def invalidate_profiles() -> None:
    """A routing profile or rule changed (of any merchant, or a global one)."""
    cache.set(_profiles_token_key(), uuid.uuid4().hex, timeout=None)


def invalidate_carriers() -> None:
    """A carrier, service, rate or warehouse-carrier link changed (any merchant's: they change
    rarely, and a cascade delete cannot always name its merchant)."""
    cache.set(_carriers_token_key(), uuid.uuid4().hex, timeout=None)


@dataclass(frozen=True)
class Tokens:
    """The version tokens a promise reads in one cache round trip (see the module docstring)."""

    network: str
    profiles: str
    products: dict[int, str]
    carriers: str = ""
    holds: str = ""  # the merchant's promise holds (``routing.holds.version_key``)

    @property
    def network_key(self) -> tuple[str, str, str]:
        """What the per-process network snapshot (``network``) is keyed by."""
        return (self.network, self.carriers, self.profiles)


def read_tokens(*, merchant_id: int, product_ids: Iterable[int]) -> Tokens:
    product_keys = {pid: _product_token_key(merchant_id, pid) for pid in product_ids}
    network_key, profiles_key = _network_token_key(merchant_id), _profiles_token_key()
    carriers_key, holds_key = _carriers_token_key(), holds.version_key(merchant_id)
    found = _tokens([network_key, profiles_key, carriers_key, holds_key, *product_keys.values()])
    return Tokens(
        network=found[network_key],
        profiles=found[profiles_key],
        products={pid: found[key] for pid, key in product_keys.items()},
        carriers=found[carriers_key],
        holds=found[holds_key],
    )


def available_to_promise(
    *, merchant_id: int, products: list[Product], province: str, tokens: Tokens | None = None
) -> dict[str, list[BatchStock]]:
    """Per SKU of ``products``, the batches that can be promised to ``province``, FEFO
    (first expiry first, no expiry last). Read through the cache; ``tokens`` when the caller
    read them already (``read_tokens``)."""
    today = local_midnight(merchant_id, timezone.now()).date()
    province = province_key(province) or province
    if tokens is None:
        tokens = read_tokens(merchant_id=merchant_id, product_ids=[p.pk for p in products])
    entry_keys = {
        p.pk: f"{_PREFIX}:{merchant_id}:{province}:{p.pk}:{today.isoformat()}:"
        f"{tokens.network}:{tokens.products[p.pk]}"
        for p in products
    }
    cached = cache.get_many(list(entry_keys.values()))
    out: dict[str, list[BatchStock]] = {}
    missing: list[Product] = []
    for product in products:
        rows = cached.get(entry_keys[product.pk])
        if rows is None:
            missing.append(product)
        else:
            out[product.sku] = [BatchStock(*row) for row in rows]
    if missing:
        computed = _compute(merchant_id=merchant_id, products=missing, today=today)
        cache.set_many(
            {
                entry_keys[product.pk]: [
                    (b.warehouse, b.batch_number, b.expiry_date, b.available)
                    for b in computed[product.sku]
                ]
                for product in missing
            },
            timeout=TTL_SECONDS,
        )
        out.update(computed)
    return out


def _compute(
    *, merchant_id: int, products: list[Product], today: date
) -> dict[str, list[BatchStock]]:
    by_id = {p.pk: p for p in products}
    rows = (
        InventoryBatch.objects.filter(
            warehouse__merchant_id=merchant_id,
            warehouse__status=WarehouseStatus.ACTIVE,
            product_id__in=list(by_id),
        )
        .filter(Q(expiry_date__isnull=True) | Q(expiry_date__gte=today))
        .annotate(free=F("on_hand") - F("reserved"))
        .filter(free__gt=0)
        .values_list(
            "product_id",
            "warehouse__code",
            "warehouse__cold_chain",
            "batch_number",
            "expiry_date",
            "free",
        )
    )
    found: dict[str, list[BatchStock]] = defaultdict(list)
    for product_id, code, cold_chain, number, expiry, free in rows:
        product = by_id[product_id]
        temperature = Temperature(product.temperature_class)
        if temperature.needs_cold_chain and not cold_chain:
            continue
        min_days = MIN_SHELF_LIFE_DAYS[temperature]
        if expiry is not None and expiry < today + timedelta(days=min_days):
            continue  # too close to expiry to sell: routing will not ship it either
        found[product.sku].append(BatchStock(code, number, expiry, free))
    for batches in found.values():
        batches.sort(key=lambda b: (b.expiry_date is None, b.expiry_date or date.max, b.warehouse))
    return {p.sku: found.get(p.sku, []) for p in products}
