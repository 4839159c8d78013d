"""Admin as operations staff and as a superuser, against a written permission matrix (#11).

Each row: which of view / add / change / delete a user has on a model's admin, and which
actions the admin offers them. The matrix is the policy; a change to an admin or a permission
grant that moves any cell fails here until the matrix is changed on purpose. Around it: secrets
are never rendered, foreign keys never cross merchants, tenant fields are read-only, an order's
money is editable only as the order-field matrix says (validated, the total recomputed:
``tests/oms/test_order_edits.py``), records are never hard-deleted, and staff logins are
throttled.
"""

from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client, RequestFactory
from django.urls import reverse

from customers.models import Customer
from oms.models import ApiKey
from oms.permissions import OPERATIONS_GROUP
from orchestration.models import WebhookSubscription
from orchestration.services.webhooks import new_secret
from tests.factories import ChannelFactory, MerchantFactory, ProductFactory

pytestmark = pytest.mark.django_db

# model: {user: (permissions among v/a/c/d, actions offered besides delete_selected)}
MATRIX = {
    "auth.group": {"ops": ("", ()), "superuser": ("vacd", ())},
    "auth.user": {"ops": ("", ()), "superuser": ("vacd", ())},
    "axes.accessattempt": {
        "ops": ("", ("cleanup_expired_attempts",)),
        "superuser": ("vcd", ("cleanup_expired_attempts",)),
    },
    "axes.accessfailurelog": {"ops": ("", ()), "superuser": ("vcd", ())},
    "axes.accesslog": {"ops": ("", ()), "superuser": ("vcd", ())},
    "channels.channelinboxmessage": {"ops": ("vc", ("replay",)), "superuser": ("vc", ("replay",))},
    "channels.channelorder": {"ops": ("v", ()), "superuser": ("v", ())},
    "channels.channelprice": {"ops": ("vacd", ()), "superuser": ("vacd", ())},
    "channels.channelpricelist": {"ops": ("vac", ()), "superuser": ("vacd", ())},
    "channels.giftgrant": {"ops": ("v", ()), "superuser": ("v", ())},
    "channels.giftrefusal": {"ops": ("v", ()), "superuser": ("v", ())},
    "channels.orderlinepricing": {"ops": ("v", ()), "superuser": ("v", ())},
    "channels.pickwave": {
        "ops": ("vc", ("mark_picked", "mark_printed")),
        "superuser": ("vcd", ("mark_picked", "mark_printed")),
    },
    "channels.promotion": {"ops": ("vac", ()), "superuser": ("vacd", ())},
    "customers.customer": {"ops": ("vc", ()), "superuser": ("vac", ())},
    "customers.customermerge": {"ops": ("vc", ("unmerge",)), "superuser": ("vac", ("unmerge",))},
    "customers.customersplit": {"ops": ("v", ()), "superuser": ("vc", ())},
    "customers.identity": {"ops": ("v", ()), "superuser": ("vac", ())},
    "customers.matchruleset": {"ops": ("vac", ()), "superuser": ("vacd", ())},
    "customers.reviewitem": {
        "ops": ("vc", ("keep_apart", "merge")),
        "superuser": ("vacd", ("keep_apart", "merge")),
    },
    "customers.rulesetversion": {
        "ops": ("vc", ("activate", "recompare")),
        "superuser": ("vcd", ("activate", "recompare")),
    },
    "oms.apikey": {"ops": ("", ("revoke",)), "superuser": ("vc", ("revoke",))},
    "oms.consolidation": {"ops": ("v", ()), "superuser": ("v", ())},
    "oms.idempotencyrecord": {"ops": ("", ()), "superuser": ("vacd", ())},
    "oms.inventorybatch": {"ops": ("vac", ()), "superuser": ("vacd", ())},
    "oms.merchant": {"ops": ("v", ()), "superuser": ("vac", ("issue_api_key",))},
    "oms.order": {
        "ops": ("vc", ("cancel", "deliver", "release", "ship")),
        "superuser": ("vc", ("cancel", "deliver", "release", "ship")),
    },
    "oms.orderevent": {"ops": ("v", ()), "superuser": ("v", ())},
    "oms.orderline": {"ops": ("v", ()), "superuser": ("vc", ())},
    "oms.product": {"ops": ("vac", ()), "superuser": ("vacd", ())},
    "oms.reservation": {"ops": ("v", ()), "superuser": ("vc", ())},
    "oms.saleschannel": {
        "ops": ("vc", ("rotate_secret",)),
        "superuser": ("vac", ("rotate_secret",)),
    },
    "oms.shipment": {"ops": ("vc", ()), "superuser": ("vc", ())},
    "oms.warehouse": {
        "ops": ("vac", ("pause", "resume")),
        "superuser": ("vacd", ("pause", "resume")),
    },
    "orchestration.interventionrequest": {"ops": ("v", ()), "superuser": ("vc", ())},
    "orchestration.ordertracking": {
        "ops": ("vc", ("reissue", "revoke")),
        "superuser": ("vc", ("reissue", "revoke")),  # links come with planned services
    },
    "orchestration.pickuppoint": {"ops": ("vac", ()), "superuser": ("vacd", ())},
    "orchestration.serviceatom": {"ops": ("vac", ()), "superuser": ("vacd", ())},
    "orchestration.servicestep": {
        "ops": ("vc", ("complete_steps", "retry_steps")),
        "superuser": ("vc", ("complete_steps", "retry_steps")),
    },
    "orchestration.servicetemplate": {"ops": ("vac", ()), "superuser": ("vacd", ())},
    "orchestration.slaalert": {"ops": ("vc", ()), "superuser": ("vc", ())},
    "orchestration.webhookdelivery": {"ops": ("vc", ("replay",)), "superuser": ("vc", ("replay",))},
    "orchestration.webhooksubscription": {
        "ops": ("v", ()),
        "superuser": ("vacd", ("rotate_secret",)),
    },
    "routing.carrier": {"ops": ("vac", ()), "superuser": ("vacd", ())},
    "routing.carriercapacity": {"ops": ("vac", ()), "superuser": ("vacd", ())},
    "routing.carrierrate": {"ops": ("vac", ()), "superuser": ("vacd", ())},
    "routing.carrierservice": {"ops": ("vac", ()), "superuser": ("vacd", ())},
    "routing.courierload": {"ops": ("vac", ()), "superuser": ("vacd", ())},
    "routing.lane": {"ops": ("vac", ()), "superuser": ("vacd", ())},
    "routing.promisehold": {"ops": ("v", ("release",)), "superuser": ("v", ("release",))},
    "routing.routingdecision": {"ops": ("v", ()), "superuser": ("v", ())},
    "routing.routingprofile": {
        "ops": ("vac", ("enable_simulated_drafts", "revert_last_change", "simulate")),
        "superuser": ("vacd", ("enable_simulated_drafts", "revert_last_change", "simulate")),
    },
    "routing.routingrule": {"ops": ("vacd", ()), "superuser": ("vacd", ())},
    "routing.warehousecarrier": {"ops": ("vac", ()), "superuser": ("vacd", ())},
    "routing.weatheralert": {"ops": ("vac", ()), "superuser": ("vacd", ())},
}


