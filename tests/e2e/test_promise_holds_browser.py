"""Staff see the holds delivery promises placed and release one a checkout abandoned, in
English and Chinese at 1366 px."""

from datetime import timedelta

import pytest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def holds(merchant):
    from django.utils import timezone

    from routing.models import PromiseHold

    now = timezone.now()
    for ref, expires, consumed in (
        ("CART-ABANDONED", now + timedelta(minutes=12), None),
        ("CART-PAID", now + timedelta(minutes=9), now),
    ):
        PromiseHold.objects.create(
            merchant=merchant,
            external_id=ref,
            units=[["SH-DC", "TEA-01", 2], ["SZ-RC", "MILK-02", 1]],
            parcels=[["SH-DC", "PINE"], ["SZ-RC", "POLAR"]],
            promised_at=now + timedelta(hours=30),
            expires_at=expires,
            consumed_at=consumed,
        )


@pytest.mark.parametrize(
    ("language", "holding", "released", "english"),
    [
        ("en", "holding", "1 hold released", []),
        ("zh-hans", "保留中", "已释放 1 个保留", ["holding", "taken by its order", "Release"]),
    ],
)
def test_ops_releases_an_abandoned_checkouts_hold(
    live_server, browser, log_in, make_ops_user, holds, shot, language, holding, released, english
):
    from routing.models import PromiseHold

    make_ops_user(["view_promisehold", "change_promisehold"])
    page = log_in(browser, language)
    page.goto(f"{live_server.url}/admin/routing/promisehold/")
    text = page.inner_text("#changelist")
    assert holding in text.lower() and "CART-ABANDONED" in text  # badges are set in capitals
    for word in english:
        assert word.lower() not in text.lower()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    shot(page, f"promise-holds-{language}")
    page.click("text=CART-ABANDONED")
    body = page.inner_text("#content")
    assert "MILK-02" in body and "POLAR" in body and '[["' not in body
    shot(page, f"promise-hold-{language}")
    page.go_back()
    abandoned = PromiseHold.objects.get(external_id="CART-ABANDONED")
    page.check(f'input[name="_selected_action"][value="{abandoned.pk}"]')
    page.select_option('select[name="action"]', "release")
    with page.expect_navigation():
        page.click('button[name="index"]')
    assert released in page.inner_text("body")
    hold = PromiseHold.objects.get(external_id="CART-ABANDONED")
    assert hold.consumed_at is None and hold.expires_at <= hold.created_at + timedelta(minutes=1)
