"""Staff corrections to an order (#11): shipping fee and discount validated, the total recomputed.

Through the admin change page as the ``ops`` user, and through ``order_edit`` itself for what a
page cannot race (an order that ships, or is routed, while the page is open).
"""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from oms.exceptions import ChargesRefused
from oms.models import Order, OrderLine, OrderStatus
from oms.permissions import OPERATIONS_GROUP
from oms.services.order_edits import order_edit
from oms.services.orders import order_release, order_ship
from tests.factories import BatchFactory, ChannelFactory, ProductFactory, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_client():
    user = get_user_model().objects.create_user("ops-edits", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=OPERATIONS_GROUP))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def routed_order():
    """A routed order of two lines: 2 x 99.00 + 1 x 35.50 = 233.50, no shipping, no discount."""
    channel = ChannelFactory()
    batch = BatchFactory(warehouse__merchant=channel.merchant)
    other = ProductFactory(merchant=channel.merchant, unit_value=Decimal("35.50"))
    BatchFactory(warehouse=batch.warehouse, product=other)
    order = make_order(
        merchant=channel.merchant, channel=channel, lines=[(batch.product, 2), (other, 1)]
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.ROUTED and order.total == Decimal("233.50")
    return order


def _form(order: Order, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "receiver_name": order.receiver_name,
        "receiver_phone": order.receiver_phone,
        "province": order.province,
        "city": order.city,
        "district": order.district,
        "address_line": order.address_line,
        "postal_code": order.postal_code,
        "customer": order.customer_id or "",
        "shipping_fee": f"{order.shipping_fee:.2f}",
        "discount_total": f"{order.discount_total:.2f}",
    }
    for prefix in ("lines", "shipments", "events"):
        data[f"{prefix}-TOTAL_FORMS"] = "0"
        data[f"{prefix}-INITIAL_FORMS"] = "0"
    data.update(changes)
    return data


def _post(client: Client, order: Order, language: str = "en", **changes: object):
    return client.post(
        reverse("admin:oms_order_change", args=[order.pk]),
        _form(order, **changes),
        HTTP_ACCEPT_LANGUAGE=language,
    )


def _money(order: Order) -> tuple[Decimal, ...]:
    order.refresh_from_db()
    return (order.subtotal, order.shipping_fee, order.discount_total, order.total)


def test_staff_correct_shipping_and_discount_and_the_total_is_recomputed(ops_client, routed_order):
    order = routed_order
    response = _post(
        ops_client, order, shipping_fee="12.50", discount_total="30.00", currency="USD"
    )

    assert response.status_code == 302
    assert _money(order) == (
        Decimal("233.50"),
        Decimal("12.50"),
        Decimal("30.00"),
        Decimal("216.00"),  # 233.50 + 12.50 - 30.00
    )
    assert order.currency == "CNY" and order.status == OrderStatus.ROUTED
    event = order.events.get(kind="edited")
    assert event.actor == "user:ops-edits"
    text = event.data.pop("text")
    assert event.data == {
        "money": {
            "shipping_fee": ["0.00", "12.50"],
            "discount_total": ["0.00", "30.00"],
            "total": ["233.50", "216.00"],
        },
        "fields": [],
    }
    assert "total 233.50 -> 216.00" in event.message
    assert text["code"] == "order.corrected" and len(text["params"]["parts"]) == 3


def test_the_discount_may_take_the_whole_order_down_to_zero(ops_client, routed_order):
    order = routed_order
    assert (
        _post(ops_client, order, shipping_fee="10.00", discount_total="243.50").status_code == 302
    )
    assert _money(order)[-1] == Decimal("0.00")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"shipping_fee": "-5.00"},
            "shipping_fee",
            "Ensure this value is greater than or equal to 0.",
        ),
        (
            {"discount_total": "-0.01"},
            "discount_total",
            "Ensure this value is greater than or equal to 0.",
        ),
        (
            {"shipping_fee": "1.005"},
            "shipping_fee",
            "Ensure that there are no more than 2 decimal places.",
        ),
        ({"shipping_fee": "ten"}, "shipping_fee", "Enter a number."),
        (
            {"shipping_fee": "6.50", "discount_total": "240.01"},
            "discount_total",
            "Cannot exceed the subtotal plus shipping fee (240.00).",
        ),
    ],
)
def test_wrong_charges_are_refused_with_a_message_at_the_field(
    ops_client, routed_order, changes, field, message
):
    order = routed_order
    before = _money(order)
    response = _post(ops_client, order, **changes)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == [message]
    assert _money(order) == before
    assert not order.events.filter(kind="edited").exists()


