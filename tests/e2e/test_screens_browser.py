"""Every main screen staff use, walked in Chromium at 1366 px in English and Chinese, on the demo
data `make run` loads: no page scrolls sideways, and no number shown has more than 2 decimals
(money is shown to the fen). Each admin list of a registered model, the page of one object of
each, the operations boards, the exceptions queue and the routing canvas."""

import os
import re
import shutil
from io import StringIO

import pytest

CHROMIUM = os.environ.get("OMS_CHROMIUM", "/usr/bin/chromium")
DEMO_SEEDS = [
    "seed_demo",
    "seed_routing_demo",
    "seed_channels_demo",
    "seed_groupbuy_demo",
    "seed_services",
]
PASSWORD = "oms-demo-2026"  # the demo's admin login (README)

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

# A number with 3 or more decimals, not part of a dotted run (an IP address, a version "0.91.0",
# a date "2026.12.04") and not inside a word or code ("v1.234", "SKU-1.5").
LONG_DECIMAL = re.compile(r"(?<![\w.])-?\d+\.\d{3,}(?![\w.])")
# JSON as written by a program: an object's quoted key, or a list of quoted strings.
RAW_JSON = re.compile(r'[{,]\s*"[\w ]+"\s*:|\[\s*"[^"\n]*"\s*[,\]]')
# The one page whose purpose is the raw text: a channel's message as it arrived, kept before it
# was parsed (nothing is lost); staff read it to see what the channel really sent.
RAW_BY_DESIGN = "channels.channelinboxmessage #"


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
def demo(db):
    from django.core.management import call_command

    for seed in DEMO_SEEDS:
        call_command(seed, stdout=StringIO(), stderr=StringIO())


def _screens() -> list[tuple[str, str]]:
    """(label, path) of every screen walked: each admin list, one object's page per model, the
    boards, the queue and the canvas."""
    from django.contrib import admin
    from django.urls import NoReverseMatch, reverse

    from routing.models import RoutingProfile

    screens = [
        ("ops dashboard", reverse("orchestration:ops-dashboard")),
        ("ops dashboard 90 days", reverse("orchestration:ops-dashboard") + "?days=90"),
        ("SLA board", reverse("orchestration:sla-board")),
        ("exceptions queue", reverse("orchestration:ops-exceptions")),
        ("admin index", reverse("admin:index")),
    ]
    profile = RoutingProfile.objects.filter(is_default=True).first()
    if profile is not None:
        screens.append(
            ("routing canvas", reverse("admin:routing_routingprofile_canvas", args=[profile.pk]))
        )
    for model in admin.site._registry:
        meta = model._meta
        name = f"{meta.app_label}.{meta.model_name}"
        try:
            screens.append(
                (f"{name} list", reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
            )
        except NoReverseMatch:  # pragma: no cover - every registered admin has a list
            continue
        first = model._default_manager.order_by("-pk").first()
        if first is not None:
            screens.append(
                (
                    f"{name} #{first.pk}",
                    reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk]),
                )
            )
    return screens


def _log_in(browser, live_server, language: str):
    context = browser.new_context(
        viewport={"width": 1366, "height": 900},
        extra_http_headers={"Accept-Language": language},
        locale=language,
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill('input[name="username"]', "admin")
    page.fill('input[name="password"]', PASSWORD)
    with page.expect_navigation():
        page.click('button[type="submit"]')
    return context, page


WALK = """() => {
  const width = window.innerWidth;
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 1 && getComputedStyle(el).position !== 'fixed') {
      let clipped = false;
      for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
        const style = getComputedStyle(up);
        if (/(auto|scroll|hidden|clip)/.test(style.overflowX)) { clipped = true; break; }
      }
      if (!clipped) wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).slice(0, 2).join('.') : '') +
        ' ' + Math.round(box.right));
    }
  }
  return {
    scroll: document.documentElement.scrollWidth,
    width: width,
    wide: wide.slice(0, 3),
    text: document.body.innerText,
    status: document.title,
  };
}"""


def test_no_screen_scrolls_sideways_or_shows_long_decimals_or_json(browser, live_server, demo):
    """One demo, both languages (seeding takes most of the time)."""
    screens = _screens()
    assert len(screens) > 60, len(screens)
    problems = []
    for language in ("en", "zh-hans"):
        problems += _walk(browser, live_server, language, screens)
    assert not problems, "\n".join(problems)


def _walk(browser, live_server, language: str, screens: list[tuple[str, str]]) -> list[str]:
    context, page = _log_in(browser, live_server, language)
    problems = []
    for label, path in screens:
        label = f"[{language}] {label}"
        response = page.goto(f"{live_server.url}{path}")
        if response is None or response.status != 200:
            problems.append(f"{label} {path}: HTTP {response.status if response else '-'}")
            continue
        seen = page.evaluate(WALK)
        if seen["scroll"] > seen["width"]:
            problems.append(
                f"{label} {path}: scrolls sideways ({seen['scroll']} > {seen['width']} px; "
                f"{', '.join(seen['wide'])})"
            )
        decimals = sorted(set(LONG_DECIMAL.findall(seen["text"])))
        if decimals:
            problems.append(f"{label} {path}: long decimals {decimals[:5]}")
        raw = RAW_JSON.search(seen["text"])
        if raw and RAW_BY_DESIGN not in label:
            start = raw.start()
            problems.append(f"{label} {path}: raw JSON {seen['text'][start : start + 60]!r}")
    context.close()
    return problems
