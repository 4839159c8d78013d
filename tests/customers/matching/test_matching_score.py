"""Scoring and resolution: true variants link, each hard-negative kind stays apart."""

from datetime import datetime

import pytest

from customers.matching.blocking import IncrementalResolver
from customers.matching.compare import Signal
from customers.matching.records import Observation, fingerprint
from customers.matching.score import MatchRules, Outcome

KEY = b"test-key"
HOME = "上海市浦东新区张江路123弄5号楼2单元301室"


def observe(record_id, *, phone="", name="", address="", device="", account="", when=None):
    observation = Observation(
        record_id=record_id,
        channel="douyin",
        channel_account_id=account,
        device_id=device,
        phone=phone,
        receiver_name=name,
        address=address,
        created_at=when or datetime(2024, 5, 1),
    )
    return fingerprint(observation, key=KEY)


def resolve_stream(*records):
    resolver = IncrementalResolver()
    decisions = [resolver.add(record) for record in records]
    return resolver, decisions


def test_the_same_person_in_other_formats_links_with_reasons():
    resolver, decisions = resolve_stream(
        observe("a", phone="13812345678", name="张伟", address=HOME),
        observe(
            "b", phone="+86 138-1234-5678", name="张 伟", address="浦东张江路123弄五栋二单元三零一"
        ),
    )
    assert decisions[1].outcome is Outcome.LINK
    assert resolver.index.customer_of("a") == resolver.index.customer_of("b")
    assert "same phone 138****5678" in decisions[1].reasons
    assert "address same building, same room" in decisions[1].reasons


def test_a_second_phone_at_the_same_address_and_name_is_kept_for_review():
    # Buyers name relatives who share their flat as receivers: the same name and flat with
    # another phone and nothing else in common is one person only about half the time.
    _, decisions = resolve_stream(
        observe("a", phone="13812345678", name="张伟", address=HOME),
        observe("b", phone="13987654321", name="张伟", address=HOME),
    )
    assert decisions[1].outcome is Outcome.REVIEW
    assert decisions[1].customer_id == "C00000001"


def test_a_second_phone_with_the_same_device_name_and_address_links():
    _, decisions = resolve_stream(
        observe("a", phone="13812345678", name="张伟", address=HOME, device="dev-1"),
        observe("b", phone="13987654321", name="张伟", address=HOME, device="dev-1"),
    )
    assert decisions[1].outcome is Outcome.LINK


def test_a_changed_device_with_a_typo_in_the_address_links_on_phone_and_name():
    _, decisions = resolve_stream(
        observe("a", phone="13812345678", name="张伟", address=HOME, device="dev-1"),
        observe(
            "b",
            phone="13812345678",
            name="张伟",
            address="上海浦东张江璐123弄5-2-301",
            device="dev-2",
        ),
    )
    assert decisions[1].outcome is Outcome.LINK


def test_family_members_at_one_address_stay_apart():
    _, decisions = resolve_stream(
        observe("father", phone="13812345678", name="张建国", address=HOME),
        observe("daughter", phone="13900001111", name="张薇", address=HOME),
    )
    assert decisions[1].outcome is Outcome.NEW


def test_roommates_stay_apart():
    _, decisions = resolve_stream(
        observe("a", phone="13812345678", name="张伟", address=HOME),
        observe("b", phone="13700002222", name="李娜", address=HOME),
    )
    assert decisions[1].outcome is Outcome.NEW


def test_a_shared_family_tablet_does_not_merge_siblings():
    _, decisions = resolve_stream(
        observe("a", phone="13812345678", name="张伟", address=HOME, device="tablet"),
        observe("b", phone="13600003333", name="张薇", address=HOME, device="tablet"),
    )
    assert decisions[1].outcome is not Outcome.LINK


def test_siblings_with_generation_names_on_one_tablet_are_only_flagged():
    # 张伟强 / 张伟明 differ by one character, like a typo; without a shared phone: review.
    _, decisions = resolve_stream(
        observe("a", phone="13812345678", name="张伟强", address=HOME, device="tablet"),
        observe("b", phone="13600003333", name="张伟明", address=HOME, device="tablet"),
    )
    assert decisions[1].outcome is Outcome.REVIEW
    assert decisions[1].customer_id is not None


def test_namesakes_in_one_city_stay_apart():
    _, decisions = resolve_stream(
        observe("a", phone="13812345678", name="王伟", address="杭州市西湖区文三路90号3幢1201"),
        observe("b", phone="13500004444", name="王伟", address="杭州市西湖区天目山路8号12幢402"),
    )
    assert decisions[1].outcome is Outcome.NEW


def test_neighbours_one_room_apart_stay_apart():
    _, decisions = resolve_stream(
        observe("a", phone="13812345678", name="张伟", address=HOME),
        observe("b", phone="13500004444", name="张强", address=HOME.replace("301", "302")),
    )
    assert decisions[1].outcome is Outcome.NEW


