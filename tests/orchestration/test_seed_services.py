"""``seed_services`` on a small demo: catalogue, plans, one staged breach; a re-run adds nothing."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from oms.models import Order
from orchestration.models import OrderTracking, ServiceAtom, ServiceStep, SlaAlert
from tests.factories import make_order

pytestmark = pytest.mark.django_db


def test_seed_services_is_idempotent_and_stages_one_breach(
    merchant, stocked, django_capture_on_commit_callbacks
):
    ev_orders = [make_order(merchant=merchant, lines=[(stocked["ev"], 1)]) for _ in range(2)]
    assert all(Order.objects.get(pk=o.pk).status == "routed" for o in ev_orders)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_services", stdout=out)
    assert ServiceAtom.objects.count() == 10
    alert = SlaAlert.objects.get()
    assert alert.cause_kind == "external_system" and "factory MES" in alert.cause_label
    assert alert.report["chain"][0]["key"] == "battery-lock"
    assert "/track/" in out.getvalue()
    counts = (OrderTracking.objects.count(), ServiceStep.objects.count())
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_services", stdout=StringIO())
    assert (OrderTracking.objects.count(), ServiceStep.objects.count()) == counts
    assert SlaAlert.objects.count() == 1
    assert alert.deadline < timezone.now() - timedelta(minutes=30)


def test_seed_services_prints_its_links_on_the_public_address(
    merchant, stocked, settings, django_capture_on_commit_callbacks
):
    make_order(merchant=merchant, lines=[(stocked["ev"], 1)])
    make_order(merchant=merchant, lines=[(stocked["furniture"], 1)])
    settings.OMS_PUBLIC_BASE_URL = "http://127.0.0.1:8123"  # as `make run PORT=8123` sets it
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_services", stdout=out)
    printed = out.getvalue()
    links = re.findall(r"https?://\S+", printed)
    assert len(links) == 5  # two status pages, the root cause, the SLA board, the dashboard
    assert all(link.startswith("http://127.0.0.1:8123/") for link in links), printed
    tracking = OrderTracking.objects.get(order__lines__product=stocked["furniture"])
    assert f"http://127.0.0.1:8123/track/{tracking.token}/" in links
    again = StringIO()
    call_command("seed_services", "--base-url", "https://oms.example.com/", stdout=again)
    assert "https://oms.example.com/ops/sla/" in again.getvalue()
