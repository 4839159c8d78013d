"""Demo data for order services; safe to run again (it only fills gaps).

Installs the atom catalogue, the templates (furniture, EV battery, fresh) and pickup points; lays
out services for demo orders of those categories and runs them through the real services; gives
delivered historic orders a finished service history (for the SLA board); stages one EV order
whose factory does not answer, so its battery lock breaches the SLA with a root-cause report;
subscribes the demo merchants' webhooks to a local sink; and prints status-page links.
"""

import random
from datetime import datetime, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from oms.demo import refuse_demo_data_in_production
from oms.links import public_base_url
from oms.models import Merchant, Order, OrderStatus, Shipment, ShipmentStatus
from orchestration.catalogue import catalogue_install
from orchestration.dag import topological_order
from orchestration.models import PARCEL_SCAN, OrderTracking, ServiceStep, SlaAlert, StepStatus
from orchestration.services.parcels import parcel_scan_record
from orchestration.services.plans import plan_instantiate, step_graph
from orchestration.services.sla import sla_check
from orchestration.services.steps import step_complete, step_run, steps_complete_on_delivery

LIVE = [OrderStatus.ROUTED, OrderStatus.RELEASED, OrderStatus.SHIPPED]
# Demo carrier hubs by destination region: where a shipped parcel was scanned last.
HUBS = {
    "east": ("江苏", "南京", "南京转运中心"),
    "north": ("河北", "廊坊", "廊坊转运中心"),
    "south": ("广东", "广州", "广州转运中心"),
    "central": ("湖北", "武汉", "武汉转运中心"),
    "west": ("四川", "成都", "成都转运中心"),
    "northeast": ("辽宁", "沈阳", "沈阳转运中心"),
}
BREACH_MARK = "demo: factory MES outage"


