"""Reads of the customer 360: one person's orders across channels, lifetime value, and how far
counting customers per channel account understates repeat buyers.

A merge (``customers.services.customers_merge``) moves the absorbed customer's orders and
identities to the survivor, so the survivor's rows are normally all there is. An order linked
to a customer in the instant that customer was being merged away keeps pointing at the
absorbed row; :func:`customer_family` therefore follows ``merged_into`` backwards and every
read here covers the survivor and everyone merged into it.

Cancelled orders are not purchases: they count in no figure except ``cancelled``.

Channel accounts (see :func:`channel_repeat_rates`): a channel on its own knows its buyers by
their account on it (Douyin user id, WeChat openid, Tmall nick). The account of an order is
the channel account the customer master recorded with the order's identity (identity
``record_id`` ``channel:<channel id>:<external id>`` for ingested orders, ``oms-order:<order
id>`` for orders linked after the fact); an order whose channel sent no account counts as the
matched customer's one account on that channel.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from django.db import connection
from django.db.models import Count, Max, Min, Q, Sum, Window

from customers.models import Customer, CustomerMerge, Identity
from oms.models import Merchant, Order, OrderStatus, SalesChannel

RECENT_ORDERS = 50  # orders listed on the customer page; the rest are one link away
RECENT_IDENTITIES = 50
_PURCHASE = ~Q(status=OrderStatus.CANCELLED)


def customer_family(customer: Customer) -> list[int]:
    """The customer's id and the ids of every customer merged into it, directly or not.

    One recursive query (a merge moves rows to a live survivor, but an absorbed customer keeps
    pointing at the survivor of its day, which may have been absorbed since).
    """
    table = connection.ops.quote_name(Customer._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE family(id) AS (SELECT id FROM {table} WHERE id = %s UNION "
            f"SELECT c.id FROM {table} c JOIN family f ON c.merged_into_id = f.id) "
            "SELECT id FROM family",
            [customer.pk],
        )
        absorbed = sorted(pk for (pk,) in cursor.fetchall() if pk != customer.pk)
    return [customer.pk, *absorbed]


@dataclass(frozen=True)
class ChannelUse:
    channel_id: int
    name: str
    kind: str
    orders: int


@dataclass(frozen=True)
class LifetimeValue:
    """A customer's purchases (cancelled orders left out) across every channel.

    ``revenue`` holds one sum per currency (to the fen). ``repeat_rate`` is the share of the
    customer's orders that were repeat purchases, (orders - 1) / orders: 0 for one order,
    2/3 for three.
    """

    orders: int
    cancelled: int
    revenue: dict[str, Decimal]
    first_order_at: datetime | None
    last_order_at: datetime | None
    channels: list[ChannelUse]

    @property
    def repeat_buyer(self) -> bool:
        return self.orders >= 2

    @property
    def repeat_rate(self) -> Fraction:
        return Fraction(self.orders - 1, self.orders) if self.orders else Fraction(0)


def lifetime_value(customer_ids: Iterable[int]) -> LifetimeValue:
    """Orders, revenue, first and last order and channels used, in one grouped query."""
    rows = (
        Order.objects.filter(customer_id__in=list(customer_ids))
        .order_by()
        .values("channel_id", "channel__name", "channel__kind", "currency")
        .annotate(
            orders=Count("id", filter=_PURCHASE),
            cancelled=Count("id", filter=~_PURCHASE),
            revenue=Sum("total", filter=_PURCHASE),
            first=Min("placed_at", filter=_PURCHASE),
            last=Max("placed_at", filter=_PURCHASE),
        )
    )
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    per_channel: dict[int, dict] = {}
    firsts, lasts = [], []
    cancelled = 0
    for row in rows:
        cancelled += row["cancelled"]
        if not row["orders"]:
            continue
        revenue[row["currency"]] += row["revenue"]
        firsts.append(row["first"])
        lasts.append(row["last"])
        entry = per_channel.setdefault(
            row["channel_id"],
            {"name": row["channel__name"], "kind": row["channel__kind"], "orders": 0},
        )
        entry["orders"] += row["orders"]
    channels = sorted(
        (ChannelUse(channel_id=pk, **entry) for pk, entry in per_channel.items()),
        key=lambda use: (-use.orders, use.name),
    )
    return LifetimeValue(
        orders=sum(use.orders for use in channels),
        cancelled=cancelled,
        revenue={
            currency: amount.quantize(Decimal("0.01")) for currency, amount in revenue.items()
        },
        first_order_at=min(firsts) if firsts else None,
        last_order_at=max(lasts) if lasts else None,
        channels=channels,
    )


def recent_orders(customer_ids: Iterable[int], limit: int = RECENT_ORDERS) -> list[Order]:
    """The customer's ``limit`` latest orders (by placing time), cancelled ones included."""
    return list(
        Order.objects.filter(customer_id__in=list(customer_ids))
        .select_related("channel")
        .only(
            "id",
            "external_id",
            "status",
            "total",
            "currency",
            "placed_at",
            "customer_id",
            "channel__name",
            "channel__kind",
        )
        .order_by("-placed_at", "-id")[:limit]
    )


