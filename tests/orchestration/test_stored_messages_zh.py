"""Stored messages read Chinese in zh-hans: an order lives through routing, a split, services,
a reschedule, a failed step, an SLA breach, staff actions, a correction, a parcel scan, shipping
and delivery; its admin page, its timeline, its SLA alert, the exceptions queue and the customer's
status page then show no English the product wrote. Names staff or systems typed (merchant,
warehouses, products, SKUs, carriers, templates, references, users) and codes stay as typed.
Rows written before messages had codes keep showing their stored English."""

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.urls import reverse
from django.utils import timezone, translation

from oms.models import InventoryBatch, OrderEvent, OrderStatus
from oms.permissions import OPERATIONS_GROUP
from oms.services.orders import order_deliver, order_note, order_release, order_ship
from oms.stored_text import event_text
from orchestration.models import (
    OrderTracking,
    PickupPoint,
    ServiceStep,
    ServiceTemplate,
    SlaAlert,
    StepStatus,
)
from orchestration.senders import DevelopmentSender
from orchestration.services.exceptions import (
    order_route_again,
    sla_alert_acknowledge,
    sla_alert_assign,
    step_retry,
)
from orchestration.services.interventions import intervention_confirm, intervention_request
from orchestration.services.parcels import parcel_scan_record
from orchestration.services.sla import sla_check
from orchestration.services.steps import step_run
from orchestration.slots import available_slots
from tests.factories import BatchFactory, ProductFactory, WarehouseFactory, make_order

pytestmark = pytest.mark.django_db

# Words staff read as they are in Chinese software too, units, the key that closes the theme's
# search box, and English offered by its own name in a language switch.
ACRONYMS = {"ID", "SKU", "SLA", "API", "ETA", "URL", "OMS", "CNY", "VIP", "Webhook", "min", "h"}
ACRONYMS |= {"esc", "English"}
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z]+")


class _VisibleText(HTMLParser):
    """The text a person sees: no scripts, styles, icon ligatures or attribute values."""

    SKIP = {"script", "style", "template", "noscript", "title"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skipping: list[str] = []

    def handle_starttag(self, tag, attrs):
        classes = dict(attrs).get("class") or ""
        hidden = tag in self.SKIP or "material-symbols" in classes or self._skipping
        if hidden and tag not in ("br", "img", "input", "meta", "link", "hr"):
            self._skipping.append(tag)

    def handle_endtag(self, tag):
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()

    def handle_data(self, data):
        if not self._skipping and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str, *, start: str = "", end: str = "") -> str:
    if start and start in html:
        html = html[html.rindex("<", 0, html.index(start)) :]
    if end and end in html:
        html = html[: html.index(end)]
    parser = _VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)


def english_left(text: str, typed: set[str]) -> set[str]:
    for name in sorted(typed, key=len, reverse=True):
        text = text.replace(name, " ")
    return {word for word in LATIN_WORD.findall(text) if word not in ACRONYMS}


def _typed(orders) -> set[str]:
    """What staff or systems typed and may show as typed on a Chinese page."""
    from routing.models import RoutingProfile

    names = {"ops", "colleague", "test"}  # users, and the actor the test factories write
    names |= set(RoutingProfile.objects.values_list("name", flat=True))
    for order in orders:
        names |= {order.merchant.name, order.merchant.code, order.external_id, order.channel.name}
        names |= {order.channel.code, order.receiver_name}
        for line in order.lines.all():
            names |= {line.name, line.sku}
        for shipment in order.shipments.select_related("warehouse"):
            names |= {shipment.warehouse.name, shipment.warehouse.code}
            names |= {shipment.carrier, shipment.tracking_number}
        for step in ServiceStep.objects.filter(order=order).select_related("atom"):
            names |= {step.reference, step.key, step.atom.code, step.atom.external_system}
            names |= {str(step.parameters.get("carrier", ""))}
            params = (step.result or {}).get("message_params", {})
            names |= {str(params.get("carrier", "")), str(params.get("reference", ""))}
            for previous in (step.result or {}).get("previous", []):
                names.add(previous.get("reference", ""))
    names |= set(ServiceTemplate.objects.values_list("name", flat=True))
    names |= set(PickupPoint.objects.values_list("name", flat=True))
    names |= set(InventoryBatch.objects.values_list("batch_number", flat=True))
    return {name for name in names if name}


