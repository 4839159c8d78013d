"""Orders of one person that can ship together are routed and shipped as one."""

from dataclasses import replace

import pytest
from django.utils import translation

from channels.models import ChannelOrder
from customers.models import MatchRuleSet
from oms.models import (
    Consolidation,
    InventoryBatch,
    OrderEvent,
    OrderStatus,
    Reservation,
    Shipment,
)
from oms.services.orders import order_cancel, order_deliver, order_release, order_ship
from oms.stored_text import event_text
from routing import services as routing_services
from routing.models import RoutingDecision
from tests.fusion.shop import HOME, place

pytestmark = pytest.mark.django_db


def _reserved(shop) -> dict[str, int]:
    return {
        name: InventoryBatch.objects.get(pk=batch.pk).reserved
        for name, batch in shop["batches"].items()
    }


def _active(order) -> dict[str, int]:
    rows = Reservation.objects.filter(line__order=order, status="active").select_related(
        "batch__warehouse", "batch__product"
    )
    held: dict[str, int] = {}
    for row in rows:
        key = f"{row.batch.product.sku.lower()}@{row.batch.warehouse.code}"
        held[key] = held.get(key, 0) + row.quantity
    return held


def test_a_cushion_alone_ships_from_the_cheaper_warehouse(shop):
    """The baseline the merge changes: without a sofa order, the cushion goes from Suzhou."""
    cushion = place(shop, "mini", [("cushion", 1)])
    assert cushion.status == OrderStatus.ROUTED and cushion.consolidation_id is None
    assert cushion.shipments.get().warehouse == shop["suzhou"]


def test_two_orders_of_one_person_on_two_channels_ship_as_one(shop):
    sofa = place(shop, "douyin", [("sofa", 1)], minutes_ago=3)
    assert sofa.status == OrderStatus.ROUTED and _active(sofa) == {"sofa@HZ": 1}
    cushion = place(shop, "mini", [("cushion", 1)])
    sofa.refresh_from_db()

    assert sofa.status == cushion.status == OrderStatus.ROUTED
    assert sofa.customer_id == cushion.customer_id
    consolidation = Consolidation.objects.get()
    assert sofa.consolidation == cushion.consolidation == consolidation
    assert consolidation.customer_id == sofa.customer_id
    assert consolidation.data["orders"] == [sofa.pk, cushion.pk]
    assert consolidation.data["window_minutes"] == 30
    assert f"same customer #{sofa.customer_id}" in consolidation.reason

    # One routing decision for the merged fulfilment, explained in plain words first.
    decision = RoutingDecision.objects.get(consolidation=consolidation)
    assert decision.order == cushion and decision.outcome == "routed"
    assert decision.explanation.splitlines()[0] == (
        f"Merged with order #{sofa.pk} (Douyin shop) received 3 minutes earlier: "
        "same customer, same delivery address."
    )
    assert [s["warehouse"] for s in decision.shipments] == ["HZ"]
    assert not RoutingDecision.objects.filter(order=cushion).exclude(pk=decision.pk).exists()
    # The sofa's own earlier plan no longer holds: one routing decision for the shipment.
    assert RoutingDecision.objects.get(order=sofa).outcome == "superseded"
    assert RoutingDecision.objects.filter(outcome="routed").get() == decision

    # One live shipment from one warehouse, for both orders.
    live = Shipment.objects.filter(status="pending")
    assert live.count() == 1
    shipment = live.get()
    assert (shipment.warehouse, shipment.order, shipment.consolidation) == (
        shop["hangzhou"],
        sofa,
        consolidation,
    )
    assert shipment.carrier == "Express A"
    assert Shipment.objects.get(status="cancelled").order == sofa  # its own, before the merge

    # Each order holds exactly its own lines; nothing held twice, nothing in Suzhou.
    assert _active(sofa) == {"sofa@HZ": 1} and _active(cushion) == {"cushion@HZ": 1}
    assert _reserved(shop) == {"sofa@HZ": 1, "cushion@HZ": 1, "cushion@SZ": 0}

    for order, other in ((sofa, cushion), (cushion, sofa)):
        merged = OrderEvent.objects.get(order=order, kind="merged")
        assert merged.message.startswith(f"Merged with order #{other.pk}: same customer #")
        assert "same delivery address, within 30 min" in merged.message
        assert merged.data["consolidation"] == consolidation.pk
    assert cushion.status_reason.startswith(f"Merged with order #{sofa.pk} (Douyin shop)")
    assert sofa.status_reason == f"Ships with order #{cushion.pk} as one merged fulfilment."