def recent_identities(
    customer_ids: Iterable[int], limit: int = RECENT_IDENTITIES
) -> tuple[list[Identity], int]:
    """The customer's ``limit`` newest identities, and how many it has in all (one query)."""
    rows = (
        Identity.objects.filter(customer_id__in=list(customer_ids))
        .defer("fingerprint", "phone_digest")
        .annotate(all_count=Window(Count("id")))
        .order_by("-observed_at", "-id")[:limit]
    )
    shown: list[Identity] = list(rows)
    return shown, int(rows[0].all_count) if shown else 0  # rows[0]: from the fetched cache


def merges_of_identities(customer_ids: Iterable[int]) -> dict[int, CustomerMerge]:
    """Identity id -> the merge (not undone) that last moved it into one of ``customer_ids``."""
    moved: dict[int, CustomerMerge] = {}
    merges = CustomerMerge.objects.filter(
        survivor_id__in=list(customer_ids), undone_at__isnull=True
    ).order_by("created_at", "pk")
    for merge in merges:
        for identity_id in merge.moved_identity_ids:
            moved[identity_id] = merge
    return moved


# --- per channel: duplicate customers and repeat rates ---------------------------------------


@dataclass
class ChannelRates:
    """One channel's figures; ``channel`` is None on the all-channels row.

    - ``accounts``: the channel's customers counted per channel account (the customers the
      channel alone would count): accounts with at least one order on it.
    - ``duplicate_accounts``: of those, accounts whose matched customer has another record
      before matching: another account on this or another channel, an order on another
      channel, or an identity carrying another account.
    - ``repeat_accounts``: of ``accounts``, those with two or more orders on the channel.
    - ``customers``: matched customers with at least one order on the channel.
    - ``repeat_customers``: of those, customers with two or more orders on any channel.
    """

    channel: SalesChannel | None
    accounts: int = 0
    duplicate_accounts: int = 0
    repeat_accounts: int = 0
    customers: int = 0
    repeat_customers: int = 0

    @property
    def duplicate_rate(self) -> Fraction:
        return _share(self.duplicate_accounts, self.accounts)

    @property
    def repeat_rate_per_account(self) -> Fraction:
        return _share(self.repeat_accounts, self.accounts)

    @property
    def repeat_rate_per_customer(self) -> Fraction:
        return _share(self.repeat_customers, self.customers)

    @property
    def understatement(self) -> Fraction:
        """Percentage points by which counting per account understates the repeat rate."""
        return self.repeat_rate_per_customer - self.repeat_rate_per_account


def _share(part: int, whole: int) -> Fraction:
    return Fraction(part, whole) if whole else Fraction(0)


