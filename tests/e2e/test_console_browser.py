"""Browser tests of the operations console: an Operations user logs in and sees the themed
console with its sidebar by job, in English and Chinese, and works the exceptions queue
(acknowledge, assign and retry an SLA alert). Headless Debian chromium driven by Playwright."""

from datetime import timedelta

import pytest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def ops_user(make_ops_user):
    from django.contrib.auth.models import User

    user = make_ops_user(
        [
            "view_order",
            "change_order",
            "view_slaalert",
            "change_slaalert",
            "view_servicestep",
            "change_servicestep",
            "view_routingdecision",
        ]
    )
    User.objects.create_user("colleague", is_staff=True)
    return user


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
    live_server, browser, log_in, ops_user, language, words, english
):
    page = log_in(browser, language)
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


def test_ops_acknowledges_assigns_and_retries_an_sla_alert(
    live_server, browser, log_in, ops_user, routed
):
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

    page = log_in(browser, "en")
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
