"""A small replay: the optimizer beats the static chain and never uses the paused warehouse;
every policy is held to the day's unit and parcel caps."""

from __future__ import annotations

from dataclasses import replace

import pytest

from routing.engine.problem import Temperature
from routing.engine.scenario import Scenario, Sku, generate
from routing.engine.simulate import simulate
from tests.routing.engine.engine_factories import make_node, make_order


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


def _one_warehouse_day(*, units: int | None, parcels: int | None, quantity: int) -> Scenario:
    """Five orders an hour apart against one warehouse whose day has ``units`` / ``parcels``."""
    warehouse = replace(
        make_node("W", stock={"tea": 100}),
        daily_capacity_units=units,
        remaining_capacity_units=units,
        remaining_capacity_orders=parcels,
    )
    orders = tuple(
        replace(make_order(("tea", quantity), order_id=f"o{i}"), created_hour=i + 0.5)
        for i in range(5)
    )
    return Scenario(
        name="one warehouse",
        nodes=(warehouse,),
        skus=(Sku("tea", Temperature.AMBIENT, 20.0),),
        orders=orders,
    )


@pytest.mark.parametrize(
    ("units", "parcels", "quantity"),
    [(None, 2, 1), (5, None, 2)],
    ids=["parcel cap", "unit cap"],
)
def test_the_replay_counts_daily_caps_down_for_every_policy(
    units: int | None, parcels: int | None, quantity: int
) -> None:
    # Two orders fit the day: two parcels, or five units at two units an order.
    report = simulate(_one_warehouse_day(units=units, parcels=parcels, quantity=quantity))
    for metrics in (report.optimizer, report.baseline, report.hindsight):
        assert metrics is not None
        assert (metrics.policy, metrics.routed, metrics.unroutable) == (metrics.policy, 2, 3)
