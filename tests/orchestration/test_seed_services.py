"""``seed_services`` on a small demo: catalogue, plans, one staged breach; a re-run adds nothing."""

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
