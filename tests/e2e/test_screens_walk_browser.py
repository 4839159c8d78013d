"""Walks the console on the demo data at 1366 px, in English and Chinese, as staff would.

Every admin list of the registered models, the change page of one row of each (the order
workspace, a routing profile, a decision, a warehouse ... among them), the ``/ops/`` pages and the
routing canvas. On each: nothing scrolls sideways (neither the page nor a table in its own
box), no number shown to staff carries more than two decimals, no stored detail is shown as
JSON, and, in Chinese, no column head, field label or button is left in English.
"""

import re
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

LANGUAGES = ("en", "zh-hans")
VIEWPORT_WIDTH = 1366

# The models whose change page the acceptance names: the walk fails if the demo has no row.
MAIN_MODELS = (
    "oms.order",
    "oms.warehouse",
    "oms.product",
    "routing.routingprofile",
    "routing.routingdecision",
    "routing.carrier",
    "routing.carrierservice",
    "routing.carrierrate",
    "routing.lane",
    "customers.customer",
    "orchestration.servicetemplate",
    "orchestration.slaalert",
    "channels.channelorder",
)

# A number with three or more decimals. Not matched, on purpose and nothing else: digits inside
# a word or code ("SKU-1.250", a token), after a colon (a clock time "12:30:05.123") and
# dotted sequences (a version "0.91.0", an address "10.0.0.1").
LONG_DECIMAL = re.compile(r"(?<![\w.:-])\d+\.\d{3,}(?![\d.]|\.\d)")

# JSON as a program writes it: an object's quoted key, or a list of quoted strings. Stored
# details are shown as words (``oms.adminkit.details_html``), match reasons as sentences.
RAW_JSON = re.compile(r'[{,]\s*"[\w ]+"\s*:|\[\s*"[^"\n]*"\s*[,\]]')
# The one page whose purpose is the raw text: a channel's message as it arrived, kept before it
# was parsed so nothing is lost; staff read it to see what the channel really sent.
RAW_BY_DESIGN = "/admin/channels/channelinboxmessage/"

# Inputs whose value is a place, not a measure: a warehouse's or pickup point's coordinates
# keep the precision that locates them (three decimals is about 100 m).
COORDINATE_INPUTS = ("latitude", "longitude")

CHECK_PAGE = """(coordinateInputs) => {
  const width = window.innerWidth;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (typeof el.className === 'string' && el.className.trim()
        ? '.' + el.className.trim().split(/\\s+/).slice(0, 2).join('.') : '');
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 1) wide.push(name(el) + ' ends at ' + Math.round(box.right));
    // A table scrolling sideways in its own box hides columns just as a wide page does.
    if (['auto', 'scroll'].includes(style.overflowX) && el.tagName !== 'TEXTAREA'
        && el.scrollWidth > el.clientWidth + 1)
      wide.push(name(el) + ' scrolls ' + el.scrollWidth + ' > ' + el.clientWidth);
  }
  const values = [...document.querySelectorAll('input:not([type=hidden]):not([type=checkbox])')]
    .filter((input) => input.offsetParent !== null)
    .filter((input) => !coordinateInputs.some((field) => (input.name || '').endsWith(field)))
    .map((input) => input.value);
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: width,
    wide: wide.slice(0, 5),
    text: document.body.innerText + '\\n' + values.join('\\n'),
  };
}"""

# Column heads, field labels and buttons: the product's words, not data staff typed (object
# names in titles and links stay as typed). Icons are ligatures ("call_split"): not words.
PRODUCT_WORDS = """() => [...document.querySelectorAll('thead th, label, button, legend')]
  .filter((el) => el.offsetParent !== null && !el.closest('[lang="en"]'))
  .map((el) => {
    const copy = el.cloneNode(true);
    copy.querySelectorAll('.material-symbols-outlined, [lang="en"]').forEach((e) => e.remove());
    return copy.textContent.replace(/\\s+/g, ' ').trim();
  }).filter(Boolean)"""


def _demo_seeds() -> list[str]:
    """The seed commands ``make demo`` runs, in its order (Makefile ``DEMO_SEEDS``)."""
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    line = re.search(r"^DEMO_SEEDS\s*:=\s*(.+)$", makefile, re.M)
    assert line, "the Makefile lists the demo seeds in DEMO_SEEDS"
    return line.group(1).split()


@pytest.fixture
def demo(live_server):
    """The demo data ``make run`` loads, with its users ``admin`` and ``ops``."""
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from oms.permissions import OPERATIONS_GROUP
    from routing.models import RoutingProfile

    # What the migrations put in and the seeds build on: after an earlier transactional test
    # the database was flushed (content types and permissions come back, these rows do not).
    Group.objects.get_or_create(name=OPERATIONS_GROUP)
    if not RoutingProfile.objects.filter(is_default=True).exists():
        RoutingProfile.objects.create(name="Balanced (default)", is_default=True)
    for seed in _demo_seeds():
        call_command(seed, verbosity=0)


