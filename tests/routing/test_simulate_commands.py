import json

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_make_scenario_then_simulate_compares_profile_baseline_and_hindsight(tmp_path, capsys):
    scenario = tmp_path / "peak.json"
    call_command("make_scenario", warehouses=12, orders=200, seed=5, out=str(scenario))
    data = json.loads(scenario.read_text(encoding="utf-8"))
    assert len(data["warehouses"]) == 12 and len(data["orders"]) == 200 and data["disruptions"]
    capsys.readouterr()
    call_command("simulate", str(scenario), json=True)
    report = json.loads(capsys.readouterr().out)
    assert report["profile"] == "Balanced (default)"
    optimizer, baseline, hindsight = report["optimizer"], report["baseline"], report["hindsight"]
    assert optimizer["orders"] == baseline["orders"] == 200
    assert optimizer["orders_to_paused"] == 0
    assert optimizer["cost_per_order"] <= baseline["cost_per_order"]
    assert hindsight["cost_per_order"] <= optimizer["cost_per_order"] * 1.0001
    call_command("simulate", str(scenario), no_hindsight=True)
    table = capsys.readouterr().out
    assert "baseline" in table and "cost vs baseline" in table and "busiest warehouses" in table


def test_simulate_explains_bad_arguments(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("simulate", str(tmp_path / "missing.json"))
    broken = tmp_path / "broken.json"
    broken.write_text("{}", encoding="utf-8")
    with pytest.raises(CommandError, match="not a valid scenario"):
        call_command("simulate", str(broken))
    scenario = tmp_path / "s.json"
    call_command("make_scenario", warehouses=12, orders=20, out=str(scenario))
    with pytest.raises(CommandError, match="at least 12 warehouses"):
        call_command("make_scenario", warehouses=5, orders=20, out=str(scenario))
    with pytest.raises(CommandError, match="no routing profile 'Nope'"):
        call_command("simulate", str(scenario), profile="Nope")


def test_simulate_writes_one_plan_line_per_order_for_the_chosen_policy(tmp_path, capsys):
    scenario = tmp_path / "peak.json"
    call_command("make_scenario", warehouses=12, orders=60, seed=2, out=str(scenario))
    plans = tmp_path / "plans.jsonl"
    call_command(
        "simulate", str(scenario), no_hindsight=True, plans=str(plans), policy="nearest-aware"
    )
    table = capsys.readouterr().out
    assert "nearest+pause" in table and f"plans of nearest-aware written to {plans}" in table
    records = [json.loads(line) for line in plans.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 60 and {r["policy"] for r in records} == {"nearest+pause"}
    routed = next(r for r in records if r["status"] == "routed")
    assert {"warehouse", "lines"} <= set(routed["shipments"][0])
    assert {"sku", "quantity", "batches"} <= set(routed["shipments"][0]["lines"][0])
