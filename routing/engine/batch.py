"""Batch routing: many orders at once, scarce stock and capacity to where they are worth most.

The joint MILP (every order's lines x nodes, coupled by shared stock and capacity) is far too
big to hand to a solver whole at 5,000 orders x 50 nodes, but its structure is friendly: orders
only interact through the few resources that are actually scarce. So it is solved by
Dantzig-Wolfe decomposition per order (column generation):

1. Each order is solved alone (fast path / small MILP) - its best plan ignoring the others. If
   these plans fit the shared stock and capacity together, they are jointly optimal (gap 0).
2. Otherwise the *contested* resources are those the candidate plans could overload. Orders
   touching none keep their own best plan. The others enter a master problem: pick one plan
   (column) per order, or leave it unrouted at a penalty, subject to the contested resources.
   Initial columns: each order's best plan and its best few single-node plans.
3. The master LP's duals price the contested resources; each master order is re-solved with
   those prices (exactly, with the same single-order solver) and any plan with negative reduced
   cost becomes a new column. For any prices pi <= 0, ``sum_o min(penalty_o, best priced plan_o)
   + sum_r pi_r * capacity_r`` is a lower bound on the joint optimum (Lagrangian bound), so the
   gap reported is proven, not estimated.
4. The master is solved as a MIP over the generated columns (CBC or HiGHS via PuLP).

Invariant: the chosen plans fit the shared stock (per shelf-life class, so per batch), unit and
parcel capacity together, checked on every resource before the results are returned. Step 1
uses ``router.plan_for_policy``, so the high-value policy, rules and signals apply exactly as in
``route_order``.


The unrouted penalty of an order is in the objective's unit (CNY at the default money weight,
see ``problem.factor_prices``): ``UNROUTED_BASE + value / 10`` plus ``UNROUTED_VIP`` for VIP
customers. An order left unrouted is a sale at risk and a manual recovery, so the base is far
above what any plan costs: the batch never leaves an order behind to save shipping, and when
stock runs out the orders that lose it are those where it is worth least. Orders that no plan
can serve pay their penalty on both sides of the bound, so the reported gap leaves them out.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pulp

from routing.engine.factors import MIN_SHELF_LIFE_DAYS, ModelLine, OrderModel, usable_stock
from routing.engine.fastpath import plan_with_bound
from routing.engine.milp import pulp_solver, resolve_solver
from routing.engine.plan import Plan, plan_objective, single_node_objectives, single_node_plan
from routing.engine.problem import (
    Order,
    RoutingContext,
    RoutingResult,
    SolverOptions,
    Temperature,
    factor_prices,
)
from routing.engine.router import (
    PolicyPlan,
    plan_for_policy,
    plan_to_result,
    solve_order_model,
    unroutable_result,
)

Resource = tuple[str, ...]
SMALL_MASTER_COLUMNS = 3000


@dataclass(frozen=True)
class BatchOptions:
    solver: str = "auto"  # master solver: "highs" (pulp.HiGHS) or "cbc"
    time_limit_seconds: float = 30.0
    gap: float = 0.005  # relative MIP gap asked of the master
    max_iterations: int = 15
    initial_single_node_columns: int = 4


@dataclass(frozen=True)
class BatchResult:
    """Per-order results plus the proof of quality: objective, lower bound and gap."""

    results: tuple[RoutingResult, ...]
    objective: float
    lower_bound: float
    gap: float
    solver: str
    seconds: float
    iterations: int
    columns: int
    master_orders: int
    contested_resources: int


@dataclass
class _Column:
    quantities: dict[tuple[int, int], int]
    objective: float
    usage: dict[Resource, float]


UNROUTED_BASE = 1000.0
UNROUTED_VIP = 500.0


def unrouted_penalty(order: Order) -> float:
    return UNROUTED_BASE + order.value / 10.0 + (UNROUTED_VIP if order.vip else 0.0)


class _Resources:
    """The shared resources of a batch and what each has left in ``ctx``.

    ``("units", node)`` and ``("orders", node)`` are the node's remaining units and parcels
    today, ``("service", node, service)`` the parcels a carrier service still takes there. Stock is kept per batch through shelf life: ``("stock", node, sku, temperature)``
    holds the units of the SKU whose batches have at least that temperature class's minimum
    shelf life left. Those sets are nested (a batch fresh enough for the strictest class serves
    every class), so a line of class T counts against every row whose minimum is at most T's,
    and the rows hold exactly when some assignment of units to batches exists. A SKU ordered in
    one temperature class only - the usual case - has a single row per node.
    """

    def __init__(self, ctx: RoutingContext, models: list[OrderModel]):
        classes: dict[str, set[Temperature]] = {}
        for model in models:
            for line in model.lines:
                classes.setdefault(line.sku, set()).add(line.temperature)
        self.classes = {sku: tuple(found) for sku, found in classes.items()}
        self.node_by_code = ctx.node_by_code
        self.cache: dict[Resource, float] = {}
        self.counted: dict[tuple[str, Temperature], tuple[str, ...]] = {}

    def counts_against(self, line: ModelLine) -> tuple[str, ...]:
        """The temperature classes whose stock rows a unit of ``line`` counts against."""
        key = (line.sku, line.temperature)
        found = self.counted.get(key)
        if found is None:
            days = MIN_SHELF_LIFE_DAYS[line.temperature]
            found = tuple(
                t.value
                for t in self.classes.get(line.sku, (line.temperature,))
                if MIN_SHELF_LIFE_DAYS[t] <= days
            )
            self.counted[key] = found
        return found

    def stock_keys(self, code: str, line: ModelLine) -> list[Resource]:
        """The stock rows one unit of ``line`` shipped from node ``code`` counts against."""
        return [("stock", code, line.sku, t) for t in self.counts_against(line)]

    def usage(
        self, model: OrderModel, quantities: dict[tuple[int, int], int]
    ) -> dict[Resource, float]:
        usage: dict[Resource, float] = {}
        used = set()
        for (li, k), q in quantities.items():
            if q <= 0:
                continue
            code = model.nodes[k].code
            for key in self.stock_keys(code, model.lines[li]):
                usage[key] = usage.get(key, 0) + q
            usage[("units", code)] = usage.get(("units", code), 0) + q
            used.add(code)
        for code in used:
            usage[("orders", code)] = 1
        for k in {k for (_, k), q in quantities.items() if q > 0}:
            key = _service_key(model, k)
            if key is not None:
                usage[key] = 1
        return usage

    def capacity(self, resource: Resource) -> float:
        value = self.cache.get(resource)
        if value is not None:
            return value
        node = self.node_by_code[resource[1]]
        if resource[0] == "stock":
            value = float(usable_stock(node, resource[2], Temperature(resource[3]))[0])
        elif resource[0] == "units":
            cap = node.remaining_capacity_units
            value = math.inf if cap is None else float(cap)
        elif resource[0] == "service":
            service = node.service_by_code.get(resource[2])
            cap = service.remaining_capacity_orders if service is not None else 0
            value = math.inf if cap is None else float(cap)
        else:
            cap = node.remaining_capacity_orders
            value = math.inf if cap is None else float(cap)
        self.cache[resource] = value
        return value


def _priced_model(
    model: OrderModel, prices: dict[Resource, float], resources: _Resources
) -> OrderModel:
    """``model`` with resource prices (duals, <= 0) folded into its coefficients."""
    unit_cost = []
    for line, row in zip(model.lines, model.unit_cost, strict=True):
        classes, sku = resources.counts_against(line), line.sku
        unit_cost.append(
            [
                c
                - sum(prices.get(("stock", node.code, sku, t), 0.0) for t in classes)
                - prices.get(("units", node.code), 0.0)
                for c, node in zip(row, model.nodes, strict=True)
            ]
        )
    fixed = [
        f - prices.get(("orders", n.code), 0.0) - _service_price(model, k, prices)
        for k, (f, n) in enumerate(zip(model.fixed_cost, model.nodes, strict=True))
    ]
    return replace(model, unit_cost=unit_cost, fixed_cost=fixed)


def _service_price(model: OrderModel, k: int, prices: dict[Resource, float]) -> float:
    key = _service_key(model, k)
    return 0.0 if key is None else prices.get(key, 0.0)


def _service_key(model: OrderModel, k: int) -> Resource | None:
    """``("service", node, service)``: the parcels a carrier service takes at a node today."""
    service = model.service(k)
    return None if service is None else ("service", model.nodes[k].code, service.code)


def _scaled_model(model: OrderModel, scale: float) -> OrderModel:
    """``model`` with every coefficient times ``scale`` (> 0): the same plans, the same order."""
    return replace(
        model,
        unit_cost=[[c * scale for c in row] for row in model.unit_cost],
        fixed_cost=[f * scale for f in model.fixed_cost],
        offset=model.offset * scale,
    )


def objective_per_cny(ctx: RoutingContext) -> float:
    """What one CNY weighs on the weighted objective: the profile's money coefficient.

    High-value orders are solved on money (CNY); in a batch their columns are scaled by this so
    that all orders meet in one master, as if the order had all its weight on money. It follows
    the money scale of the weighted objective (``problem.factor_prices``); a profile with no
    weight on money counts a CNY as one.
    """
    money = factor_prices(ctx.weights, ctx.profile.prices)["money"]
    return money if money > 0 else 1.0


@dataclass
class _BatchState:
    """What the phases of ``route_batch`` hand on to each other.

    ``pools[o]`` are the columns (candidate plans) of order o, its own best plan first;
    ``choice[o]`` indexes the chosen column (-1: unrouted). ``lower_bound`` only rises.
    ``scale[o]`` turns order o's own objective into the master's (1 unless high-value);
    ``notes[o]`` are what the policy says about its plan.
    """

    models: list[OrderModel]
    pools: list[list[_Column]]
    best_objective: list[float]
    penalty: list[float]
    resources: _Resources
    choice: list[int]
    lower_bound: float
    started: float
    backend: str
    order_options: SolverOptions
    scale: list[float]
    notes: list[tuple[str, ...]]
    iterations: int = 0
    master_count: int = 0
    contested: set[Resource] = field(default_factory=set)

    @property
    def capacity(self) -> Callable[[Resource], float]:
        return self.resources.capacity


def route_batch(
    orders: Sequence[Order],
    ctx: RoutingContext,
    options: BatchOptions | None = None,
    *,
    order_options: SolverOptions | None = None,
    context_for: Callable[[Order], RoutingContext] | None = None,
) -> BatchResult:
    """Route ``orders`` jointly; ``ctx`` holds the shared stock and capacity.

    Each order is first solved exactly as ``route_order`` would (``plan_for_policy``: the
    high-value policy, rules and signals), so an order nobody competes with gets the same plan
    in a batch as alone. ``context_for`` may give an order its own signals and statuses (the
    hindsight optimum uses it: each order sees the network as it was when the order arrived);
    shared resources always come from ``ctx``. Every returned plan fits them together with all
    the others (see ``_settle_overloads``).
    """
    options = options or BatchOptions()
    order_options = order_options or SolverOptions(
        solver="highs" if resolve_solver("auto") == "highs" else "cbc"
    )
    started = time.perf_counter()
    backend = resolve_solver(options.solver)
    own = [
        plan_for_policy(o, context_for(o) if context_for else ctx, order_options) for o in orders
    ]
    scale = [objective_per_cny(ctx) if solved.money_objective else 1.0 for solved in own]
    models = [
        _scaled_model(solved.model, s) if s != 1.0 else solved.model
        for solved, s in zip(own, scale, strict=True)
    ]
    resources = _Resources(ctx, models)
    pools, best_objective = _own_best_columns(own, models, scale, resources)
    penalty = [unrouted_penalty(o) for o in orders]
    state = _BatchState(
        models=models,
        pools=pools,
        best_objective=best_objective,
        penalty=penalty,
        resources=resources,
        choice=[0 if pool else -1 for pool in pools],
        lower_bound=sum(min(b, p) for b, p in zip(best_objective, penalty, strict=True)),
        started=started,
        backend=backend,
        order_options=order_options,
        scale=scale,
        notes=[solved.notes for solved in own],
    )
    overloaded = _overloaded(state)
    if overloaded:
        _add_single_node_columns(state, overloaded, options.initial_single_node_columns)
        integral = _generate_columns(state, options)
        _choose_master_columns(state, integral, options)
        _settle_overloads(state)
        _route_leftovers(state)

    results, objective = _batch_results(orders, ctx, context_for, state)
    lower_bound = state.lower_bound
    # Orders no plan can serve add their penalty to both sides; the gap is over the rest.
    unservable = sum(p for p, b in zip(penalty, best_objective, strict=True) if b == math.inf)
    routable = objective - unservable
    gap = 0.0 if routable <= 0 else max(0.0, (objective - lower_bound) / routable)
    return BatchResult(
        results=results,
        objective=objective,
        lower_bound=lower_bound,
        gap=gap,
        solver=backend,
        seconds=time.perf_counter() - started,
        iterations=state.iterations,
        columns=sum(len(pool) for pool in pools),
        master_orders=state.master_count,
        contested_resources=len(state.contested),
    )


def _own_best_columns(
    own: list[PolicyPlan],
    models: list[OrderModel],
    scale: list[float],
    resources: _Resources,
) -> tuple[list[list[_Column]], list[float]]:
    """Step 1: each order's plan alone is its first column (none if unroutable)."""
    pools: list[list[_Column]] = []
    best_objective: list[float] = []
    for solved, model, s in zip(own, models, scale, strict=True):
        plan = solved.plan
        if plan is None:
            pools.append([])
            best_objective.append(math.inf)
            continue
        objective = plan.objective * s
        pools.append([_Column(plan.quantities, objective, resources.usage(model, plan.quantities))])
        best_objective.append(objective)
    return pools, best_objective