def _pages() -> list[str]:
    """Every list of the registered models, one row's change page each, the ops pages."""
    from django.contrib import admin
    from django.urls import reverse

    from oms.models import Order
    from routing.models import RoutingDecision, RoutingProfile

    pages, missing = [], []
    for model in sorted(admin.site._registry, key=lambda m: m._meta.label_lower):
        opts = model._meta
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        row = model._default_manager.order_by("-pk").first()
        if row is not None:
            pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk]))
        elif opts.label_lower in MAIN_MODELS:
            missing.append(opts.label_lower)
    assert not missing, f"the demo data has no {missing}"
    # The order workspace of an order that was routed, and of one that needs attention.
    routed = RoutingDecision.objects.order_by("pk").first().order_id
    pages.append(reverse("admin:oms_order_change", args=[routed]))
    stuck = Order.objects.filter(status="needs_attention").order_by("pk").first()
    if stuck is not None:
        pages.append(reverse("admin:oms_order_change", args=[stuck.pk]))
    pages += ["/ops/dashboard/", "/ops/dashboard/?days=30", "/ops/sla/", "/ops/exceptions/"]
    profile = RoutingProfile.objects.filter(is_default=True).order_by("pk").first()
    pages.append(reverse("admin:routing_routingprofile_canvas", args=[profile.pk]))
    return pages


# Names of a protocol's header and of a hash algorithm are written as their standards have them.
NAMES_AS_WRITTEN = ("HTTP Accept", "SHA-256")


def _typed_names() -> list[str]:
    """Names staff typed (warehouses, carriers, merchants, profiles ...): they stay as typed."""
    from oms.models import Merchant, Product, SalesChannel, Warehouse
    from orchestration.models import PickupPoint
    from routing.models import Carrier, CarrierService, RoutingProfile

    names: set[str] = set(NAMES_AS_WRITTEN)
    for model in (
        Merchant,
        Product,
        SalesChannel,
        Warehouse,
        PickupPoint,
        Carrier,
        CarrierService,
        RoutingProfile,
    ):
        names |= set(model.objects.values_list("name", flat=True))
    names |= set(Warehouse.objects.values_list("code", flat=True))
    return sorted((name for name in names if name), key=len, reverse=True)


def _english_words(labels: list[str], typed: list[str]) -> set[str]:
    from tests.oms.test_admin_zh_headers import _latin_words

    words: set[str] = set()
    for label in labels:
        for name in typed:
            label = label.replace(name, " ")
        words |= _latin_words(label)
    return words


def test_no_console_page_scrolls_sideways_or_shows_long_decimals_or_json(
    live_server, browser, log_in, shot, demo
):
    from django.contrib.auth import get_user_model

    from oms.management.commands.seed_demo import DEMO_PASSWORD

    assert get_user_model().objects.filter(username="admin", is_staff=True).exists()
    pages = _pages()
    typed = _typed_names()
    problems: list[str] = []
    for language in LANGUAGES:
        # The superuser: every list shows every column and action (the ops user sees a subset).
        page = log_in(browser, language, username="admin", password=DEMO_PASSWORD)
        for path in pages:
            response = page.goto(f"{live_server.url}{path}")
            where = f"{language} {path}"
            if response is None or response.status != 200:
                problems.append(f"{where}: HTTP {response and response.status}")
                continue
            if "/canvas/" in path:  # the what-if table fills in once the replay has run
                page.wait_for_selector('#canvas-status[data-state="ready"]', timeout=30_000)
            seen = page.evaluate(CHECK_PAGE, list(COORDINATE_INPUTS))
            if seen["innerWidth"] != VIEWPORT_WIDTH:
                problems.append(f"{where}: the window is {seen['innerWidth']} px wide")
            if seen["scrollWidth"] > seen["innerWidth"] or seen["wide"]:
                problems.append(f"{where}: {seen['scrollWidth']} px wide; {seen['wide']}")
                shot(page, f"wide-{language}-{path.strip('/').replace('/', '-')}")
            decimals = sorted(set(LONG_DECIMAL.findall(seen["text"])))
            if decimals:
                problems.append(f"{where}: more than 2 decimals in {decimals[:5]}")
            raw = RAW_JSON.search(seen["text"])
            if raw and not (path.startswith(RAW_BY_DESIGN) and path.endswith("/change/")):
                problems.append(
                    f"{where}: raw JSON {seen['text'][raw.start() : raw.start() + 60]!r}"
                )
            if language != "en":
                english = _english_words(page.evaluate(PRODUCT_WORDS), typed)
                if english:
                    problems.append(f"{where}: English left in {sorted(english)[:8]}")
        for path in ("/ops/dashboard/", "/admin/oms/order/"):
            page.goto(f"{live_server.url}{path}")
            shot(page, f"walk-{language}-{path.strip('/').replace('/', '-')}")
        page.context.close()
    assert not problems, "\n".join(problems)