@pytest.fixture
def ops():
    user = get_user_model().objects.create_user("ops-matrix", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=OPERATIONS_GROUP))
    return user


@pytest.fixture
def superuser():
    return get_user_model().objects.create_superuser("su-matrix", "su@example.com", "x")


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = get_user_model().objects.get(pk=user.pk)  # no cached permissions
    return request


def _cell(model_admin, request) -> tuple[str, tuple[str, ...]]:
    checks = (
        ("v", model_admin.has_view_permission),
        ("a", model_admin.has_add_permission),
        ("c", model_admin.has_change_permission),
        ("d", model_admin.has_delete_permission),
    )
    perms = "".join(letter for letter, check in checks if check(request))
    actions = tuple(sorted(a for a in model_admin.get_actions(request) if a != "delete_selected"))
    return perms, actions


def test_every_admin_model_is_in_the_written_matrix():
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert registered == set(MATRIX)


def test_every_admin_model_and_action_as_ops_and_as_superuser(ops, superuser):
    actual = {}
    for model, model_admin in admin.site._registry.items():
        actual[model._meta.label_lower] = {
            "ops": _cell(model_admin, _request(ops)),
            "superuser": _cell(model_admin, _request(superuser)),
        }
    differences = {
        label: (MATRIX.get(label), actual[label])
        for label in actual
        if MATRIX.get(label) != actual[label]
    }
    assert differences == {}


@pytest.mark.parametrize("who", ["ops", "superuser"])
def test_every_changelist_answers_as_the_matrix_says(request, who):
    user = request.getfixturevalue(who)
    client = Client()
    client.force_login(user)
    for model in admin.site._registry:
        label = model._meta.label_lower
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        status = client.get(url).status_code
        expected = 200 if "v" in MATRIX[label][who][0] else 403
        assert status == expected, (label, who, status)


def test_ops_cannot_mint_an_api_key(ops):
    merchant = MerchantFactory()
    client = Client()
    client.force_login(ops)
    response = client.post(
        reverse("admin:oms_merchant_changelist"),
        {"action": "issue_api_key", "_selected_action": [merchant.pk]},
    )
    assert response.status_code in (200, 302)
    assert not ApiKey.objects.filter(merchant=merchant).exists()