def _load(
    pools: list[list[_Column]], choice: list[int], skip: set[int] | None = None
) -> dict[Resource, float]:
    """Total use of every resource when each order (but those in ``skip``) takes its chosen
    column."""
    total: dict[Resource, float] = {}
    for o, (pool, index) in enumerate(zip(pools, choice, strict=True)):
        if index >= 0 and not (skip and o in skip):
            for key, amount in pool[index].usage.items():
                total[key] = total.get(key, 0) + amount
    return total


def _overloaded(state: _BatchState) -> set[Resource]:
    """Resources the current choice uses beyond what they have."""
    return {
        r
        for r, amount in _load(state.pools, state.choice).items()
        if amount > state.capacity(r) + 1e-9
    }


def _add_single_node_columns(state: _BatchState, overloaded: set[Resource], count: int) -> None:
    """Initial columns: orders whose best plan uses an overloaded resource also get their
    ``count`` best single-node plans."""
    pools = state.pools
    for o, model in enumerate(state.models):
        if not pools[o] or not any(r in overloaded for r in pools[o][0].usage):
            continue
        for objective, k in single_node_objectives(model)[:count]:
            plan = single_node_plan(model, k, objective, "batch")
            if plan.quantities != pools[o][0].quantities:
                usage = state.resources.usage(model, plan.quantities)
                pools[o].append(_Column(plan.quantities, objective, usage))


