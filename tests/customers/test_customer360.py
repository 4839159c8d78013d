"""The customer 360 in admin: one person's orders across channels, lifetime value, identities
with why they were linked, and the per-channel duplicate and repeat rates (#customer-360)."""

import ast
import re
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from customers.customer360 import channel_repeat_rates, lifetime_value
from customers.matching import fingerprint
from customers.matching.blocking import IncrementalResolver
from customers.matching.generate import generate_observations
from customers.models import Customer, Identity
from customers.reasons import explain, explain_merge, explain_one
from customers.services import customers_merge, order_customer_link
from oms.models import ChannelKind, Order
from oms.permissions import OPERATIONS_GROUP
from oms.services.orders import AddressInput, LineInput, order_create
from tests.factories import ChannelFactory, MerchantFactory, ProductFactory

pytestmark = pytest.mark.django_db

# The words of the matcher's phrases; the values they carry (masked phones, device ids) are not.
ENGLISH_WORDS = re.compile(
    r"\b(same|different|phone|device|account|address|receiver|name|score|review|link|exact|"
    r"key|surname|similar|room|building|unit|street|years|customers|candidate|place)\b",
    re.IGNORECASE,
)
PO_FILE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"

# One person, three channels: each platform hands over its own virtual phone number and the
# person gives a slightly different address each time, so no exact key ties the sightings.
SIGHTINGS = [
    (ChannelKind.DOUYIN, "抖音旗舰店", "dy-7781", "13800138001", "世纪大道100号", "199.00"),
    (ChannelKind.WECHAT_MINI, "微信小程序商城", "wx-oQ2f", "13900139002", "张杨路500号", "88.50"),
    (ChannelKind.TMALL, "天猫旗舰店", "tm-lin", "13700137003", "陆家嘴环路1000号", "12.34"),
]


def _order(merchant, channel, product, *, phone, street, total, external_id, placed_at=None):
    """An order through the service; routing (after commit) is left out."""
    with TestCase.captureOnCommitCallbacks(execute=False):
        return order_create(
            merchant=merchant,
            channel=channel,
            external_id=external_id,
            lines=[LineInput(product, 1, Decimal(total))],
            address=AddressInput("林小雨", phone, "上海", "上海", street, "浦东新区"),
            actor="test",
            placed_at=placed_at,
        )


def _one_person_on_three_channels(merchant):
    """Three orders on three channels, linked as three customers, then merged into one."""
    product = ProductFactory(merchant=merchant)
    customers, orders, channels = [], [], []
    for index, (kind, name, account, phone, street, total) in enumerate(SIGHTINGS):
        channel = ChannelFactory(merchant=merchant, code=kind, kind=kind, name=name)
        order = _order(
            merchant,
            channel,
            product,
            phone=phone,
            street=street,
            total=total,
            external_id=f"{kind.upper()}-{index}",
            placed_at=timezone.make_aware(datetime(2026, 11, 1 + index, 9, 30)),
        )
        customer = order_customer_link(order_id=order.pk, account_id=account)
        customers.append(customer)
        orders.append(order)
        channels.append(channel)
    assert len({c.pk for c in customers}) == 3, "the sightings must start apart"
    survivor = customers[0]
    for absorbed in customers[1:]:
        customers_merge(
            survivor=survivor,
            absorbed=absorbed,
            reason="review: same receiver name 林**; different phones",
            actor="user:ops",
        )
    return survivor, customers[1:], orders, channels


def _rates_by_channel(merchant):
    return {
        (row.channel.code if row.channel else "all"): row
        for row in channel_repeat_rates(merchant=merchant)
    }


