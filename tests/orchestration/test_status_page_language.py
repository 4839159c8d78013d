"""The status page in the customer's language: every sentence translated, stored step messages
rendered at display time from their code, local times, and a pickup switch that leaves steps,
address and installation consistent."""

import ast
import importlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.html import strip_tags
from django.utils.translation.template import templatize

from oms.models import OrderEvent
from orchestration import customer_text
from orchestration.models import (
    InterventionRequest,
    OrderTracking,
    PickupPoint,
    ServiceStep,
    StepStatus,
)
from orchestration.senders import DevelopmentSender
from orchestration.services.interventions import intervention_confirm, intervention_request

pytestmark = pytest.mark.django_db

STATUS_PAGE_TEMPLATES = [
    "orchestration/base_public.html",
    "orchestration/track.html",
    "orchestration/confirm.html",
    "orchestration/track_unknown.html",
    "oms/province_tile_map.html",
]
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def _url(order) -> str:
    return reverse("orchestration:track", args=[OrderTracking.objects.get(order=order).token])


def typed_names(order) -> set[str]:
    """What staff or systems typed for this order and may stay as typed on a Chinese page:
    merchant, product and warehouse names, SKUs, carriers, pickup points, order, tracking and
    booking numbers. Nothing the product itself writes."""
    names = {order.merchant.name, order.external_id}
    names |= {line.name for line in order.lines.all()} | {line.sku for line in order.lines.all()}
    for shipment in order.fulfilment_shipments:
        names |= {shipment.warehouse.name, shipment.carrier, shipment.tracking_number}
    for step in ServiceStep.objects.filter(order=order):
        names |= {step.reference, step.parameters.get("carrier", "")}
        names |= {(step.result or {}).get("message_params", {}).get("carrier", "")}
        names |= {(step.result or {}).get("message_params", {}).get("reference", "")}
    names |= set(PickupPoint.objects.values_list("name", flat=True))
    return {name for name in names if name}


def english_left(text: str, allowed: set[str]) -> list[str]:
    for name in sorted(allowed, key=len, reverse=True):
        text = text.replace(name, " ")
    return LATIN_WORD.findall(text)


def _main_text(html: str) -> str:
    """The visible text of the page body: no <style>, no attribute values."""
    body = html.split("<main>", 1)[1].split("</main>", 1)[0]
    body = re.sub(r"<style>.*?</style>", " ", body, flags=re.S)
    body = re.sub(r'<a [^>]*lang="en"[^>]*>English</a>', " ", body)  # the language switcher
    return strip_tags(body)


_CALL = re.compile(r"\b(n?p?gettext)\(u?('(?:[^'\\]|\\.)*')(?:,\s*u?('(?:[^'\\]|\\.)*'))?")


def _template_msgids(name: str) -> list[tuple[str | None, str]]:
    """The (context, msgid) pairs of a template, as ``makemessages`` extracts them."""
    source = Path(settings.BASE_DIR, "templates", name).read_text(encoding="utf-8")
    found = []
    for function, first, second in _CALL.findall(templatize(source)):
        if function in ("gettext", "ngettext"):
            found.append((None, ast.literal_eval(first)))
        else:
            found.append((ast.literal_eval(first), ast.literal_eval(second)))
    return found


@pytest.mark.parametrize("name", STATUS_PAGE_TEMPLATES)
def test_every_sentence_of_the_status_page_templates_has_a_chinese_translation(name):
    missing, found = [], 0
    with translation.override("zh-hans"):
        for context, msgid in _template_msgids(name):
            shown = translation.pgettext(context, msgid) if context else translation.gettext(msgid)
            found += 1
            if shown == msgid or LATIN_WORD.search(re.sub(r"%\(\w+\)s", "", shown)):
                missing.append(msgid)
    assert missing == []
    assert found >= (0 if name.startswith("oms/") else 1)


SAMPLE_PARAMS = {
    "delivery.booked": {"carrier": "顺丰"},
    "delivery.to_pickup": {"carrier": "顺丰", "point": "陆家嘴自提点"},
    "appointment.booked": {"service": "installation", "start": "2026-12-05T06:00:00+00:00"},
    "serials.locked": {"count": 2},
    "warranty.issued": {"reference": "", "valid_until": "2028-12-04"},
    "tariff.estimated": {"amount": "123.40", "currency": "CNY"},
    "visit.planned": {"at": "2027-01-04T02:00:00+00:00"},
    "inspection.passed": {"count": 4},
    "cancelled.pickup": {"point": "陆家嘴自提点"},
}