def _generate_columns(state: _BatchState, options: BatchOptions) -> dict[int, int]:
    """Step 3: column generation on the master LP until no column prices out, the iteration
    cap, or half the time limit; raises ``state.lower_bound`` with each Lagrangian bound.

    Returns the orders the last master LP assigned integrally (order -> column, -1 unrouted).
    """
    while True:
        state.iterations += 1
        state.contested, master = _contested(state.pools, state.capacity)
        state.master_count = len(master)
        _, duals, conv, integral = _solve_master(
            master,
            state.pools,
            state.contested,
            state.capacity,
            {},
            state.penalty,
            state.backend,
            relax=True,
            time_limit=options.time_limit_seconds,
            gap=options.gap,
        )
        prices = {r: min(0.0, duals.get(r, 0.0)) for r in state.contested}
        bound, added = _pricing_round(state, prices, conv)
        state.lower_bound = max(state.lower_bound, bound)
        elapsed = time.perf_counter() - state.started
        if (
            added == 0
            or state.iterations >= options.max_iterations
            or elapsed > options.time_limit_seconds / 2
        ):
            return integral


def _pricing_round(
    state: _BatchState, prices: dict[Resource, float], conv: dict[int, float]
) -> tuple[float, int]:
    """Re-solve each master order at ``prices``; add the plans with negative reduced cost.

    Returns the Lagrangian lower bound at these prices and how many columns were added.
    """
    pools, penalty, best_objective = state.pools, state.penalty, state.best_objective
    resources = state.resources
    bound = sum(prices[r] * state.capacity(r) for r in state.contested)
    added = 0
    for o, model in enumerate(state.models):
        if o not in conv:
            bound += min(best_objective[o], penalty[o])
            continue
        touches = any(_service_price(model, k, prices) for k in range(len(model.nodes))) or any(
            prices.get(("units", n.code), 0)
            or prices.get(("orders", n.code), 0)
            or any(prices.get(key, 0) for key in resources.stock_keys(n.code, line))
            for n in model.nodes
            for line in model.lines
        )
        if not touches:
            bound += min(best_objective[o], penalty[o])
            continue
        plan, plan_bound = plan_with_bound(_priced_model(model, prices, resources))
        bound += min(plan_bound, penalty[o])
        if plan is None:
            continue
        if plan.objective - conv[o] < -1e-7 and plan.quantities not in (
            c.quantities for c in pools[o]
        ):
            true_objective = plan_objective(model, plan.quantities)
            usage = resources.usage(model, plan.quantities)
            pools[o].append(_Column(plan.quantities, true_objective, usage))
            added += 1
    return bound, added


