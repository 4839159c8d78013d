"""customer_resolve at scale: per-key candidate caps, rules read per call, audit rows."""

from datetime import UTC, datetime, timedelta

import pytest

from customers.importing import identities_import
from customers.matching import Observation, blocking_keys, fingerprint_from_dict
from customers.models import Customer, Identity, IdentityKey, MatchRuleSet
from customers.services import (
    STRONG_KEY_LIMIT,
    WEAK_KEY_LIMIT,
    _current_rules,
    customer_lookup,
    customer_resolve,
    key_limit,
)

pytestmark = pytest.mark.django_db

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _obs(record_id, *, phone, address, name="张伟", at=START, account="", channel="douyin"):
    return Observation(
        record_id=record_id,
        channel=channel,
        channel_account_id=account,
        device_id="",
        phone=phone,
        receiver_name=name,
        address=address,
        created_at=at,
    )


def test_strong_keys_are_capped_far_above_weak_ones():
    assert key_limit("phone:ab12") == key_limit("device:x") == key_limit("account:t:1")
    assert key_limit("phone:ab12") == STRONG_KEY_LIMIT >= 256
    assert key_limit("name:31|张伟") == key_limit("unit:31|1|2|3|4") == WEAK_KEY_LIMIT < 256


def test_a_returning_customers_phone_is_found_behind_300_newer_namesakes(merchant):
    customer, first, _decision = customer_resolve(
        merchant=merchant,
        observation=_obs(
            "first", phone="13800138000", address="上海市浦东新区世纪大道100号3号楼1201室"
        ),
    )
    namesakes = [
        _obs(
            f"namesake-{n}",
            phone=f"1391{n:07d}",
            address=f"上海市闵行区莘庄路{n + 1}号{n % 9 + 1}号楼{n % 20 + 1}01室",
            at=START + timedelta(days=1, minutes=n),
        )
        for n in range(300)
    ]
    identities_import(merchant=merchant, observations=namesakes)
    name_key = next(
        key for key in IdentityKey.objects.values_list("key", flat=True) if key.startswith("name:")
    )
    assert IdentityKey.objects.filter(key=name_key).count() == 301 > 256
    assert Identity.objects.filter(pk__gt=first.pk).count() == 300  # all newer than the first

    # The same person moved house: the phone and name are all that is left to match on.
    returning, identity, decision = customer_resolve(
        merchant=merchant,
        observation=_obs(
            "returning",
            phone="+86 138 0013 8000",
            address="上海市徐汇区漕溪北路8号2号楼502室",
            at=START + timedelta(days=40),
        ),
    )
    assert decision.outcome.value == "link" and returning == customer
    assert decision.matched_record_id == "first" and "exact key phone + name" in identity.reasons
    assert (
        customer_lookup(
            merchant=merchant,
            observation=_obs("lookup", phone="13800138000", address="北京市朝阳区建国路88号"),
        )[0]
        == customer
    )


def test_rule_edits_apply_to_the_next_resolution_even_without_save(merchant):
    assert _current_rules(merchant).link_threshold == 10
    MatchRuleSet.objects.create(merchant=None, rules={"link_threshold": 12})
    assert _current_rules(merchant).link_threshold == 12
    own = MatchRuleSet.objects.create(merchant=merchant, rules={"link_threshold": 14})
    assert _current_rules(merchant).link_threshold == 14
    MatchRuleSet.objects.filter(pk=own.pk).update(rules={"link_threshold": 15})
    assert _current_rules(merchant).link_threshold == 15


def test_a_resolution_writes_creation_history_and_keys_like_a_save(merchant):
    customer, identity, _decision = customer_resolve(
        merchant=merchant,
        observation=_obs(
            "a", phone="13800138000", address="上海市浦东新区世纪大道100号3号楼1201室"
        ),
    )
    stored = Identity.objects.get(pk=identity.pk)
    assert stored.observed_at == START and stored.customer_id == customer.pk
    assert stored.fingerprint["record_id"] == "a" and stored.reasons == list(identity.reasons)
    assert stored.created_at is not None and stored.created_at == identity.created_at
    assert sorted(
        IdentityKey.objects.filter(identity=stored).values_list("key", flat=True)
    ) == sorted(blocking_keys(fingerprint_from_dict(stored.fingerprint)))
    (identity_history,) = stored.history.all()
    assert identity_history.history_type == "+" and identity_history.outcome == "new"
    assert identity_history.customer_id == customer.pk and identity_history.history_user is None
    (customer_history,) = Customer.objects.get(pk=customer.pk).history.all()
    assert customer_history.history_type == "+" and customer_history.display_name == "张伟"

    again, linked, decision = customer_resolve(
        merchant=merchant,
        observation=_obs(
            "b", phone="13800138000", address="上海市浦东新区世纪大道100号3号楼1201室"
        ),
    )
    assert decision.outcome.value == "link" and again == customer and not again._state.adding
    assert again.display_name == "张伟" and again.vip is False and again.created_at is not None
    assert Customer.objects.count() == 1 and Customer.history.count() == 1