def test_a_recycled_phone_number_does_not_merge_its_owners():
    _, decisions = resolve_stream(
        observe("old", phone="13812345678", name="张伟", address=HOME, when=datetime(2023, 2, 1)),
        observe(
            "new",
            phone="13812345678",
            name="赵敏",
            address="北京市朝阳区建国路88号3号楼1205",
            when=datetime(2025, 6, 1),
        ),
    )
    assert decisions[1].outcome is Outcome.NEW
    assert any("years apart" in reason for reason in decisions[1].reasons)


def test_a_group_leader_ordering_for_a_member_does_not_merge_them():
    leader = {"phone": "18601008725", "device": "leader-phone", "account": "dy_leader"}
    resolver, decisions = resolve_stream(
        observe(
            "leader", name="何娟", address="深圳市龙华区延安街920号枫林家园5栋5单元3001室", **leader
        ),
        # The leader has already ordered for two other members: the phone, device and account
        # carry other receivers, so on a member's order they are a proxy's.
        observe("for-1", name="李强", address="深圳市龙华区延安街300号1栋101", **leader),
        observe("for-2", name="王芳", address="深圳市龙华区延安街400号2栋202", **leader),
        observe(
            "member", phone="13011112222", name="何明", address="深圳市龙华区延安街100号3栋1101"
        ),
        observe("proxy", name="何明", address="深圳市龙华区延安街100号3栋1101", **leader),
        observe("leader-again", name="何娟", address="深圳市龙华区延安街920号5-5-3001", **leader),
    )
    customer = resolver.index.customer_of
    assert decisions[4].carrier_proxy
    assert customer("proxy") == customer("member")
    assert customer("leader") == customer("leader-again")
    assert customer("leader") != customer("member")
    assert len({customer("leader"), customer("for-1"), customer("for-2")}) == 3
    assert decisions[5].merge_customer_ids == ()


def test_names_are_evidence_not_a_veto():
    # The buyer's own phone, device and account outweigh a pinyin handle, a nickname or a
    # relative named as receiver at the buyer's address.
    own = {"phone": "13812345678", "device": "dev-1", "account": "dy_1"}
    resolver, decisions = resolve_stream(
        observe("a", name="周东强", address=HOME, **own),
        observe("b", name="zhou_dongqiang88", address=HOME, **own),
        observe("c", name="小强", address=HOME, **own),
        observe("d", name="赵欣娜", address=HOME, **own),
    )
    assert [d.outcome for d in decisions[1:]] == [Outcome.LINK] * 3
    assert len(set(resolver.assignments().values())) == 1


def test_a_masked_phone_is_partial_evidence_completed_by_the_device():
    _, decisions = resolve_stream(
        observe("a", phone="13812345678", name="周东强", address=HOME, device="dev-1"),
        observe("b", phone="138****5678", name="周东强", address=HOME, device="dev-1"),
        observe("c", phone="138****9999", name="周东强", address=HOME),
    )
    assert decisions[1].outcome is Outcome.LINK
    assert any("masked phone 138****5678 fits" in reason for reason in decisions[1].reasons)
    assert decisions[2].outcome is not Outcome.LINK


def test_a_relative_named_as_receiver_does_not_pull_the_relative_in_later():
    buyer = {"phone": "13812345678", "device": "dev-1", "account": "dy_1"}
    resolver, _ = resolve_stream(
        observe("a", name="王辉", address=HOME, **buyer),
        observe("b", name="李琳", address=HOME, **buyer),  # ordered for a relative
        observe("c", phone="13900001111", name="李琳", address=HOME, device="dev-2"),
    )
    customer = resolver.index.customer_of
    assert customer("a") == customer("b")
    assert customer("c") != customer("a")


def test_an_honorific_alone_does_not_link_on_a_shared_device():
    _, decisions = resolve_stream(
        observe("a", phone="13812345678", name="张伟", address=HOME, device="tablet"),
        observe("b", name="张先生", address=HOME, device="tablet"),
    )
    assert decisions[1].outcome is Outcome.REVIEW


def test_rules_from_plain_data_override_weights_and_thresholds():
    rules = MatchRules.from_mapping(
        {
            "weights": {"device_same": 9},
            "link_threshold": 12,
            "phone_recycle_days": 90,
            "shared_carrier_customers": 5,
        }
    )
    assert rules.weights[Signal.DEVICE_SAME] == 9.0
    assert rules.weights[Signal.PHONE_SAME] == 8.0
    assert rules.link_threshold == 12.0
    assert rules.compare.phone_recycle_days == 90
    assert rules.compare.shared_carrier_customers == 5
    with pytest.raises(ValueError):
        MatchRules.from_mapping({"weights": {"no_such_signal": 1}})


