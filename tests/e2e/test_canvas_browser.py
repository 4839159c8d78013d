"""Browser test of the routing canvas: move a weight slider and see the what-if numbers change,
in English and Chinese at 1366 px, then save the weights as a draft with its run and enable it.
Headless Debian chromium driven by Playwright."""

from decimal import Decimal

import pytest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def ops_user(make_ops_user):
    return make_ops_user(["view_routingprofile", "change_routingprofile", "add_routingprofile"])


@pytest.fixture
def recent_orders(merchant):
    """Orders a cheap slow warehouse and a dear fast one can both serve, promised in 20 h."""
    from customers.models import MatchRuleSet
    from routing.models import Lane, RoutingProfile
    from tests.factories import BatchFactory, ProductFactory, WarehouseFactory, make_order

    # The migrations' default profile is there in the first transactional test, not after.
    profile = RoutingProfile.objects.filter(is_default=True).first() or (
        RoutingProfile.objects.create(name="Balanced (default)", is_default=True)
    )
    MatchRuleSet.objects.create(merchant=merchant, merge_window_minutes=0)
    product = ProductFactory(merchant=merchant, sku="TEA")
    for code, cost, hours in (("SZ-RC", "6.00", 30.0), ("SH-DC", "14.00", 12.0)):
        warehouse = WarehouseFactory(merchant=merchant, code=code, name=code)
        Lane.objects.create(
            warehouse=warehouse,
            region="east",
            carrier="Express A",
            shipping_cost=Decimal(cost),
            transit_hours=hours,
        )
        BatchFactory(warehouse=warehouse, product=product, on_hand=40)
    for _ in range(6):
        make_order(merchant=merchant, lines=[(product, 1)], promised_in_hours=20)
    return profile


def _cells(page, row: int) -> list[str]:
    return page.locator("#canvas-table tbody tr").nth(row).locator("td").all_inner_texts()


def _ready(page) -> None:
    page.wait_for_selector('#canvas-status[data-state="ready"]', timeout=20_000)


@pytest.mark.parametrize(
    ("language", "words", "english"),
    [
        ("en", ["These weights", "Nearest-warehouse rule", "An hour late costs"], []),
        (
            "zh-hans",
            ["当前这组权重", "最近仓库规则", "迟到一小时的代价为", "路由画布"],
            ["These weights", "Cost per order", "Replaying", "What-if", "Save as draft"],
        ),
    ],
)
def test_move_a_weight_slider_and_see_the_what_if_numbers_change(
    live_server, browser, log_in, shot, ops_user, recent_orders, language, words, english
):
    page = log_in(browser, language)
    page.goto(f"{live_server.url}/admin/routing/routingprofile/{recent_orders.pk}/canvas/")
    _ready(page)
    cost_before, on_time_before = _cells(page, 0), _cells(page, 1)
    assert "6" in page.inner_text("#canvas-status")  # six orders replayed
    runs = int(page.get_attribute("#routing-canvas", "data-runs"))

    # Money at 80 % (the others make room: the total stays 100) ships from the cheap, slow one.
    page.locator("#weight-shipping_cost").fill("80")
    page.wait_for_function(
        f"Number(document.getElementById('routing-canvas').dataset.runs) > {runs}",
        timeout=20_000,
    )
    _ready(page)
    cost_after, on_time_after = _cells(page, 0), _cells(page, 1)
    assert cost_after[0] != cost_before[0] and on_time_after[0] != on_time_before[0]
    assert float(cost_after[0]) < float(cost_before[0])  # money saved, punctuality lost
    assert float(on_time_after[0]) < float(on_time_before[0])
    # The profile in force and the nearest rule do not move with the sliders.
    assert cost_after[1:] == cost_before[1:] and on_time_after[1:] == on_time_before[1:]
    total = page.inner_text("#canvas-total")
    assert "100" in total and page.get_attribute("#canvas-total", "data-state") == "ok"
    values = [
        int(v)
        for v in page.eval_on_selector_all('input[type="range"]', "els => els.map(e => e.value)")
    ]
    assert sum(values) == 100 and values.count(80) == 1
    assert page.locator("#canvas-save").is_enabled()

    text = page.inner_text("body")
    for word in words:
        assert word in text
    for word in english:
        assert word not in text
    shot(page, f"canvas-{language}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366


def test_save_the_sliders_as_a_draft_with_its_run_and_enable_it(
    live_server, browser, log_in, ops_user, recent_orders
):
    from routing.models import RoutingProfile

    page = log_in(browser, "en")
    page.goto(f"{live_server.url}/admin/routing/routingprofile/{recent_orders.pk}/canvas/")
    _ready(page)
    page.locator("#weight-lateness").fill("50")
    page.wait_for_selector("#canvas-save:not([disabled])", timeout=20_000)
    with page.expect_navigation():
        page.click("#canvas-save")
    _ready(page)
    draft = RoutingProfile.objects.get(enabled=False)
    assert draft.lateness == 50 and sum(draft.weights_percent().values()) == 100
    run = draft.simulations.get()
    assert run.config_digest == draft.config_digest() and run.orders == 6
    assert "Saved as draft" in page.inner_text("body")
    with page.expect_navigation():
        page.click("#canvas-enable")
    draft.refresh_from_db()
    assert draft.enabled
    assert page.locator("#canvas-enable").count() == 0
