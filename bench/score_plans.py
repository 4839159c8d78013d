"""Score and audit a plans file against its scenario, sharing no code with the router.

Run: .venv/bin/python bench/score_plans.py SCENARIO.json PLANS.jsonl [--json]

Reads the scenario (docs/scenarios.md) and the plans that ``manage.py simulate --plans`` wrote
(one JSON object per order, same document) with nothing but ``json``, ``zlib`` and arithmetic,
and recomputes what the simulator reports: money cost (parcel price + handling per shipment +
handling per unit), cost per routed order and per order of the day (an unroutable order counts
a parcel per SKU by the dearest route: per SKU, the highest price + handling over the
warehouses that ship to its region, summed), splits, unroutable orders, orders sent to a warehouse while it was
paused, and on-time (planned transit + the documented delays within the promise, and the
CRC32 draw under the warehouse's on-time rate).

It then audits every plan; each finding is a violation of one of these kinds:

- ``lines``: the shipped units per SKU differ from the order's (over- or under-shipped);
- ``stock``: a line's batches do not add up to its quantity, a batch is not in the warehouse's
  stock list, holds another SKU, is below the minimum shelf life (ambient 30 d, chilled 2 d,
  frozen 14 d), or is drawn beyond its quantity over the day;
- ``cold_chain``: a chilled or frozen SKU shipped from a warehouse without cold chain;
- ``region``: a warehouse that does not ship to the order's region;
- ``units_cap`` / ``parcels_cap``: a warehouse shipped more units (``daily_capacity_units``)
  or parcels (``daily_capacity_orders``) than its daily capacity;
- ``cost``: a declared cost that differs from the recomputed one by more than 0.01 CNY;
- ``orders``: an order of the scenario with no plan, a plan for an unknown order, or two plans
  for one order.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import zlib
from pathlib import Path

MIN_SHELF_LIFE_DAYS = {"ambient": 30.0, "chilled": 2.0, "frozen": 14.0}
WEATHER_DELAY_HOURS = {2: 1.0, 3: 4.0, 4: 10.0}
CARRIER_CAP_DELAY_HOURS = 5.0


def _active(disruption: dict, hour: float) -> bool:
    end = disruption.get("end_hour")
    return disruption["start_hour"] <= hour and (end is None or hour < end)


def _shipment_cost(warehouse: dict, region: str, units: int) -> float:
    return (
        warehouse["shipping_cost_by_region"][region]
        + warehouse.get("handling_cost_per_shipment", 0)
        + warehouse.get("handling_cost_per_unit", 0) * units
    )


def _unrouted_cost(warehouses: list[dict], order: dict) -> float:
    units: dict[str, int] = {}
    for line in order["lines"]:
        units[line["sku"]] = units.get(line["sku"], 0) + line["quantity"]
    region = order["region"]
    serving = [
        w
        for w in warehouses
        if region in w["shipping_cost_by_region"] and region in w["transit_hours_by_region"]
    ]
    total = 0.0
    for quantity in units.values():
        if serving:
            total += max(_shipment_cost(w, region, quantity) for w in serving)
        else:
            total += max(
                max(w["shipping_cost_by_region"].values(), default=0.0)
                + w.get("handling_cost_per_shipment", 0)
                + w.get("handling_cost_per_unit", 0) * quantity
                for w in warehouses
            )
    return total


def _delay(scenario: dict, warehouse: dict, order: dict, hour: float) -> tuple[float, bool]:
    """Hours of delay on this route at ``hour``, and whether the warehouse was paused."""
    delay, paused = 0.0, False
    for d in scenario.get("disruptions", []):
        if not _active(d, hour):
            continue
        kind = d["kind"]
        if kind == "node_paused" and d.get("node") == warehouse["code"]:
            delay += scenario.get("fault_delay_hours", 19.6)
            paused = True
        elif kind == "weather" and d.get("region") in (warehouse["region"], order["region"]):
            delay += WEATHER_DELAY_HOURS.get(d.get("level", 0), 0.0)
        elif (
            kind == "carrier_cap"
            and d.get("region") == warehouse["region"]
            and d.get("saturation", 0.0) >= 0.9
        ):
            delay += CARRIER_CAP_DELAY_HOURS
    return delay, paused


class _Tally:
    """What the plans add up to, and every way they break the scenario's rules."""

    def __init__(self, scenario: dict) -> None:
        self.scenario = scenario
        self.warehouses = {w["code"]: w for w in scenario["warehouses"]}
        self.temperature = {s["sku"]: s.get("temperature", "ambient") for s in scenario["skus"]}
        self.orders = {o["order_id"]: o for o in scenario["orders"]}
        self.seed = scenario.get("seed", 0)
        self.violations: list[dict] = []
        self.drawn: dict[tuple[str, int], int] = {}
        self.units_out = dict.fromkeys(self.warehouses, 0)
        self.parcels_out = dict.fromkeys(self.warehouses, 0)
        self.seen: set[str] = set()
        self.routed = self.unroutable = self.splits = self.on_time = self.to_paused = 0
        self.cost_total = self.unrouted_total = 0.0

    def flag(self, kind: str, order_id: str | None, detail: str) -> None:
        self.violations.append({"kind": kind, "order_id": order_id, "detail": detail})

    def plan(self, plan: dict) -> None:
        order_id = plan["order_id"]
        order = self.orders.get(order_id)
        if order is None:
            self.flag("orders", order_id, "plan for an order not in the scenario")
            return
        if order_id in self.seen:
            self.flag("orders", order_id, "two plans for one order")
            return
        self.seen.add(order_id)
        if plan["status"] != "routed":
            self.unroutable += 1
            self.unrouted_total += _unrouted_cost(self.scenario["warehouses"], order)
            return
        self.routed += 1
        hour = float(plan["hour"])
        shipments = plan["shipments"]
        self.splits += len(shipments) > 1
        wanted: dict[str, int] = {}
        for line in order["lines"]:
            wanted[line["sku"]] = wanted.get(line["sku"], 0) + line["quantity"]
        shipped: dict[str, int] = {}
        order_cost, order_on_time, order_paused = 0.0, True, False
        for shipment in shipments:
            outcome = self.shipment(order, shipment, hour, shipped)
            if outcome is None:
                order_on_time = False
                continue
            cost, on_time, paused = outcome
            order_cost += cost
            order_on_time = order_on_time and on_time
            order_paused = order_paused or paused
        if shipped != wanted:
            self.flag("lines", order_id, f"shipped {shipped}, ordered {wanted}")
        self.cost_total += order_cost
        self.on_time += order_on_time
        self.to_paused += order_paused

    def shipment(
        self, order: dict, shipment: dict, hour: float, shipped: dict[str, int]
    ) -> tuple[float, bool, bool] | None:
        """(cost, on time, from a paused warehouse), or None when it cannot ship at all."""
        order_id, region = order["order_id"], order["region"]
        code = shipment["warehouse"]
        warehouse = self.warehouses.get(code)
        if warehouse is None:
            self.flag("region", order_id, f"unknown warehouse {code}")
            return None
        if (
            region not in warehouse["shipping_cost_by_region"]
            or region not in warehouse["transit_hours_by_region"]
        ):
            self.flag("region", order_id, f"{code} does not ship to {region}")
            return None
        units = 0
        for line in shipment["lines"]:
            units += line["quantity"]
            shipped[line["sku"]] = shipped.get(line["sku"], 0) + line["quantity"]
            self.line(order_id, code, warehouse, line)
        self.units_out[code] += units
        self.parcels_out[code] += 1
        cost = _shipment_cost(warehouse, region, units)
        declared = shipment.get("cost")
        if declared is not None and abs(declared - cost) > 0.01:
            self.flag("cost", order_id, f"{code} declared {declared}, recomputed {cost:.4f}")
        delay, paused = _delay(self.scenario, warehouse, order, hour)
        actual = warehouse["transit_hours_by_region"][region] + delay
        draw = zlib.crc32(f"{self.seed}:{order_id}:{code}".encode()) / 2**32
        on_time = actual <= order["promised_hours"] and draw < warehouse.get("on_time_rate", 0.97)
        return cost, on_time, paused

    def line(self, order_id: str, code: str, warehouse: dict, line: dict) -> None:
        sku, quantity = line["sku"], line["quantity"]
        temp = self.temperature.get(sku, "ambient")
        if temp != "ambient" and not warehouse.get("cold_chain", False):
            self.flag("cold_chain", order_id, f"{temp} {sku} from {code}")
        from_batches = 0
        stock = warehouse.get("stock", [])
        for taken in line.get("batches", []):
            position = taken["batch"]
            if not 0 <= position < len(stock):
                self.flag("stock", order_id, f"{code} has no batch {position}")
                continue
            batch = stock[position]
            if batch["sku"] != sku:
                self.flag("stock", order_id, f"{code} batch {position} holds {batch['sku']}")
            expiry = batch.get("expires_in_days")
            if expiry is not None and expiry < MIN_SHELF_LIFE_DAYS[temp]:
                self.flag("stock", order_id, f"{code} batch {position} expires in {expiry} d")
            from_batches += taken["quantity"]
            key = (code, position)
            self.drawn[key] = self.drawn.get(key, 0) + taken["quantity"]
        if from_batches != quantity:
            self.flag(
                "stock",
                order_id,
                f"{quantity} x {sku} from {code} but its batches give {from_batches}",
            )

    def day(self) -> None:
        """What only the whole day shows: orders without a plan, batches and caps overdrawn."""
        for order_id in self.orders:
            if order_id not in self.seen:
                self.flag("orders", order_id, "no plan")
        for (code, position), units in self.drawn.items():
            quantity = self.warehouses[code]["stock"][position]["quantity"]
            if units > quantity:
                self.flag("stock", None, f"{code} batch {position}: {units} drawn of {quantity}")
        for code, warehouse in self.warehouses.items():
            cap = warehouse.get("daily_capacity_units")
            if cap is not None and self.units_out[code] > cap:
                self.flag(
                    "units_cap", None, f"{code} shipped {self.units_out[code]} units, cap {cap}"
                )
            parcels = warehouse.get("daily_capacity_orders")
            if parcels is not None and self.parcels_out[code] > parcels:
                self.flag(
                    "parcels_cap",
                    None,
                    f"{code} shipped {self.parcels_out[code]} parcels, cap {parcels}",
                )