def test_an_address_written_differently_still_merges(shop):
    sofa = place(shop, "douyin", [("sofa", 1)])
    same_place = replace(
        HOME, province="浙江", city="杭州", district="西湖", address_line="文三路九十号1栋2单元301"
    )
    cushion = place(shop, "mini", [("cushion", 1)], address=same_place)
    assert (
        cushion.consolidation_id
        and cushion.consolidation_id == sofa.__class__.objects.get(pk=sofa.pk).consolidation_id
    )


def test_a_third_order_joins_the_same_fulfilment(shop):
    sofa = place(shop, "douyin", [("sofa", 1)], minutes_ago=5)
    place(shop, "mini", [("cushion", 1)], minutes_ago=2)
    third = place(shop, "douyin", [("cushion", 2)])
    consolidation = Consolidation.objects.get()
    assert (
        list(consolidation.consolidated_orders.order_by("pk").values_list("pk", flat=True))
        == (consolidation.data["orders"])
    )
    assert len(consolidation.data["orders"]) == 3 and len(consolidation.data["merges"]) == 2
    routed = RoutingDecision.objects.filter(outcome="routed").get()
    assert routed.order == third and routed.consolidation == consolidation
    assert RoutingDecision.objects.filter(outcome="superseded").count() == 2
    assert Shipment.objects.filter(status="pending").count() == 1
    assert _reserved(shop) == {"sofa@HZ": 1, "cushion@HZ": 3, "cushion@SZ": 0}
    assert third.consolidation == consolidation and sofa.pk in consolidation.data["orders"]


def _no_merge(shop, first, second):
    first.refresh_from_db()
    assert Consolidation.objects.count() == 0
    assert first.consolidation_id is None and second.consolidation_id is None
    assert second.status == OrderStatus.ROUTED
    assert second.shipments.get(status="pending").warehouse == shop["suzhou"]
    assert not RoutingDecision.objects.filter(consolidation__isnull=False).exists()


def test_a_different_address_is_not_merged(shop):
    sofa = place(shop, "douyin", [("sofa", 1)])
    office = replace(HOME, address_line="文三路200号")
    cushion = place(shop, "mini", [("cushion", 1)], address=office)
    assert cushion.customer_id == sofa.customer_id  # same person, other address
    _no_merge(shop, sofa, cushion)


def test_an_order_after_the_window_is_not_merged(shop):
    sofa = place(shop, "douyin", [("sofa", 1)], minutes_ago=31)
    cushion = place(shop, "mini", [("cushion", 1)])
    assert cushion.customer_id == sofa.customer_id
    _no_merge(shop, sofa, cushion)


def test_the_window_is_per_merchant(shop):
    MatchRuleSet.objects.create(merchant=shop["merchant"], merge_window_minutes=60)
    sofa = place(shop, "douyin", [("sofa", 1)], minutes_ago=45)
    cushion = place(shop, "mini", [("cushion", 1)])
    assert cushion.consolidation_id and Consolidation.objects.get().data["window_minutes"] == 60
    assert sofa.pk in Consolidation.objects.get().data["orders"]


def test_another_person_is_not_merged(shop):
    sofa = place(shop, "douyin", [("sofa", 1)])
    neighbour = replace(HOME, receiver_name="李娜", receiver_phone="13900139000")
    cushion = place(shop, "mini", [("cushion", 1)], address=neighbour)
    assert cushion.customer_id != sofa.customer_id
    _no_merge(shop, sofa, cushion)