def _choose_master_columns(
    state: _BatchState, integral: dict[int, int], options: BatchOptions
) -> None:
    """Step 4: pick one column per master order into ``state.choice``.

    LP-and-fix: orders the last master LP already assigned integrally keep that column; only
    the fractional ones (at most one per binding resource row) go to the MIP, over what the
    others leave. Always feasible: "unrouted" is a column too.
    """
    # Columns added by the last pricing round may contest new resources: recompute.
    state.contested, master = _contested(state.pools, state.capacity)
    state.master_count = len(master)
    integral = {o: j for o, j in integral.items() if o in set(master)}
    for o, j in integral.items():
        state.choice[o] = j
    fractional = [o for o in master if o not in integral]
    if sum(len(state.pools[o]) for o in master) <= SMALL_MASTER_COLUMNS:
        # Small enough to solve the whole master as a MIP: no fixing needed.
        fractional = list(master)
    if fractional:
        repaired = _solve_fractional(state, fractional, options)
        for o in fractional:
            state.choice[o] = repaired[o]
    if len(fractional) < len(master):
        _whole_master_safeguard(state, master)


def _assignment_value(state: _BatchState, assignment: dict[int, int]) -> float:
    pools, penalty = state.pools, state.penalty
    return sum(penalty[o] if j < 0 else pools[o][j].objective for o, j in assignment.items())


