"""Routing chooses a warehouse and a carrier service per shipment, on one money scale."""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import replace
from pathlib import Path

import pytest

from routing.engine.audit import audit
from routing.engine.batch import route_batch
from routing.engine.carrier_world import default_carrier_only, storm_provinces, with_carriers
from routing.engine.problem import (
    CarrierLane,
    CarrierService,
    DemandOutlook,
    Node,
    Order,
    OrderLine,
    Profile,
    RoutingContext,
    Rule,
    RuleCondition,
    RuleEffect,
    ServiceLevel,
    Signals,
    StockBatch,
    Temperature,
    Weights,
)
from routing.engine.router import route_order
from routing.engine.scenario import generate, scenario_from_dict, scenario_to_dict
from routing.engine.zones import zone

ALL_MONEY = Profile(
    name="all money",
    weights=Weights(**dict.fromkeys(Weights().as_dict(), 0.0) | {"shipping_cost": 1.0}),
)
STORM_RULE = Rule(
    "storm: cold chain -50 %",
    RuleCondition.WEATHER_AT_LEAST,
    RuleEffect.DOWN_WEIGHT,
    threshold=3,
    amount=0.5,
    service_level="cold_chain",
)
WORLDS = Path(__file__).resolve().parents[4] / "shared" / "bench-data" / "routing-worlds"


def lanes(first: float, per_kg: float, hours: float, on_time: float = 0.97) -> dict:
    return {
        "Zhejiang": CarrierLane(first, per_kg, hours, on_time_rate=on_time),
        "Xinjiang": CarrierLane(first + 10, per_kg * 2, hours + 48, surcharge=8.0),
    }


ECONOMY = CarrierService(
    "ECO", "Pinecrest", ServiceLevel.ECONOMY, "Pinecrest Economy", lanes(8, 2, 30), default=True
)
AIR = CarrierService("AIR", "Swiftkite", ServiceLevel.EXPRESS, "Swiftkite Air", lanes(18, 8, 10))
COLD = CarrierService(
    "COLD",
    "Polar",
    ServiceLevel.COLD_CHAIN,
    "Polar Cold",
    lanes(10, 3, 16),
    chilled=True,
    frozen=True,
    volumetric_divisor=6000,
)


def node(code: str = "WH1", services=(ECONOMY, AIR, COLD), **extra) -> Node:
    return Node(
        code=code,
        region="East",
        province="Zhejiang",
        city="Hangzhou",
        latitude=extra.pop("latitude", 30.27),
        longitude=extra.pop("longitude", 120.15),
        cold_chain=extra.pop("cold_chain", True),
        stock=extra.pop("stock", (StockBatch("TEA", 50), StockBatch("MILK", 50))),
        services=tuple(services),
        handling_cost_per_shipment=extra.pop("handling", 2.0),
        **extra,
    )


def order(*lines: OrderLine, promised: float = 48.0, **extra) -> Order:
    return Order(
        order_id=extra.pop("order_id", "o1"),
        region="East",
        province=extra.pop("province", "Zhejiang"),
        city="Hangzhou",
        latitude=30.3,
        longitude=120.2,
        lines=lines,
        promised_hours=promised,
        **extra,
    )


def tea(quantity: int = 1, weight: float = 1.5, volume: float = 2.0) -> OrderLine:
    return OrderLine(
        "TEA", quantity, unit_value=30.0, unit_weight_kg=weight, unit_volume_litres=volume
    )


def milk(quantity: int = 1) -> OrderLine:
    return OrderLine("MILK", quantity, Temperature.CHILLED, 12.0, unit_weight_kg=1.0)


def test_a_lane_bills_the_first_kg_then_each_started_kg_and_the_remote_surcharge() -> None:
    lane = CarrierLane(first_price=8.0, additional_per_kg=2.0, transit_hours=24, surcharge=5.0)
    assert lane.price(0.4) == 13.0
    assert lane.price(1.0) == 13.0
    assert lane.price(1.2) == 15.0
    assert lane.price(3.0) == 17.0


def test_billable_weight_is_the_larger_of_actual_and_volumetric() -> None:
    assert COLD.billable_kg(1.0, 12.0) == pytest.approx(2.0)  # 12 l / 6000 cm3 per kg
    assert COLD.billable_kg(3.0, 12.0) == 3.0


def test_an_ambient_order_ships_on_the_cheapest_service_and_pays_its_rate_card() -> None:
    ctx = RoutingContext(nodes=(node(),), profile=ALL_MONEY)
    result = route_order(order(tea(2)), ctx).result
    (shipment,) = result.shipments
    assert shipment.carrier_service == "ECO"
    assert shipment.weight_kg == 3.0
    assert result.cost == pytest.approx(8 + 2 * 2 + 2.0)


