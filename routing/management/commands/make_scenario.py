"""Write a generated peak-day scenario (format: docs/scenarios.md) to a JSON file."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from routing.engine.carrier_world import with_carriers
from routing.engine.scenario import generate, scenario_to_dict


class Command(BaseCommand):
    help = "Generate a routing scenario: warehouses, stock, a day of demand and disruptions."

    def add_arguments(self, parser):
        parser.add_argument("--warehouses", type=int, default=30)
        parser.add_argument("--orders", type=int, default=10_000)
        parser.add_argument(
            "--fault",
            default="auto",
            help="code of the warehouse whose cold chain fails mid-day; 'auto' or 'none'",
        )
        parser.add_argument("--fault-hour", type=float, default=11.0)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--carriers",
            action="store_true",
            help="add five carrier services per warehouse, provinces, parcel weights and a "
            "provincial storm (routing.engine.carrier_world)",
        )
        parser.add_argument("--out", default="-", help="file to write; '-' for standard output")

    def handle(self, *args, warehouses, orders, fault, fault_hour, seed, carriers, out, **options):
        try:
            scenario = generate(
                seed=seed,
                warehouses=warehouses,
                orders=orders,
                fault=None if fault == "none" else fault,
                fault_hour=fault_hour,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if carriers:
            scenario = with_carriers(scenario)
        text = json.dumps(scenario_to_dict(scenario), ensure_ascii=False)
        if out == "-":
            self.stdout.write(text)
        else:
            Path(out).write_text(text, encoding="utf-8")
            self.stderr.write(
                f"wrote {out}: {len(scenario.nodes)} warehouses, {len(scenario.orders)} orders"
            )