def _rows_at_risk(
    state: _BatchState, orders: list[int], others: dict[Resource, float]
) -> set[Resource]:
    """Resources that some choice of columns of ``orders`` could overload on top of
    ``others`` (the load of every other order): the only rows a master over them needs."""
    potential: dict[Resource, float] = {}
    for o in orders:
        peak: dict[Resource, float] = {}
        for column in state.pools[o]:
            for key, amount in column.usage.items():
                if amount > peak.get(key, 0):
                    peak[key] = amount
        for key, amount in peak.items():
            potential[key] = potential.get(key, 0) + amount
    return {
        r for r, amount in potential.items() if amount + others.get(r, 0) > state.capacity(r) + 1e-9
    }


def _solve_fractional(
    state: _BatchState, fractional: list[int], options: BatchOptions
) -> dict[int, int]:
    """Columns for the ``fractional`` orders, every other order keeping its choice: the master
    MIP over them if there is time for it and it beats the greedy repair, otherwise the greedy
    repair. The MIP gets a row for every resource its columns could overload - including those
    of columns the repair has just added - so both answers fit."""
    others = _load(state.pools, state.choice, skip=set(fractional))
    repaired = _greedy_repair(state, fractional, others)
    remaining = options.time_limit_seconds - (time.perf_counter() - state.started)
    if remaining > 1.0:
        value, chosen, info, _ = _solve_master(
            fractional,
            state.pools,
            _rows_at_risk(state, fractional, others),
            state.capacity,
            others,
            state.penalty,
            state.backend,
            relax=False,
            time_limit=remaining,
            gap=options.gap,
        )
        greedy_value = _assignment_value(state, repaired)
        if info["status"] in ("Optimal", "Feasible") and value < greedy_value:
            repaired = {o: chosen.get(o, -1) for o in fractional}
    return repaired


def _whole_master_safeguard(state: _BatchState, master: list[int]) -> None:
    """Safeguard for heavily contested batches, where fixing the LP's integral orders can
    strand the rest: a greedy pass over the whole master (re-solving orders against what is
    left), kept if it is better."""
    current = {o: state.choice[o] for o in master}
    others = _load(state.pools, state.choice, skip=set(master))
    alternative = _greedy_repair(state, master, others)
    if _assignment_value(state, alternative) < _assignment_value(state, current) - 1e-9:
        for o, j in alternative.items():
            state.choice[o] = j


def _settle_overloads(state: _BatchState) -> None:
    """The batch's invariant, checked on every resource: no chosen plans together use more
    stock (per shelf-life class), units or parcels than a node has.

    The phases above keep it by construction. Should a resource still be overloaded, the orders
    using it are assigned again by the greedy repair against what all the others leave, which
    keeps every resource within bounds (it may leave an order unrouted, never oversell).
    """
    overloaded = _overloaded(state)
    if not overloaded:
        return
    users = [
        o
        for o, (pool, j) in enumerate(zip(state.pools, state.choice, strict=True))
        if j >= 0 and any(r in overloaded for r in pool[j].usage)
    ]
    others = _load(state.pools, state.choice, skip=set(users))
    for o, j in _greedy_repair(state, users, others).items():
        state.choice[o] = j


def _route_leftovers(state: _BatchState) -> None:
    """No order is refused in favour of nothing: an order the master left unrouted that a plan
    could serve alone is re-solved against what every chosen plan leaves (``_greedy_repair``)
    and routed if anything is left for it, whatever the plan costs. The master leaves such
    orders behind when none of their columns fits beside the others' (a plan outside its
    columns may), or when a plan's objective - scarcity bid prices included - exceeds the
    order's penalty."""
    leftovers = [
        o
        for o, (pool, j) in enumerate(zip(state.pools, state.choice, strict=True))
        if j < 0 and pool
    ]
    if not leftovers:
        return
    others = _load(state.pools, state.choice)
    for o, j in _greedy_repair(state, leftovers, others, at_any_cost=True).items():
        if j >= 0:
            state.choice[o] = j


def _batch_results(
    orders: Sequence[Order],
    ctx: RoutingContext,
    context_for: Callable[[Order], RoutingContext] | None,
    state: _BatchState,
) -> tuple[tuple[RoutingResult, ...], float]:
    """Each order's result from its chosen column, and the batch objective (penalties
    included). A result's own objective is on its order's scale, as ``route_order`` reports
    it."""
    results = []
    objective = 0.0
    label = f"batch:{state.backend}"
    for o, (order, model) in enumerate(zip(orders, state.models, strict=True)):
        pool = state.pools[o]
        if state.choice[o] < 0:
            objective += state.penalty[o]
            result = unroutable_result(model, context_for(order) if context_for else ctx, label)
            if pool:
                result = replace(
                    result,
                    reason="stock or capacity went to higher-value orders in this batch",
                )
            results.append(result)
            continue
        column = pool[state.choice[o]]
        objective += column.objective
        plan = Plan(column.quantities, column.objective / state.scale[o], label, optimal=True)
        results.append(plan_to_result(model, plan, notes=state.notes[o]))
    return tuple(results), objective