def test_a_tight_promise_buys_the_express_service_when_lateness_is_priced() -> None:
    punctual = Profile(weights=Weights(lateness=2.0, certainty=1.0))
    ctx = RoutingContext(nodes=(node(),), profile=punctual)
    result = route_order(order(tea(), promised=12.0), ctx).result
    assert result.shipments[0].carrier_service == "AIR"
    assert result.shipments[0].transit_hours == 10


def test_chilled_lines_travel_only_on_a_service_that_carries_them() -> None:
    ctx = RoutingContext(nodes=(node(),), profile=ALL_MONEY)
    result = route_order(order(tea(), milk()), ctx).result
    assert [s.carrier_service for s in result.shipments] == ["COLD"]


def test_a_node_whose_services_carry_no_chilled_goods_cannot_ship_them() -> None:
    ctx = RoutingContext(nodes=(node(services=(ECONOMY, AIR)),))
    decision = route_order(order(milk()), ctx)
    assert not decision.result.routed
    assert decision.result.rejections[0].reason == "no cold chain"


def test_a_destination_without_a_lane_is_not_served() -> None:
    ctx = RoutingContext(nodes=(node(),))
    result = route_order(order(tea(), province="Tibet"), ctx).result
    assert not result.routed
    assert result.rejections[0].reason == "not serving region"


def test_a_service_with_no_parcels_left_today_is_skipped() -> None:
    full = CarrierService(
        "ECO", "Pinecrest", ServiceLevel.ECONOMY, lanes=lanes(8, 2, 30), remaining_capacity_orders=0
    )
    ctx = RoutingContext(nodes=(node(services=(full, COLD)),), profile=ALL_MONEY)
    result = route_order(order(tea()), ctx).result
    assert result.shipments[0].carrier_service == "COLD"


def test_storm_rule_moves_ambient_parcels_off_cold_chain_but_keeps_chilled_ones_on_it() -> None:
    cheap_cold = CarrierService(
        "COLD", "Polar", ServiceLevel.COLD_CHAIN, lanes=lanes(7, 1, 16), chilled=True
    )
    nodes = (node(services=(ECONOMY, cheap_cold)),)
    calm = RoutingContext(nodes=nodes, profile=Profile(rules=(STORM_RULE,)))
    storm = RoutingContext(
        nodes=nodes, profile=Profile(rules=(STORM_RULE,)), signals=Signals(weather={"Zhejiang": 3})
    )
    assert route_order(order(tea()), calm).result.shipments[0].carrier_service == "COLD"
    stormy = route_order(order(tea()), storm)
    assert stormy.result.shipments[0].carrier_service == "ECO"
    assert any("down-weighted by a rule" in s for s in stormy.explanation.sentences)
    assert route_order(order(milk()), storm).result.shipments[0].carrier_service == "COLD"


def test_a_storm_delays_air_more_than_economy() -> None:
    even = (
        CarrierService("ECO", "A", ServiceLevel.ECONOMY, lanes={"Zhejiang": CarrierLane(8, 0, 20)}),
        CarrierService("AIR", "B", ServiceLevel.EXPRESS, lanes={"Zhejiang": CarrierLane(8, 0, 20)}),
    )
    ctx = RoutingContext(nodes=(node(services=even),), signals=Signals(weather={"Zhejiang": 4}))
    assert route_order(order(tea(), promised=30), ctx).result.shipments[0].carrier_service == "ECO"


def test_the_explanation_names_the_warehouse_the_carrier_and_the_trade_off() -> None:
    ctx = RoutingContext(nodes=(node(),), profile=ALL_MONEY)
    explanation = route_order(order(tea(2)), ctx).explanation
    assert explanation.winner is not None
    assert explanation.winner.label == "WH1 via Pinecrest Economy"
    (choice,) = explanation.carriers
    assert (choice.service, choice.other_service) == ("ECO", "COLD")
    assert choice.other_cost - choice.cost == pytest.approx((10 + 3 * 2) - (8 + 2 * 2))
    assert any(
        s.startswith("Carrier from WH1: Pinecrest Economy (economy) over Polar Cold: ¥4.00 cheaper")
        for s in explanation.sentences
    )


def test_the_preferred_carrier_wins_within_its_premium_and_not_beyond() -> None:
    ctx = RoutingContext(nodes=(node(),), profile=ALL_MONEY)
    # For 1.5 kg AIR costs 18 + 8 = 26, ECO 8 + 2 = 10: AIR is 16 dearer.
    near = route_order(order(tea(), preferred_carrier="Swiftkite", preference_premium=16.5), ctx)
    far = route_order(order(tea(), preferred_carrier="Swiftkite", preference_premium=15.5), ctx)
    assert near.result.shipments[0].carrier_service == "AIR"
    assert near.explanation.carriers[0].preferred
    assert "usually ships with Swiftkite" in " ".join(near.explanation.sentences)
    assert far.result.shipments[0].carrier_service == "ECO"