@pytest.mark.parametrize("gone", ["released", "shipped"])
def test_an_order_already_released_or_shipped_is_not_merged(shop, gone):
    sofa = place(shop, "douyin", [("sofa", 1)])
    order_release(order=sofa, actor="test")
    if gone == "shipped":
        order_ship(order=sofa, actor="test")
    cushion = place(shop, "mini", [("cushion", 1)])
    _no_merge(shop, sofa, cushion)
    sofa.refresh_from_db()
    assert sofa.status == gone


def test_a_group_buying_order_is_not_merged(shop):
    sofa = place(shop, "douyin", [("sofa", 1)])
    ChannelOrder.objects.create(order=sofa, channel=shop["douyin"], group_order_type="community")
    cushion = place(shop, "mini", [("cushion", 1)])
    _no_merge(shop, sofa, cushion)


def test_merging_can_be_switched_off_per_merchant(shop):
    MatchRuleSet.objects.create(merchant=shop["merchant"], merge_window_minutes=0)
    sofa = place(shop, "douyin", [("sofa", 1)])
    cushion = place(shop, "mini", [("cushion", 1)])
    _no_merge(shop, sofa, cushion)


def test_when_the_merged_plan_cannot_be_reserved_the_order_is_routed_alone(shop, monkeypatch):
    sofa = place(shop, "douyin", [("sofa", 1)], minutes_ago=3)
    real = routing_services.orders_consolidate
    hangzhou_cushions = shop["batches"]["cushion@HZ"]

    def stock_moves_meanwhile(**kwargs):
        # Another order takes the Hangzhou cushions between planning and reserving.
        InventoryBatch.objects.filter(pk=hangzhou_cushions.pk).update(on_hand=0)
        return real(**kwargs)

    monkeypatch.setattr(routing_services, "orders_consolidate", stock_moves_meanwhile)
    cushion = place(shop, "mini", [("cushion", 1)])
    sofa.refresh_from_db()

    assert Consolidation.objects.count() == 0
    assert sofa.status == cushion.status == OrderStatus.ROUTED
    assert _active(sofa) == {"sofa@HZ": 1}  # the sofa kept its reservation
    assert sofa.shipments.get(status="pending").warehouse == shop["hangzhou"]
    assert _active(cushion) == {"cushion@SZ": 1}
    assert _reserved(shop) == {"sofa@HZ": 1, "cushion@HZ": 0, "cushion@SZ": 1}
    note = OrderEvent.objects.get(order=cushion, kind="routing", message__startswith="Not merged")
    assert note.message == (
        f"Not merged with order #{sofa.pk}: Not enough stock for CUSHION. Routed on its own."
    )
    # Kept as codes: the reason reads Chinese on a Chinese page, the SKU as typed.
    assert note.data["text"]["params"]["why"]["msg"]["code"] == "oms.stock_short"
    with translation.override("zh-hans"):
        assert event_text(note) == f"未与订单 #{sofa.pk} 合并：CUSHION 库存不足。已单独路由。"
    decision = RoutingDecision.objects.get(order=cushion)
    assert decision.consolidation is None and decision.shipments[0]["warehouse"] == "SZ"


def test_when_the_orders_cannot_be_routed_together_the_order_is_routed_alone(shop):
    sofa = place(shop, "douyin", [("sofa", 1)])
    # Hangzhou, the only sofa warehouse, has no cushions left; Suzhou has.
    InventoryBatch.objects.filter(pk=shop["batches"]["cushion@HZ"].pk).update(on_hand=0)
    InventoryBatch.objects.filter(pk=shop["batches"]["sofa@HZ"].pk).update(on_hand=1)
    cushion = place(shop, "mini", [("cushion", 1)])
    # Together is still possible as two parcels (a split), so it merges: one decision.
    assert cushion.consolidation_id
    assert Shipment.objects.filter(status="pending").count() == 2
    assert _reserved(shop) == {"sofa@HZ": 1, "cushion@HZ": 0, "cushion@SZ": 1}
    assert sofa.pk in cushion.consolidation.data["orders"]


