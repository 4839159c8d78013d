"""Single-order routing: build the model, solve it the cheapest provable way, explain it.

Order of attempts: (1) the fast path - a single-node plan proved optimal by the fixed-cost bound
(``fastpath``); (2) prune every node that cannot be part of a cheaper split and, if any remain,
solve the MILP over them (HiGHS in-process by default, CBC via PuLP otherwise); (3) on a time-out
or solver error, the greedy plan. An order no plan can serve comes back UNROUTABLE with a
sentence saying why (missing stock, cold chain, paused nodes, capacity), never silently.

High-value orders (``Profile.high_value``) are solved lexicographically: nodes below the
certainty floor are removed and money is minimised, the weighted score only breaking ties; when
no plan reaches the floor the normal objective is used and a note says so.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from routing.engine.explain import Explanation, explain
from routing.engine.factors import OrderModel, build_order_model
from routing.engine.fastpath import fast_path, prune_for_split, split_fast_path
from routing.engine.greedy import greedy_plan
from routing.engine.milp import resolve_solver, solve_milp
from routing.engine.plan import Plan, single_node_objectives, single_node_plan
from routing.engine.problem import (
    Order,
    RoutingContext,
    RoutingResult,
    RoutingStatus,
    Shipment,
    ShipmentLine,
    SolverOptions,
)


@dataclass(frozen=True)
class Decision:
    """A routing result with its explanation (what the Django layer stores)."""

    result: RoutingResult
    explanation: Explanation


def unroutable_reason(model: OrderModel, ctx: RoutingContext) -> str:
    """Why no plan exists, in one sentence naming the first blocking line."""
    for li, line in enumerate(model.lines):
        available = sum(model.upper[li])
        if available >= line.quantity:
            continue
        kind = f"{line.temperature.value} " if line.temperature.needs_cold_chain else ""
        blocked = [
            ctx.node_by_code[r.node_code].label
            for r in model.rejections
            if r.reason in ("paused", "excluded by rule")
        ]
        where = f"; excluded nodes: {', '.join(blocked[:3])}" if blocked else ""
        return (
            f"only {available} of {line.quantity} units of {kind}{line.sku} available "
            f"at eligible nodes{where}"
        )
    if not model.nodes:
        return f"no active node can ship to {model.order.region} ({len(model.rejections)} excluded)"
    return "remaining daily capacity of the eligible nodes cannot take the order"


def solve_order_model(model: OrderModel, options: SolverOptions) -> tuple[Plan | None, str]:
    """The best plan the options allow, or None with the reason (see module docstring).

    With carrier services a multi-parcel plan is re-priced at its parcels' rate-card prices
    (``OrderModel.price_correction``) and kept only when it still beats the best single-parcel
    plan, which the model prices exactly.
    """
    plan, reason = _solve_order_model(model, options)
    if plan is None or not model.lanes or len(plan.nodes_used) < 2:
        return plan, reason
    correction = model.price_correction(plan.quantities)
    if abs(correction) < 1e-9:
        return plan, reason
    corrected = replace(plan, objective=plan.objective + correction, optimal=False)
    singles = single_node_objectives(model)
    if singles and singles[0][0] <= corrected.objective:
        objective, k = singles[0]
        return single_node_plan(model, k, objective, plan.method), reason
    return corrected, reason


def _solve_order_model(model: OrderModel, options: SolverOptions) -> tuple[Plan | None, str]:
    if any(sum(row) < line.quantity for row, line in zip(model.upper, model.lines, strict=True)):
        return None, "stock"
    if options.use_fast_path:
        plan = fast_path(model)
        if plan is not None:
            return plan, ""
    singles = single_node_objectives(model)
    incumbent: Plan | None = None
    if singles:
        objective, k = singles[0]
        incumbent = single_node_plan(model, k, objective, "fast_path")
    else:
        incumbent = greedy_plan(model)
    upper_bound = incumbent.objective if incumbent is not None else float("inf")
    candidates = prune_for_split(model, upper_bound) if options.use_fast_path else None
    if candidates is not None and len(candidates) < 2 and incumbent is not None:
        # No multi-node plan can beat the incumbent: it is optimal.
        method = "fast_path" if singles else "fast_path:greedy"
        return replace(incumbent, method=method, optimal=True), ""
    if candidates is not None:
        proved = split_fast_path(model, incumbent, candidates)
        if proved is not None:
            return proved, ""
    outcome = solve_milp(
        model,
        solver=options.solver,
        time_limit_seconds=options.time_limit_seconds,
        node_subset=candidates,
    )
    if outcome.plan is not None:
        plan = outcome.plan
        if incumbent is not None and incumbent.objective < plan.objective - 1e-12:
            plan = replace(incumbent, optimal=outcome.status == "optimal")
        return plan, ""
    if outcome.status == "infeasible":
        # Over the pruned nodes no plan beats the incumbent, so the incumbent is optimal.
        if incumbent is not None:
            method = "fast_path" if singles else incumbent.method
            return replace(incumbent, method=method, optimal=True), ""
        return None, "capacity"
    if incumbent is not None:
        return replace(incumbent, method="greedy", notes=(f"solver {outcome.status}",)), ""
    fallback = greedy_plan(model)
    if fallback is not None:
        return replace(fallback, notes=(f"solver {outcome.status}",)), ""
    return None, "capacity"


def plan_to_result(
    model: OrderModel, plan: Plan, *, method: str | None = None, notes: tuple[str, ...] = ()
) -> RoutingResult:
    order = model.order
    by_node: dict[int, list[ShipmentLine]] = {}
    quantities: dict[int, dict[int, int]] = {}
    for (li, k), qty in sorted(plan.quantities.items(), key=lambda item: (item[0][1], item[0][0])):
        if qty > 0:
            by_node.setdefault(k, []).append(ShipmentLine(model.lines[li].sku, qty))
            quantities.setdefault(k, {})[li] = qty
    shipments = []
    for k, lines in by_node.items():
        service = model.service(k)
        lane = model.lanes[k] if model.lanes else None
        shipments.append(
            Shipment(
                node_code=model.nodes[k].code,
                lines=tuple(lines),
                cost=model.shipment_money(k, quantities[k]),
                transit_hours=model.transit_hours[k],
                carrier_service=service.code if service is not None else "",
                carrier=service.carrier if service is not None else "",
                weight_kg=round(model.billable_kg(k, quantities[k]), 3),
                on_time_rate=lane.on_time_rate if lane is not None else None,
            )
        )
    return RoutingResult(
        order_id=order.order_id,
        status=RoutingStatus.ROUTED,
        shipments=tuple(shipments),
        objective=plan.objective,
        cost=sum(s.cost for s in shipments),
        method=method or plan.method,
        optimal=plan.optimal,
        rejections=tuple(model.rejections),
        notes=tuple(model.notes) + plan.notes + notes,
    )


def unroutable_result(model: OrderModel, ctx: RoutingContext, method: str) -> RoutingResult:
    return RoutingResult(
        order_id=model.order.order_id,
        status=RoutingStatus.UNROUTABLE,
        method=method,
        reason=unroutable_reason(model, ctx),
        rejections=tuple(model.rejections),
    )


@dataclass(frozen=True)
class PolicyPlan:
    """What the profile's policy makes of one order: the model solved, its best plan (None:
    unroutable), notes for the result, and whether the objective is money (high-value)."""

    model: OrderModel
    plan: Plan | None
    notes: tuple[str, ...]
    money_objective: bool


def plan_for_policy(order: Order, ctx: RoutingContext, options: SolverOptions) -> PolicyPlan:
    """Solve ``order`` the way the profile says: high-value orders lexicographically (see the
    module docstring), every other order on the weighted objective. Rules and signals enter
    through ``build_order_model``. Single and batch routing both start here, so an order
    nobody competes with gets the same plan either way."""
    policy = ctx.profile.high_value
    notes: tuple[str, ...] = ()
    if policy is not None and policy.applies_to(order):
        model = build_order_model(
            order, ctx, min_certainty=policy.min_certainty, money_objective=True
        )
        plan, _ = solve_order_model(model, options)
        if plan is not None:
            note = f"high-value: lowest cost with delivery certainty >= {policy.min_certainty:.0%}"
            return PolicyPlan(model, plan, (note,), money_objective=True)
        notes = (
            f"high-value: no plan reaches delivery certainty {policy.min_certainty:.0%}; "
            "weighted objective used",
        )
    model = build_order_model(order, ctx)
    plan, _ = solve_order_model(model, options)
    return PolicyPlan(model, plan, notes, money_objective=False)


def route_order(
    order: Order, ctx: RoutingContext, options: SolverOptions | None = None
) -> Decision:
    """Route one order online and explain the decision."""
    options = options or SolverOptions()
    solved = plan_for_policy(order, ctx, options)
    model, plan = solved.model, solved.plan
    if plan is None:
        result = unroutable_result(model, ctx, method=resolve_solver(options.solver))
        return Decision(result, explain(model, None, ctx))
    return Decision(
        plan_to_result(model, plan, notes=solved.notes),
        explain(model, plan, ctx, money_objective=solved.money_objective),
    )