def _contested(
    pools: list[list[_Column]], capacity: Callable[[Resource], float]
) -> tuple[set[Resource], list[int]]:
    """Resources that some choice of columns could overload, and the orders touching them.

    A resource is safe when even every order taking its heaviest column on it fits; orders
    whose columns touch only safe resources keep their own best plan.
    """
    potential: dict[Resource, float] = {}
    for pool in pools:
        peak: dict[Resource, float] = {}
        for column in pool:
            for key, amount in column.usage.items():
                if amount > peak.get(key, 0):
                    peak[key] = amount
        for key, amount in peak.items():
            potential[key] = potential.get(key, 0) + amount
    contested = {r for r, amount in potential.items() if amount > capacity(r) + 1e-9}
    master = [
        o for o, pool in enumerate(pools) if any(r in contested for c in pool for r in c.usage)
    ]
    return contested, master


def _greedy_repair(
    state: _BatchState,
    orders: list[int],
    others: dict[Resource, float],
    *,
    at_any_cost: bool = False,
) -> dict[int, int]:
    """Assign ``orders`` one at a time, largest regret first, to their cheapest column that
    still fits, ``others`` being the load of every order not in ``orders``. An order none of
    whose columns fits is re-solved against what is left (stock, unit and parcel bounds
    tightened), which adds a column - the online, one-by-one answer; unrouted only if nothing
    is left for it. With ``at_any_cost`` a plan is taken even when it costs more than leaving the
    order unrouted (the penalty): what ``_route_leftovers`` uses.

    Always feasible: what is left is tracked on every resource a column touches, not only on
    the contested ones, because a re-solved plan may reach stock or a node no earlier column
    used (and that the other orders' plans may already have taken).
    """
    pools, capacity = state.pools, state.capacity
    penalty = [math.inf] * len(pools) if at_any_cost else state.penalty
    used: dict[Resource, float] = dict(others)

    def left(resource: Resource) -> float:
        return capacity(resource) - used.get(resource, 0)

    def regret(o: int) -> float:
        costs = sorted(c.objective for c in pools[o])
        return (costs[1] if len(costs) > 1 else penalty[o]) - costs[0] if costs else 0.0

    def fits(usage: dict[Resource, float]) -> bool:
        return all(left(r) >= amount - 1e-9 for r, amount in usage.items())

    out: dict[int, int] = {}
    for o in sorted(orders, key=regret, reverse=True):
        out[o] = -1
        ranked = sorted(range(len(pools[o])), key=lambda j: pools[o][j].objective)
        chosen = next(
            (j for j in ranked if pools[o][j].objective < penalty[o] and fits(pools[o][j].usage)),
            None,
        )
        if chosen is None:
            model = _restricted_model(state.models[o], left, state.resources)
            plan, _ = solve_order_model(model, state.order_options)
            if plan is not None and plan.objective < penalty[o]:
                usage = state.resources.usage(model, plan.quantities)
                pools[o].append(_Column(plan.quantities, plan.objective, usage))
                chosen = len(pools[o]) - 1
        if chosen is not None:
            for r, amount in pools[o][chosen].usage.items():
                used[r] = used.get(r, 0) + amount
            out[o] = chosen
    return out


def _restricted_model(
    model: OrderModel, left: Callable[[Resource], float], resources: _Resources
) -> OrderModel:
    """``model`` with stock, unit and parcel bounds cut to what is ``left`` of them."""
    upper = [list(row) for row in model.upper]
    capacity_units = list(model.capacity_units)
    for k, node in enumerate(model.nodes):
        service_key = _service_key(model, k)
        if left(("orders", node.code)) < 1 - 1e-9 or (
            service_key is not None and left(service_key) < 1 - 1e-9
        ):
            for row in upper:
                row[k] = 0
        capacity_units[k] = min(capacity_units[k], max(0.0, left(("units", node.code))))
        for li, line in enumerate(model.lines):
            if upper[li][k] <= 0:
                continue
            for key in resources.stock_keys(node.code, line):
                upper[li][k] = int(min(upper[li][k], max(0.0, left(key) + 1e-9)))
    return replace(model, upper=upper, capacity_units=capacity_units)


