"""Scenario files round-trip through JSON, and the generator builds what the issue asks."""

from __future__ import annotations

import json

import pytest

from routing.engine.problem import NodeKind
from routing.engine.scenario import generate, scenario_from_dict, scenario_to_dict


def test_scenario_survives_a_json_round_trip() -> None:
    scenario = generate(seed=11, warehouses=14, orders=120)
    data = json.loads(json.dumps(scenario_to_dict(scenario)))
    again = scenario_from_dict(data)
    assert again == scenario
    assert scenario_to_dict(again) == data


def test_generator_is_deterministic_per_seed() -> None:
    a = scenario_to_dict(generate(seed=5, warehouses=12, orders=50))
    b = scenario_to_dict(generate(seed=5, warehouses=12, orders=50))
    c = scenario_to_dict(generate(seed=6, warehouses=12, orders=50))
    assert a == b and a != c


def test_generated_peak_day_has_regions_kinds_and_a_mid_day_cold_chain_fault() -> None:
    scenario = generate(seed=7, warehouses=30, orders=400)
    assert len(scenario.nodes) == 30
    assert {n.region for n in scenario.nodes} == {"East", "North", "South", "West"}
    assert {n.kind for n in scenario.nodes} == set(NodeKind)
    fault = next(d for d in scenario.disruptions if d.kind == "node_paused")
    faulty = next(n for n in scenario.nodes if n.code == fault.node)
    assert faulty.cold_chain and 8 <= fault.start_hour <= 16
    assert all(0 <= o.created_hour < 24 for o in scenario.orders)


def test_unknown_format_and_unknown_sku_are_rejected() -> None:
    data = scenario_to_dict(generate(seed=1, warehouses=12, orders=5))
    with pytest.raises(ValueError, match="format"):
        scenario_from_dict({**data, "format": "something-else/9"})
    data["orders"][0]["lines"][0]["sku"] = "NOPE"
    with pytest.raises(ValueError, match="unknown SKU"):
        scenario_from_dict(data)
