"""What every browser test shares: headless Debian chromium driven by Playwright, an Operations
user, logging in at 1366 px in a given language, and screenshots.

A missing chromium or playwright skips each browser test with the reason (its ``browser``
fixture skips); under ``OMS_REQUIRE_BROWSER=1`` (CI) the hook in ``tests/conftest.py`` turns
those skips into a failed run. The order-service fixtures (catalogue, stocked products, routed
orders) are re-exported for the tests that drive orders.
"""

import os
import shutil

import pytest

from tests.orchestration.conftest import catalogue, routed, stocked  # noqa: F401

CHROMIUM = os.environ.get("OMS_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "pw-12345-long"
VIEWPORT = {"width": 1366, "height": 900}


def _playwright_sync_api():
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.skip(f"{CHROMIUM} is missing (Debian: apt-get install -y chromium)")
    return pytest.importorskip(
        "playwright.sync_api", reason="the playwright Python package is not installed"
    )


@pytest.fixture
def browser(monkeypatch):
    """A headless chromium for the test; skipped, with the reason, when it cannot start."""
    playwright_api = _playwright_sync_api()
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


@pytest.fixture
def make_ops_user(db):
    """Makes the staff user ``ops`` in the Operations group, holding the given permissions.

    A transactional test starts from a flushed database: the migrations' group is gone (the
    permissions are back, post_migrate), so the group gets only what the test's pages need.
    ``permissions`` is a queryset filter on ``Permission`` (``Q``) or a list of codenames.
    """
    from django.contrib.auth.models import Group, Permission, User
    from django.db.models import Q

    from oms.permissions import OPERATIONS_GROUP

    def make(permissions=()):
        group, _ = Group.objects.get_or_create(name=OPERATIONS_GROUP)
        wanted = permissions if isinstance(permissions, Q) else Q(codename__in=list(permissions))
        group.permissions.set(Permission.objects.filter(wanted))
        user = User.objects.create_user("ops", password=PASSWORD, is_staff=True)
        user.groups.add(group)
        return user

    return make


@pytest.fixture
def log_in(live_server):
    """Logs a user in through the admin's login form in a fresh 1366 px context; the page."""

    def log_in(browser, language: str, username: str = "ops", password: str = PASSWORD):
        context = browser.new_context(
            viewport=VIEWPORT, extra_http_headers={"Accept-Language": language}
        )
        page = context.new_page()
        page.goto(f"{live_server.url}/admin/login/")
        page.fill('input[name="username"]', username)
        page.fill('input[name="password"]', password)
        with page.expect_navigation():
            page.click('button[type="submit"]')
        assert "/admin/login/" not in page.url, f"{username} could not log in"
        return page

    return log_in


@pytest.fixture
def shot(tmp_path):
    """Saves a full-page screenshot under the test's tmp_path, and in $OMS_SCREENSHOT_DIR too."""

    def shot(page, name: str) -> None:
        filename = name if name.endswith(".png") else f"{name}.png"
        page.screenshot(path=str(tmp_path / filename), full_page=True)
        shot_dir = os.environ.get("OMS_SCREENSHOT_DIR")
        if shot_dir:
            os.makedirs(shot_dir, exist_ok=True)
            page.screenshot(path=os.path.join(shot_dir, filename), full_page=True)

    return shot