def _solve_master(
    master: list[int],
    pools: list[list[_Column]],
    contested: set[Resource],
    capacity: Callable[[Resource], float],
    fixed_load: dict[Resource, float],
    penalty: list[float],
    backend: str,
    *,
    relax: bool,
    time_limit: float,
    gap: float,
) -> tuple[float, dict[Any, Any], dict[Any, Any], dict[int, int]]:
    """Solve the restricted master.

    Returns (objective, resource duals or chosen columns, convexity duals or MIP status,
    orders the LP assigned integrally).

    HiGHS gets the model as arrays through highspy (building 40,000 PuLP variables would cost
    more than solving); CBC goes through PuLP.
    """
    if backend == "highs":
        return _solve_master_highspy(
            master,
            pools,
            contested,
            capacity,
            fixed_load,
            penalty,
            relax=relax,
            time_limit=time_limit,
            gap=gap,
        )
    pulp_master = _build_pulp_master(
        master, pools, contested, capacity, fixed_load, penalty, relax=relax
    )
    problem = pulp_master.problem
    problem.solve(pulp_solver(backend, time_limit, None if relax else gap))
    value = pulp.value(problem.objective) or 0.0
    if relax:
        duals, conv, integral = _pulp_master_duals(pulp_master, master, pools)
        return value, duals, conv, integral
    chosen = _pulp_master_chosen(pulp_master, master, pools)
    info = {"status": pulp.LpStatus[problem.status], "sol_status": problem.sol_status}
    return value, chosen, info, {}


@dataclass
class _PulpMaster:
    problem: pulp.LpProblem
    lam: dict[tuple[int, int], pulp.LpVariable]  # column j of order o
    skip: dict[int, pulp.LpVariable]  # order o unrouted
    names: dict[Resource, str]  # constraint name of each contested resource row


def _build_pulp_master(
    master: list[int],
    pools: list[list[_Column]],
    contested: set[Resource],
    capacity: Callable[[Resource], float],
    fixed_load: dict[Resource, float],
    penalty: list[float],
    *,
    relax: bool,
) -> _PulpMaster:
    """The restricted master as a PuLP model: one convexity row per order (a column or
    unrouted), one capacity row per contested resource some column uses."""
    problem = pulp.LpProblem("batch_master", pulp.LpMinimize)
    category = pulp.LpContinuous if relax else pulp.LpBinary
    lam: dict[tuple[int, int], pulp.LpVariable] = {}
    skip: dict[int, pulp.LpVariable] = {}
    objective_terms = []
    rows: dict[Resource, list[pulp.LpAffineExpression]] = {r: [] for r in contested}
    convexity = {}
    for o in master:
        skip[o] = pulp.LpVariable(f"u{o}", lowBound=0, upBound=1, cat=category)
        objective_terms.append(penalty[o] * skip[o])
        for j, column in enumerate(pools[o]):
            var = pulp.LpVariable(f"l{o}_{j}", lowBound=0, upBound=1, cat=category)
            lam[(o, j)] = var
            objective_terms.append(column.objective * var)
            for key, amount in column.usage.items():
                if key in rows:
                    rows[key].append(amount * var)
    problem += pulp.lpSum(objective_terms)
    for o in master:
        convexity[o] = pulp.lpSum(lam[(o, j)] for j in range(len(pools[o]))) + skip[o] == 1
        problem += convexity[o], f"conv{o}"
    names = {}
    for i, (key, terms) in enumerate(rows.items()):
        if terms:
            names[key] = f"r{i}"
            problem += pulp.lpSum(terms) <= capacity(key) - fixed_load.get(key, 0), names[key]
    return _PulpMaster(problem=problem, lam=lam, skip=skip, names=names)


def _pulp_master_duals(
    pulp_master: _PulpMaster, master: list[int], pools: list[list[_Column]]
) -> tuple[dict[Resource, float], dict[int, float], dict[int, int]]:
    """Resource duals, convexity duals and integrally assigned orders of the solved LP."""
    problem, lam, skip = pulp_master.problem, pulp_master.lam, pulp_master.skip
    duals = {key: problem.constraints[name].pi or 0.0 for key, name in pulp_master.names.items()}
    conv = {o: problem.constraints[f"conv{o}"].pi or 0.0 for o in master}
    integral: dict[int, int] = {}
    for o in master:
        if (skip[o].value() or 0) > 1 - 1e-6:
            integral[o] = -1
        for j in range(len(pools[o])):
            if (lam[(o, j)].value() or 0) > 1 - 1e-6:
                integral[o] = j
    return duals, conv, integral


def _pulp_master_chosen(
    pulp_master: _PulpMaster, master: list[int], pools: list[list[_Column]]
) -> dict[int, int]:
    """The column each order takes in the solved MIP (-1: unrouted)."""
    chosen = {}
    for o in master:
        chosen[o] = -1
        for j in range(len(pools[o])):
            if (pulp_master.lam[(o, j)].value() or 0) > 0.5:
                chosen[o] = j
    return chosen