def test_the_discount_message_reads_in_chinese(ops_client, routed_order):
    response = _post(ops_client, routed_order, language="zh-hans", discount_total="500.00")
    assert response.context["adminform"].form.errors["discount_total"] == [
        "不能超过商品小计与运费之和（233.50）。"
    ]


def test_the_charges_of_a_shipped_order_are_read_only(ops_client, routed_order):
    order = order_ship(order=order_release(order=routed_order, actor="test"), actor="test")
    before = _money(order)
    page = ops_client.get(reverse("admin:oms_order_change", args=[order.pk])).content.decode()
    assert 'name="shipping_fee"' not in page and 'name="discount_total"' not in page
    assert 'name="currency"' not in page

    response = _post(ops_client, order, shipping_fee="99.00", receiver_name="李娜")

    assert response.status_code == 302  # the rest of the page saves; the charges are not fields
    assert _money(order) == before
    assert order.receiver_name == "李娜"
    data = order.events.get(kind="edited").data
    assert data.pop("text")["code"] == "order.corrected"
    assert data == {"money": {}, "fields": ["receiver_name"]}


def test_an_order_that_shipped_while_the_page_was_open_keeps_its_charges(routed_order):
    stale = Order.objects.get(pk=routed_order.pk)
    order_ship(order=order_release(order=routed_order, actor="test"), actor="test")
    with pytest.raises(ChargesRefused, match="shipped cannot change"):
        order_edit(order=stale, actor="user:late", changes={"shipping_fee": Decimal("5.00")})
    assert _money(routed_order)[1] == Decimal("0.00")


def test_the_service_refuses_charges_the_form_would_refuse(routed_order):
    with pytest.raises(ChargesRefused, match="Cannot exceed"):
        order_edit(order=routed_order, actor="t", changes={"discount_total": Decimal("233.51")})
    with pytest.raises(ChargesRefused, match="negative"):
        order_edit(order=routed_order, actor="t", changes={"shipping_fee": Decimal("-1")})
    with pytest.raises(ValueError, match="currency"):
        order_edit(order=routed_order, actor="t", changes={"currency": "USD"})


def test_an_edit_never_writes_back_a_status_changed_meanwhile(routed_order):
    stale = Order.objects.get(pk=routed_order.pk)
    order_release(order=routed_order, actor="warehouse")  # while staff had the page open

    order_edit(order=stale, actor="user:ops", changes={"receiver_name": "李娜"})

    routed_order.refresh_from_db()
    assert routed_order.status == OrderStatus.RELEASED
    assert routed_order.receiver_name == "李娜"


def test_a_new_province_moves_the_order_to_its_region_and_an_unknown_one_is_refused(
    ops_client, routed_order
):
    order = routed_order
    assert order.region == "east"
    refused = _post(ops_client, order, province="Atlantis")
    assert refused.context["adminform"].form.errors["province"] == ["Unknown province."]

    assert _post(ops_client, order, province="广东", city="广州").status_code == 302
    order.refresh_from_db()
    assert (order.province, order.region) == ("广东", "south")
    assert order.events.get(kind="edited").data["fields"] == ["province", "city"]


def test_nothing_changed_writes_no_timeline_entry(ops_client, routed_order):
    assert _post(ops_client, routed_order).status_code == 302
    assert not routed_order.events.filter(kind="edited").exists()


def test_order_lines_keep_their_quantity_and_price_as_ordered(routed_order):
    superuser = get_user_model().objects.create_superuser("su-edits", "su@example.com", "x")
    client = Client()
    client.force_login(superuser)
    line = routed_order.lines.order_by("pk").first()
    url = reverse("admin:oms_orderline_change", args=[line.pk])
    assert 'name="quantity"' not in client.get(url).content.decode()

    client.post(url, {"quantity": "9", "unit_price": "0.01", "reservations-TOTAL_FORMS": "0"})

    assert OrderLine.objects.values_list("quantity", "unit_price").get(pk=line.pk) == (
        2,
        Decimal("99.00"),
    )


def test_a_promise_shown_to_the_minute_in_chinese_keeps_its_seconds(ops_client):
    batch = BatchFactory()
    order = make_order(
        merchant=batch.warehouse.merchant, lines=[(batch.product, 1)], promised_in_hours=30
    )
    order.refresh_from_db()
    promised = timezone.localtime(order.promised_at)
    assert (promised.second, promised.microsecond) != (0, 0)

    response = _post(
        ops_client,
        order,
        language="zh-hans",
        promised_at_0=f"{promised:%Y/%m/%d}",  # as the Chinese page shows it
        promised_at_1=f"{promised:%H:%M}",
    )

    assert response.status_code == 302
    order.refresh_from_db()
    assert timezone.localtime(order.promised_at) == promised
    assert not order.events.filter(kind="edited").exists()