@dataclass
class _Tally:
    account_orders: dict[tuple[int, str], int] = field(default_factory=lambda: defaultdict(int))
    account_people: dict[tuple[int, str], set[int]] = field(
        default_factory=lambda: defaultdict(set)
    )
    person_orders: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    person_records: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))


def _survivors(merchant: Merchant) -> dict[int, int]:
    """Absorbed customer id -> the live customer it ended up in."""
    parent = dict(
        Customer.objects.filter(merchant=merchant, merged_into__isnull=False).values_list(
            "pk", "merged_into_id"
        )
    )
    resolved: dict[int, int] = {}
    for start in parent:
        pk, seen = start, set()
        while pk in parent and pk not in seen:
            seen.add(pk)
            pk = parent[pk]
        resolved[start] = pk
    return resolved


def channel_repeat_rates(*, merchant: Merchant) -> list[ChannelRates]:
    """Per sales channel of ``merchant`` (then all channels together): duplicates and repeats.

    Reads the merchant's orders that have a customer and are not cancelled, and the
    identities that carry a channel account; nothing of another merchant. See
    :class:`ChannelRates` for the definitions and the module docstring for what a channel
    account is. The all-channels row counts each account once (an account seen on two shops
    of one kind is one account) and each matched customer once.
    """
    survivor = _survivors(merchant)
    accounts_of_record: dict[str, str] = {}
    tally = _Tally()
    for record_id, account, customer_id in (
        Identity.objects.filter(merchant=merchant)
        .exclude(account_key="")
        .values_list("record_id", "account_key", "customer_id")
    ):
        accounts_of_record[record_id] = account
        tally.person_records[survivor.get(customer_id, customer_id)].add("account:" + account)
    orders = (
        Order.objects.filter(_PURCHASE, merchant=merchant, customer__isnull=False)
        .order_by()
        .values_list("pk", "channel_id", "external_id", "customer_id")
    )
    for order_id, channel_id, external_id, customer_id in orders.iterator(chunk_size=5000):
        person = survivor.get(customer_id, customer_id)
        account = accounts_of_record.get(
            f"channel:{channel_id}:{external_id}"
        ) or accounts_of_record.get(f"oms-order:{order_id}")
        record = f"account:{account}" if account else f"channel:{channel_id}:customer:{person}"
        tally.account_orders[(channel_id, record)] += 1
        tally.account_people[(channel_id, record)].add(person)
        tally.person_orders[person] += 1
        tally.person_records[person].add(record)
    channels = {c.pk: c for c in SalesChannel.objects.filter(merchant=merchant).order_by("code")}
    rows = {pk: ChannelRates(channel=channel) for pk, channel in channels.items()}
    total = ChannelRates(channel=None)
    customers_of: dict[int, set[int]] = defaultdict(set)
    seen_records: dict[str, tuple[int, bool, set[int]]] = {}
    for (channel_id, record), count in tally.account_orders.items():
        row = rows[channel_id]
        people = tally.account_people[(channel_id, record)]
        duplicate = any(len(tally.person_records[p]) > 1 for p in people)
        row.accounts += 1
        row.duplicate_accounts += duplicate
        row.repeat_accounts += count >= 2
        customers_of[channel_id] |= people
        before = seen_records.get(record, (0, False, set()))
        seen_records[record] = (before[0] + count, before[1] or duplicate, before[2] | people)
    for channel_id, people in customers_of.items():
        rows[channel_id].customers = len(people)
        rows[channel_id].repeat_customers = sum(tally.person_orders[p] >= 2 for p in people)
    for count, duplicate, _people in seen_records.values():
        total.accounts += 1
        total.duplicate_accounts += duplicate
        total.repeat_accounts += count >= 2
    total.customers = len(tally.person_orders)
    total.repeat_customers = sum(n >= 2 for n in tally.person_orders.values())
    return [*rows.values(), total]