def test_every_stored_message_code_renders_in_chinese_with_local_times():
    tz = ZoneInfo("Asia/Shanghai")
    assert set(SAMPLE_PARAMS) == set(customer_text.MESSAGES)
    with translation.override("zh-hans"):
        rendered = {
            code: customer_text.step_message({"message_code": code, "message_params": p}, tz)
            for code, p in SAMPLE_PARAMS.items()
        }
    assert all(rendered.values())
    assert [code for code, text in rendered.items() if LATIN_WORD.search(text)] == []
    assert rendered["appointment.booked"] == "安装已预约：12月5日 14:00。"
    assert rendered["tariff.estimated"] == "进口税费预估 ¥123.40。"


def test_the_page_in_chinese_has_no_english_left(client, routed):
    for category in ("furniture", "ev"):
        order = routed(category)
        html = client.get(_url(order), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
        assert '<html lang="zh-hans">' in html
        assert english_left(_main_text(html), typed_names(order)) == [], category
        english = client.get(_url(order), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "services" in english_left(_main_text(english), typed_names(order))  # it sees


def test_the_switcher_picks_the_language_and_keeps_it(client, routed):
    order = routed("furniture")
    response = client.get(_url(order) + "?lang=zh-hans", HTTP_ACCEPT_LANGUAGE="en")
    assert "您的服务" in response.content.decode()
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    again = client.get(_url(order), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "您的服务" in again  # the cookie wins over the browser's language
    assert "Your services" in client.get(_url(order) + "?lang=en").content.decode()


def test_times_are_in_the_merchants_time_zone_with_local_month_names(client, routed):
    order = routed("furniture")
    delivery = ServiceStep.objects.get(order=order, key="delivery")
    ServiceStep.objects.filter(pk=delivery.pk).update(eta=datetime(2031, 3, 4, 23, 30, tzinfo=UTC))
    html = client.get(_url(order), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<span class="eta">3月5日 07:30</span>' in html  # Asia/Shanghai, UTC+8
    order.merchant.time_zone = "Europe/Berlin"
    order.merchant.save()
    html = client.get(_url(order), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<span class="eta">March 5, 00:30</span>' in html


def test_relative_days_read_as_a_customer_says_them():
    tz = ZoneInfo("Asia/Shanghai")
    now = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # Friday 10:00 in Shanghai
    tomorrow_afternoon = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)  # 15:00
    monday_morning = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    with translation.override("en"):
        assert customer_text.relative_when(tomorrow_afternoon, now=now, tz=tz) == (
            "tomorrow afternoon"
        )
        assert customer_text.relative_when(monday_morning, now=now, tz=tz) == "Monday morning"
    with translation.override("zh-hans"):
        assert customer_text.relative_when(tomorrow_afternoon, now=now, tz=tz) == "明天下午"
        assert customer_text.relative_when(now + timedelta(days=20), now=now, tz=tz) == (
            "12月24日上午"
        )


def _switch_to_pickup(order, on_commit):
    """Ask for the pickup point and confirm with the code sent (after commit) to the phone."""
    tracking = OrderTracking.objects.get(order=order)
    delivery = ServiceStep.objects.get(order=order, key="delivery")
    point = PickupPoint.objects.get(code="sh-lujiazui")
    with on_commit(execute=True):
        change = intervention_request(
            tracking=tracking, step=delivery, kind="pickup", value=str(point.pk)
        )
    with on_commit(execute=True):
        intervention_confirm(request=change, code=DevelopmentSender.outbox[-1].code)
    return change, point


def test_a_switch_to_pickup_cancels_the_home_installation_and_the_visit_follows_delivery(
    routed, django_capture_on_commit_callbacks
):
    order = routed("furniture")
    _switch_to_pickup(order, django_capture_on_commit_callbacks)
    steps = {s.key: s for s in ServiceStep.objects.filter(order=order)}
    assert steps["installation"].status == StepStatus.CANCELLED
    assert steps["installation"].result["message_code"] == "cancelled.pickup"
    assert steps["delivery"].key in {s.key for s in steps["after-sales"].upstream.all()}
    assert steps["after-sales"].status == StepStatus.WAITING  # waits for the pickup now
    event = order.events.get(kind="customer_intervention")
    assert event.data["cancelled"] == ["installation"]
    assert event.data["message_code"] == "customer.pickup"


def test_after_a_switch_to_pickup_the_page_is_consistent(
    client, routed, django_capture_on_commit_callbacks
):
    order = routed("furniture")
    before = client.get(_url(order)).content.decode()
    assert 'id="pickup-cancels"' in before and "Installation appointment" in before
    _change, point = _switch_to_pickup(order, django_capture_on_commit_callbacks)
    html = client.get(_url(order)).content.decode()
    delivery = re.search(r'<li class="\w+" data-step="delivery".*?</li>', html, re.S).group(0)
    assert f"Pickup at {point.name}" in delivery
    assert "Change the time" not in delivery  # no delivery slot when the customer collects
    installation = re.search(r'data-step="installation".*?</li>', html, re.S).group(0)
    assert 'data-state="cancelled"' in installation and "you collect your order at" in installation
    assert "You collect it at" in html and point.address in html
    assert "Delivery address" not in html and "世纪****" not in html
    assert "ready for pickup" in html
    assert re.search(r'class="tile [a-z ]*destination" data-province="上海"', html)
    zh = client.get(_url(order), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "取件地点" in zh and f"送至自提点 {point.name}" in zh
    assert english_left(_main_text(zh), typed_names(order)) == []


def test_a_used_confirm_link_says_it_was_used_and_asks_for_no_code(
    client, routed, django_capture_on_commit_callbacks
):
    order = routed("furniture")
    change, _point = _switch_to_pickup(order, django_capture_on_commit_callbacks)
    token = OrderTracking.objects.get(order=order).token
    url = reverse("orchestration:track-confirm", args=[token, change.pk])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "This change is already confirmed" in html and 'name="code"' not in html
    again = client.post(url, {"code": "000000"})
    assert again.status_code == 200 and 'id="error"' not in again.content.decode()
    zh = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "此更改已确认" in zh and "只能使用一次" in zh


def test_a_wrong_code_is_told_in_chinese(client, routed):
    order = routed("furniture")
    tracking = OrderTracking.objects.get(order=order)
    delivery = ServiceStep.objects.get(order=order, key="delivery")
    point = PickupPoint.objects.get(code="sh-lujiazui")
    change = intervention_request(
        tracking=tracking, step=delivery, kind="pickup", value=str(point.pk)
    )
    url = reverse("orchestration:track-confirm", args=[tracking.token, change.pk])
    html = client.post(url, {"code": "999999"}, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "验证码错误，还可尝试 4 次。" in html
    assert InterventionRequest.objects.get(pk=change.pk).attempts == 1


def test_the_map_shows_the_hub_of_the_latest_carrier_scan(client, routed):
    from oms.services.orders import order_release, order_ship
    from orchestration.services.parcels import parcel_scan_record

    order = routed("furniture")
    order_release(order=order, actor="test")
    order_ship(order=order, actor="test", tracking_numbers={})
    order.refresh_from_db()
    shipment = order.fulfilment_shipments[0]
    parcel_scan_record(shipment=shipment, hub="南京转运中心", province="江苏", city="南京")
    html = client.get(_url(order), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'class="tile hub" data-province="江苏"' in html
    assert "最新扫描：南京转运中心" in html and "当前位置：南京转运中心" in html
    assert 'class="route-done"' in html
    assert OrderEvent.objects.filter(order=order, kind="parcel_scan").count() == 1


def test_old_step_results_get_their_message_code_from_the_migration():
    migration = importlib.import_module("orchestration.migrations.0005_step_messages_as_codes")
    derive = migration._code_and_params
    assert derive("delivery_dispatch", {"carrier": "SF"}, "WB-1", "CNY") == (
        "delivery.booked",
        {"carrier": "SF"},
    )
    assert derive(
        "delivery_dispatch", {"carrier": "SF", "pickup_point": {"name": "P"}}, "WB-1", "CNY"
    ) == ("delivery.to_pickup", {"carrier": "SF", "point": "P"})
    assert derive("ewarranty", {"valid_until": "2028-01-01"}, "EW-1", "CNY") == (
        "warranty.issued",
        {"reference": "EW-1", "valid_until": "2028-01-01"},
    )
    assert derive("unknown", {}, "", "CNY") is None
