"""Browser tests of the order workspace: an Operations user opens an order and ships it with a
carrier and tracking number per parcel, and routes a ``needs_attention`` order again once stock
has been received and its warehouse resumed, all through the admin as staff would. English and
Chinese at 1366 px; headless Debian chromium driven by Playwright."""

import pytest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


# What the Operations group holds for these pages (oms and orchestration migrations grant it;
# a transactional test starts from a flushed database, so the fixture builds it again).
OPS_PERMS = {
    "oms": [
        "view_order",
        "change_order",
        "view_orderevent",
        "view_shipment",
        "change_shipment",
        "view_inventorybatch",
        "change_inventorybatch",
        "view_warehouse",
        "change_warehouse",
        "view_product",
    ],
    "routing": ["view_routingdecision"],
    "orchestration": ["view_servicestep", "change_servicestep"],
}


@pytest.fixture
def ops_user(make_ops_user):
    from django.db.models import Q

    wanted = Q(pk__in=[])
    for app_label, codenames in OPS_PERMS.items():
        wanted |= Q(content_type__app_label=app_label, codename__in=codenames)
    return make_ops_user(wanted)


def _fits(page) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 1366


@pytest.mark.parametrize(
    ("language", "ship_words", "shipped_word"),
    [
        ("en", ("Ship with tracking numbers", "Mark shipped"), "Shipped"),
        ("zh-hans", ("填写运单号并发货", "标记为已发货"), "已发货"),
    ],
)
def test_ops_opens_an_order_and_ships_it_with_a_tracking_number(
    live_server,
    browser,
    log_in,
    shot,
    ops_user,
    routed,
    language,
    ship_words,
    shipped_word,
):
    from oms.models import OrderStatus
    from oms.services.orders import order_release

    order = order_release(order=routed("furniture"), actor="test")
    shipment = order.shipments.get()
    page = log_in(browser, language)

    page.goto(f"{live_server.url}/admin/oms/order/?q={order.external_id}")
    page.get_by_role("link", name=order.external_id, exact=True).click()
    page.wait_for_load_state()
    assert f"/admin/oms/order/{order.pk}/change/" in page.url
    _fits(page)
    shot(page, f"workspace-{language}")

    page.get_by_role("link", name=ship_words[0]).click()
    page.wait_for_load_state()
    carrier = page.locator(f'input[name="carrier_{shipment.warehouse_id}"]')
    tracking = page.locator(f'input[name="tracking_{shipment.warehouse_id}"]')
    # Both are required: the browser does not send the form while the tracking number is empty.
    assert tracking.get_attribute("required") is not None
    carrier.fill("Express A")
    tracking.fill("")
    page.get_by_role("button", name=ship_words[1]).click()
    assert page.evaluate("document.querySelector('#ship-form').checkValidity()") is False
    order.refresh_from_db()
    assert order.status == OrderStatus.RELEASED
    tracking.fill("SF1234567890")
    _fits(page)
    shot(page, f"ship-form-{language}")
    with page.expect_navigation():
        page.get_by_role("button", name=ship_words[1]).click()

    assert f"/admin/oms/order/{order.pk}/change/" in page.url
    # The parcel row of the order's page: shipped, with the carrier's number.
    assert page.locator('input[name$="tracking_number"]').input_value() == "SF1234567890"
    assert shipped_word in page.inner_text("body")
    shot(page, f"shipped-{language}")
    order.refresh_from_db()
    shipment.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert (shipment.carrier, shipment.tracking_number) == ("Express A", "SF1234567890")
    assert order.events.filter(to_status=OrderStatus.SHIPPED, actor="user:ops").exists()


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", {"save": "Save", "route": "Route again", "sent": "Order sent to routing again."}),
        ("zh-hans", {"save": "保存", "route": "重新路由", "sent": "订单已重新提交路由。"}),
    ],
)
def test_ops_routes_a_needs_attention_order_again_after_adding_stock(
    live_server,
    browser,
    log_in,
    shot,
    ops_user,
    merchant,
    stocked,
    catalogue,
    language,
    words,
):
    """Stock arrives at a warehouse paused for a stocktake: the automatic retry finds no
    warehouse to ship from, so staff resume the warehouse and route the order again."""
    from oms.models import InventoryBatch, OrderStatus, Warehouse, WarehouseStatus
    from oms.services.warehouses import warehouse_set_status
    from tests.factories import make_order

    order = make_order(merchant=merchant, lines=[(stocked["other"], 150)])
    order.refresh_from_db()
    assert order.status == OrderStatus.NEEDS_ATTENTION
    batch = InventoryBatch.objects.get(product=stocked["other"])
    warehouse = warehouse_set_status(
        warehouse=batch.warehouse,
        status=WarehouseStatus.PAUSED,
        reason="stocktake",
        actor="test",
    )
    page = log_in(browser, language)

    # The receipt: staff raise the batch's count on its own page.
    page.goto(f"{live_server.url}/admin/oms/inventorybatch/{batch.pk}/change/")
    page.fill('input[name="on_hand"]', "500")
    with page.expect_navigation():
        page.locator('button[name="_save"]').first.click()
    batch.refresh_from_db()
    assert batch.on_hand == 500
    order.refresh_from_db()
    assert order.status == OrderStatus.NEEDS_ATTENTION  # tried again: the warehouse is paused

    # The stocktake is over: the warehouse is active again.
    page.goto(f"{live_server.url}/admin/oms/warehouse/{warehouse.pk}/change/")
    page.select_option('select[name="status"]', WarehouseStatus.ACTIVE)
    with page.expect_navigation():
        page.locator('button[name="_save"]').first.click()
    assert Warehouse.objects.get(pk=warehouse.pk).status == WarehouseStatus.ACTIVE
    order.refresh_from_db()
    assert order.status == OrderStatus.NEEDS_ATTENTION  # resuming routes nothing by itself

    page.goto(f"{live_server.url}/admin/oms/order/{order.pk}/change/")
    shot(page, f"needs-attention-{language}")
    with page.expect_navigation():
        page.get_by_role("link", name=words["route"]).click()
    assert words["sent"] in page.inner_text("body")
    order.refresh_from_db()
    assert order.status == OrderStatus.ROUTED
    assert order.shipments.get().warehouse_id == warehouse.pk
    page.reload()
    _fits(page)
    shot(page, f"routed-again-{language}")