def test_raising_the_review_bar_turns_a_review_into_new():
    records = (
        observe("a", phone="13812345678", name="张伟强", address=HOME, device="tablet"),
        observe("b", phone="13600003333", name="张伟明", address=HOME, device="tablet"),
    )
    resolver = IncrementalResolver(MatchRules.from_mapping({"review_threshold": 9.5}))
    resolver.add(records[0])
    assert resolver.add(records[1]).outcome is Outcome.NEW


def test_a_leader_phone_used_by_many_customers_does_not_merge_namesake_members():
    leader = {"phone": "19949846941", "device": "leader-device", "account": "gb_leader"}
    members = [
        ("刘洋", "北京市海淀区文化路848号君悦花园22栋6单元1501"),
        ("王芳", "北京市海淀区学院路1号3栋2单元401"),
        ("陈静", "北京市海淀区中关村大街27号5栋1101"),
    ]
    resolver, _ = resolve_stream(
        *(
            observe(f"proxy-{index}", name=name, address=address, **leader)
            for index, (name, address) in enumerate(members)
        )
    )
    # Another member called 刘洋, in Suzhou, ordered through the same leader.
    namesake = observe(
        "proxy-suzhou", name="刘洋", address="苏州市姑苏区朝晖街936号12幢3单元3102", **leader
    )
    decision = resolver.add(namesake)
    assert decision.outcome is not Outcome.LINK
    assert resolver.index.customer_of("proxy-suzhou") != resolver.index.customer_of("proxy-0")
    assert any("already used by 3 customers" in reason for reason in decision.reasons)


def test_next_door_houses_are_neighbours_not_one_address():
    from customers.matching.compare import CompareSettings, compare_addresses

    first = observe("a", name="张伟", address="杭州市西湖区文三路123号")
    second = observe("b", name="张伟", address="杭州市西湖区文三路124号")
    evidence = compare_addresses(first, second, CompareSettings())
    assert evidence.signal is Signal.ADDRESS_NEIGHBOUR
    assert "number 123号 vs 124号" in evidence.detail


def test_the_name_address_key_joins_a_second_phone_that_nobody_else_uses():
    resolver = IncrementalResolver(MatchRules.from_mapping({"name_address_key": True}))
    decisions = [
        resolver.add(record)
        for record in (
            observe("a", phone="13812345678", name="张伟", address=HOME, account="dy_1"),
            observe("b", phone="13987654321", name="张伟", address=HOME),  # a new phone
            observe("c", phone="13987654321", name="张伟", address=HOME),
        )
    ]
    assert decisions[1].outcome is Outcome.LINK
    assert decisions[1].receiver_only
    assert decisions[1].reasons[0] == "exact key address + name"
    assert len(set(resolver.assignments().values())) == 1
    assert resolver.index._records["b"].receiver_linked
    assert not resolver.index._records["c"].receiver_linked  # its phone linked it


def test_the_name_address_key_does_not_join_a_sighting_from_another_handset():
    # Another phone and another device: nothing of the buyer's is shared, and a housemate
    # ordering for 张伟 writes the same name and flat.
    resolver = IncrementalResolver(MatchRules.from_mapping({"name_address_key": True}))
    resolver.add(observe("a", phone="13812345678", name="张伟", address=HOME, device="handset-a"))
    decision = resolver.add(
        observe("b", phone="13987654321", name="张伟", address=HOME, device="handset-b")
    )
    assert decision.outcome is Outcome.REVIEW
    assert resolver.index.customer_of("b") != resolver.index.customer_of("a")


def test_a_sighting_joined_on_its_receiver_lends_its_phone_to_no_one_else():
    resolver = IncrementalResolver(MatchRules.from_mapping({"name_address_key": True}))
    resolver.add(observe("a", phone="13812345678", name="张伟", address=HOME))
    assert resolver.add(observe("b", phone="13987654321", name="张伟", address=HOME)).receiver_only
    # The phone of "b" turns out to be 王辉's, who had ordered for 张伟: 王辉's own order does
    # not follow it into 张伟's customer.
    decision = resolver.add(observe("c", phone="13987654321", name="王辉", address=HOME))
    assert decision.outcome is not Outcome.LINK
    assert resolver.index.customer_of("c") != resolver.index.customer_of("a")


def test_the_name_address_key_does_not_follow_a_relatives_phone():
    resolver = IncrementalResolver(MatchRules.from_mapping({"name_address_key": True}))
    for record in (
        observe("b", phone="13900001111", name="李琳", address=HOME),
        observe("a", phone="13812345678", name="王辉", address=HOME),
        observe("a2", phone="13812345678", name="李琳", address=HOME),  # 王辉 orders for 李琳
    ):
        resolver.add(record)
    customer = resolver.index.customer_of
    assert customer("a2") == customer("a")
    assert customer("b") != customer("a")
