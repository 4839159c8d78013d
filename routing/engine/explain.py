"""Explanations: per-factor contributions, rejected candidates and plain sentences.

The winner's contributions are each factor's part of the chosen plan's objective - money, and
every other factor at the profile's price (they add up to its objective, before DOWN_WEIGHT rule
adjustments). Runners-up are the best other nodes that could have shipped the whole order alone,
scored the same way. Sentences compare the winner with the best runner-up on what a person
checks first - hours, money - and, when the winner is dearer, say in CNY what the profile's
prices put on the other side; they list excluded nodes with the reason and, for paused nodes,
since when.
"""

from __future__ import annotations

from dataclasses import dataclass

from routing.engine.factors import OrderModel, factor_breakdown
from routing.engine.plan import Plan, single_node_objectives
from routing.engine.problem import MONEY_FACTORS, Rejection, RoutingContext

RUNNERS_UP = 3


@dataclass(frozen=True)
class CandidateView:
    """One candidate plan as the explanation shows it."""

    node_codes: tuple[str, ...]
    label: str
    objective: float
    cost: float
    transit_hours: float
    certainty: float
    contributions: dict[str, float]


@dataclass(frozen=True)
class Explanation:
    """Why this plan: the winner, the runners-up, who was excluded and why, in sentences."""

    winner: CandidateView | None
    runners_up: tuple[CandidateView, ...]
    rejected: tuple[Rejection, ...]
    sentences: tuple[str, ...]


def _view(
    model: OrderModel, quantities: dict[tuple[int, int], int], objective: float
) -> CandidateView:
    units: dict[int, int] = {}
    for (_, k), q in quantities.items():
        if q > 0:
            units[k] = units.get(k, 0) + q
    used = sorted(units)
    value_share = {k: 0.0 for k in used}
    for (li, k), q in quantities.items():
        if q > 0:
            value_share[k] += model.lines[li].value_share * q / model.lines[li].quantity
    return CandidateView(
        node_codes=tuple(model.nodes[k].code for k in used),
        label=" + ".join(model.nodes[k].label for k in used),
        objective=objective,
        cost=sum(model.money_cost(k, u) for k, u in units.items()),
        transit_hours=max(model.transit_hours[k] for k in used),
        certainty=sum(model.certainty[k] * value_share[k] for k in used),
        contributions=factor_breakdown(model, quantities),
    )


def _worth(winner: CandidateView, other: CandidateView, money: float) -> list[tuple[str, float]]:
    """Non-money factors on which the winner beats ``other``, in CNY (largest first)."""
    if money <= 0:
        return []
    deltas = [
        (factor, (other.contributions[factor] - winner.contributions[factor]) / money)
        for factor in winner.contributions
        if factor not in MONEY_FACTORS
    ]
    return sorted(((f, d) for f, d in deltas if d >= 0.005), key=lambda fd: -fd[1])


def _comparison(winner: CandidateView, other: CandidateView, money_weight: float) -> str:
    reasons = []
    hours = other.transit_hours - winner.transit_hours
    money = other.cost - winner.cost
    if hours >= 1:
        reasons.append(f"{hours:.0f} h faster than {other.label}")
    if money >= 0.05:
        reasons.append(f"¥{money:.2f} cheaper than {other.label}")
    worth = _worth(winner, other, money_weight)
    if money <= -0.05 and worth:
        gains = ", ".join(f"{f.replace('_', ' ')} ¥{d:.2f}" for f, d in worth[:2])
        reasons.append(f"¥{-money:.2f} dearer, outweighed at the profile's prices by {gains}")
    if not reasons and worth:
        factor, cny = worth[0]
        reasons.append(f"better {factor.replace('_', ' ')} than {other.label} (¥{cny:.2f})")
        if hours <= -1:
            reasons.append(f"{-hours:.0f} h slower")
    return "; ".join(reasons) if reasons else f"scores best, just ahead of {other.label}"


def explain(model: OrderModel, plan: Plan | None, ctx: RoutingContext) -> Explanation:
    """Build the explanation of ``plan`` (None: the order was unroutable)."""
    labels = {node.code: node.label for node in ctx.nodes}
    rejected = tuple(model.rejections)
    sentences: list[str] = []
    winner = None
    runners: list[CandidateView] = []
    if plan is not None:
        winner = _view(model, plan.quantities, plan.objective)
        used = set(plan.nodes_used)
        for objective, k in single_node_objectives(model):
            if k in used and len(used) == 1:
                continue
            quantities = {(li, k): line.quantity for li, line in enumerate(model.lines)}
            runners.append(_view(model, quantities, objective))
            if len(runners) == RUNNERS_UP:
                break
        if len(used) == 1:
            head = f"{winner.label} chosen"
        else:
            head = f"Split into {len(used)} shipments ({winner.label})"
        if runners:
            sentences.append(f"{head}: {_comparison(winner, runners[0], model.prices['money'])}.")
        elif len(used) > 1:
            sentences.append(f"{head}: no single node can ship every line.")
        else:
            sentences.append(f"{head}: the only node able to ship the order.")
    for rejection in rejected:
        if rejection.reason in ("paused", "excluded by rule", "no cold chain", "certainty too low"):
            label = labels.get(rejection.node_code, rejection.node_code)
            sentences.append(f"{label} excluded: {rejection.detail}.")
    counts: dict[str, int] = {}
    for rejection in rejected:
        if rejection.reason in ("out of stock", "capacity full", "not serving region"):
            counts[rejection.reason] = counts.get(rejection.reason, 0) + 1
    if counts:
        parts = [f"{n} {'node' if n == 1 else 'nodes'} {reason}" for reason, n in counts.items()]
        sentences.append("Also excluded: " + ", ".join(parts) + ".")
    return Explanation(winner, tuple(runners), rejected, tuple(sentences))
