"""The assignment MILP for one order, built with PuLP (CBC or HiGHS) or directly in highspy.

Model (lines l, candidate nodes k):

    minimise   sum_lk c[l][k] x[l][k] + sum_k F[k] y[k]
    subject to sum_k x[l][k] = q[l]                 every unit of every line is shipped
               x[l][k] <= u[l][k] y[k]             stock (FEFO-usable units), cold chain, and
                                                   "no shipment without paying for it"
               sum_l x[l][k] <= cap[k] y[k]        remaining daily capacity
               x >= 0, y binary

Paused nodes, non-serving nodes and non-cold-chain nodes for chilled/frozen lines never get a
variable (``u = 0``), so those hard rules hold by construction. ``F`` carries the per-shipment
factors, so a split happens only when the per-unit savings beat the extra fixed cost. With y
fixed the rest is a flow problem with integer data, so simplex vertices are integral; x stays
continuous and the solution is rounded and re-checked.

``solve_milp`` picks the backend: "highs" builds the model straight into highspy's arrays (no
PuLP objects: about 10x faster to build for small models), "cbc" and "pulp-highs" go through
PuLP (``PULP_CBC_CMD`` / ``pulp.HiGHS``), which is what the batch master and the GAP bench use.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pulp

from routing.engine.factors import OrderModel
from routing.engine.plan import Plan, plan_objective, plan_violations

try:  # HiGHS in-process is optional: CBC (bundled with PuLP) is the default fallback.
    import highspy
except ImportError:  # pragma: no cover - exercised only where highspy is absent
    highspy = None  # type: ignore[assignment]  # absent optional module; see highs_available()


_local = threading.local()


def _highs_instance() -> highspy.Highs:
    """One reusable Highs object per thread: creating one costs more than solving a small MILP."""
    h = getattr(_local, "highs", None)
    if h is None:
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("mip_rel_gap", 1e-9)
        h.setOptionValue("threads", 1)
        _local.highs = h
    else:
        h.clearModel()
    return h


def highs_available() -> bool:
    return highspy is not None


def resolve_solver(name: str) -> str:
    """Map "auto" to "highs" when highspy is importable, else "cbc"."""
    if name == "auto":
        return "highs" if highs_available() else "cbc"
    if name in ("highs", "pulp-highs") and not highs_available():
        return "cbc"
    return name


@dataclass(frozen=True)
class MilpOutcome:
    """What a MILP run gave: a plan (or None), whether it is optimal, and the solver status."""

    plan: Plan | None
    status: str  # "optimal", "feasible" (time limit), "infeasible", "error"


def _columns(
    model: OrderModel, node_subset: list[int] | None
) -> tuple[list[int], list[tuple[int, int]]]:
    nodes = list(range(len(model.nodes))) if node_subset is None else node_subset
    pairs = [(li, k) for k in nodes for li in range(len(model.lines)) if model.upper[li][k] > 0]
    return nodes, pairs


def _round_plan(
    model: OrderModel, values: dict[tuple[int, int], float], method: str, optimal: bool
) -> Plan | None:
    quantities = {key: round(v) for key, v in values.items() if v > 1e-6}
    quantities = {key: q for key, q in quantities.items() if q > 0}
    if plan_violations(model, quantities):
        return None
    return Plan(quantities, plan_objective(model, quantities), method, optimal=optimal)


def solve_milp(
    model: OrderModel,
    *,
    solver: str = "auto",
    time_limit_seconds: float = 2.0,
    node_subset: list[int] | None = None,
) -> MilpOutcome:
    """Solve the order's MILP (optionally over a subset of its candidate nodes)."""
    backend = resolve_solver(solver)
    if backend == "highs":
        return _solve_highspy(model, time_limit_seconds, node_subset)
    return _solve_pulp(model, backend, time_limit_seconds, node_subset)


def build_pulp_problem(
    model: OrderModel, node_subset: list[int] | None = None
) -> tuple[pulp.LpProblem, dict[tuple[int, int], pulp.LpVariable], dict[int, pulp.LpVariable]]:
    """The MILP above as a PuLP problem, with its x and y variables."""
    nodes, pairs = _columns(model, node_subset)
    problem = pulp.LpProblem(f"route_{model.order.order_id}", pulp.LpMinimize)
    x = {(li, k): pulp.LpVariable(f"x_{li}_{k}", lowBound=0) for li, k in pairs}
    y = {k: pulp.LpVariable(f"y_{k}", cat=pulp.LpBinary) for k in nodes}
    problem += (
        pulp.lpSum(model.unit_cost[li][k] * var for (li, k), var in x.items())
        + pulp.lpSum(model.fixed_cost[k] * var for k, var in y.items())
        + model.offset
    )
    for li, line in enumerate(model.lines):
        problem += pulp.lpSum(x[(li, k)] for k in nodes if (li, k) in x) == line.quantity, f"d{li}"
    for (li, k), var in x.items():
        problem += var <= model.upper[li][k] * y[k], f"u{li}_{k}"
    units = sum(line.quantity for line in model.lines)
    for k in nodes:
        if model.capacity_units[k] < units:
            problem += (
                pulp.lpSum(var for (_, k2), var in x.items() if k2 == k)
                <= model.capacity_units[k] * y[k],
                f"c{k}",
            )
    return problem, x, y