def test_an_unroutable_merged_plan_falls_back_with_a_note(shop, monkeypatch):
    sofa = place(shop, "douyin", [("sofa", 1)])

    def nothing_fits(engine_order, ctx, *args, **kwargs):
        if len(engine_order.lines) > 1:  # the merged order: as if no warehouse had stock
            ctx = replace(ctx, nodes=tuple(replace(node, stock=()) for node in ctx.nodes))
        return real(engine_order, ctx, *args, **kwargs)

    real = routing_services.route_order
    monkeypatch.setattr(routing_services, "route_order", nothing_fits)
    cushion = place(shop, "mini", [("cushion", 1)])
    assert cushion.status == OrderStatus.ROUTED and cushion.consolidation_id is None
    note = OrderEvent.objects.get(order=cushion, kind="routing", message__startswith="Not merged")
    assert note.message.startswith(
        f"Not merged with order #{sofa.pk}: together they cannot be routed ("
    )
    assert note.message.endswith(". Routed on its own.")
    sofa.refresh_from_db()
    assert sofa.status == OrderStatus.ROUTED and _active(sofa) == {"sofa@HZ": 1}


@pytest.mark.parametrize("cancelled", ["first", "second"])
def test_cancelling_one_merged_order_keeps_the_other_and_its_shipment(shop, cancelled):
    sofa = place(shop, "douyin", [("sofa", 1)], minutes_ago=3)
    cushion = place(shop, "mini", [("cushion", 1)])
    gone, kept = (sofa, cushion) if cancelled == "first" else (cushion, sofa)
    order_cancel(order=gone, actor="customer", reason="changed mind")
    gone.refresh_from_db()
    kept.refresh_from_db()

    assert gone.status == OrderStatus.CANCELLED and kept.status == OrderStatus.ROUTED
    assert _active(gone) == {}
    assert _active(kept) == ({"cushion@HZ": 1} if kept == cushion else {"sofa@HZ": 1})
    assert sum(_reserved(shop).values()) == 1
    shipment = Shipment.objects.get(status="pending")
    assert shipment.order == kept and shipment.warehouse == shop["hangzhou"]
    assert kept.consolidation_id == gone.consolidation_id  # the record keeps both


def test_merged_orders_are_released_shipped_and_delivered_together(shop):
    sofa = place(shop, "douyin", [("sofa", 1)], minutes_ago=3)
    cushion = place(shop, "mini", [("cushion", 1)])
    order_release(order=cushion, actor="staff")
    sofa.refresh_from_db()
    assert sofa.status == OrderStatus.RELEASED
    assert "Ships with order" in sofa.status_reason
    order_ship(order=sofa, actor="staff", tracking_numbers={shop["hangzhou"].pk: "SF123"})
    cushion.refresh_from_db()
    assert cushion.status == OrderStatus.SHIPPED
    shipment = Shipment.objects.exclude(status="cancelled").get()
    assert shipment.status == "shipped" and shipment.tracking_number == "SF123"
    batches = {b.product.sku: b for b in InventoryBatch.objects.filter(warehouse__code="HZ")}
    assert (batches["SOFA"].on_hand, batches["SOFA"].reserved) == (4, 0)
    assert (batches["CUSHION"].on_hand, batches["CUSHION"].reserved) == (4, 0)
    order_deliver(order=cushion, actor="carrier")
    sofa.refresh_from_db()
    assert sofa.status == OrderStatus.DELIVERED
    assert Shipment.objects.exclude(status="cancelled").get().status == "delivered"


def test_an_order_sent_back_to_routing_leaves_the_fulfilment(shop):
    from oms.services.orders import order_transition

    sofa = place(shop, "douyin", [("sofa", 1)], minutes_ago=3)
    cushion = place(shop, "mini", [("cushion", 1)])
    order_transition(order=cushion, to_status=OrderStatus.CREATED, actor="staff", reason="redo")
    cushion.refresh_from_db()
    assert cushion.consolidation_id is None and _active(cushion) == {}
    assert _active(sofa) == {"sofa@HZ": 1}
    assert Shipment.objects.get(status="pending").order == sofa