def score(scenario: dict, plans: list[dict]) -> dict:
    """Recompute the figures and audit the plans (see the module docstring)."""
    tally = _Tally(scenario)
    for plan in plans:
        tally.plan(plan)
    tally.day()
    violations, routed, n_orders = tally.violations, tally.routed, len(tally.orders)
    by_kind: dict[str, int] = {}
    for violation in violations:
        by_kind[violation["kind"]] = by_kind.get(violation["kind"], 0) + 1
    cost_total, on_time, splits = tally.cost_total, tally.on_time, tally.splits
    return {
        "orders": n_orders,
        "routed": routed,
        "unroutable": tally.unroutable,
        "cost_total": round(cost_total, 2),
        "cost_per_order": cost_total / routed if routed else math.nan,
        "cost_per_order_all": (cost_total + tally.unrouted_total) / n_orders
        if n_orders
        else math.nan,
        "on_time": on_time,
        "on_time_rate": on_time / routed if routed else math.nan,
        "on_time_all": on_time / n_orders if n_orders else math.nan,
        "splits": splits,
        "split_rate": splits / routed if routed else math.nan,
        "orders_to_paused": tally.to_paused,
        "violations": len(violations),
        "violations_by_kind": by_kind,
        "violation_examples": violations[:20],
    }


def read_plans(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", type=Path)
    parser.add_argument("plans", type=Path)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    scenario = json.loads(args.scenario.read_text(encoding="utf-8"))
    figures = score(scenario, read_plans(args.plans))
    if args.json:
        print(json.dumps(figures, indent=2, ensure_ascii=False))
    else:
        print(
            f"{figures['orders']} orders, {figures['routed']} routed, "
            f"{figures['unroutable']} unroutable; cost/order {figures['cost_per_order']:.3f} "
            f"(all orders {figures['cost_per_order_all']:.3f}); on time "
            f"{figures['on_time_rate']:.2%} (all orders {figures['on_time_all']:.2%}); splits "
            f"{figures['split_rate']:.2%}; to paused {figures['orders_to_paused']}; "
            f"violations {figures['violations']} {figures['violations_by_kind']}"
        )
        for violation in figures["violation_examples"]:
            print(f"  {violation['kind']}: {violation['order_id']}: {violation['detail']}")
    return 1 if figures["violations"] else 0


if __name__ == "__main__":
    sys.exit(main())
