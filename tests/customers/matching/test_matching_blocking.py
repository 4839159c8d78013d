"""Blocking: resolution compares only records sharing a key, never the whole index."""

from datetime import datetime, timedelta

import pytest

from customers.matching.blocking import BlockingIndex, IncrementalResolver, blocking_keys, resolve
from customers.matching.records import Observation, fingerprint
from customers.matching.score import MatchRules, Outcome

KEY = b"test-key"


def person_record(index: int) -> Observation:
    return Observation(
        record_id=f"r{index}",
        channel="tmall",
        channel_account_id=f"tm_{index}",
        device_id=f"device-{index}",
        phone=f"138{index:08d}",
        receiver_name="张伟" if index % 2 else "李娜",
        address=f"杭州市西湖区文三路{index % 500 + 1}号{index % 30 + 1}幢{index % 6 + 1}单元{index % 3000 + 101}室",
        created_at=datetime(2024, 1, 1) + timedelta(minutes=index),
    )


def loaded_resolver(count: int) -> IncrementalResolver:
    resolver = IncrementalResolver()
    for index in range(count):
        resolver.add(fingerprint(person_record(index), key=KEY))
    return resolver


STORED = 1500


@pytest.fixture(scope="module")
def crowded_resolver() -> IncrementalResolver:
    """1,500 people, half of them 张伟 in one province: the name key is as crowded as it gets."""
    return loaded_resolver(STORED)


def test_resolving_one_observation_compares_a_bounded_number_of_records(crowded_resolver):
    probe = fingerprint(person_record(1234), key=KEY)
    decision = resolve(probe, crowded_resolver.index, crowded_resolver.rules)
    assert decision.outcome is Outcome.LINK
    assert decision.customer_id == crowded_resolver.index.customer_of("r1234")
    # Hundreds of 张伟 in one province share the name key, but posting lists are capped.
    cap = crowded_resolver.index.max_postings_per_key
    assert decision.comparisons <= len(blocking_keys(probe)) * cap
    assert decision.comparisons < STORED / 10


def test_a_stream_costs_a_bounded_number_of_comparisons_per_observation(crowded_resolver):
    assert crowded_resolver.comparisons / STORED < 70


def test_an_observation_sharing_no_key_is_compared_with_nothing():
    resolver = loaded_resolver(200)
    stranger = Observation(
        "x", "pos", "", "", "13900000000", "欧阳娜娜", "成都市武侯区人民南路4段12号", None
    )
    decision = resolve(fingerprint(stranger, key=KEY), resolver.index, resolver.rules)
    assert decision.outcome is Outcome.NEW
    assert decision.comparisons == 0


def test_keys_cover_phone_device_account_address_unit_and_name():
    keys = blocking_keys(fingerprint(person_record(7), key=KEY))
    prefixes = sorted(key.split(":")[0] for key in keys)
    assert prefixes == ["account", "address", "device", "name", "phone", "pmask", "unit"]
    assert not any("13800000007" in key for key in keys)  # phones only as keyed digests


def test_a_bridging_observation_merges_two_customers_of_one_person():
    resolver = IncrementalResolver()
    first = Observation(
        "a", "pos", "", "", "13812345678", "张伟", "上海市浦东新区张江路1号2幢301室", None
    )
    second = Observation(
        "b", "tmall", "", "ipad-9", "13987654321", "张伟", "上海市闵行区虹梅路8号9幢1201室", None
    )
    bridge = Observation(
        "c", "douyin", "", "ipad-9", "13812345678", "张伟", "上海市闵行区虹梅路8号9幢1201室", None
    )
    for observation in (first, second):
        resolver.add(fingerprint(observation, key=KEY))
    assert resolver.index.customer_of("a") != resolver.index.customer_of("b")
    decision = resolver.add(fingerprint(bridge, key=KEY))
    assert decision.merge_customer_ids
    assert len(set(resolver.assignments().values())) == 1


def test_bridges_are_not_merged_when_the_rules_forbid_it():
    resolver = IncrementalResolver(MatchRules.from_mapping({"merge_clusters": False}))
    for record_id, phone, address in (
        ("a", "13812345678", "上海市浦东新区张江路1号2幢301室"),
        ("b", "13987654321", "上海市闵行区虹梅路8号9幢1201室"),
        ("c", "13812345678", "上海市闵行区虹梅路8号9幢1201室"),
    ):
        resolver.add(
            fingerprint(
                Observation(record_id, "pos", "", "", phone, "张伟", address, None), key=KEY
            )
        )
    assert len(set(resolver.assignments().values())) == 2


def test_the_index_caps_posting_lists():
    index = BlockingIndex(max_postings_per_key=5)
    for number in range(20):
        record = fingerprint(
            Observation(f"r{number}", "pos", "", "shared-device", "", "", "", None), key=KEY
        )
        index.add(record, f"C{number}")
    assert len(list(index.candidates(["device:shared-device"]))) == 5
