"""Normalisers: phone to E.164 + keyed hash + mask, names, Chinese numerals and addresses."""

import pytest

from customers.matching.normalize import (
    chinese_numeral_value,
    mask_phone,
    normalize_address,
    normalize_name,
    normalize_phone,
    numerals_to_digits,
    phone_digest,
)


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "+86 138 1234 5678",
        "0086-138-1234-5678",
        "86 13812345678",
        "138-1234-5678",
        "１３８１２３４５６７８",
        "＋８６　１３８　１２３４　５６７８",
        "(138) 1234 5678",
    ],
)
def test_it_normalizes_mobile_formats_to_one_e164(raw):
    phone = normalize_phone(raw)
    assert phone is not None
    assert phone.e164 == "+8613812345678"


def test_it_normalizes_landlines_and_foreign_numbers():
    assert normalize_phone("021-6234 5678").e164 == "+862162345678"
    assert normalize_phone("+1 650 253 0000").e164 == "+16502530000"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "abc",
        "12345",
        "00000000000",
        "138****5678",  # masked by the platform
        "17012345678转1234",  # relay (privacy) number + extension, shared by many buyers
        "13812345678-8001",
        "021-62345678 ext. 8001",  # switchboard extension
    ],
)
def test_it_rejects_invalid_masked_and_shared_phones(raw):
    assert normalize_phone(raw) is None


def test_phone_digest_depends_on_the_key():
    first = phone_digest("+8613812345678", b"key-one")
    assert first == phone_digest("+8613812345678", b"key-one")
    assert first != phone_digest("+8613812345678", b"key-two")
    assert "13812345678" not in first and len(first) == 64


def test_it_masks_the_middle_of_a_phone():
    assert mask_phone("+8613812345678") == "138****5678"
    assert mask_phone("+86 138-1234-5678") == "138****5678"
    assert normalize_phone("13812345678").masked == "138****5678"
    assert mask_phone("+1 650 253 0000") == "+1 650***0000"


def test_what_is_not_a_valid_number_keeps_only_its_last_two_digits():
    assert mask_phone("17012345678转1234") == "*************34"
    assert mask_phone("138****8000") == "*****00"
    assert mask_phone("") == ""


def test_it_cleans_names_and_recognises_honorifics():
    assert normalize_name(" 张 伟 ").full == "张伟"
    assert normalize_name("王女士（前台代收）").honorific is True
    assert normalize_name("欧阳娜娜").surname == "欧阳"
    assert normalize_name("") is None


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("三", 3),
        ("十", 10),
        ("十二", 12),
        ("二十一", 21),
        ("一百零五", 105),
        ("一二零一", 1201),
        ("两", 2),
    ],
)
def test_it_reads_chinese_numerals(numeral, value):
    assert chinese_numeral_value(numeral) == value


def test_it_converts_numerals_only_where_they_count_units():
    assert numerals_to_digits("三号楼十二层") == "3号楼12层"
    assert numerals_to_digits("三里屯五一路") == "三里屯五一路"
    assert numerals_to_digits("第五大道") == "5大道"


def test_it_parses_building_unit_and_room():
    address = normalize_address("上海市浦东新区张江路123弄5号楼2单元301室")
    assert address.admin_code == "310115"
    assert (address.street, address.number) == ("张江路", "123弄")
    assert (address.building, address.unit, address.room) == ("5", "2", "301")


@pytest.mark.parametrize(
    "variant",
    [
        "上海浦东张江路１２３弄五号楼二单元三零一室（放门口）",
        "浦东新区张江路123弄5栋2单元301",
        "上海市浦东新区张江路123弄5幢2单元301房",
        "上海市 浦东新区 张江路123弄5#2单元301",
        "上海市浦东新区张江镇张江路123弄5-2-301",
    ],
)
def test_address_variants_share_one_canonical_form(variant):
    reference = normalize_address("上海市浦东新区张江路123弄5号楼2单元301室")
    assert normalize_address(variant).canonical == reference.canonical


def test_it_resolves_admin_codes_at_the_level_given():
    assert normalize_address("浙江省杭州市西湖区文三路90号").admin_code == "330106"
    assert normalize_address("杭州西湖区文三路90号").admin_code == "330106"
    assert normalize_address("广东深圳南山区科技园南区8栋").admin_code == "440305"
    city_only = normalize_address("杭州市文三路90号")
    assert (city_only.admin_code, city_only.admin_prefix) == ("330100", "3301")


def test_an_ambiguous_district_is_left_unresolved():
    # 朝阳区 exists in Beijing and in Changchun: no guess.
    assert normalize_address("朝阳区建国路88号").admin_code == ""
    assert normalize_address("北京朝阳区建国路88号").admin_code == "110105"


def test_a_road_named_after_its_district_is_not_taken_for_the_district():
    address = normalize_address("上海市长宁路1号")
    assert address.admin_prefix == "31"
    assert address.street == "长宁路"


def test_shanghai_lane_numbers_are_buildings():
    address = normalize_address("上海市徐汇区漕溪北路88弄3号1202室")
    assert (address.number, address.building, address.room) == ("88弄", "3", "1202")


def test_room_after_a_street_number_and_complex_name():
    address = normalize_address("北京市朝阳区建国路88号SOHO现代城3号楼1205")
    assert (address.community, address.building, address.room) == ("SOHO现代城", "3", "1205")


def test_a_fingerprint_survives_a_round_trip_through_plain_data():
    import json
    from dataclasses import replace
    from datetime import datetime

    from customers.matching.records import (
        Observation,
        fingerprint,
        fingerprint_from_dict,
        fingerprint_to_dict,
    )

    observation = Observation(
        "r1", "douyin", "dy_1", "ABC", "+86 138 1234 5678", "张伟", "上海市浦东新区张江路1号2幢301室",
        datetime(2024, 1, 2, 3, 4, 5),
    )  # fmt: skip
    record = fingerprint(observation, key=b"k")
    data = json.loads(json.dumps(fingerprint_to_dict(record), ensure_ascii=False))
    assert "13812345678" not in json.dumps(data)
    assert fingerprint_from_dict(data) == record
    flagged = replace(record, named_other=True, carrier_proxy=True, receiver_linked=True)
    assert fingerprint_from_dict(fingerprint_to_dict(flagged)) == flagged


def test_delivery_notes_are_dropped_but_comma_separated_parts_are_kept():
    noted = normalize_address("北京市朝阳区建国路88号3号楼1205，电话联系（放门口）")
    parted = normalize_address("北京市朝阳区建国路88号，SOHO现代城3号楼1205")
    assert (noted.building, noted.room) == ("3", "1205")
    assert (parted.community, parted.building, parted.room) == ("SOHO现代城", "3", "1205")