def _solve_master_highspy(
    master: list[int],
    pools: list[list[_Column]],
    contested: set[Resource],
    capacity: Callable[[Resource], float],
    fixed_load: dict[Resource, float],
    penalty: list[float],
    *,
    relax: bool,
    time_limit: float,
    gap: float,
) -> tuple[float, dict[Any, Any], dict[Any, Any], dict[int, int]]:
    import highspy
    import numpy as np

    row_of = {o: i for i, o in enumerate(master)}
    resources = sorted(contested)
    resource_row = {r: len(master) + i for i, r in enumerate(resources)}
    cost: list[float] = []
    starts: list[int] = []
    index: list[int] = []
    value: list[float] = []
    owner: list[tuple[int, int]] = []
    for o in master:
        starts.append(len(index))  # the "unrouted" column of order o
        index.append(row_of[o])
        value.append(1.0)
        cost.append(penalty[o])
        owner.append((o, -1))
        for j, column in enumerate(pools[o]):
            starts.append(len(index))
            index.append(row_of[o])
            value.append(1.0)
            for key, amount in column.usage.items():
                row = resource_row.get(key)
                if row is not None:
                    index.append(row)
                    value.append(float(amount))
            cost.append(column.objective)
            owner.append((o, j))
    n_cols = len(cost)
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = len(master) + len(resources)
    lp.col_cost_ = np.array(cost)
    lp.col_lower_ = np.zeros(n_cols)
    lp.col_upper_ = np.ones(n_cols)
    lp.row_lower_ = np.array([1.0] * len(master) + [-highspy.kHighsInf] * len(resources))
    lp.row_upper_ = np.array(
        [1.0] * len(master) + [capacity(r) - fixed_load.get(r, 0) for r in resources]
    )
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.array([*starts, len(index)], dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value)
    if not relax:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n_cols
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(gap))
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    solution = h.getSolution()
    objective = h.getInfo().objective_function_value
    if relax:
        duals = {r: solution.row_dual[resource_row[r]] for r in resources}
        conv = {o: solution.row_dual[row_of[o]] for o in master}
        integral = {o: j for col, (o, j) in enumerate(owner) if solution.col_value[col] > 1 - 1e-6}
        return objective, duals, conv, integral
    chosen = dict.fromkeys(master, -1)
    has_solution = h.getInfo().primal_solution_status == 2
    if has_solution:
        for col, (o, j) in enumerate(owner):
            if j >= 0 and solution.col_value[col] > 0.5:
                chosen[o] = j
    optimal = status == highspy.HighsModelStatus.kOptimal
    info = {
        "status": "Optimal" if optimal else ("Not Solved" if not has_solution else "Feasible"),
        "sol_status": pulp.LpSolutionOptimal if optimal else pulp.LpSolutionIntegerFeasible,
    }
    return objective, chosen, info, {}


@dataclass(frozen=True)
class AssignmentOutcome:
    objective: float
    assignment: tuple[int, ...]  # agent per job (-1: unassigned)
    optimal: bool
    seconds: float


def solve_assignment(
    costs: Sequence[Sequence[float]],
    usage: Sequence[Sequence[float]],
    capacities: Sequence[float],
    *,
    solver: str = "auto",
    time_limit_seconds: float = 60.0,
    gap: float = 1e-6,
) -> AssignmentOutcome:
    """Solve a generalised assignment problem with the batch master (same model, same solvers).

    ``costs[i][j]`` / ``usage[i][j]``: cost and resource use of giving job j to agent i;
    ``capacities[i]``: agent i's resource. Minimises; negate costs to maximise. This is how the
    OR-Library GAP instances check the master MILP and the solver choice
    (``bench/routing_gap.py``).
    """
    started = time.perf_counter()
    agents, jobs = len(costs), len(costs[0])
    pools = [
        [
            _Column({}, float(costs[i][j]), {("units", f"a{i}"): float(usage[i][j])})
            for i in range(agents)
        ]
        for j in range(jobs)
    ]
    contested: set[Resource] = {("units", f"a{i}") for i in range(agents)}
    penalty = [1e6] * jobs
    cap: dict[Resource, float] = {("units", f"a{i}"): float(capacities[i]) for i in range(agents)}
    value, chosen, info, _ = _solve_master(
        list(range(jobs)),
        pools,
        contested,
        cap.__getitem__,
        {},
        penalty,
        resolve_solver(solver),
        relax=False,
        time_limit=time_limit_seconds,
        gap=gap,
    )
    return AssignmentOutcome(
        objective=value,
        assignment=tuple(chosen[j] for j in range(jobs)),
        optimal=info["status"] == "Optimal" and info["sol_status"] == pulp.LpSolutionOptimal,
        seconds=time.perf_counter() - started,
    )
