"""The merged fulfilment in the merchant API, in merge-check and in admin."""

from dataclasses import replace

import pytest
from django.urls import reverse

from oms.models import Consolidation, OrderStatus
from tests.fusion.shop import HOME, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def merged(shop):
    sofa = place(shop, "douyin", [("sofa", 1)], minutes_ago=3)
    cushion = place(shop, "mini", [("cushion", 1)])
    sofa.refresh_from_db()
    return sofa, cushion, Consolidation.objects.get()


def test_the_routing_endpoint_shows_which_orders_were_merged_and_why(api, merged):
    sofa, cushion, consolidation = merged
    for order in (sofa, cushion):
        body = api.get(f"/api/orders/{order.pk}/routing/").json()
        assert body["consolidation"]["id"] == consolidation.pk
        assert [o["id"] for o in body["consolidation"]["orders"]] == [sofa.pk, cushion.pk]
        assert [o["channel"] for o in body["consolidation"]["orders"]] == ["douyin", "mini"]
        assert "same delivery address" in body["consolidation"]["reason"]
        latest = body["decisions"][0]
        assert latest["consolidation"] == consolidation.pk and latest["order"] == cushion.pk
        assert latest["explanation"][0].startswith(f"Merged with order #{sofa.pk} (Douyin shop)")
    # The sofa's own first decision (routed alone, then re-planned) is still listed.
    decisions = api.get(f"/api/orders/{sofa.pk}/routing/").json()["decisions"]
    assert [d["outcome"] for d in decisions] == ["routed", "superseded"]


def test_the_order_api_names_the_merged_fulfilment(api, merged):
    sofa, cushion, consolidation = merged
    body = api.get(f"/api/orders/{cushion.pk}/").json()
    assert body["consolidation"] == consolidation.pk and body["status"] == OrderStatus.ROUTED
    timeline = api.get(f"/api/orders/{sofa.pk}/timeline/").json()
    kinds = [event["kind"] for event in timeline]
    assert "merged" in kinds


def test_merge_check_answers_only_for_the_same_delivery_address(api, shop):
    sofa = place(shop, "douyin", [("sofa", 1)])
    buyer = {"phone": "13800138000", "name": "张伟"}
    same = api.post(
        "/api/orders/merge-check/",
        {**buyer, "address": "浙江杭州西湖区文三路九十号1栋2单元301"},
        format="json",
    ).json()
    assert same["mergeable"] is True and [o["id"] for o in same["orders"]] == [sofa.pk]
    other = api.post(
        "/api/orders/merge-check/",
        {**buyer, "address": "浙江省杭州市西湖区文三路200号"},
        format="json",
    ).json()
    assert other["mergeable"] is False and other["customer"] == sofa.customer_id


def test_merge_check_with_merging_switched_off(api, shop):
    from customers.models import MatchRuleSet

    MatchRuleSet.objects.create(merchant=shop["merchant"], merge_window_minutes=0)
    place(shop, "douyin", [("sofa", 1)])
    body = api.post(
        "/api/orders/merge-check/",
        {"phone": "13800138000", "name": "张伟", "address": "浙江省杭州市西湖区文三路90号"},
        format="json",
    ).json()
    assert body["mergeable"] is False and body["window_minutes"] == 0 and body["customer"]


def test_admin_shows_the_merged_fulfilment(admin_client, merged):
    sofa, cushion, consolidation = merged
    changelist = admin_client.get(reverse("admin:oms_consolidation_changelist"))
    assert changelist.status_code == 200
    assert f"#{sofa.pk}, #{cushion.pk}" in changelist.content.decode()
    page = admin_client.get(reverse("admin:oms_consolidation_change", args=[consolidation.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert cushion.external_id in html and sofa.external_id in html
    assert "same delivery address" in html and "Hangzhou DC" in html
    order_page = admin_client.get(reverse("admin:oms_order_change", args=[sofa.pk])).content
    assert f"#{cushion.pk} (WeChat mini, routed)" in order_page.decode()
    decision_page = admin_client.get(reverse("admin:routing_routingdecision_changelist"))
    assert decision_page.status_code == 200


def test_admin_release_of_both_merged_orders_at_once_succeeds(admin_client, merged):
    sofa, cushion, _consolidation = merged
    response = admin_client.post(
        reverse("admin:oms_order_changelist"),
        {"action": "release", "_selected_action": [sofa.pk, cushion.pk]},
        follow=True,
    )
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert any("2 order(s) released" in m for m in messages), messages
    sofa.refresh_from_db()
    cushion.refresh_from_db()
    assert sofa.status == cushion.status == OrderStatus.RELEASED


def test_ops_staff_may_view_merged_fulfilments(client, merged, django_user_model):
    from django.contrib.auth.models import Group

    from oms.permissions import OPERATIONS_GROUP

    ops = django_user_model.objects.create_user("ops", password="x", is_staff=True)
    ops.groups.add(Group.objects.get(name=OPERATIONS_GROUP))
    client.force_login(ops)
    assert client.get(reverse("admin:oms_consolidation_changelist")).status_code == 200


def test_an_address_on_another_floor_is_another_address(shop):
    sofa = place(shop, "douyin", [("sofa", 1)])
    cushion = place(
        shop,
        "mini",
        [("cushion", 1)],
        address=replace(HOME, address_line="文三路90号1幢2单元302室"),
    )
    assert cushion.customer_id == sofa.customer_id and cushion.consolidation_id is None


def test_every_merged_order_shows_the_one_shipment_in_the_api(api, merged):
    sofa, cushion, consolidation = merged
    [shipment] = consolidation.shipments.exclude(status="cancelled")
    for order in (sofa, cushion):
        body = api.get(f"/api/orders/{order.pk}/").json()
        live = [s for s in body["shipments"] if s["status"] != "cancelled"]
        assert [s["id"] for s in live] == [shipment.pk], order
        assert live[0]["warehouse"] == "HZ"
    listed = {o["id"]: o for o in api.get("/api/orders/").json()["results"]}
    assert shipment.pk in [s["id"] for s in listed[cushion.pk]["shipments"]]


def test_the_status_page_of_every_merged_order_shows_the_shipment_and_the_other_order(merged):
    from orchestration.models import OrderTracking
    from orchestration.selectors import status_item_count, status_page

    sofa, cushion, consolidation = merged
    [shipment] = consolidation.shipments.exclude(status="cancelled")
    for order, other in ((sofa, cushion), (cushion, sofa)):
        page = status_page(tracking=OrderTracking(order=order))
        # the parcels re-planned by the merge are not shown
        assert [parcel.shipment for parcel in page["parcels"]] == [shipment]
        assert page["merged_with"] == [other.external_id]
        assert status_item_count(order=order) == page["status_items"]


def test_merged_orders_read_the_same_with_the_api_fast_paths_off(api, merged, settings):
    sofa, cushion, _consolidation = merged
    paths = [f"/api/orders/{sofa.pk}/", f"/api/orders/{cushion.pk}/", "/api/orders/"]
    settings.OMS_API_FAST_PATHS = True
    fast = [api.get(path).json() for path in paths]
    assert len(fast[0]["shipments"]) > 1  # its own (cancelled by the merge) and the merged one
    settings.OMS_API_FAST_PATHS = False
    assert [api.get(path).json() for path in paths] == fast
