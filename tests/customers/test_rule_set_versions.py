"""Rule sets fitted to a merchant's identities: the draft, the comparison, activation, undo."""

from dataclasses import replace
from datetime import UTC

import pytest
from django.urls import reverse

import tests.factories as factories
from channels.models import GiftGrant
from customers.importing import identities_import
from customers.matching import MatchRules, Observation
from customers.matching.generate import generate_observations
from customers.models import (
    CustomerMerge,
    CustomerSplit,
    Identity,
    MatchRuleSet,
    RuleSetVersion,
)
from customers.services import (
    customer_resolve,
    rule_set_activate,
    rule_set_compare,
    rule_set_fit,
    rule_set_reresolve,
)
from oms.services.orders import AddressInput
from tests.factories import ChannelFactory, ProductFactory, make_order

pytestmark = pytest.mark.django_db

HOME = "上海 上海 浦东新区 世纪大道100号"
FLAT = "北京市朝阳区建国路88号5号楼2单元301室"
# Splits 张伟/小伟 on one phone (a nickname no longer counts), merges 李娜/李娜 at one flat
# with two phones (a different phone no longer counts against).
DRAFT = {
    "weights": {"name_compatible": -20, "phone_different": 0},
    "link_threshold": 9.5,
    "review_threshold": 5,
}


def _observation(record_id, phone, name, address):
    return Observation(record_id, "douyin", "", "", phone, name, address, None)


def _clustering(merchant):
    """The partition of the merchant's identities into customers, as sets of record ids."""
    groups = {}
    for record_id, customer_id in Identity.objects.filter(merchant=merchant).values_list(
        "record_id", "customer_id"
    ):
        groups.setdefault(customer_id, set()).add(record_id)
    return {frozenset(group) for group in groups.values()}


def test_fitting_an_imported_dataset_writes_a_draft_the_matcher_accepts(merchant):
    dataset = generate_observations(400, seed=5)
    observations = [
        replace(o, created_at=o.created_at.replace(tzinfo=UTC) if o.created_at else None)
        for o in dataset.observations
    ]
    identities_import(merchant=merchant, observations=observations)

    version = rule_set_fit(merchant=merchant, actor="test")

    assert version.status == RuleSetVersion.Status.DRAFT
    rules = MatchRules.from_mapping(version.rules)
    assert rules.link_threshold > rules.review_threshold
    assert set(version.rules["weights"]) == {signal.value for signal in MatchRules().weights}
    assert rules.weights[next(iter(rules.weights))] == version.rules["weights"]["phone_same"]
    assert version.rules["weights"]["phone_same"] > 0 > version.rules["weights"]["name_different"]
    fit = version.fit_report
    assert fit["records"] == Identity.objects.filter(merchant=merchant).count()
    assert fit["pairs"] > fit["records"] / 2 and 0 < fit["lambda"] < 1
    assert version.comparison["records"] == fit["records"]
    # Nothing changed by fitting: the merchant's rules are still the defaults.
    assert not MatchRuleSet.objects.filter(merchant=merchant).exists()


@pytest.fixture
def two_people_and_a_pair(merchant, monkeypatch):
    """张伟 and 小伟 on one phone (one customer, with orders and a gift on 小伟's order), and
    李娜 twice at one flat with two phones (kept apart for review)."""
    product = ProductFactory(merchant=merchant)
    channel = ChannelFactory(merchant=merchant)
    orders = []
    for name in ("张伟", "小伟"):
        address = AddressInput(
            receiver_name=name,
            receiver_phone="13800138000",
            province="上海",
            city="上海",
            district="浦东新区",
            address_line="世纪大道100号",
        )
        monkeypatch.setattr(factories, "ADDRESS", address)
        order = make_order(merchant=merchant, lines=[(product, 1)], channel=channel)
        order.refresh_from_db()
        orders.append(order)
    assert orders[0].customer_id == orders[1].customer_id
    grant = GiftGrant.objects.create(
        merchant=merchant,
        campaign_code="spring",
        customer_id=orders[1].customer_id,
        channel=channel,
        order=orders[1],
    )
    customer_resolve(merchant=merchant, observation=_observation("q1", "13900000001", "李娜", FLAT))
    customer_resolve(merchant=merchant, observation=_observation("q2", "13900000002", "李娜", FLAT))
    return orders, grant


