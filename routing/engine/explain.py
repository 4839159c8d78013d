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
class CarrierChoice:
    """The carrier service of one shipment, and the next-best service at that warehouse.

    ``cost`` / ``other_cost`` are what the whole order would cost from that warehouse on each
    (CNY), ``hours`` / ``other_hours`` their planned transit. ``preferred``: the service is the
    customer's usual carrier, chosen at up to ``premium`` CNY more. ``other_down_weighted``: a
    rule down-weighted the other service (e.g. cold chain in a storm); ``down_weighted``: the
    chosen one.
    """

    node_code: str
    service: str
    service_label: str
    carrier: str
    level: str
    cost: float
    hours: float
    other_service: str = ""
    other_label: str = ""
    other_level: str = ""
    other_cost: float = 0.0
    other_hours: float = 0.0
    other_down_weighted: bool = False
    down_weighted: bool = False
    preferred: bool = False
    premium: float = 0.0


def carrier_choices(model: OrderModel, used: list[int]) -> tuple[CarrierChoice, ...]:
    """What carrier each shipment of a plan uses and what it was chosen over."""
    out = []
    for k in used:
        service = model.service(k)
        if service is None:
            continue
        node = model.nodes[k]
        cost = model.money_cost(k, model.order.units)
        other = model.runner_up_services[k] if model.runner_up_services else None
        bonus = model.preference_bonus[k] if model.preference_bonus else 0.0
        scale = model.scales[k] if model.scales else 1.0
        out.append(
            CarrierChoice(
                node_code=node.code,
                service=service.code,
                service_label=service.label,
                carrier=service.carrier,
                level=service.level.value,
                cost=cost,
                hours=model.transit_hours[k],
                other_service=other.service.code if other else "",
                other_label=other.service.label if other else "",
                other_level=other.service.level.value if other else "",
                other_cost=other.cost if other else 0.0,
                other_hours=other.transit_hours if other else 0.0,
                other_down_weighted=bool(other and other.down_weighted),
                down_weighted=scale < 1.0,
                preferred=bonus > 0,
                premium=bonus,
            )
        )
    return tuple(out)


def carrier_sentence(choice: CarrierChoice, node_label: str) -> str:
    """One sentence on a shipment's carrier: the choice, the alternative and the trade-off."""
    head = f"Carrier from {node_label}: {choice.service_label} ({choice.level.replace('_', ' ')})"
    if not choice.other_service:
        text = f"{head}, the only service there for this order"
    else:
        parts = []
        delta = choice.cost - choice.other_cost
        if abs(delta) >= 0.005:
            parts.append(f"¥{abs(delta):.2f} {'dearer' if delta > 0 else 'cheaper'}")
        hours = choice.hours - choice.other_hours
        if abs(hours) >= 0.5:
            parts.append(f"{abs(hours):.0f} h {'slower' if hours > 0 else 'faster'}")
        versus = ", ".join(parts) if parts else "the same price and time"
        text = f"{head} over {choice.other_label}: {versus}"
        if choice.other_down_weighted:
            text += f"; {choice.other_label} is down-weighted by a rule"
    if choice.preferred:
        text += (
            f"; the customer usually ships with {choice.carrier}, preferred at up to "
            f"¥{choice.premium:.2f} more"
        )
    return text + "."


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
    carriers: tuple[CarrierChoice, ...] = ()


def _view(
    model: OrderModel, quantities: dict[tuple[int, int], int], objective: float
) -> CandidateView:
    units: dict[int, int] = {}
    per_column: dict[int, dict[int, int]] = {}
    for (li, k), q in quantities.items():
        if q > 0:
            units[k] = units.get(k, 0) + q
            per_column.setdefault(k, {})[li] = q
    used = sorted(units)
    value_share = {k: 0.0 for k in used}
    for (li, k), q in quantities.items():
        if q > 0:
            value_share[k] += model.lines[li].value_share * q / model.lines[li].quantity
    return CandidateView(
        node_codes=tuple(model.nodes[k].code for k in used),
        label=" + ".join(candidate_label(model, k) for k in used),
        objective=objective,
        cost=sum(model.shipment_money(k, per_column[k]) for k in used),
        transit_hours=max(model.transit_hours[k] for k in used),
        certainty=sum(model.certainty[k] * value_share[k] for k in used),
        contributions=factor_breakdown(model, quantities),
    )


def candidate_label(model: OrderModel, k: int) -> str:
    """A column as people say it: the warehouse, and the carrier service when there is one."""
    service = model.service(k)
    label = model.nodes[k].label
    return f"{label} via {service.label}" if service is not None else label


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
    carriers: tuple[CarrierChoice, ...] = ()
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
        carriers = carrier_choices(model, sorted(used))
        for choice in carriers:
            sentences.append(
                carrier_sentence(choice, labels.get(choice.node_code, choice.node_code))
            )
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
        carriers=carriers,
    )
