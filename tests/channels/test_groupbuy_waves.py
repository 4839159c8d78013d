"""Group-buying pick waves on the database: which orders, how merged, written once."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from channels.groupbuy import services
from channels.groupbuy.exceptions import WaveConflict
from channels.groupbuy.services import eligible_orders, groupbuy_wave_build
from channels.models import ChannelOrder, GroupBuyAssignment, PickList, PickListLine, PickWave
from channels.tasks import build_pick_waves
from oms.models import OrderEvent, OrderStatus, Shipment
from oms.permissions import OPERATIONS_GROUP
from oms.services.orders import order_cancel
from tests.channels.groupbuy_helpers import ingest_group_order
from tests.factories import ChannelFactory, MerchantFactory, WarehouseFactory


@pytest.fixture
def group_channel(merchant, catalogue):
    return ChannelFactory(merchant=merchant, code="group-buy", kind="group_buy")


@pytest.fixture
def three_types(group_channel):
    """PP-1: a proxy order, a direct order and a store pickup; PP-2: one direct order."""
    return [
        ingest_group_order(
            group_channel, "GB-1", order_type="leader_proxy", items=[("HOM-0002", 2)]
        ),
        ingest_group_order(
            group_channel,
            "GB-2",
            order_type="member_direct",
            items=[("HOM-0002", 1), ("HOM-0900", 3)],
            member="赵敏",
            phone="13600136000",
        ),
        ingest_group_order(
            group_channel,
            "GB-3",
            order_type="store_pickup",
            items=[("HOM-0900", 1)],
            member="周杰",
            phone="13500135000",
        ),
        ingest_group_order(
            group_channel, "GB-4", point="PP-2", items=[("HOM-0002", 1)], phone="13400134000"
        ),
    ]


def test_a_pickup_points_proxy_direct_and_store_pickup_orders_go_into_one_pick_list(
    merchant, three_types
):
    assert {o.status for o in three_types} == {OrderStatus.ROUTED}
    result = groupbuy_wave_build(merchant=merchant, actor="test")
    assert len(result.waves) == 1 and result.order_count == 4
    wave = result.waves[0]
    assert (wave.order_count, wave.pickup_point_count, wave.unit_count) == (4, 2, 8)
    first, second = PickList.objects.filter(wave=wave).order_by("position")
    assert (first.pickup_point_id, second.pickup_point_id) == ("PP-1", "PP-2")
    assert (first.leader_proxy_count, first.member_direct_count, first.store_pickup_count) == (
        1,
        1,
        1,
    )
    assert first.leader_name == "王阿姨" and first.order_count == 3
    lines = list(PickListLine.objects.filter(pick_list=first).values_list("sku", "quantity"))
    assert sorted(lines) == [("HOM-0002", 3), ("HOM-0900", 4)]
    assert set(
        GroupBuyAssignment.objects.filter(pick_list=first).values_list(
            "order__external_id", flat=True
        )
    ) == {"GB-1", "GB-2", "GB-3"}
    events = OrderEvent.objects.filter(kind="groupbuy_wave")
    assert events.count() == 4
    assert events.get(order=three_types[3]).data["pick_list_id"] == second.pk


def test_pick_list_lines_are_in_pick_path_order_and_rebuilds_are_identical(
    merchant, three_types, catalogue
):
    for sku, category in (("HOM-0002", "pillows"), ("HOM-0900", "bedding")):
        catalogue[sku].category = category
        catalogue[sku].save(update_fields=["category"])
    wave = groupbuy_wave_build(merchant=merchant, actor="test").waves[0]
    first = PickList.objects.get(wave=wave, pickup_point_id="PP-1")
    positions = list(first.lines.order_by("position").values_list("sku", flat=True))
    assert positions == ["HOM-0900", "HOM-0002"]  # bedding before pillows
    plan = services.wave_plan(wave=wave)
    assert [line.sku for line in plan.groups[0].lines] == positions
    kinds = [d.order.order_type for d in plan.groups[0].distribution]
    assert kinds == ["leader_proxy", "member_direct", "store_pickup"]


def test_orders_not_routed_or_cancelled_stay_out(merchant, group_channel, three_types):
    stuck = ingest_group_order(
        group_channel, "GB-9", items=[("HOM-0001", 5000)], phone="13300133000"
    )
    assert stuck.status == OrderStatus.NEEDS_ATTENTION
    order_cancel(order=three_types[0], actor="test")
    result = groupbuy_wave_build(merchant=merchant, actor="test")
    assert result.order_count == 3
    waved = set(GroupBuyAssignment.objects.values_list("order_id", flat=True))
    assert waved == {o.pk for o in three_types[1:]}


def test_a_rerun_builds_nothing_and_an_order_is_never_in_two_waves(
    merchant, group_channel, three_types
):
    first = groupbuy_wave_build(merchant=merchant, actor="test")
    again = groupbuy_wave_build(merchant=merchant, actor="test")
    assert again.waves == [] and again.order_count == 0
    late = ingest_group_order(group_channel, "GB-5", phone="13200132000")
    second = groupbuy_wave_build(merchant=merchant, actor="test")
    assert second.order_count == 1
    assert GroupBuyAssignment.objects.get(order=late).pick_list.wave == second.waves[0]
    assert PickWave.objects.count() == 2
    assert (
        GroupBuyAssignment.objects.filter(pick_list__wave=first.waves[0]).count()
        == first.waves[0].order_count
        == 4
    )
    assert OrderEvent.objects.filter(kind="groupbuy_wave").count() == 5


def test_the_database_refuses_a_second_claim_of_an_order(merchant, three_types):
    stale = services._read(eligible_orders(merchant=merchant), lock=False)
    groupbuy_wave_build(merchant=merchant, actor="first")
    plans = services.merge(stale.orders, stale.catalogue)
    with pytest.raises(IntegrityError), transaction.atomic():
        services._write(merchant=merchant, plans=plans, cutoff=timezone.now(), actor="second")
    assert PickWave.objects.count() == 1
    assert OrderEvent.objects.filter(kind="groupbuy_wave").count() == 4


def test_a_build_that_read_claimed_orders_retries_on_a_fresh_read(
    merchant, group_channel, three_types, monkeypatch
):
    groupbuy_wave_build(merchant=merchant, actor="first")
    late = ingest_group_order(group_channel, "GB-6", phone="13100131000")
    stale = services._read(
        ChannelOrder.objects.filter(order__merchant=merchant), lock=False
    )  # what a build that lost the race saw: all five orders
    real_read, calls = services._read, []

    def racing_read(queryset, **kwargs):
        calls.append(1)
        return stale if len(calls) == 1 else real_read(queryset, **kwargs)

    monkeypatch.setattr(services, "_read", racing_read)
    result = groupbuy_wave_build(merchant=merchant, actor="second")
    assert len(calls) == 2 and result.order_count == 1
    assert GroupBuyAssignment.objects.get(order=late).pick_list.wave == result.waves[0]
    monkeypatch.setattr(services, "_read", lambda queryset, **kwargs: stale)
    with pytest.raises(WaveConflict):
        groupbuy_wave_build(merchant=merchant, actor="third")
    assert PickWave.objects.count() == 2
    assert OrderEvent.objects.filter(kind="groupbuy_wave").count() == 5


def test_cutoff_and_warehouse_limit_the_wave(merchant, three_types):
    other = WarehouseFactory(merchant=merchant)
    assert groupbuy_wave_build(merchant=merchant, warehouse=other, actor="t").waves == []
    placed = min(o.placed_at for o in three_types)
    early = groupbuy_wave_build(
        merchant=merchant, cutoff=placed.replace(year=placed.year - 1), actor="t"
    )
    assert early.waves == []
    home = three_types[0].shipments.get().warehouse
    wave = groupbuy_wave_build(merchant=merchant, warehouse=home, actor="t").waves[0]
    assert wave.warehouse == home and wave.order_count == 4


def test_other_merchants_orders_are_not_touched(merchant, three_types):
    assert groupbuy_wave_build(merchant=MerchantFactory(), actor="t").waves == []
    assert not GroupBuyAssignment.objects.exists()


def test_the_command_builds_waves_of_every_merchant(merchant, three_types, capsys):
    call_command("build_pick_waves")
    out = capsys.readouterr().out
    assert PickWave.objects.filter(merchant=merchant).count() == 1
    assert "4 orders" in out


def test_the_printable_pick_list_is_for_staff_only(
    merchant, three_types, client, django_user_model
):
    wave = groupbuy_wave_build(merchant=merchant, actor="t").waves[0]
    url = reverse("admin:channels_pickwave_print", args=[wave.pk])
    assert "/login/" in client.get(url)["Location"]
    member = django_user_model.objects.create_user("member", password="x")
    client.force_login(member)
    assert "/login/" in client.get(url)["Location"]
    bare_staff = django_user_model.objects.create_user("bare", password="x", is_staff=True)
    client.force_login(bare_staff)
    assert client.get(url).status_code == 403
    ops = django_user_model.objects.create_user("ops", password="x", is_staff=True)
    ops.groups.add(Group.objects.get(name=OPERATIONS_GROUP))
    client.force_login(ops)
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Wave pick list" in html and "幸福里小区东门驿站" in html
    assert "Proxy orders of group leader 王阿姨" in html and "GB-3" in html


def test_the_print_page_flags_orders_cancelled_after_the_build(merchant, three_types, admin_client):
    wave = groupbuy_wave_build(merchant=merchant, actor="t").waves[0]
    order_cancel(order=three_types[1], actor="test")
    html = admin_client.get(reverse("admin:channels_pickwave_print", args=[wave.pk])).content
    assert "cancelled: take out" in html.decode()


def test_staff_build_a_wave_from_the_admin_button(merchant, three_types, admin_client):
    listing = admin_client.get(reverse("admin:channels_pickwave_changelist"))
    assert "Build wave now" in listing.content.decode()
    response = admin_client.post(
        reverse("admin:channels_pickwave_build"), {"merchant": merchant.pk}, follow=True
    )
    assert response.status_code == 200
    wave = PickWave.objects.get(merchant=merchant)
    assert wave.order_count == 4 and wave.created_by == "admin:admin"
    detail = admin_client.get(reverse("admin:channels_pickwave_change", args=[wave.pk]))
    assert "幸福里小区东门驿站" in detail.content.decode()


def test_the_api_lists_a_merchants_waves_and_hides_other_tenants(merchant, three_types, api):
    wave = groupbuy_wave_build(merchant=merchant, actor="t").waves[0]
    stranger = MerchantFactory()
    other = PickWave.objects.create(merchant=stranger, cutoff=timezone.now(), created_by="t")
    listing = api.get("/api/groupbuy/waves/")
    assert listing.status_code == 200
    ids = [row["id"] for row in listing.json()["results"]]
    assert ids == [wave.pk]
    detail = api.get(f"/api/groupbuy/waves/{wave.pk}/").json()
    assert [p["pickup_point_id"] for p in detail["pick_lists"]] == ["PP-1", "PP-2"]
    assert detail["pick_lists"][0]["lines"][0]["quantity"] > 0
    assert api.get(f"/api/groupbuy/waves/{other.pk}/").status_code == 404


def test_the_task_is_safe_to_run_twice(merchant, three_types):
    assert "4 orders" in build_pick_waves.delay(merchant_id=merchant.pk).get()
    assert build_pick_waves.delay(merchant_id=merchant.pk).get() == "nothing waiting"


def test_the_print_page_speaks_chinese(merchant, three_types, admin_client):
    wave = groupbuy_wave_build(merchant=merchant, actor="t").waves[0]
    html = admin_client.get(
        reverse("admin:channels_pickwave_print", args=[wave.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert f"拣货波次 #{wave.pk}" in html and "配送清单：谁领什么" in html


def test_the_demo_command_builds_a_wave_of_four_pickup_points_once(
    transactional_db, capsys, settings
):
    """Real commits, as under make run: each order is routed when it commits."""
    from tests.factories import BatchFactory, ProductFactory

    fresh = MerchantFactory(code="freshfarm")
    ChannelFactory(merchant=fresh, code="group-buy", kind="group_buy")
    dc = WarehouseFactory(merchant=fresh, code="SH-DC")
    for number in range(8):
        product = ProductFactory(merchant=fresh, sku=f"FRE-{number:04d}", category="fresh")
        BatchFactory(warehouse=dc, product=product, on_hand=500)
    settings.OMS_PUBLIC_BASE_URL = "http://127.0.0.1:8123"  # as `make run PORT=8123` sets it
    call_command("seed_groupbuy_demo")
    wave = PickWave.objects.get(merchant=fresh)
    assert wave.pickup_point_count == 4 and wave.order_count == 36
    lists = PickList.objects.filter(wave=wave)
    assert sum(p.leader_proxy_count for p in lists) > 0
    assert sum(p.store_pickup_count for p in lists) > 0
    call_command("seed_groupbuy_demo")
    assert PickWave.objects.filter(merchant=fresh).count() == 1
    assert f"http://127.0.0.1:8123/admin/channels/pickwave/{wave.pk}/print/" in (
        capsys.readouterr().out
    )


def test_deleting_a_wave_frees_its_orders_and_leaves_no_lines(merchant, three_types):
    wave = groupbuy_wave_build(merchant=merchant, actor="t").waves[0]
    wave.delete()
    assert not PickListLine.objects.exists() and not GroupBuyAssignment.objects.exists()
    assert groupbuy_wave_build(merchant=merchant, actor="t").order_count == 4


def test_orders_without_a_pending_shipment_form_a_wave_without_warehouse(
    merchant, three_types, admin_client
):
    Shipment.objects.filter(order__in=three_types[:2]).delete()
    waves = groupbuy_wave_build(merchant=merchant, actor="t").waves
    assert [(w.warehouse_id is None, w.order_count) for w in waves] == [(False, 2), (True, 2)]
    plan = services.wave_plan(wave=waves[1])
    assert plan.warehouse_id is None and plan.order_count == 2
    page = admin_client.get(reverse("admin:channels_pickwave_print", args=[waves[1].pk]))
    assert page.status_code == 200 and "GB-1" in page.content.decode()