def test_comparing_a_draft_counts_the_customers_it_would_merge_and_split(
    merchant, two_people_and_a_pair, admin_client
):
    version = RuleSetVersion.objects.create(
        merchant=merchant, label="draft", origin=RuleSetVersion.Origin.FITTED, rules=DRAFT
    )
    comparison = rule_set_compare(version=version)

    assert (comparison["merges"], comparison["splits"]) == (1, 1)
    assert comparison["customers_before"] == 3 and comparison["customers_after"] == 3
    page = admin_client.get(
        reverse("admin:customers_rulesetversion_change", args=[version.pk])
    ).content.decode()
    assert "1 merges, 1 splits" in page
    assert "138****8000" in page and "小*" in page
    assert "小伟" not in page and "13800138000" not in page


def test_activation_re_resolves_with_audited_merges_and_splits_and_undoes_on_reactivation(
    merchant, two_people_and_a_pair, admin_client, django_capture_on_commit_callbacks
):
    orders, grant = two_people_and_a_pair
    before = _clustering(merchant)
    version = RuleSetVersion.objects.create(
        merchant=merchant, label="draft", origin=RuleSetVersion.Origin.FITTED, rules=DRAFT
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:customers_rulesetversion_changelist"),
            {"action": "activate", "_selected_action": [version.pk]},
        )
    assert response.status_code == 302

    version.refresh_from_db()
    assert version.status == RuleSetVersion.Status.ACTIVE
    assert version.resolve_status == RuleSetVersion.Resolve.DONE
    assert (version.resolve_report["merges"], version.resolve_report["splits"]) == (1, 1)
    assert MatchRuleSet.objects.get(merchant=merchant).rules == DRAFT
    after = _clustering(merchant)
    assert after == {
        frozenset({f"oms-order:{orders[0].pk}"}),
        frozenset({f"oms-order:{orders[1].pk}"}),
        frozenset({"q1", "q2"}),
    }
    split = CustomerSplit.objects.get(merchant=merchant)
    assert split.actor == f"rules:{version.pk}" and split.moved_order_ids == [orders[1].pk]
    orders[1].refresh_from_db()
    assert orders[1].customer_id == split.created_id
    grant.refresh_from_db()
    assert grant.customer_id == split.created_id and split.moved_gift_grant_ids == [grant.pk]
    merge = CustomerMerge.objects.get(merchant=merchant, actor=f"rules:{version.pk}")
    assert "activated" in merge.reason

    previous = RuleSetVersion.objects.get(merchant=merchant, origin=RuleSetVersion.Origin.SNAPSHOT)
    assert previous.status == RuleSetVersion.Status.RETIRED
    with django_capture_on_commit_callbacks(execute=True):
        rule_set_activate(version=previous, actor="test")

    assert _clustering(merchant) == before
    merge.refresh_from_db()
    assert merge.undone_at is not None
    orders[1].refresh_from_db()
    assert orders[1].customer_id == orders[0].customer_id == split.source_id
    grant.refresh_from_db()
    assert grant.customer_id == split.source_id
    version.refresh_from_db()
    assert version.status == RuleSetVersion.Status.RETIRED
    assert MatchRuleSet.objects.get(merchant=merchant).rules == {}


def test_re_resolving_twice_changes_nothing_the_second_time(
    merchant, two_people_and_a_pair, django_capture_on_commit_callbacks
):
    version = RuleSetVersion.objects.create(
        merchant=merchant, label="draft", origin=RuleSetVersion.Origin.FITTED, rules=DRAFT
    )
    with django_capture_on_commit_callbacks(execute=True):
        rule_set_activate(version=version, actor="test")
    clustering = _clustering(merchant)
    assert len(clustering) == 3

    again = rule_set_reresolve(version_id=version.pk)

    assert (again.resolve_report["merges"], again.resolve_report["splits"]) == (0, 0)
    assert _clustering(merchant) == clustering