def pulp_solver(backend: str, time_limit_seconds: float, gap: float | None = None) -> pulp.LpSolver:
    """A PuLP solver object: CBC by default, HiGHS in-process via ``pulp.HiGHS``."""
    options = {"msg": False, "timeLimit": time_limit_seconds}
    if gap is not None:
        options["gapRel"] = gap
    if backend in ("highs", "pulp-highs"):
        return pulp.HiGHS(**options)
    return pulp.PULP_CBC_CMD(**options)


def _solve_pulp(
    model: OrderModel, backend: str, time_limit_seconds: float, node_subset: list[int] | None
) -> MilpOutcome:
    if any(not any(row[k] for k in (node_subset or range(len(row)))) for row in model.upper):
        return MilpOutcome(None, "infeasible")
    problem, x, _ = build_pulp_problem(model, node_subset)
    method = "milp:cbc" if backend == "cbc" else "milp:highs"
    try:
        problem.solve(pulp_solver(backend, time_limit_seconds))
    except pulp.PulpSolverError:
        return MilpOutcome(None, "error")
    status = pulp.LpStatus[problem.status]
    if status == "Infeasible":
        return MilpOutcome(None, "infeasible")
    if problem.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        return MilpOutcome(None, "error" if status != "Not Solved" else "timeout")
    optimal = problem.sol_status == pulp.LpSolutionOptimal
    plan = _round_plan(model, {key: var.value() or 0.0 for key, var in x.items()}, method, optimal)
    return MilpOutcome(plan, "optimal" if optimal else "feasible")


def _solve_highspy(
    model: OrderModel, time_limit_seconds: float, node_subset: list[int] | None
) -> MilpOutcome:
    import numpy as np  # highspy depends on numpy, so it is there whenever highspy is

    nodes, pairs = _columns(model, node_subset)
    if any(not any(li == l2 for l2, _ in pairs) for li in range(len(model.lines))):
        return MilpOutcome(None, "infeasible")
    n_x = len(pairs)
    y_index = {k: n_x + i for i, k in enumerate(nodes)}
    n_cols = n_x + len(nodes)
    cost = [model.unit_cost[li][k] for li, k in pairs] + [model.fixed_cost[k] for k in nodes]
    upper = [float(model.upper[li][k]) for li, k in pairs] + [1.0] * len(nodes)

    starts: list[int] = []
    index: list[int] = []
    value: list[float] = []
    lower_rows: list[float] = []
    upper_rows: list[float] = []
    inf = highspy.kHighsInf
    for li, line in enumerate(model.lines):
        starts.append(len(index))
        for j, (l2, _) in enumerate(pairs):
            if l2 == li:
                index.append(j)
                value.append(1.0)
        lower_rows.append(float(line.quantity))
        upper_rows.append(float(line.quantity))
    for j, (li, k) in enumerate(pairs):
        starts.append(len(index))
        index += [j, y_index[k]]
        value += [1.0, -float(model.upper[li][k])]
        lower_rows.append(-inf)
        upper_rows.append(0.0)
    units = sum(line.quantity for line in model.lines)
    for k in nodes:
        if model.capacity_units[k] < units:
            starts.append(len(index))
            for j, (_, k2) in enumerate(pairs):
                if k2 == k:
                    index.append(j)
                    value.append(1.0)
            index.append(y_index[k])
            value.append(-float(model.capacity_units[k]))
            lower_rows.append(-inf)
            upper_rows.append(0.0)

    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = len(lower_rows)
    lp.col_cost_ = np.array(cost)
    lp.col_lower_ = np.zeros(n_cols)
    lp.col_upper_ = np.array(upper)
    lp.row_lower_ = np.array(lower_rows)
    lp.row_upper_ = np.array(upper_rows)
    lp.offset_ = model.offset
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.array([*starts, len(index)], dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value)
    lp.integrality_ = [highspy.HighsVarType.kContinuous] * n_x + [
        highspy.HighsVarType.kInteger
    ] * len(nodes)

    h = _highs_instance()
    h.setOptionValue("time_limit", float(time_limit_seconds))
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return MilpOutcome(None, "infeasible")
    info = h.getInfo()
    if info.primal_solution_status != 2:  # 2 = feasible point available
        return MilpOutcome(
            None, "timeout" if status == highspy.HighsModelStatus.kTimeLimit else "error"
        )
    optimal = status == highspy.HighsModelStatus.kOptimal
    col_value = h.getSolution().col_value
    values = {pair: col_value[j] for j, pair in enumerate(pairs)}
    plan = _round_plan(model, values, "milp:highs", optimal)
    return MilpOutcome(plan, "optimal" if optimal else "feasible")
