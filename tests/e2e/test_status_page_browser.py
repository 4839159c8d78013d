"""Browser test: a customer opens the status page, reschedules the delivery with the one-time
code and sees the timeline change. Headless Debian chromium driven by Playwright (no browser
download: ``executable_path``); skipped with the reason when either is missing."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_customer_reschedules_the_delivery_and_sees_the_timeline_change(
    live_server, browser, routed
):
    from django.utils import timezone

    from orchestration.models import OrderTracking, ServiceStep
    from orchestration.senders import DevelopmentSender
    from orchestration.slots import available_slots

    order = routed("furniture")
    token = OrderTracking.objects.get(order=order).token
    delivery = ServiceStep.objects.get(order=order, key="delivery")
    before = delivery.eta
    chosen = available_slots(params=delivery.parameters)[4]

    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    page.goto(f"{live_server.url}/track/{token}/")
    item = page.locator('li[data-step="delivery"]')
    assert item.get_attribute("data-state") == "in_progress"
    eta_before = item.locator(".eta").inner_text()
    assert "138****8000" in page.content() and "13800138000" not in page.content()

    item.locator("summary", has_text="Change the time").click()
    item.locator('select[name="slot"]').select_option(chosen.value)
    item.locator('button[name="reschedule"]').click()

    page.wait_for_url(lambda url: "/confirm/" in url)
    code = DevelopmentSender.outbox[-1].code
    page.fill('input[name="code"]', code)
    page.click('button[type="submit"]')

    page.wait_for_url(lambda url: url.endswith(f"/track/{token}/?changed=1"))
    assert page.locator("#notice").inner_text() == "Your change is confirmed."
    item = page.locator('li[data-step="delivery"]')
    eta_after = item.locator(".eta").inner_text()
    expected = timezone.localtime(chosen.end).strftime("%B %-d, %H:%M")
    assert eta_after != eta_before and eta_after == expected
    delivery.refresh_from_db()
    assert delivery.eta == chosen.end and delivery.eta != before
    assert order.events.filter(kind="customer_intervention").exists()


@pytest.mark.parametrize(
    ("language", "heading"), [("en", "This order link is not valid"), ("zh-hans", "此订单链接无效")]
)
def test_an_unknown_link_is_a_styled_page_in_the_customers_language(
    live_server, browser, language, heading, shot
):
    """Under the page's Content-Security-Policy the inline stylesheet still applies."""
    context = browser.new_context(
        viewport={"width": 1366, "height": 768},
        locale=language,
        extra_http_headers={"Accept-Language": language},
    )
    page = context.new_page()
    blocked: list[str] = []
    page.on(
        "console", lambda msg: blocked.append(msg.text) if "Content Security" in msg.text else None
    )

    response = page.goto(f"{live_server.url}/track/no-such-token/")

    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == heading
    card = page.locator("section.card")
    assert card.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 255, 255)"
    assert card.evaluate("e => getComputedStyle(e).borderRadius") == "10px"
    assert blocked == []
    if language == "zh-hans":
        assert "link" not in page.locator("main").inner_text().lower()  # no English left
    shot(page, f"unknown-link-{language}")
    context.close()


def _visible_text(page) -> str:
    """What a reader sees in the page body, minus the switcher's link to the English page."""
    return page.evaluate(
        """() => {
        const main = document.querySelector('main').cloneNode(true);
        main.querySelectorAll('[lang="en"], style, title').forEach(e => e.remove());
        return main.innerText + ' ' + Array.from(main.querySelectorAll('svg text'))
            .map(t => t.textContent).join(' ');
    }"""
    )


def test_the_status_page_in_chinese_has_no_english_left(live_server, browser, routed, shot):
    from orchestration.models import OrderTracking
    from tests.orchestration.test_status_page_language import english_left, typed_names

    order = routed("furniture")
    token = OrderTracking.objects.get(order=order).token
    context = browser.new_context(
        viewport={"width": 1366, "height": 900},
        locale="zh-CN",
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"},
    )
    page = context.new_page()
    blocked: list[str] = []
    page.on(
        "console", lambda msg: blocked.append(msg.text) if "Content Security" in msg.text else None
    )
    page.goto(f"{live_server.url}/track/{token}/")
    assert page.locator("h1").inner_text().startswith("进行中")
    assert page.locator("#route-map svg g.tile").count() == 34
    assert page.locator("#route-map svg g.origin").count() == 1
    text = _visible_text(page)
    assert "送货上门" in text and "上门安装" in text and "您的包裹" in text
    assert english_left(text, typed_names(order)) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    assert blocked == []
    shot(page, "status-zh")
    context.close()


def test_a_customer_switches_to_pickup_and_sees_a_consistent_page(
    live_server, browser, routed, shot
):
    from orchestration.models import OrderTracking, PickupPoint, ServiceStep
    from orchestration.senders import DevelopmentSender

    order = routed("furniture")
    token = OrderTracking.objects.get(order=order).token
    point = PickupPoint.objects.get(code="sh-lujiazui")
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{live_server.url}/track/{token}/")
    delivery = page.locator('li[data-step="delivery"]')
    delivery.locator("summary", has_text="Collect at a pickup point instead").click()
    assert "Installation appointment" in delivery.locator("#pickup-cancels").inner_text()
    delivery.locator(f'input[name="pickup_point"][value="{point.pk}"]').check()
    delivery.locator("button", has_text="Switch to pickup").click()

    page.wait_for_url(lambda url: "/confirm/" in url)
    assert "Installation appointment" in page.locator(".warn").inner_text()
    confirm_url = page.url
    page.fill('input[name="code"]', DevelopmentSender.outbox[-1].code)
    page.click('button[type="submit"]')
    page.wait_for_url(lambda url: url.endswith("?changed=1"))

    delivery = page.locator('li[data-step="delivery"]')
    assert delivery.locator(".label").inner_text() == f"Pickup at {point.name}"
    assert delivery.locator("summary", has_text="Change the time").count() == 0
    installation = page.locator('li[data-step="installation"]')
    assert installation.get_attribute("data-state") == "cancelled"
    assert "you collect your order at" in installation.inner_text()
    destination = page.locator("#destination").inner_text()
    assert "You collect it at" in destination and point.address in destination
    assert "Delivery address" not in destination
    assert "ready for pickup" in page.locator("#parcel .sentence").first.inner_text()
    assert page.locator("#route-map svg g.destination").count() == 1
    assert ServiceStep.objects.get(order=order, key="installation").status == "cancelled"
    shot(page, "pickup-en")

    page.goto(confirm_url)  # the used link says so and asks for nothing
    assert page.locator("h1").inner_text() == "This change is already confirmed"
    assert page.locator('input[name="code"]').count() == 0
