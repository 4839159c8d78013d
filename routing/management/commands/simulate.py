"""Replay a scenario file with a routing profile and the policies it is compared with.

Beside the profile: the static chain, the nearest-warehouse rule blind and aware of pauses, the
hindsight batch and, with ``--optimum``, the day's money optimum. ``--plans OUT.jsonl`` writes
one line per order for the policy ``--policy`` names (docs/scenarios.md, "Plans files").
"""

import json as json_module
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from routing.context import engine_profile
from routing.engine.optimum import OptimumOptions
from routing.engine.scenario import scenario_from_dict
from routing.engine.simulate import POLICIES, simulate
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
        parser.add_argument(
            "--optimum",
            action="store_true",
            help="also solve the day's money optimum (whole-day MILP; minutes on large days)",
        )
        parser.add_argument(
            "--optimum-seconds",
            type=float,
            default=600.0,
            help="time limit of the money optimum (default 600)",
        )
        parser.add_argument(
            "--plans", default="", help="write one JSON line per order (the --policy's plans)"
        )
        parser.add_argument(
            "--policy",
            default="optimizer",
            choices=POLICIES,
            help="whose plans --plans writes (default: optimizer, the profile's)",
        )
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")

    def handle(
        self,
        *args,
        scenario,
        profile,
        batch_minutes,
        no_hindsight,
        optimum,
        optimum_seconds,
        plans,
        policy,
        json: bool,
        **options,
    ):
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
            loaded,
            engine_profile(row),
            batch_minutes=batch_minutes,
            hindsight=not no_hindsight,
            optimum=optimum,
            optimum_options=OptimumOptions(time_limit_seconds=optimum_seconds),
            capture_plans=(policy,) if plans else (),
        )
        if plans:
            with Path(plans).open("w", encoding="utf-8") as out:
                for record in report.plans[policy]:
                    out.write(json_module.dumps(record, ensure_ascii=False) + "\n")
        if json:
            self.stdout.write(
                json_module.dumps(report.as_dict(), ensure_ascii=False, indent=2, default=str)
            )
            return
        self.stdout.write(
            f"scenario {report.scenario}: {len(loaded.orders)} orders, {len(loaded.nodes)} warehouses; "
            f"profile {report.profile}"
        )
        self.stdout.write(
            "cost/order and on-time count every order; an unroutable order costs a parcel per "
            "SKU by the dearest route and is late"
        )
        header = (
            f"{'policy':<28}{'routed':>7}{'cost/order':>11}{'on-time':>9}{'split':>8}"
            f"{'to paused':>10}{'seconds':>9}  optimizer is"
        )
        self.stdout.write(header)
        standings = report.standings
        policies = (
            report.optimizer,
            report.baseline,
            *report.comparators,
            report.hindsight,
            report.optimum,
        )
        for metrics in policies:
            if metrics is None:
                continue
            self.stdout.write(
                f"{metrics.policy:<28}{metrics.routed:>7}{metrics.cost_per_order_all:>11.2f}"
                f"{metrics.on_time_all:>9.2%}{metrics.split_rate:>8.2%}"
                f"{metrics.orders_to_paused:>10}{metrics.seconds:>9.1f}  "
                f"{standings.get(metrics.policy, '')}"
            )
        if report.optimum is not None and report.optimum.lower_bound is not None:
            self.stdout.write(
                f"money optimum: {report.optimum.cost_total:.2f} CNY for "
                f"{report.optimum.routed} orders, proven bound {report.optimum.lower_bound:.2f}, "
                f"gap {report.optimum.gap:.3%}"
            )
        if plans:
            self.stdout.write(f"plans of {policy} written to {plans}")
        if report.cost_reduction_vs_baseline is not None:
            self.stdout.write(f"cost vs baseline: {-report.cost_reduction_vs_baseline:+.1%}")
        if report.cost_above_hindsight is not None:
            self.stdout.write(f"cost vs hindsight optimum: {report.cost_above_hindsight:+.1%}")
        busiest = sorted(report.optimizer.node_utilisation.items(), key=lambda kv: -kv[1])[:5]
        self.stdout.write(
            "busiest warehouses: " + ", ".join(f"{code} {share:.0%}" for code, share in busiest)
        )