def test_one_person_on_three_channels_is_one_customer_with_three_orders(admin_client, merchant):
    survivor, absorbed, orders, _channels = _one_person_on_three_channels(merchant)
    assert all(
        c.merged_into_id == survivor.pk
        for c in Customer.objects.filter(pk__in=[a.pk for a in absorbed])
    )
    assert Identity.objects.filter(customer=survivor).count() == 3

    value = lifetime_value([survivor.pk])
    assert value.orders == 3
    assert value.revenue == {"CNY": Decimal("299.84")}
    assert [use.orders for use in value.channels] == [1, 1, 1]
    assert value.repeat_rate == Fraction(2, 3)
    assert (
        value.first_order_at == orders[0].placed_at and value.last_order_at == orders[2].placed_at
    )

    response = admin_client.get(
        reverse("admin:customers_customer_change", args=[survivor.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Orders across channels (3)" in html
    for order in orders:
        assert reverse("admin:oms_order_change", args=[order.pk]) in html
    assert "¥299.84" in html
    for _kind, name, *_rest in SIGHTINGS:
        assert name in html
    assert "2026-11-03 09:30" in html  # placed-at in the merchant's time (Asia/Shanghai)
    merchant.time_zone = "Asia/Tokyo"
    merchant.save()
    tokyo = admin_client.get(
        reverse("admin:customers_customer_change", args=[survivor.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "2026-11-03 10:30" in tokyo and "2026-11-03 09:30" not in tokyo
    assert "66.7 %" in html
    assert "[&quot;" not in html and '["' not in html  # no raw JSON of the reasons
    assert "No earlier record shared a phone" in html
    assert html.count("Moved to this customer by a merge on") == 2  # the absorbed identities
    assert "A reviewer decided they are the same person." in html


def test_channel_rates_of_one_person_on_three_channels(merchant):
    _one_person_on_three_channels(merchant)
    rates = _rates_by_channel(merchant)
    for kind in (ChannelKind.DOUYIN, ChannelKind.WECHAT_MINI, ChannelKind.TMALL):
        row = rates[kind]
        assert (row.accounts, row.duplicate_accounts, row.repeat_accounts) == (1, 1, 0)
        assert (row.customers, row.repeat_customers) == (1, 1)
        assert row.duplicate_rate == 1
        assert row.repeat_rate_per_account == 0
        assert row.repeat_rate_per_customer == 1
        assert row.understatement == 1
    total = rates["all"]
    assert (total.accounts, total.duplicate_accounts, total.repeat_accounts) == (3, 3, 0)
    assert (total.customers, total.repeat_customers) == (1, 1)


def test_channel_rates_against_a_hand_count(merchant):
    """Two more buyers: one orders twice on Douyin only, one once on Tmall only.

    Douyin: accounts {person, A} -> duplicates 1/2, repeats per account 1/2 (A), customers
    {person, A} both repeat -> 2/2. Tmall: accounts {person, B} -> duplicates 1/2, repeat per
    account 0/2, per customer 1/2 (the person). All: accounts 5 (3 of the person, A, B),
    duplicates 3/5, repeat per account 1/5, customers 3, repeat 2/3.
    """
    _survivor, _absorbed, _orders, channels = _one_person_on_three_channels(merchant)
    douyin, _wechat, tmall = channels
    product = ProductFactory(merchant=merchant)
    for index in range(2):
        order = _order(
            merchant,
            douyin,
            product,
            phone="13500135000",
            street="金桥路1号",
            total="10.00",
            external_id=f"A-{index}",
        )
        order_customer_link(order_id=order.pk, account_id="dy-a")
    order = _order(
        merchant,
        tmall,
        product,
        phone="13600136000",
        street="浦电路8号",
        total="10.00",
        external_id="B-0",
    )
    order_customer_link(order_id=order.pk, account_id="tm-b")
    rates = _rates_by_channel(merchant)
    dy, tm, total = rates[ChannelKind.DOUYIN], rates[ChannelKind.TMALL], rates["all"]
    assert (dy.duplicate_rate, dy.repeat_rate_per_account, dy.repeat_rate_per_customer) == (
        Fraction(1, 2),
        Fraction(1, 2),
        Fraction(1),
    )
    assert (tm.duplicate_rate, tm.repeat_rate_per_account, tm.repeat_rate_per_customer) == (
        Fraction(1, 2),
        Fraction(0),
        Fraction(1, 2),
    )
    assert (total.accounts, total.duplicate_rate, total.repeat_rate_per_account) == (
        5,
        Fraction(3, 5),
        Fraction(1, 5),
    )
    assert (total.customers, total.repeat_rate_per_customer) == (3, Fraction(2, 3))


def test_an_order_left_on_a_merged_record_still_counts(admin_client, merchant):
    """An order linked while its customer was being merged away points at the absorbed row."""
    survivor, absorbed, orders, _channels = _one_person_on_three_channels(merchant)
    Order.objects.filter(pk=orders[1].pk).update(customer=absorbed[0])
    assert lifetime_value([survivor.pk]).orders == 2  # the survivor alone
    html = admin_client.get(
        reverse("admin:customers_customer_change", args=[survivor.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Orders across channels (3)" in html and "¥299.84" in html
    assert "from a merged record" in html
    assert f"customer__id__in={survivor.pk},{absorbed[0].pk},{absorbed[1].pk}" in html
    rates = _rates_by_channel(merchant)
    assert (rates["all"].customers, rates["all"].repeat_customers) == (1, 1)


def _customer_with_orders(merchant, channel, count: int) -> Customer:
    customer = Customer.objects.create(merchant=merchant, display_name="林小雨")
    now = timezone.now()
    Order.objects.bulk_create(
        Order(
            merchant=merchant,
            channel=channel,
            customer=customer,
            external_id=f"BULK-{customer.pk}-{i}",
            receiver_name="林小雨",
            receiver_phone="13800138000",
            province="上海",
            city="上海",
            address_line="世纪大道100号",
            total=Decimal("1.01"),
            placed_at=now - timezone.timedelta(minutes=i),
        )
        for i in range(count)
    )
    return customer


def test_a_thousand_orders_list_the_latest_fifty_and_link_the_rest(admin_client, merchant):
    channel = ChannelFactory(merchant=merchant)
    customer = _customer_with_orders(merchant, channel, 1000)
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    with CaptureQueriesContext(connection) as thousand:
        response = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert "Orders across channels (1000)" in html
    assert "The latest 50 of 1000 orders are shown." in html
    assert len(re.findall(r'href="/admin/oms/order/\d+/change/"', html)) == 50
    assert f"/admin/oms/order/?customer__id__exact={customer.pk}" in html
    assert "¥1,010.00" in html
    listed = admin_client.get(f"/admin/oms/order/?customer__id__exact={customer.pk}")
    assert listed.status_code == 200 and "1000" in listed.content.decode()

    fewer = _customer_with_orders(merchant, channel, 60)
    with CaptureQueriesContext(connection) as sixty:
        admin_client.get(reverse("admin:customers_customer_change", args=[fewer.pk]))
    assert len(thousand.captured_queries) == len(sixty.captured_queries) <= 20  # no N+1


def _staff(username, *, group=None):
    user = get_user_model().objects.create_user(username, password="pw", is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def test_report_is_per_merchant_and_needs_view_permission(client, merchant):
    _one_person_on_three_channels(merchant)
    other = MerchantFactory()
    _survivor, _absorbed, _orders, other_channels = _one_person_on_three_channels(other)
    other_channels[0].name = "别家抖音店"
    other_channels[0].save()
    product = ProductFactory(merchant=other)
    for index in range(3):  # the same person buys again at the other merchant
        order = _order(
            other,
            other_channels[0],
            product,
            phone="13800138001",
            street="世纪大道100号",
            total="5.00",
            external_id=f"again-{index}",
        )
        order_customer_link(order_id=order.pk, account_id="dy-7781")
    mine = _rates_by_channel(merchant)
    assert (mine["all"].accounts, mine["all"].repeat_accounts, mine["all"].customers) == (3, 0, 1)
    assert _rates_by_channel(other)[ChannelKind.DOUYIN].repeat_accounts == 1

    url = reverse("admin:customers_customer_channel_repeat_rates")
    assert client.get(url).status_code == 302  # not logged in: to the login page
    client.force_login(_staff("nobody"))
    assert client.get(url, {"merchant": merchant.pk}).status_code == 403
    client.force_login(_staff("ops", group=OPERATIONS_GROUP))
    response = client.get(url, {"merchant": merchant.pk}, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert "抖音旗舰店" in html and "别家抖音店" not in html
    assert "100.0 %" in html and "+100.0" in html
    assert client.get(url, {"merchant": "x"}).status_code == 404
    assert client.get(url, {"merchant": 987654}).status_code == 404
    customers = client.get(
        reverse("admin:customers_customer_changelist"), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert url in customers.content.decode()  # reachable from the customers section


def _po_entries() -> list[tuple[list[str], list[str]]]:
    """(places, [msgid, msgid_plural]) per entry of the Chinese catalogue."""
    entries = []
    for block in PO_FILE.read_text(encoding="utf-8").split("\n\n"):
        places = [
            place.rsplit(":", 1)[0]
            for line in block.splitlines()
            if line.startswith("#:")
            for place in line[2:].split()
        ]
        texts, current = [], None
        for line in block.splitlines():
            if line.startswith(("msgid ", "msgid_plural ")):
                current = [line.split(" ", 1)[1]]
                texts.append(current)
            elif line.startswith("msgstr"):
                current = None
            elif line.startswith('"') and current is not None:
                current.append(line)
        entries.append((places, ["".join(ast.literal_eval(part) for part in t) for t in texts]))
    return entries


def _my_msgids() -> list[str]:
    """English texts this feature added (the .po entries referenced from its files)."""
    return [
        msgid
        for places, msgids in _po_entries()
        if any(
            p.startswith(("templates/admin/customers/", "customers/reasons.py"))
            or p == "customers/admin.py"
            for p in places
        )
        for msgid in msgids
    ]


def _english_fragments(text: str) -> list[str]:
    """The placeholder-free runs of a msgid long enough to be words, not a symbol."""
    pieces = re.split(r"%\(\w+\)[sd]|%%|\{\{[^}]*\}\}", text)
    return [p.strip(" .:;,()") for p in pieces if len(re.findall(r"[A-Za-z]", p)) >= 4]


def test_pages_render_in_chinese_without_english_sentences(admin_client, merchant):
    merchant.name = "好家居"  # data shows as entered; only our own texts must be Chinese
    merchant.save()
    survivor, *_rest = _one_person_on_three_channels(merchant)
    msgids = _my_msgids()
    assert len(msgids) > 40
    pages = [
        reverse("admin:customers_customer_change", args=[survivor.pk]),
        reverse("admin:customers_customer_channel_repeat_rates") + f"?merchant={merchant.pk}",
    ]
    for url in pages:
        html = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        assert 'lang="zh-hans"' in html
        # Icon names of the theme ("account_tree") are ligatures drawn as icons, not words.
        html = re.sub(r"<span[^>]*material-symbols[^>]*>[^<]*</span>", " ", html)
        text = re.sub(r"<(style|script)\b.*?</\1>|<[^>]+>", " ", html, flags=re.S)
        leaked = {f for m in msgids for f in _english_fragments(m) if f and f in text}
        assert not leaked, (url, leaked)
    html = admin_client.get(pages[0], HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "跨渠道订单（3）" in html and "生命周期价值" in html and "¥299.84" in html
    assert "复核人员判定为同一人。" in html and "收件人姓名 林** 相同。" in html
    html = admin_client.get(pages[1], HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "重复客户率" in html


def test_every_reason_the_matcher_writes_reads_as_a_sentence():
    """Each phrase the matching core produces is recognised, in English and in Chinese."""
    resolver = IncrementalResolver()
    phrases = set()
    for observation in generate_observations(1500, seed=11).observations:
        phrases.update(resolver.add(fingerprint(observation, key=b"k" * 32)).reasons)
    assert len(phrases) > 50
    unknown = sorted(p for p in phrases if not explain_one(p).recognised)
    assert not unknown
    with translation.override("zh-hans"):
        for phrase in phrases:
            text = explain_one(phrase).text
            assert re.search(r"[\u4e00-\u9fff]", text), (phrase, text)
            assert not ENGLISH_WORDS.search(text), (phrase, text)


# One phrase of each kind the matching core writes (customers/matching/compare.py, score.py).
CORE_PHRASES = [
    "exact key phone + name",
    "exact key address + name",
    "exact key device + name",
    "exact key account + name",
    "score 12 >= link 10",
    "score 7 between review 5 and link 10",
    "best score -3 < review 5",
    "no candidate shares a key",
    "masked phone 138****8000 fits",
    "different phones",
    "same phone 138****8000, already used by 4 customers",
    "same phone 138****8000 but 2.1 years apart (may be recycled)",
    "same phone 138****8000",
    "same device 0cffb710…, already used by 3 customers",
    "same device 0cffb710…",
    "same douyin account, already used by 3 customers",
    "same wechat_mini account",
    "same receiver name 张*",
    "receiver 张先生 fits surname",
    "receiver names are forms of one name",
    "different receiver names",
    "receiver names differ by one character",
    "same surname 张, other given name",
    "addresses in different districts",
    "different addresses",
    "same place, building 3 vs 4, room 1201 vs 1202",
    "address same building, same room",
    "address same room (street 88 %)",
    "same address",
    "similar address (91 %), unit details partly missing",
    "receiver name and address both differ",
]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_each_kind_of_core_phrase_reads_as_a_sentence(language):
    with translation.override(language):
        for phrase in CORE_PHRASES:
            reason = explain_one(phrase)
            assert reason.recognised, phrase
            if language == "zh-hans":
                assert re.search(r"[\u4e00-\u9fff]", reason.text), phrase
                assert not ENGLISH_WORDS.search(reason.text), (phrase, reason.text)
            else:
                assert reason.text[0].isupper() and reason.text != phrase, phrase


def test_merge_reasons_read_as_sentences():
    with translation.override("en"):
        assert [
            r.text for r in explain_merge("review: same phone 138****8000; different addresses")
        ] == [
            "A reviewer decided they are the same person.",
            "Same phone 138****8000.",
            "Different addresses.",
        ]
        bridged = explain_merge("exact key phone + name; same phone 138****8000")
        assert bridged[0].text == "A new sighting matched both customers." and all(
            r.recognised for r in bridged
        )


def test_an_unknown_reason_is_shown_as_recorded():
    assert explain(["the moon was full"]) == [explain_one("the moon was full")]
    assert not explain_one("the moon was full").recognised
    with translation.override("en"):
        assert explain("same phone 138****8000")[0].text == "Same phone 138****8000."
    with translation.override("zh-hans"):
        assert explain("same phone 138****8000")[0].text == "手机号 138****8000 相同。"
    assert explain(None) == []