def _random_network(seed: int) -> tuple[list[Order], RoutingContext]:
    rng = random.Random(seed)
    nodes = []
    for k in range(6):
        services = []
        for code, level, cold in (
            ("E", "economy", False),
            ("X", "express", False),
            ("C", "cold_chain", True),
        ):
            if rng.random() < 0.25:
                continue
            services.append(
                CarrierService(
                    f"{code}{k}",
                    code,
                    ServiceLevel(level),
                    lanes={
                        "Zhejiang": CarrierLane(
                            rng.uniform(6, 20), rng.uniform(1, 10), rng.uniform(8, 60)
                        )
                    },
                    chilled=cold,
                    volumetric_divisor=rng.choice([5000, 6000, 8000]),
                    remaining_capacity_orders=rng.choice([None, 1, 3]),
                )
            )
        nodes.append(
            node(
                f"N{k}",
                services=services,
                cold_chain=rng.random() < 0.6,
                stock=tuple(StockBatch(s, rng.choice([0, 1, 3, 20])) for s in ("A", "B", "C")),
                handling=rng.uniform(1, 5),
                latitude=rng.uniform(25, 35),
                longitude=rng.uniform(110, 121),
            )
        )
    orders = []
    for o in range(8):
        lines = tuple(
            OrderLine(
                sku,
                rng.randint(1, 3),
                Temperature.CHILLED if sku == "C" else Temperature.AMBIENT,
                10.0,
                unit_weight_kg=rng.uniform(0.2, 3),
                unit_volume_litres=rng.uniform(0.5, 20),
            )
            for sku in rng.sample(["A", "B", "C"], rng.randint(1, 3))
        )
        orders.append(order(*lines, order_id=f"o{o}"))
    return orders, RoutingContext(nodes=tuple(nodes), profile=ALL_MONEY)


@pytest.mark.parametrize("seed", range(20))
def test_all_money_single_parcel_plans_cost_the_cheapest_warehouse_and_service(seed: int) -> None:
    orders, ctx = _random_network(seed)
    for o in orders:
        result = route_order(o, ctx).result
        best = None
        for n, service in itertools.product(ctx.nodes, range(3)):
            if service >= len(n.services):
                continue
            s = n.services[service]
            lane = s.lanes["Zhejiang"]
            if s.remaining_capacity_orders == 0:
                continue
            if any(
                (line.temperature.needs_cold_chain and not (n.cold_chain and s.chilled))
                or sum(b.quantity for b in n.stock if b.sku == line.sku) < line.quantity
                for line in o.lines
            ):
                continue
            weight = sum(line.unit_weight_kg * line.quantity for line in o.lines)
            volume = sum(line.unit_volume_litres * line.quantity for line in o.lines)
            cost = lane.price(s.billable_kg(weight, volume)) + n.handling_cost_per_shipment
            best = cost if best is None else min(best, cost)
        if best is None:
            continue
        assert result.routed
        assert result.cost <= best + 1e-6
        if len(result.shipments) == 1:
            assert result.cost == pytest.approx(best)


@pytest.mark.parametrize("seed", range(10))
def test_batch_plans_with_carrier_services_pass_the_independent_audit(seed: int) -> None:
    orders, ctx = _random_network(seed)
    batch = route_batch(orders, ctx)
    assert audit(orders, batch.results, ctx) == []
    for o, result in zip(orders, batch.results, strict=True):
        for shipment in result.shipments:
            assert shipment.carrier_service
        single = route_order(o, ctx).result
        assert single.routed == result.routed or not result.routed


def test_a_carrier_day_round_trips_through_the_scenario_format() -> None:
    scenario = with_carriers(generate(seed=3, warehouses=12, orders=200))
    data = json.loads(json.dumps(scenario_to_dict(scenario)))
    assert data["warehouses"][0]["services"][0]["lanes"]
    assert data["orders"][0]["province"]
    again = scenario_from_dict(data)
    assert again.nodes == scenario.nodes
    assert again.orders == scenario.orders
    assert again.skus == scenario.skus


