"""Browser test: a customer opens the status page, reschedules the delivery with the one-time
code and sees the timeline change. Headless Debian chromium driven by Playwright (no browser
download: ``executable_path``); skipped with the reason when either is missing."""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("OMS_CHROMIUM", "/usr/bin/chromium")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
    pytest.skip(
        f"{CHROMIUM} is missing (Debian: apt-get install -y chromium)", allow_module_level=True
    )
playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright Python package is not installed"
)


@pytest.fixture
def browser(monkeypatch):
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are
    # plain synchronous code, which Django allows with this switch (as its docs suggest).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


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
    expected = timezone.localtime(chosen.end).strftime("%b %-d, %H:%M")
    assert eta_after != eta_before and eta_after == expected
    delivery.refresh_from_db()
    assert delivery.eta == chosen.end and delivery.eta != before
    assert order.events.filter(kind="customer_intervention").exists()


@pytest.mark.parametrize(
    ("language", "heading"), [("en", "This order link is not valid"), ("zh-hans", "此订单链接无效")]
)
def test_an_unknown_link_is_a_styled_page_in_the_customers_language(
    live_server, browser, language, heading, tmp_path
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
    page.screenshot(path=str(tmp_path / f"unknown-link-{language}.png"), full_page=True)
    shot_dir = os.environ.get("OMS_SCREENSHOT_DIR")
    if shot_dir:
        page.screenshot(path=os.path.join(shot_dir, f"unknown-link-{language}.png"))
    context.close()