def test_secrets_are_never_rendered(superuser):
    channel = ChannelFactory()
    subscription = WebhookSubscription.objects.create(
        merchant=channel.merchant,
        event_type="service.step_done",
        url="https://hooks.example.com/oms",
        secret=new_secret(),
    )
    client = Client()
    client.force_login(superuser)
    for url in (
        reverse("admin:oms_saleschannel_change", args=[channel.pk]),
        reverse("admin:orchestration_webhooksubscription_change", args=[subscription.pk]),
        reverse("admin:orchestration_webhooksubscription_changelist"),
        reverse("admin:oms_saleschannel_changelist"),
    ):
        html = client.get(url).content.decode()
        assert channel.signing_secret not in html and subscription.secret not in html, url
        assert 'name="secret"' not in html and 'name="signing_secret"' not in html
    # A hint to tell secrets apart instead, and the rotate action that issues a new one.
    channel_page = client.get(reverse("admin:oms_saleschannel_change", args=[channel.pk]))
    assert f"{channel.signing_secret[:8]}…" in channel_page.content.decode()
    subscription_page = client.get(
        reverse("admin:orchestration_webhooksubscription_change", args=[subscription.pk])
    )
    assert f"{subscription.secret[:10]}…" in subscription_page.content.decode()


def test_a_new_subscription_shows_its_secret_once(superuser, fake_dns):
    fake_dns["h.example.com"] = ["93.184.215.14"]
    merchant = MerchantFactory()
    client = Client()
    client.force_login(superuser)
    response = client.post(
        reverse("admin:orchestration_webhooksubscription_add"),
        {
            "merchant": merchant.pk,
            "event_type": "service.step_done",
            "url": "https://h.example.com/x",
            "active": "on",
        },
        follow=True,
    )
    subscription = WebhookSubscription.objects.get(merchant=merchant)
    assert subscription.secret.startswith("whsec_")
    assert subscription.secret in response.content.decode()  # the one time it is shown


def test_a_channel_and_its_orders_cannot_move_to_another_merchant(superuser):
    channel = ChannelFactory()
    other = MerchantFactory()
    client = Client()
    client.force_login(superuser)
    client.post(
        reverse("admin:oms_saleschannel_change", args=[channel.pk]),
        {
            "merchant": other.pk,
            "code": "renamed",
            "name": "x",
            "kind": "douyin",
            "active": "on",
            "pricing-TOTAL_FORMS": "0",
            "pricing-INITIAL_FORMS": "0",
        },
    )
    channel.refresh_from_db()
    assert channel.merchant_id != other.pk and channel.code != "renamed"


# Which fields of an order (and of its lines) the change page lets staff edit, per order status.
# The same for ops and superusers: the money rules are the order's, not the user's.
DETAILS = {
    "receiver_name",
    "receiver_phone",
    "province",
    "city",
    "district",
    "address_line",
    "postal_code",
    "customer",
    "promised_at",
}
CHARGES = {"shipping_fee", "discount_total"}
ORDER_FIELDS = {
    "created": DETAILS | CHARGES,
    "needs_attention": DETAILS | CHARGES,
    "routed": DETAILS | CHARGES,
    "released": DETAILS | CHARGES,
    "shipped": DETAILS,
    "delivered": DETAILS,
    "cancelled": DETAILS,
}


@pytest.mark.parametrize("who", ["ops", "superuser"])
def test_the_order_fields_staff_may_edit_follow_the_written_matrix(request, who):
    from oms.models import Order, OrderLine, OrderStatus

    user = request.getfixturevalue(who)
    order_admin, line_admin = admin.site._registry[Order], admin.site._registry[OrderLine]
    channel = ChannelFactory()
    order = _order(channel.merchant, channel)
    actual = {}
    for status in OrderStatus.values:
        order.status = status
        actual[status] = set(order_admin.get_form(_request(user), order).base_fields)
    assert actual == ORDER_FIELDS
    line = order.lines.get()
    assert set(line_admin.get_form(_request(user), line).base_fields) == set()  # as ordered


def _order(merchant, channel):
    from tests.factories import make_order

    return make_order(
        merchant=merchant, channel=channel, lines=[(ProductFactory(merchant=merchant), 1)]
    )


