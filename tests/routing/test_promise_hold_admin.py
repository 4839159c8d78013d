"""Promise holds in admin: staff see what each hold keeps out of routing and until when, in
words, and may release a live hold early; nothing else about a hold is edited."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from django.utils import timezone

from routing.holds import live_holds
from routing.models import PromiseHold

pytestmark = pytest.mark.django_db
LIST = reverse("admin:routing_promisehold_changelist")


@pytest.fixture
def holds(merchant):
    now = timezone.now()

    def hold(ref, *, expires, consumed=None):
        return PromiseHold.objects.create(
            merchant=merchant,
            external_id=ref,
            units=[["SH-DC", "TEA", 2], ["SZ-RC", "MILK", 1]],
            parcels=[["SH-DC", "PINE"], ["SZ-RC", "POLAR"]],
            promised_at=now + timedelta(hours=30),
            expires_at=expires,
            consumed_at=consumed,
        )

    return {
        "live": hold("CART-LIVE", expires=now + timedelta(minutes=10)),
        "taken": hold("CART-TAKEN", expires=now + timedelta(minutes=10), consumed=now),
        "gone": hold("CART-GONE", expires=now - timedelta(minutes=1)),
    }


def test_the_list_says_what_each_hold_keeps_and_its_state(admin_client, holds):
    page = admin_client.get(LIST).content.decode()
    for ref in ("CART-LIVE", "CART-TAKEN", "CART-GONE"):
        assert ref in page
    assert "holding" in page and "taken by its order" in page and "expired" in page
    assert "3 at 2 warehouses" in page
    live_only = admin_client.get(LIST, {"state": "live"}).content.decode()
    assert "CART-LIVE" in live_only and "CART-TAKEN" not in live_only
    assert "CART-GONE" not in live_only


def test_the_hold_page_lists_units_and_parcels_in_a_table_not_json(admin_client, holds):
    url = reverse("admin:routing_promisehold_change", args=[holds["live"].pk])
    page = admin_client.get(url).content.decode()
    assert "<table>" in page and "SZ-RC" in page and "POLAR" in page
    assert '[["' not in page and "&quot;SH-DC&quot;" not in page
    assert "holding" in page and "(&#x27;live&#x27;" not in page and "('live'" not in page
    # Read-only: no form to save, no delete.
    assert 'name="_save"' not in page
    assert admin_client.post(url, {"external_id": "X"}).status_code == 403


def test_the_list_in_chinese(admin_client, holds):
    page = admin_client.get(LIST, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "保留中" in page and "已由订单使用" in page and "已过期" in page
    assert "3 件，2 个仓库" in page and "承诺保留" in page


def test_releasing_frees_a_live_hold_and_leaves_the_others(admin_client, holds, merchant):
    now = timezone.now()
    assert [h.key for h in live_holds(merchant_id=merchant.pk, now=now)] == ["CART-LIVE"]
    response = admin_client.post(
        LIST,
        {
            "action": "release",
            "_selected_action": [h.pk for h in holds.values()],
        },
        follow=True,
    )
    assert "1 hold released" in response.content.decode()
    assert live_holds(merchant_id=merchant.pk, now=timezone.now()) == []
    taken = PromiseHold.objects.get(pk=holds["taken"].pk)
    gone = PromiseHold.objects.get(pk=holds["gone"].pk)
    assert taken.expires_at == holds["taken"].expires_at and taken.consumed_at is not None
    assert gone.expires_at == holds["gone"].expires_at
    assert PromiseHold.objects.count() == 3  # kept for the record
    history = admin_client.get(
        reverse("admin:routing_promisehold_history", args=[holds["live"].pk])
    ).content.decode()
    assert "Changed" in history and "admin" in history


def test_staff_who_may_only_view_holds_cannot_release_them(client, holds, merchant):
    viewer = User.objects.create_user("viewer", password="pw-12345-long", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_promisehold"))
    client.force_login(viewer)
    page = client.get(LIST).content.decode()
    assert "CART-LIVE" in page and 'value="release"' not in page
    client.post(LIST, {"action": "release", "_selected_action": [holds["live"].pk]})
    assert [h.key for h in live_holds(merchant_id=merchant.pk, now=timezone.now())] == ["CART-LIVE"]
