"""Batch routing applies the profile exactly as single routing does.

On a network with stock and capacity for everyone no order competes with another, so the joint
decision must give every order the plan ``route_order`` gives it alone: the high-value dual
objective for VIP and high-value orders, ops rules (exclude, down-weight, scale a weight) and
live signals (weather, carrier saturation, courier load) included.
"""

from __future__ import annotations

import random

import pytest

from routing.engine.batch import route_batch
from routing.engine.problem import (
    HighValuePolicy,
    Order,
    Profile,
    RoutingContext,
    RoutingResult,
    Rule,
    RuleCondition,
    RuleEffect,
    Signals,
)
from routing.engine.router import route_order
from tests.routing.engine.engine_factories import make_node, make_order

RULES = (
    Rule(
        "storm: no cold chain from the North",
        RuleCondition.WEATHER_AT_LEAST,
        RuleEffect.EXCLUDE,
        threshold=3,
        region="North",
        cold_chain_only=True,
    ),
    Rule(
        "saturated carriers: -40 %",
        RuleCondition.CARRIER_SATURATION_AT_LEAST,
        RuleEffect.DOWN_WEIGHT,
        threshold=0.8,
        amount=0.4,
    ),
    Rule(
        "busy carriers in the East: punctuality first",
        RuleCondition.CARRIER_SATURATION_AT_LEAST,
        RuleEffect.SCALE_WEIGHT,
        threshold=0.8,
        region="East",
        factor="lateness",
        amount=3.0,
    ),
    Rule("degraded: -30 %", RuleCondition.NODE_DEGRADED, RuleEffect.DOWN_WEIGHT, amount=0.3),
)


def _uncontested_world(seed: int, profile: Profile) -> tuple[list[Order], RoutingContext]:
    rng = random.Random(seed)
    skus = [f"S{i}" for i in range(6)]
    nodes = tuple(
        make_node(
            f"N{k}",
            stock={sku: 10_000 for sku in skus},
            region=rng.choice(["East", "North"]),
            shipping=rng.uniform(4, 20),
            transit=rng.uniform(6, 20),
            cold_chain=rng.random() < 0.6,
            handling_per_shipment=rng.uniform(1, 6),
            handling_per_unit=rng.uniform(0.2, 2),
            on_time_rate=rng.uniform(0.93, 0.999),
            latitude=rng.uniform(22, 40),
            longitude=rng.uniform(100, 122),
            capacity=rng.choice([None, 100_000]),
        )
        for k in range(12)
    )
    orders = [
        make_order(
            *[(sku, rng.randint(1, 4)) for sku in rng.sample(skus, rng.randint(1, 4))],
            cold={skus[0], skus[1]},
            order_id=f"o{i}",
            region=rng.choice(["East", "North"]),
            promised_hours=rng.choice([12.0, 24.0, 48.0]),
            vip=rng.random() < 0.5,
        )
        for i in range(60)
    ]
    signals = Signals(
        carrier_saturation={"East": 0.82, "North": 0.5},
        weather={"North": 3},
        courier_load={node.code: rng.random() for node in nodes},
    )
    return orders, RoutingContext(nodes=nodes, signals=signals, profile=profile)


def _plan(result: RoutingResult) -> tuple:
    return (
        result.status,
        tuple(sorted((s.node_code, tuple(sorted(s.lines, key=str))) for s in result.shipments)),
        round(result.cost, 9),
        round(result.objective, 9),
        result.notes,
    )


@pytest.mark.parametrize(
    "profile",
    [
        Profile(name="vip", high_value=HighValuePolicy(min_certainty=0.95)),
        Profile(
            name="high value by value, rules",
            rules=RULES,
            high_value=HighValuePolicy(value_threshold=60.0, include_vip=False, min_certainty=0.9),
        ),
        Profile(name="rules and signals only", rules=RULES),
    ],
    ids=lambda profile: profile.name,
)
@pytest.mark.parametrize("seed", range(3))
def test_batch_gives_every_uncontested_order_its_single_order_plan(
    profile: Profile, seed: int
) -> None:
    orders, ctx = _uncontested_world(seed, profile)
    batch = route_batch(orders, ctx)
    for order, result in zip(orders, batch.results, strict=True):
        alone = route_order(order, ctx).result
        assert _plan(result) == _plan(alone), order.order_id
    assert batch.gap == 0.0


def test_the_worlds_exercise_the_high_value_policy_and_the_rules() -> None:
    profile = Profile(rules=RULES, high_value=HighValuePolicy(min_certainty=0.95))
    orders, ctx = _uncontested_world(0, profile)
    results = [route_order(order, ctx).result for order in orders]
    notes = [note for result in results for note in result.notes]
    assert any(note.startswith("high-value: lowest cost") for note in notes)
    reasons = {r.reason for result in results for r in result.rejections}
    assert {"excluded by rule", "certainty too low"} <= reasons
