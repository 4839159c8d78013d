"""A small replay: the optimizer beats the static chain and never uses the paused warehouse."""

from __future__ import annotations

from routing.engine.scenario import generate
from routing.engine.simulate import simulate


def test_small_simulation_beats_the_baseline_and_avoids_the_paused_node() -> None:
    scenario = generate(seed=3, warehouses=14, orders=400)
    report = simulate(scenario, batch_minutes=15, hindsight=True)
    assert report.optimizer.orders_to_paused == 0
    assert report.baseline is not None and report.baseline.orders_to_paused > 0
    assert (
        report.cost_reduction_vs_baseline is not None and report.cost_reduction_vs_baseline > 0.05
    )
    assert report.optimizer.on_time_rate >= report.baseline.on_time_rate
    assert report.cost_above_hindsight is not None and report.cost_above_hindsight < 0.05
    assert set(report.as_dict()) >= {
        "optimizer",
        "baseline",
        "hindsight",
        "cost_reduction_vs_baseline",
    }
