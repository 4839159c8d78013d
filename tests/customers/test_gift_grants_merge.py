"""A merge gives the survivor the absorbed customer's gift grants; an unmerge gives them back."""

from datetime import UTC, datetime

import pytest

from channels.gift_merges import GRANTED_TWICE
from channels.models import GiftGrant, GiftRefusal
from customers.models import Customer, CustomerMerge
from customers.services import customers_merge, customers_unmerge
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db


def _grant(channel, customer, campaign, day):
    grant = GiftGrant.objects.create(
        merchant=channel.merchant, campaign_code=campaign, customer=customer, channel=channel
    )
    granted_at = datetime(2026, 3, day, 10, 0, tzinfo=UTC)
    GiftGrant.objects.filter(pk=grant.pk).update(granted_at=granted_at)
    grant.granted_at = granted_at
    return grant


def _ledger(merchant):
    return {
        (g.pk, g.campaign_code, g.customer_id, g.granted_at)
        for g in GiftGrant.objects.filter(merchant=merchant)
    }


@pytest.fixture
def two_customers(merchant):
    survivor = Customer.objects.create(merchant=merchant, display_name="张伟 (tmall)")
    absorbed = Customer.objects.create(merchant=merchant, display_name="张伟 (douyin)")
    return ChannelFactory(merchant=merchant), survivor, absorbed


def test_a_campaign_granted_to_both_keeps_the_earlier_grant_and_records_the_later(two_customers):
    channel, survivor, absorbed = two_customers
    earlier = _grant(channel, absorbed, "spring-gift", day=1)
    later = _grant(channel, survivor, "spring-gift", day=9)
    only_absorbed = _grant(channel, absorbed, "summer-gift", day=2)
    only_survivor = _grant(channel, survivor, "autumn-gift", day=3)
    cited = GiftRefusal.objects.create(
        merchant=channel.merchant,
        campaign_code="spring-gift",
        customer=survivor,
        channel=channel,
        grant=later,
        reason="Campaign spring-gift withheld: customer already received it.",
    )
    before = _ledger(channel.merchant)

    merge = customers_merge(survivor=survivor, absorbed=absorbed, reason="same phone", actor="ops")

    held = {g.campaign_code: g for g in GiftGrant.objects.filter(customer=survivor)}
    assert set(held) == {"spring-gift", "summer-gift", "autumn-gift"}
    assert (
        held["spring-gift"].pk == earlier.pk
        and held["spring-gift"].granted_at == earlier.granted_at
    )
    assert held["summer-gift"].pk == only_absorbed.pk and held["autumn-gift"].pk == only_survivor.pk
    assert not GiftGrant.objects.filter(customer=absorbed).exists()
    assert not GiftGrant.objects.filter(pk=later.pk).exists()
    record = GiftRefusal.objects.get(reason__contains=GRANTED_TWICE)
    assert record.customer == survivor and record.grant_id == earlier.pk
    assert record.campaign_code == "spring-gift" and record.channel == channel
    cited.refresh_from_db()
    assert cited.grant_id == earlier.pk  # still cites a grant the person holds

    customers_unmerge(merge=merge, actor="ops")

    assert _ledger(channel.merchant) == before
    assert not GiftRefusal.objects.filter(reason__contains=GRANTED_TWICE).exists()
    cited.refresh_from_db()
    assert cited.grant_id == later.pk


def test_when_the_survivors_grant_is_earlier_the_absorbed_ones_is_recorded_and_restored(
    two_customers,
):
    channel, survivor, absorbed = two_customers
    kept = _grant(channel, survivor, "spring-gift", day=1)
    dropped = _grant(channel, absorbed, "spring-gift", day=5)
    before = _ledger(channel.merchant)

    merge = customers_merge(survivor=survivor, absorbed=absorbed, reason="same phone", actor="ops")

    assert list(GiftGrant.objects.values_list("pk", "customer_id")) == [(kept.pk, survivor.pk)]
    assert merge.dropped_gift_grants[0]["id"] == dropped.pk and merge.moved_gift_grant_ids == []
    assert GiftRefusal.objects.get().reason.startswith(f"Campaign spring-gift {GRANTED_TWICE}")

    customers_unmerge(merge=merge, actor="ops")

    assert _ledger(channel.merchant) == before and not GiftRefusal.objects.exists()


def test_customers_without_grants_merge_as_before(two_customers):
    _channel, survivor, absorbed = two_customers
    merge = customers_merge(survivor=survivor, absorbed=absorbed, reason="same phone", actor="ops")
    assert merge.moved_gift_grant_ids == [] and merge.dropped_gift_grants == []
    customers_unmerge(merge=merge, actor="ops")
    absorbed.refresh_from_db()
    assert absorbed.merged_into is None


def test_what_moved_is_stored_with_the_merge_so_a_later_unmerge_restores_it(two_customers):
    channel, survivor, absorbed = two_customers
    _grant(channel, survivor, "spring-gift", day=1)
    moved = _grant(channel, absorbed, "summer-gift", day=2)
    _grant(channel, absorbed, "spring-gift", day=5)
    before = _ledger(channel.merchant)
    merge = customers_merge(survivor=survivor, absorbed=absorbed, reason="same phone", actor="ops")

    stored = CustomerMerge.objects.get(pk=merge.pk)
    assert stored.moved_gift_grant_ids == [moved.pk] and len(stored.dropped_gift_grants) == 1
    customers_unmerge(merge=stored, actor="ops")
    assert _ledger(channel.merchant) == before


def test_a_merge_that_fails_leaves_the_gift_ledger_as_it_was(two_customers, monkeypatch):
    channel, survivor, absorbed = two_customers
    _grant(channel, survivor, "spring-gift", day=1)
    _grant(channel, absorbed, "spring-gift", day=5)
    _grant(channel, absorbed, "summer-gift", day=2)
    before = _ledger(channel.merchant)

    def merge_row_not_written(*args, **kwargs):
        raise RuntimeError("the merge row could not be written")

    monkeypatch.setattr(CustomerMerge, "save", merge_row_not_written)
    with pytest.raises(RuntimeError):
        customers_merge(survivor=survivor, absorbed=absorbed, reason="same phone", actor="ops")

    assert _ledger(channel.merchant) == before and not GiftRefusal.objects.exists()
