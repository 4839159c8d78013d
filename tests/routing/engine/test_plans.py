"""Plans files: one line per order naming the batches taken, and an independent scorer agreeing."""

from __future__ import annotations

import copy
import json

import pytest

from bench.score_plans import score
from routing.engine.scenario import generate, scenario_to_dict
from routing.engine.simulate import simulate

POLICIES = ("optimizer", "nearest", "nearest-aware", "baseline")


@pytest.fixture(scope="module")
def replay():
    scenario = generate(seed=4, warehouses=12, orders=300)
    report = simulate(
        scenario,
        batch_minutes=15,
        hindsight=False,
        comparators=False,
        capture_plans=POLICIES,
    )
    # Round-trip through JSON: the scorer sees what a file would hold.
    document = json.loads(json.dumps(scenario_to_dict(scenario)))
    plans = {name: json.loads(json.dumps(report.plans[name])) for name in POLICIES}
    return document, report, plans


def metrics_of(report, name: str):
    if name == "optimizer":
        return report.optimizer
    if name == "baseline":
        return report.baseline
    label = {"nearest": "nearest", "nearest-aware": "nearest+pause"}[name]
    return next(m for m in report.comparators if m.policy == label)


def test_each_order_has_one_line_with_its_shipments_and_batches(replay) -> None:
    document, _, plans = replay
    stock = {w["code"]: w["stock"] for w in document["warehouses"]}
    for name in POLICIES:
        records = plans[name]
        assert sorted(r["order_id"] for r in records) == sorted(
            o["order_id"] for o in document["orders"]
        )
        for record in records:
            assert record["hour"] > 0
            if record["status"] == "unroutable":
                assert record["reason"]
                continue
            for shipment in record["shipments"]:
                for line in shipment["lines"]:
                    assert sum(b["quantity"] for b in line["batches"]) == line["quantity"]
                    for taken in line["batches"]:
                        batch = stock[shipment["warehouse"]][taken["batch"]]
                        assert batch["sku"] == line["sku"]
                        assert batch["expires_in_days"] == taken["expires_in_days"]


@pytest.mark.parametrize("name", POLICIES)
def test_the_independent_scorer_agrees_with_the_replay(replay, name: str) -> None:
    document, report, plans = replay
    metrics = metrics_of(report, name)
    figures = score(document, plans[name])
    assert figures["routed"] == metrics.routed
    assert figures["unroutable"] == metrics.unroutable
    assert figures["cost_total"] == pytest.approx(metrics.cost_total, abs=0.01)
    assert figures["cost_per_order_all"] == pytest.approx(metrics.cost_per_order_all, abs=1e-6)
    assert figures["on_time_all"] == pytest.approx(metrics.on_time_all)
    assert figures["split_rate"] == pytest.approx(metrics.split_rate)
    assert figures["orders_to_paused"] == metrics.orders_to_paused
    if name == "nearest-aware":
        assert figures["orders_to_paused"] == 0
    if name == "nearest":
        assert figures["orders_to_paused"] > 0


def test_the_scorer_flags_what_a_plan_cannot_do(replay) -> None:
    document, _, plans = replay
    records = copy.deepcopy(plans["nearest-aware"])
    routed = [r for r in records if r["status"] == "routed"]
    first_line = routed[0]["shipments"][0]["lines"][0]
    first_line["batches"][0]["quantity"] += 1_000_000  # draws far beyond the batch
    first_line["quantity"] += 1_000_000  # and over-ships the order
    region = next(o["region"] for o in document["orders"] if o["order_id"] == routed[1]["order_id"])
    ambient_only = next(
        w["code"]
        for w in document["warehouses"]
        if not w["cold_chain"] and region in w["shipping_cost_by_region"]
    )
    cold_sku = next(s["sku"] for s in document["skus"] if s["temperature"] != "ambient")
    routed[1]["shipments"][0]["warehouse"] = ambient_only
    routed[1]["shipments"][0]["lines"].append({"sku": cold_sku, "quantity": 1, "batches": []})
    records.append(dict(routed[2]))  # a second plan for one order
    records.remove(routed[3])  # and an order without a plan
    kinds = score(document, records)["violations_by_kind"]
    assert {"stock", "lines", "cold_chain", "orders", "cost"} <= set(kinds)
    assert score(document, plans["nearest-aware"])["violations"] == 0
