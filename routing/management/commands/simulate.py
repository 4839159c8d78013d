"""Replay a scenario file with a routing profile, the static baseline and the hindsight optimum."""

import json as json_module
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from routing.context import engine_profile
from routing.engine.scenario import scenario_from_dict
from routing.engine.simulate import simulate
from routing.models import RoutingProfile


class Command(BaseCommand):
    help = "What-if: replay SCENARIO.json (docs/scenarios.md) and compare policies."

    def add_arguments(self, parser):
        parser.add_argument(
            "scenario", help="a scenario JSON file (manage.py make_scenario writes one)"
        )
        parser.add_argument(
            "--profile", default="", help="name of a routing profile; default: the default one"
        )
        parser.add_argument("--batch-minutes", type=float, default=5.0)
        parser.add_argument(
            "--no-hindsight", action="store_true", help="skip the hindsight optimum"
        )
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")

    def handle(self, *args, scenario, profile, batch_minutes, no_hindsight, json: bool, **options):
        path = Path(scenario)
        if not path.exists():
            raise CommandError(f"no such file: {scenario}")
        try:
            loaded = scenario_from_dict(json_module.loads(path.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError) as exc:
            raise CommandError(f"{scenario} is not a valid scenario: {exc}") from exc
        if profile:
            row = RoutingProfile.objects.filter(name=profile).prefetch_related("rules").first()
            if row is None:
                names = ", ".join(RoutingProfile.objects.values_list("name", flat=True))
                raise CommandError(f"no routing profile {profile!r} (there are: {names})")
        else:
            row = RoutingProfile.objects.filter(is_default=True).prefetch_related("rules").first()
        report = simulate(
            loaded, engine_profile(row), batch_minutes=batch_minutes, hindsight=not no_hindsight
        )
        if json:
            self.stdout.write(
                json_module.dumps(report.as_dict(), ensure_ascii=False, indent=2, default=str)
            )
            return
        self.stdout.write(
            f"scenario {report.scenario}: {len(loaded.orders)} orders, {len(loaded.nodes)} warehouses; "
            f"profile {report.profile}"
        )
        header = f"{'policy':<36}{'cost/order':>11}{'on-time':>9}{'split':>8}{'to paused':>10}{'unroutable':>11}{'seconds':>9}"
        self.stdout.write(header)
        for metrics in (report.optimizer, report.baseline, report.hindsight):
            if metrics is None:
                continue
            self.stdout.write(
                f"{metrics.policy:<36}{metrics.cost_per_order:>11.2f}{metrics.on_time_rate:>9.2%}"
                f"{metrics.split_rate:>8.2%}{metrics.orders_to_paused:>10}{metrics.unroutable:>11}{metrics.seconds:>9.1f}"
            )
        if report.cost_reduction_vs_baseline is not None:
            self.stdout.write(f"cost vs baseline: {-report.cost_reduction_vs_baseline:+.1%}")
        if report.cost_above_hindsight is not None:
            self.stdout.write(f"cost vs hindsight optimum: {report.cost_above_hindsight:+.1%}")
        busiest = sorted(report.optimizer.node_utilisation.items(), key=lambda kv: -kv[1])[:5]
        self.stdout.write(
            "busiest warehouses: " + ", ".join(f"{code} {share:.0%}" for code, share in busiest)
        )