def _order_form(order, **changes):
    data = {
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


def test_an_order_cannot_take_another_merchants_customer_or_new_money(ops):
    channel = ChannelFactory()
    order = _order(channel.merchant, channel)
    stranger = Customer.objects.create(merchant=MerchantFactory(), display_name="stranger")
    before = (order.shipping_fee, order.discount_total, order.currency, order.total)
    order.refresh_from_db()  # routing linked the customer after the commit
    customer_before = order.customer_id
    client = Client()
    client.force_login(ops)

    page = client.post(
        reverse("admin:oms_order_change", args=[order.pk]),
        _order_form(
            order,
            customer=stranger.pk,
            shipping_fee="-50.00",
            discount_total="-10.00",
            currency="USD",
        ),
    )

    assert page.status_code == 200 and "This belongs to another merchant." in page.content.decode()
    order.refresh_from_db()
    assert order.customer_id == customer_before != stranger.pk
    assert (order.shipping_fee, order.discount_total, order.currency, order.total) == before
    assert order.total >= Decimal(0)


@pytest.mark.parametrize(
    "name",
    [
        "oms_order",
        "routing_routingdecision",
        "orchestration_slaalert",
        "oms_merchant",
        "channels_channelinboxmessage",
    ],
)
def test_records_are_never_hard_deleted_even_by_a_superuser(superuser, name):
    client = Client()
    client.force_login(superuser)
    response = client.get(reverse(f"admin:{name}_delete", args=[1]))
    assert response.status_code in (403, 302)  # 302: no such row, back to the list


def test_staff_login_is_throttled(superuser, settings):
    client = Client(REMOTE_ADDR="203.0.113.7")
    url = reverse("admin:login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(url, {"username": superuser.username, "password": "wrong"})
    right = client.post(url, {"username": superuser.username, "password": "x"})
    assert right.status_code == 429  # locked out, the right password included
    assert "_auth_user_id" not in client.session


LOCKED_ON_CHANGE = {"merchant", "code", "sku", "campaign_code"}


@pytest.mark.parametrize("who", ["ops", "superuser"])
def test_no_change_page_moves_a_row_to_another_merchant_or_renames_its_code(request, who):
    """Every admin, existing row: its tenant and the codes other systems know it by are fixed."""
    user = request.getfixturevalue(who)
    editable = {}
    for model, model_admin in admin.site._registry.items():
        row = model()
        if not model_admin.has_change_permission(_request(user), row):
            continue
        fields = set(model_admin.get_form(_request(user), row).base_fields) & LOCKED_ON_CHANGE
        if fields:
            editable[model._meta.label_lower] = fields
    assert editable == {}


def _cross_merchant_rows():
    """(row pointing at another merchant's row, the field that must be refused) per model."""
    from channels.models import ChannelPrice, ChannelPriceList, Promotion
    from customers.models import Identity
    from oms.models import InventoryBatch, Order
    from routing.models import CourierLoad
    from tests.factories import WarehouseFactory

    mine, theirs = MerchantFactory(), MerchantFactory()
    their_customer = Customer.objects.create(merchant=theirs, display_name="theirs")
    return [
        (Order(merchant=mine, customer=their_customer), "customer"),
        (Identity(merchant=mine, customer=their_customer, record_id="r1"), "customer"),
        (
            InventoryBatch(
                warehouse=WarehouseFactory(merchant=mine), product=ProductFactory(merchant=theirs)
            ),
            "product",
        ),
        (
            ChannelPrice(
                price_list=ChannelPriceList.objects.create(merchant=mine, name="list"),
                product=ProductFactory(merchant=theirs),
            ),
            "product",
        ),
        (Promotion(merchant=mine, channel=ChannelFactory(merchant=theirs)), "channel"),
        (CourierLoad(merchant=mine, warehouse=WarehouseFactory(merchant=theirs)), "warehouse"),
    ]


def test_foreign_keys_to_another_merchants_rows_are_refused():
    from django.core.exceptions import ValidationError

    for row, field in _cross_merchant_rows():
        with pytest.raises(ValidationError) as refused:
            row.clean()
        assert refused.value.message_dict == {field: ["This belongs to another merchant."]}, row


def test_a_promotion_cannot_cover_another_merchants_products(superuser):
    from channels.models import Promotion

    mine, theirs = MerchantFactory(), MerchantFactory()
    client = Client()
    client.force_login(superuser)
    page = client.post(
        reverse("admin:channels_promotion_add"),
        {
            "merchant": mine.pk,
            "campaign_code": "d12",
            "name": "Double 12",
            "kind": "threshold",
            "threshold_amount": "199.00",
            "discount_amount": "20.00",
            "percent_off": "0",
            "gift_quantity": "1",
            "products": [ProductFactory(merchant=mine).pk, ProductFactory(merchant=theirs).pk],
            "starts_at_0": "2026-12-12",
            "starts_at_1": "00:00:00",
            "ends_at_0": "2026-12-13",
            "ends_at_1": "00:00:00",
            "active": "on",
        },
    )
    assert page.status_code == 200
    assert page.context["adminform"].form.errors == {
        "products": ["This belongs to another merchant."]
    }
    assert not Promotion.objects.exists()
