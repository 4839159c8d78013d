import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.urls import reverse

from oms.models import InventoryBatch, Order, OrderStatus, Warehouse
from oms.permissions import OPERATIONS_GROUP
from tests.factories import BatchFactory, ProductFactory, WarehouseFactory, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def routed_order(merchant):
    product = ProductFactory(merchant=merchant)
    BatchFactory(warehouse=WarehouseFactory(merchant=merchant), product=product, on_hand=10)
    order = make_order(merchant=merchant, lines=[(product, 3)])
    order.refresh_from_db()
    assert order.status == OrderStatus.ROUTED
    return order


@pytest.fixture
def ops_client(client):
    user = User.objects.create_user("opsuser", password="pw-12345-long", is_staff=True)
    user.groups.add(Group.objects.get(name=OPERATIONS_GROUP))
    client.force_login(user)
    return client


def test_every_registered_model_has_working_admin_pages(admin_client, routed_order):
    for model in admin.site._registry:
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert admin_client.get(changelist).status_code == 200, changelist
        assert admin_client.get(changelist, {"q": "x"}).status_code == 200, changelist
        obj = model.objects.first()
        if obj is not None:
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            assert admin_client.get(change).status_code == 200, change


def test_order_page_shows_lines_reservations_and_a_read_only_timeline(admin_client, routed_order):
    page = admin_client.get(
        reverse("admin:oms_order_change", args=[routed_order.pk])
    ).content.decode()
    assert routed_order.lines.get().product.sku in page
    assert "chosen" in page  # the routing explanation on the timeline
    assert 'name="events-0-message"' not in page  # read-only, not an input


def test_operations_group_can_work_orders_but_not_delete_or_see_keys(ops_client, routed_order):
    assert ops_client.get(reverse("admin:oms_order_changelist")).status_code == 200
    assert ops_client.get(reverse("admin:oms_idempotencyrecord_changelist")).status_code == 403
    assert (
        ops_client.get(reverse("admin:oms_order_delete", args=[routed_order.pk])).status_code == 403
    )
    response = ops_client.post(
        reverse("admin:oms_order_changelist"),
        {"action": "cancel", "_selected_action": [routed_order.pk]},
    )
    assert response.status_code == 302
    routed_order.refresh_from_db()
    assert routed_order.status == OrderStatus.CANCELLED
    assert InventoryBatch.objects.get().reserved == 0
    assert routed_order.events.last().actor == "user:opsuser"


def test_an_illegal_admin_action_reports_the_reason(admin_client, routed_order):
    response = admin_client.post(
        reverse("admin:oms_order_changelist"),
        {"action": "deliver", "_selected_action": [routed_order.pk]},
        follow=True,
    )
    assert "cannot become delivered" in response.content.decode()
    routed_order.refresh_from_db()
    assert routed_order.status == OrderStatus.ROUTED


def test_pausing_a_warehouse_in_admin_is_audited(admin_client, merchant):
    warehouse = WarehouseFactory(merchant=merchant)
    admin_client.post(
        reverse("admin:oms_warehouse_changelist"),
        {"action": "pause", "_selected_action": [warehouse.pk]},
    )
    warehouse.refresh_from_db()
    assert warehouse.status == "paused" and warehouse.status_changed_at is not None
    assert Warehouse.objects.filter(pk=warehouse.pk, status="paused").exists()


def test_issuing_an_api_key_shows_it_once_and_stores_only_a_hash(admin_client, merchant):
    response = admin_client.post(
        reverse("admin:oms_merchant_changelist"),
        {"action": "issue_api_key", "_selected_action": [merchant.pk]},
        follow=True,
    )
    text = response.content.decode()
    raw = text.split("New key for ")[1].split(": ")[1].split(" ")[0]
    assert raw.startswith("oms_")
    key = merchant.api_keys.get()
    assert raw not in (key.key_hash, key.prefix) and key.key_hash == key.hash(raw)


def test_orders_cannot_be_added_by_hand(admin_client):
    assert admin_client.get(reverse("admin:oms_order_add")).status_code == 403
    assert Order.objects.count() == 0


def test_a_revoked_api_key_stops_working_at_once(admin_client, merchant):
    from rest_framework.test import APIClient

    from oms.models import ApiKey
    from tests.factories import make_api_key

    raw = make_api_key(merchant)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/orders/").status_code == 200
    key = ApiKey.objects.get(merchant=merchant)
    admin_client.post(
        reverse("admin:oms_apikey_changelist"), {"action": "revoke", "_selected_action": [key.pk]}
    )
    assert client.get("/api/orders/").status_code == 401