@pytest.fixture
def ops(db):
    group, _ = Group.objects.get_or_create(name=OPERATIONS_GROUP)
    group.permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["oms", "orchestration", "routing"],
            codename__startswith="view_",
        )
        | Permission.objects.filter(
            codename__in=["change_order", "change_slaalert", "change_servicestep"]
        )
    )
    user = User.objects.create_user("ops", password="pw-12345-long", is_staff=True)
    user.groups.add(group)
    User.objects.create_user("colleague", is_staff=True)
    return user


@pytest.fixture
def lived(merchant, stocked, catalogue, ops, django_capture_on_commit_callbacks):
    """A furniture order split over two warehouses, through its services and trouble, shipped
    and delivered; and a second order that routing could not place, routed again by staff."""
    lamp = ProductFactory(merchant=merchant, category="furniture", name="Floor lamp")
    far = WarehouseFactory(merchant=merchant, name="苏州仓", province="江苏", city="苏州")
    BatchFactory(warehouse=far, product=lamp, on_hand=20)
    order = make_order(merchant=merchant, lines=[(stocked["furniture"], 1), (lamp, 1)])
    order.refresh_from_db()
    assert order.status == OrderStatus.ROUTED and order.shipments.count() == 2  # split

    # The customer moves the delivery to another slot.
    tracking = OrderTracking.objects.get(order=order)
    delivery = ServiceStep.objects.get(order=order, key="delivery")
    slot = available_slots(params=delivery.parameters)[3]
    with django_capture_on_commit_callbacks(execute=True):
        request = intervention_request(
            tracking=tracking, step=delivery, kind="reschedule", value=slot.value
        )
    with django_capture_on_commit_callbacks(execute=True):
        intervention_confirm(request=request, code=DevelopmentSender.outbox[-1].code)

    # The installation booking fails twice against its system, then for good.
    installation = ServiceStep.objects.get(order=order, key="installation")
    ServiceStep.objects.filter(pk=installation.pk).update(
        status=StepStatus.READY,
        parameters={**installation.parameters, "outage_attempts": 9},
        attempts=0,
        max_attempts=2,
        next_attempt_at=None,
    )
    step_run(step_id=installation.pk)
    ServiceStep.objects.filter(pk=installation.pk).update(next_attempt_at=None)
    step_run(step_id=installation.pk)
    assert ServiceStep.objects.get(pk=installation.pk).status == StepStatus.FAILED

    # A step past its deadline becomes an SLA alert; staff acknowledge, assign and retry.
    ServiceStep.objects.filter(pk=installation.pk).update(
        status=StepStatus.READY, deadline=timezone.now() - timedelta(minutes=90)
    )
    assert sla_check() == 1
    alert = SlaAlert.objects.get(order=order)
    sla_alert_acknowledge(alert=alert, user=ops)
    sla_alert_assign(alert=alert, assignee=User.objects.get(username="colleague"), user=ops)
    ServiceStep.objects.filter(pk=installation.pk).update(status=StepStatus.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        step_retry(step=ServiceStep.objects.get(pk=installation.pk), user=ops)

    # Staff correct the shipping fee; the parcels leave, are scanned and delivered.
    from oms.services.order_edits import order_edit

    order_edit(order=order, actor="user:ops", changes={"shipping_fee": order.shipping_fee + 5})
    with django_capture_on_commit_callbacks(execute=True):
        order_release(order=order, actor="user:ops")
        order_ship(
            order=order,
            actor="user:ops",
            tracking_numbers={s.warehouse_id: f"SF{s.pk:08d}" for s in order.shipments.all()},
            carriers={s.warehouse_id: "顺丰速运" for s in order.shipments.all()},
        )
    parcel_scan_record(shipment=order.shipments.first(), hub="杭州转运中心", province="浙江")
    with django_capture_on_commit_callbacks(execute=True):
        order_deliver(order=order, actor="user:ops")

    # An order routing cannot place; stock arrives and staff route it again.
    stuck = make_order(merchant=merchant, lines=[(stocked["other"], 150)])
    stuck.refresh_from_db()
    assert stuck.status == OrderStatus.NEEDS_ATTENTION
    with django_capture_on_commit_callbacks(execute=True):
        order_route_again(order=stuck, user=ops)
    order.refresh_from_db()
    return order, stuck, alert


def _get(client, url: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200, url
    return response.content.decode()


def test_an_orders_admin_page_timeline_alert_and_status_page_read_chinese(client, ops, lived):
    order, stuck, alert = lived
    client.force_login(ops)
    typed = _typed([order, stuck])
    kinds = set(order.events.values_list("kind", flat=True))
    assert {"services_planned", "service_step", "customer_intervention"} <= kinds
    assert {"sla_breached", "exception", "edited", "parcel_scan", "status"} <= kinds

    pages = {
        "order page": visible_text(
            _get(client, reverse("admin:oms_order_change", args=[order.pk])),
            start='id="content"',
        ),
        "stuck order page": visible_text(
            _get(client, reverse("admin:oms_order_change", args=[stuck.pk])),
            start='id="content"',
        ),
        "timeline list": visible_text(
            _get(
                client, reverse("admin:oms_orderevent_changelist") + f"?order__id__exact={order.pk}"
            ),
            start='id="content"',
        ),
        "alert page": visible_text(
            _get(client, reverse("admin:orchestration_slaalert_change", args=[alert.pk])),
            start='id="content"',
        ),
        "exceptions queue": visible_text(
            _get(client, reverse("orchestration:ops-exceptions")), start='id="content"'
        ),
        "status page": visible_text(
            _get(
                client,
                reverse("orchestration:track", args=[OrderTracking.objects.get(order=order).token]),
            )
        ),
    }
    # The pages do show the stored messages (in Chinese): the test would pass on empty pages.
    assert "客户将" in pages["order page"]  # the reschedule
    assert "重试" in pages["order page"]  # the step's retries
    assert "已确认" in pages["alert page"] or "确认" in pages["order page"]
    leaked = {name: english_left(text, typed) for name, text in pages.items()}
    assert not {name: words for name, words in leaked.items() if words}, {
        name: [line for line in pages[name].splitlines() if english_left(line, typed)]
        for name, words in leaked.items()
        if words
    }


def test_every_timeline_entry_of_the_order_is_said_in_chinese(lived):
    order, stuck, _alert = lived
    typed = _typed([order, stuck])
    with translation.override("zh-hans"):
        said = {
            event.pk: event_text(event, tz=order.merchant.tzinfo)
            for event in OrderEvent.objects.filter(order__in=[order, stuck])
        }
    english = {pk: english_left(text, typed) for pk, text in said.items()}
    assert not {pk: words for pk, words in english.items() if words}, {
        pk: said[pk] for pk, words in english.items() if words
    }
    coded = OrderEvent.objects.filter(order__in=[order, stuck], data__has_key="text").count()
    assert coded == len(said)  # every entry the life wrote carries its code


def test_an_entry_written_before_codes_shows_its_stored_english(routed, client, ops):
    order = routed("furniture")
    old = order_note(order=order, actor="orchestration", kind="service_step", message="legacy")
    OrderEvent.objects.filter(pk=old.pk).update(message="Home delivery done: old words")
    old.refresh_from_db()
    with translation.override("zh-hans"):
        assert event_text(old) == "Home delivery done: old words"
    # A code nobody registers any more falls back the same way.
    OrderEvent.objects.filter(pk=old.pk).update(data={"text": {"code": "gone", "params": {}}})
    old.refresh_from_db()
    with translation.override("zh-hans"):
        assert event_text(old) == "Home delivery done: old words"