def test_a_carrier_day_has_five_services_a_default_and_a_provincial_storm() -> None:
    scenario = with_carriers(generate(seed=3, warehouses=12, orders=200))
    for n in scenario.nodes:
        assert len(n.services) == 5
        assert sum(s.default for s in n.services) == 1
    assert len(storm_provinces(scenario)) == 2
    only = default_carrier_only(scenario)
    assert all(len(n.services) == 1 and n.services[0].default for n in only.nodes)
    # The same caps as carrier routing has, unless the comparator is given unlimited slots.
    by_code = {n.code: n for n in scenario.nodes}
    for n in only.nodes:
        assert (
            n.services[0].daily_capacity_orders
            == by_code[n.code].default_service.daily_capacity_orders
        )
        assert n.services[0].daily_capacity_orders is not None
    lifted = default_carrier_only(scenario, lift_cap=True)
    assert all(n.services[0].daily_capacity_orders is None for n in lifted.nodes)
    assert all(
        n.services[0].code == m.services[0].code
        for n, m in zip(lifted.nodes, only.nodes, strict=True)
    )


def test_rate_card_zones_grow_with_distance() -> None:
    assert zone(50, True) == 1
    assert [zone(km, False) for km in (100, 700, 1500, 2500)] == [2, 3, 4, 5]


@pytest.mark.skipif(not WORLDS.exists(), reason="shared worlds not present")
def test_existing_scenario_files_still_load_without_carriers() -> None:
    scenario = scenario_from_dict(json.loads((WORLDS / "dev-8.json").read_text()))
    assert all(not n.services for n in scenario.nodes)
    assert all(o.destination == o.region for o in scenario.orders)


def _cold_slots_ctx(cold_parcels_so_far: float, *, capacity: int | None = 3) -> RoutingContext:
    """A warehouse whose capped cold-chain service is the cheapest ride for ambient tea too."""
    cheap_cold = CarrierService(
        "COLD",
        "Polar",
        ServiceLevel.COLD_CHAIN,
        lanes=lanes(7, 1, 16),
        chilled=True,
        daily_capacity_orders=capacity,
        remaining_capacity_orders=capacity,
    )
    return RoutingContext(
        nodes=(node(services=(ECONOMY, cheap_cold)),),
        outlook=DemandOutlook(
            units_so_far={"TEA": 5.0},
            hours_elapsed=12.0,
            hours_left=12.0,
            cold_parcels_so_far={"WH1": cold_parcels_so_far},
        ),
    )


def test_ambient_parcels_leave_the_last_cold_chain_slots_to_chilled_orders_to_come() -> None:
    # No chilled order seen today: the cold-chain service is the cheapest ride for tea.
    assert route_order(order(tea()), _cold_slots_ctx(0)).result.shipments[0].carrier_service == (
        "COLD"
    )
    # 10 chilled parcels from WH1 so far by noon: 10 more expected, 3 slots left: the tea goes
    # economy.
    busy = route_order(order(tea()), _cold_slots_ctx(10))
    assert busy.result.shipments[0].carrier_service == "ECO"
    # A chilled order still takes a cold slot: only the cold chain may carry it.
    assert route_order(order(milk()), _cold_slots_ctx(10)).result.shipments[0].carrier_service == (
        "COLD"
    )
    # Without a cap the slots are no constraint, whatever the chilled demand.
    free = _cold_slots_ctx(10, capacity=None)
    assert route_order(order(tea()), free).result.shipments[0].carrier_service == "COLD"


def test_all_money_routing_ignores_the_cold_slot_price() -> None:
    ctx = _cold_slots_ctx(10)
    money = RoutingContext(nodes=ctx.nodes, outlook=ctx.outlook, profile=ALL_MONEY)
    assert route_order(order(tea()), money).result.shipments[0].carrier_service == "COLD"


def test_a_same_city_courier_serves_its_city_whichever_order_a_context_routes_first() -> None:
    """One context, two orders to the same province: the first from another city (the courier
    cannot take it), the second from the courier's own city (it can)."""
    courier = CarrierService(
        "CITY",
        "Dash",
        ServiceLevel.SAME_DAY,
        "Dash Same Day",
        {"Zhejiang": CarrierLane(6, 1, 4)},
        same_city="Hangzhou",
    )
    ctx = RoutingContext(nodes=(node(services=(courier,)),), profile=ALL_MONEY)
    elsewhere = route_order(replace(order(tea(), order_id="o1"), city="Ningbo"), ctx).result
    assert not elsewhere.routed
    assert elsewhere.rejections[0].reason == "not serving region"
    here = route_order(order(tea(), order_id="o2"), ctx).result
    assert here.routed and here.shipments[0].carrier_service == "CITY"
    # The same the other way round, and in one batch.
    ctx = RoutingContext(nodes=(node(services=(courier,)),), profile=ALL_MONEY)
    assert route_order(order(tea(), order_id="o2"), ctx).result.routed
    assert not route_order(replace(order(tea(), order_id="o1"), city="Ningbo"), ctx).result.routed