class Command(BaseCommand):
    help = (
        "Install order-service demo data: atoms, templates, plans for demo orders, one SLA breach."
    )

    def add_arguments(self, parser):
        parser.add_argument("--per-category", type=int, default=20)
        parser.add_argument("--seed", type=int, default=5)
        parser.add_argument(
            "--base-url",
            help="address of the links printed (default: OMS_PUBLIC_BASE_URL, else "
            "http://127.0.0.1:8000)",
        )

    def handle(self, *args, per_category: int, seed: int, base_url: str | None, **options):
        refuse_demo_data_in_production()
        if connection.vendor == "sqlite" and not connection.in_atomic_block:
            # Demo data only: thousands of small commits would otherwise wait on fsync each.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=OFF")
        rng = random.Random(seed)
        created = catalogue_install()
        self.stdout.write(f"catalogue: {created}")
        breach = self._breach()
        planned = 0
        for category in ("furniture", "ev", "fresh"):
            planned += self._live(category, per_category)
            planned += self._history(category, per_category * 2, rng)
        alerts = sla_check()
        self.stdout.write(f"planned services for {planned} order(s); {alerts} new SLA alert(s)")
        self.stdout.write(f"carrier scans: {self._scans()}")
        self._links((base_url or public_base_url()).rstrip("/"), breach)

    def _orders(self, category: str, statuses, limit: int):
        """Up to ``limit`` orders of the category with services, counting those planned before."""
        planned = (
            Order.objects.filter(
                status__in=statuses, lines__product__category=category, tracking__isnull=False
            )
            .distinct()
            .count()
        )
        limit = max(limit - planned, 0)
        return list(
            Order.objects.filter(
                status__in=statuses, lines__product__category=category, tracking__isnull=True
            )
            .select_related("channel")
            .distinct()
            .order_by("-created_at")[:limit]
        )

    def _live(self, category: str, limit: int) -> int:
        """Recent orders still on their way: plan, run, and move shipped ones along."""
        count = 0
        for order in self._orders(category, LIVE, limit):
            if plan_instantiate(order=order):
                count += 1
        return count

    def _scans(self) -> int:
        """One carrier scan per shipped demo parcel that has none, at its region's hub."""
        count = 0
        shipments = Shipment.objects.filter(
            status=ShipmentStatus.SHIPPED, order__tracking__isnull=False
        ).select_related("order")
        for shipment in shipments.order_by("pk"):
            if shipment.order.events.filter(kind=PARCEL_SCAN).exists():
                continue
            province, city, hub = HUBS.get(shipment.order.region, HUBS["east"])
            parcel_scan_record(
                shipment=shipment,
                hub=hub,
                province=province,
                city=city,
                scanned_at=(shipment.shipped_at or timezone.now()) + timedelta(hours=6),
                actor="demo carrier",
            )
            count += 1
        return count

    def _history(self, category: str, limit: int, rng: random.Random) -> int:
        """Delivered orders: every step done, with durations around each atom's SLA."""
        count = 0
        for order in self._orders(category, [OrderStatus.DELIVERED], limit):
            start = order.placed_at + timedelta(minutes=rng.randint(5, 90))
            if not plan_instantiate(order=order, now=start):
                continue
            steps_complete_on_delivery(order=order, actor="demo")
            for _round in range(10):  # each completion may start the next step in the DAG
                running = list(ServiceStep.objects.filter(order=order, status=StepStatus.RUNNING))
                if not running:
                    break
                for step in running:
                    step_complete(step=step, actor="demo")
            self._backdate(order, start, rng)
            count += 1
        return count

    def _backdate(self, order: Order, start: datetime, rng: random.Random) -> None:
        graph = step_graph(order.pk)
        steps = {s.key: s for s in ServiceStep.objects.filter(order=order).select_related("atom")}
        finished: dict[str, datetime] = {}
        due: dict[str, datetime] = {}
        now = timezone.now()
        for key in topological_order(graph):
            step = steps[key]
            ready = max((finished[d] for d in graph[key]), default=start)
            due[key] = max((due[d] for d in graph[key]), default=start) + step.atom.sla
            # Mostly on time; about one in eight runs over (a late carrier, a busy installer).
            share = rng.uniform(1.0, 1.6) if rng.random() < 0.12 else rng.uniform(0.1, 0.9)
            end = min(ready + step.atom.sla * share, now - timedelta(minutes=1))
            finished[key] = end
            ServiceStep.objects.filter(pk=step.pk).update(
                ready_at=ready, started_at=ready, finished_at=end, deadline=due[key], eta=end
            )

    @transaction.atomic
    def _breach_plan(self, order: Order):
        """Lay out the plan three hours ago with the factory down, before any step runs."""
        tracking = plan_instantiate(order=order, now=timezone.now() - timedelta(hours=3))
        lock = ServiceStep.objects.get(order=order, key="battery-lock")
        lock.parameters = {**lock.parameters, "outage_attempts": 10_000, "demo": BREACH_MARK}
        lock.save(update_fields=["parameters"])
        return tracking

    def _breach(self) -> OrderTracking | None:
        existing = ServiceStep.objects.filter(parameters__demo=BREACH_MARK).first()
        if existing:
            return OrderTracking.objects.filter(order_id=existing.order_id).first()
        candidates = self._orders("ev", [OrderStatus.ROUTED, OrderStatus.RELEASED], 1)
        if not candidates:
            self.stdout.write("no EV order left to stage the SLA breach on")
            return None
        tracking = self._breach_plan(candidates[0])
        # Run what is ready now, also when this command runs inside an outer transaction
        # (on-commit tasks would then come too late for the SLA check below).
        for step_id in ServiceStep.objects.filter(
            order_id=tracking.order_id, status=StepStatus.READY
        ).values_list("pk", flat=True):
            step_run(step_id=step_id)
        return tracking

    def _links(self, base_url: str, breach: OrderTracking | None) -> None:
        live = (
            OrderTracking.objects.filter(
                revoked_at__isnull=True,
                order__status__in=LIVE,
                order__lines__product__category="furniture",
            )
            .select_related("order")
            .order_by("-order__created_at")
            .first()
        )
        self.stdout.write("")
        if live:
            url = base_url + reverse("orchestration:track", args=[live.token])
            self.stdout.write(f"  Status page (sofa order):  {url}")
        if breach:
            url = base_url + reverse("orchestration:track", args=[breach.token])
            self.stdout.write(f"  Status page (EV, SLA breached): {url}")
        alert = SlaAlert.objects.order_by("-detected_at").first()
        if alert:
            self.stdout.write(f"  SLA breach: {alert.summary}")
            self.stdout.write(
                f"  Root cause: {base_url}/admin/orchestration/slaalert/{alert.pk}/change/"
            )
        self.stdout.write(
            f"  SLA board: {base_url}/ops/sla/   dashboard: {base_url}/ops/dashboard/"
        )
        if settings.OMS_OTP_SENDER.endswith("DevelopmentSender"):
            self.stdout.write("  One-time codes for customer changes are printed in this console.")
        merchants = Merchant.objects.count()
        self.stdout.write(f"  ({merchants} merchants; webhooks: subscribe via POST /api/webhooks/)")
