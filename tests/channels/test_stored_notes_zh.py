"""Channel notes read Chinese in zh-hans: a refused gift, a price the channel reported that its
price rules do not give, campaigns applied with no ledger check, and why orders were not merged
are kept as message codes with their parameters and said in the viewer's language when shown.
Campaign codes, SKUs, channel names and order numbers stay as typed; notes written before codes
were kept show their stored English."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from channels.models import GiftRefusal
from oms.models import Order, OrderEvent
from oms.stored_text import event_text, message, say
from tests.channels.test_pricing_and_gifts import (  # noqa: F401 - fixtures
    douyin,
    douyin_payload,
    gift_campaign,
    mini,
    mini_payload,
    price,
)

pytestmark = pytest.mark.django_db

LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z]+")


def _english_left(text: str, typed: set[str]) -> list[str]:
    for name in sorted(typed, key=len, reverse=True):
        text = text.replace(name, " ")
    return LATIN_WORD.findall(text)


@pytest.fixture
def refused_twice(merchant, catalogue, douyin, mini, gift_campaign, post_signed):  # noqa: F811
    """A gift granted on a Douyin order and refused on the same person's mini-program order;
    the Douyin price rules give another price than the channel reported."""
    price(douyin, catalogue["HOM-0001"], "6299.00")
    first = post_signed(douyin, douyin_payload(phone="13800138000"))
    second = post_signed(mini, mini_payload(phone="13800138000"))
    return (
        Order.objects.get(pk=first.json()["order_id"]),
        Order.objects.get(pk=second.json()["order_id"]),
    )


def test_gift_refusal_and_price_mismatch_notes_read_chinese(refused_twice, douyin, mini):  # noqa: F811
    first, second = refused_twice
    notes = list(
        OrderEvent.objects.filter(
            order__in=[first, second], kind__in=["gift_refused", "channel_price_mismatch"]
        )
    )
    assert {note.kind for note in notes} == {"gift_refused", "channel_price_mismatch"}
    typed = {"d11-pillow", douyin.name, mini.name}
    for note in notes:
        assert note.data["text"]["code"].startswith("channels.")  # kept as code + parameters
        with translation.override("zh-hans"):
            said = event_text(note)
        assert said != note.message and not _english_left(said, typed), said
        with translation.override("en"):
            assert event_text(note) == note.message  # the stored English is the same sentence
    refused = next(note for note in notes if note.kind == "gift_refused")
    with translation.override("zh-hans"):
        assert f"#{first.pk}" in event_text(refused) and "d11-pillow" in event_text(refused)


def test_the_refused_gifts_list_reads_chinese(admin_client, refused_twice, douyin, mini):  # noqa: F811
    first, _second = refused_twice
    refusal = GiftRefusal.objects.get()
    html = admin_client.get(
        reverse("admin:channels_giftrefusal_changelist"), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert refusal.reason not in html  # the stored English is not what staff read
    assert f"客户 #{refusal.customer_id} 已在订单 #{first.pk}（{douyin.name}）中领取过" in html
    page = admin_client.get(
        reverse("admin:channels_giftrefusal_change", args=[refusal.pk]),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    ).content.decode()
    assert "活动 d11-pillow 的赠品未发放" in page


def test_campaigns_applied_without_a_ledger_check_read_chinese():
    note = message("channels.promotions_unchecked", campaigns=["d11-pillow", "vip-mug"])
    assert note.english == (
        "Campaigns d11-pillow, vip-mug applied without a ledger check: the order names no phone "
        "or account."
    )
    with translation.override("zh-hans"):
        said = say(note.stored(), note.english)
    assert "d11-pillow、vip-mug" in said
    assert not _english_left(said, {"d11-pillow", "vip-mug"}), said


@pytest.mark.parametrize(
    ("code", "params"),
    [
        ("oms.stock_short", {"skus": ["CUSHION", "SOFA"]}),
        ("oms.cannot_route", {"status": "needs_attention"}),
        ("oms.companion_moved_on", {"other": 7, "status": "shipped", "order": 8}),
        ("oms.companion_other_customer", {"other": 7, "order": 8}),
        ("oms.companions_left_out", {"orders": ["#7", "#9"]}),
    ],
)
def test_why_orders_were_not_merged_reads_chinese(code, params):
    why = message(code, **params)
    note = message("routing.not_merged", orders="#12", why={"msg": why.stored()})
    with translation.override("zh-hans"):
        said = say(note.stored(), "")
    assert said.startswith("未与订单 #12 合并：") and "。。" not in said
    assert not _english_left(said, {"CUSHION", "SOFA"}), said
    with translation.override("en"):
        assert why.english in say(note.stored(), "")


def test_a_note_stored_before_codes_keeps_its_english(refused_twice):
    _first, second = refused_twice
    old = OrderEvent.objects.create(
        order=second,
        kind="gift_refused",
        actor="channel",
        message="Campaign spring-gift withheld: customer #3 already received it.",
    )
    with translation.override("zh-hans"):
        assert event_text(old) == old.message
