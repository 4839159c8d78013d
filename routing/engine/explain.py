"""Explanations: per-factor contributions, rejected candidates and plain sentences.

The winner's contributions are each factor's part of the chosen plan's objective - money, and
every other factor at the profile's price (they add up to its objective, before DOWN_WEIGHT rule
adjustments). Runners-up are the best other nodes that could have shipped the whole order alone,
scored the same way. Sentences compare the winner with the best runner-up on what a person
checks first - hours, money - and, when the winner is dearer, say in CNY what the profile's
prices put on the other side; they list excluded nodes with the reason and, for paused nodes,
since when.

Beside the English sentences the explanation keeps the facts a reader needs to say the same in
another language: the trade-off against the best runner-up (cost, hours and certainty deltas,
and in CNY which factors spoke for the winner and which against it), the nodes that held part
of the order but could not ship it alone, and the money coefficient that turns objective units
into CNY.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
class PartialLine:
    """Units of one order line a node holds (``available`` < ``quantity``: only part of it)."""

    sku: str
    available: int
    quantity: int


@dataclass(frozen=True)
class PartialCandidate:
    """A node that held part of the order but could not ship all of it alone."""

    node_code: str
    label: str
    lines: tuple[PartialLine, ...]


@dataclass(frozen=True)
class TradeOff:
    """The winner against one alternative: deltas (winner minus other) and what decided.

    ``cost_delta`` in CNY (positive: the winner is dearer), ``hours_delta`` in hours of transit
    (negative: the winner arrives sooner), ``certainty_delta`` in points of delivery certainty.
    ``favour`` and ``against`` are factor groups ("money" for shipping and handling together)
    with what they weigh in CNY at the profile's prices, largest first: where the winner scores
    better, and where worse. Empty when money has no weight (no CNY scale).
    """

    other_codes: tuple[str, ...]
    other_label: str
    cost_delta: float
    hours_delta: float
    certainty_delta: float
    favour: tuple[tuple[str, float], ...]
    against: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Blocking:
    """Why no plan exists: ``kind`` "stock" (the first line short of units, with the nodes
    paused or excluded by a rule), "region" (no active node ships there) or "capacity"."""

    kind: str
    sku: str = ""
    temperature: str = ""
    available: int = 0
    quantity: int = 0
    excluded: tuple[str, ...] = ()
    region: str = ""


def blocking(model: OrderModel) -> Blocking:
    """The facts of ``router.unroutable_reason`` (the same tests, in the same order)."""
    for li, line in enumerate(model.lines):
        available = sum(model.upper[li])
        if available >= line.quantity:
            continue
        excluded = tuple(
            r.node_code for r in model.rejections if r.reason in ("paused", "excluded by rule")
        )
        return Blocking(
            "stock",
            sku=line.sku,
            temperature=line.temperature.value if line.temperature.needs_cold_chain else "",
            available=available,
            quantity=line.quantity,
            excluded=excluded[:3],
        )
    if not model.nodes:
        return Blocking("region", region=model.order.region)
    return Blocking("capacity")


@dataclass(frozen=True)
class Explanation:
    """Why this plan: the winner, the runners-up, who was excluded and why, in sentences.

    ``money_price`` is the objective's coefficient of one CNY (objective / money_price is the
    score in CNY); ``money_objective`` says the plan minimised money alone (high-value policy).
    """

    winner: CandidateView | None
    runners_up: tuple[CandidateView, ...]
    rejected: tuple[Rejection, ...]
    sentences: tuple[str, ...]
    partial: tuple[PartialCandidate, ...] = ()
    trade_off: TradeOff | None = None
    money_price: float = 1.0
    money_objective: bool = False
    high_value_floor: float | None = None
    blocking: Blocking | None = None
    labels: dict[str, str] = field(default_factory=dict)


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


def trade_off(winner: CandidateView, other: CandidateView, money: float) -> TradeOff:
    """The winner against ``other`` in deltas and, per factor group, in CNY (see ``TradeOff``)."""
    favour: list[tuple[str, float]] = []
    against: list[tuple[str, float]] = []
    if money > 0:
        groups: dict[str, float] = {}
        for factor, part in winner.contributions.items():
            group = "money" if factor in MONEY_FACTORS else factor
            gain = (other.contributions.get(factor, 0.0) - part) / money
            groups[group] = groups.get(group, 0.0) + gain
        favour = sorted(((g, v) for g, v in groups.items() if v >= 0.005), key=lambda gv: -gv[1])
        against = sorted(((g, -v) for g, v in groups.items() if v <= -0.005), key=lambda gv: -gv[1])
    return TradeOff(
        other_codes=other.node_codes,
        other_label=other.label,
        cost_delta=winner.cost - other.cost,
        hours_delta=winner.transit_hours - other.transit_hours,
        certainty_delta=100.0 * (winner.certainty - other.certainty),
        favour=tuple(favour),
        against=tuple(against),
    )


def partial_candidates(model: OrderModel, used: set[int]) -> tuple[PartialCandidate, ...]:
    """Nodes outside the plan holding some of the order's units but not all of them."""
    out = []
    for k, node in enumerate(model.nodes):
        if k in used:
            continue
        held = [
            PartialLine(line.sku, model.upper[li][k], line.quantity)
            for li, line in enumerate(model.lines)
        ]
        if any(h.available > 0 for h in held) and any(h.available < h.quantity for h in held):
            out.append(PartialCandidate(node.code, node.label, tuple(held)))
    return tuple(out)


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


def explain(
    model: OrderModel, plan: Plan | None, ctx: RoutingContext, *, money_objective: bool = False
) -> Explanation:
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
    money = model.prices["money"]
    used_nodes = set(plan.nodes_used) if plan is not None else set()
    policy = ctx.profile.high_value
    return Explanation(
        winner,
        tuple(runners),
        rejected,
        tuple(sentences),
        partial=partial_candidates(model, used_nodes),
        trade_off=trade_off(winner, runners[0], money) if winner and runners else None,
        money_price=money,
        money_objective=money_objective,
        high_value_floor=policy.min_certainty if money_objective and policy else None,
        blocking=blocking(model) if plan is None else None,
        labels=labels,
    )
