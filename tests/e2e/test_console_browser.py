"""Browser tests of the operations console: an Operations user logs in and sees the themed
console with its sidebar by job, in English and Chinese, and works the exceptions queue
(acknowledge, assign and retry an SLA alert). Headless Debian chromium driven by Playwright."""

import os
import shutil
from datetime import timedelta

import pytest

CHROMIUM = os.environ.get("OMS_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "pw-12345-long"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
    pytest.skip(
        f"{CHROMIUM} is missing (Debian: apt-get install -y chromium)", allow_module_level=True
    )
playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright Python package is not installed"
)


@pytest.fixture
def browser(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def ops_user(db):
    from django.contrib.auth.models import Group, Permission, User

    from oms.permissions import OPERATIONS_GROUP

    # A transactional test starts from a flushed database: the migrations' group is gone, the
    # permissions are back (post_migrate). The group gets what this test's pages need.
    group, _ = Group.objects.get_or_create(name=OPERATIONS_GROUP)
    group.permissions.set(
        Permission.objects.filter(
            codename__in=[
                "view_order",
                "change_order",
                "view_slaalert",
                "change_slaalert",
                "view_servicestep",
                "change_servicestep",
                "view_routingdecision",
            ]
        )
    )
    user = User.objects.create_user("ops", password=PASSWORD, is_staff=True)
    user.groups.add(group)
    User.objects.create_user("colleague", is_staff=True)
    return user


def _log_in(browser, live_server, language: str):
    context = browser.new_context(
        viewport={"width": 1366, "height": 900},
        extra_http_headers={"Accept-Language": language},
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill('input[name="username"]', "ops")
    page.fill('input[name="password"]', PASSWORD)
    with page.expect_navigation():
        page.click('button[type="submit"]')
    assert page.url.rstrip("/").endswith("/admin"), page.url
    return page


@pytest.mark.parametrize(
    ("language", "words", "english"),
    [
        ("en", ["Orders needing attention", "Exceptions queue", "Routing decisions"], []),
        (
            "zh-hans",
            ["待处理订单", "异常队列", "路由决策", "OMS 运营后台"],
            ["Orders needing attention", "Search apps and models", "All applications"],
        ),
    ],
)
def test_ops_logs_in_and_sees_the_styled_console(
    live_server, browser, ops_user, language, words, english
):
    page = _log_in(browser, live_server, language)
    # Styled: the theme's stylesheet is loaded and applied (a flex layout with a sidebar).
    sheets = page.evaluate("[...document.styleSheets].map(s => s.href || '')")
    assert any("/static/unfold/css/styles" in href for href in sheets)
    assert page.evaluate("getComputedStyle(document.body).fontFamily").lower().startswith("inter")
    text = page.inner_text("body")
    for word in words:
        assert word in text
    for word in english:
        assert word not in text
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366


def test_ops_acknowledges_assigns_and_retries_an_sla_alert(live_server, browser, ops_user, routed):
    from django.utils import timezone

    from orchestration.models import ServiceStep, SlaAlert, StepStatus
    from orchestration.services.sla import sla_check

    order = routed("ev")
    step = ServiceStep.objects.get(order=order, key="battery-lock")
    ServiceStep.objects.filter(pk=step.pk).update(
        status=StepStatus.READY,
        attempts=5,
        max_attempts=5,
        last_error="factory MES did not answer",
        deadline=timezone.now() - timedelta(minutes=30),
    )
    assert sla_check() == 1
    ServiceStep.objects.filter(pk=step.pk).update(status=StepStatus.FAILED)
    alert = SlaAlert.objects.get()

    page = _log_in(browser, live_server, "en")
    page.goto(f"{live_server.url}/ops/exceptions/")
    row = page.locator(f'tr[data-alert="{alert.pk}"]')
    assert "new" in row.inner_text()
    row.locator('button[name="ack"]').click()
    page.wait_for_load_state()
    row = page.locator(f'tr[data-alert="{alert.pk}"]')
    assert "acknowledged" in row.inner_text()
    row.locator('select[name="assignee"]').select_option(label="colleague")
    row.get_by_role("button", name="Assign").click()
    page.wait_for_load_state()
    row = page.locator(f'tr[data-alert="{alert.pk}"]')
    assert row.locator("td.assignee").inner_text() == "colleague"
    row.get_by_role("button", name="Retry step").click()
    page.wait_for_load_state()
    assert "Step retried." in page.inner_text("body")

    alert.refresh_from_db()
    step.refresh_from_db()
    assert alert.acknowledged_by == "ops" and alert.assignee.username == "colleague"
    assert step.attempts > 5 or step.status == StepStatus.DONE  # it ran again
    messages = set(order.events.filter(kind="exception").values_list("message", flat=True))
    assert any("acknowledged" in m for m in messages) and any("retried" in m for m in messages)
