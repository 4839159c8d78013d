"""Service plans: choose an order's template and lay it out as steps.

A plan is laid out once per order (idempotent: a second call returns the existing tracking).
Deadlines are cumulative along the DAG: a root step is due its atom's SLA after the plan starts,
every other step its SLA after the latest deadline of its upstream steps. So a late upstream
eats into its downstream's budget, which is what the SLA root-cause report traces back.
"""

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from oms.models import Order
from oms.services.orders import order_note
from oms.stored_text import message
from orchestration import registry
from orchestration.dag import DagError, dag_check, descendants, parse_keys, topological_order
from orchestration.exceptions import TemplateInvalid
from orchestration.models import OrderTracking, ServiceStep, ServiceTemplate, StepStatus
from orchestration.timeline_text import atom_name

ACTOR = "orchestration"


def new_token() -> str:
    """192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def template_problems(*, steps: Sequence[tuple[str, str, str | None]]) -> list[str]:
    """Every reason a template's steps do not form a runnable DAG.

    ``steps`` is ``(key, depends_on text, handler code or None for an unknown atom)``.
    """
    problems: list[str] = []
    graph: dict[str, list[str]] = {}
    for key, depends_on, handler in steps:
        if key in graph:
            problems.append(f"step key '{key}' is used twice")
        graph[key] = parse_keys(depends_on)
        if handler is None:
            problems.append(f"step '{key}' has no atom")
        elif not registry.is_registered(handler):
            problems.append(f"step '{key}' uses an atom with unknown handler '{handler}'")
    try:
        dag_check(graph)
    except DagError as exc:
        problems.extend(exc.problems)
    return problems


def template_validate(*, template: ServiceTemplate) -> None:
    rows = [(s.key, s.depends_on, s.atom.handler) for s in template.steps.select_related("atom")]
    problems = template_problems(steps=rows)
    if not rows:
        problems.append("the template has no steps")
    if problems:
        raise TemplateInvalid("; ".join(problems), problems=problems)


def template_for_order(*, order: Order) -> ServiceTemplate | None:
    """The enabled template whose rule matches the order: highest priority, then most specific."""
    lines = list(order.lines.select_related("product"))
    categories = {line.product.category for line in lines}
    temperatures = {line.product.temperature_class for line in lines}
    channel_kind = order.channel.kind
    best, best_rank = None, None
    for template in ServiceTemplate.objects.filter(enabled=True).order_by("-priority", "pk"):
        if template.merchant_id and template.merchant_id != order.merchant_id:
            continue
        if template.match_category and template.match_category not in categories:
            continue
        if (
            template.match_temperature_class
            and template.match_temperature_class not in temperatures
        ):
            continue
        if template.match_channel_kind and template.match_channel_kind != channel_kind:
            continue
        specificity = sum(
            bool(v)
            for v in (
                template.merchant_id,
                template.match_category,
                template.match_temperature_class,
                template.match_channel_kind,
            )
        )
        rank = (template.priority, specificity)
        if best_rank is None or rank > best_rank:
            best, best_rank = template, rank
    return best


def _deadlines(
    graph: dict[str, list[str]], sla: dict[str, timedelta], start: datetime
) -> dict[str, datetime]:
    due: dict[str, datetime] = {}
    for key in topological_order(graph):
        base = max((due[dep] for dep in graph[key]), default=start)
        due[key] = base + sla[key]
    return due


@transaction.atomic
def plan_instantiate(
    *, order: Order, template: ServiceTemplate | None = None, now: datetime | None = None
) -> OrderTracking | None:
    """Lay out the order's services as steps and start the ones with no upstream.

    Returns None (and writes nothing) when no template matches. Safe to call twice.
    """
    existing = OrderTracking.objects.filter(order=order).first()
    if existing and order.service_steps.exists():
        return existing
    template = template or template_for_order(order=order)
    if template is None:
        return None
    template_validate(template=template)
    now = now or timezone.now()
    rows = list(template.steps.select_related("atom").order_by("position", "pk"))
    graph = {row.key: parse_keys(row.depends_on) for row in rows}
    by_key = {row.key: row for row in rows}
    order_keys = topological_order(graph)
    due = _deadlines(graph, {k: by_key[k].atom.sla for k in graph}, now)
    tracking = existing or OrderTracking.objects.create(
        order=order, token=new_token(), template=template
    )
    if existing and existing.template_id != template.pk:
        existing.template = template
        existing.save(update_fields=["template"])
    steps = ServiceStep.objects.bulk_create(
        ServiceStep(
            order=order,
            atom=by_key[key].atom,
            key=key,
            position=position,
            parameters={**by_key[key].atom.parameters, **by_key[key].parameters},
            max_attempts=by_key[key].atom.max_attempts,
            deadline=due[key],
        )
        for position, key in enumerate(order_keys)
    )
    step_by_key = {step.key: step for step in steps}
    Through = ServiceStep.upstream.through
    Through.objects.bulk_create(
        Through(from_servicestep_id=step_by_key[key].pk, to_servicestep_id=step_by_key[dep].pk)
        for key in order_keys
        for dep in graph[key]
    )
    order_note(
        order=order,
        actor=ACTOR,
        kind="services_planned",
        message=message(
            "services.planned",
            english=f"Services planned from template {template.name}: "
            + ", ".join(by_key[k].atom.label_en for k in order_keys),
            template=template.name,
            steps=[atom_name(by_key[k].atom) for k in order_keys],
        ),
        data={"template": template.code, "steps": order_keys},
    )
    from orchestration.services.steps import steps_advance

    steps_advance(order_id=order.pk, now=now)
    return tracking


PLANNED_STATUSES = ("routed", "released", "shipped")


def plans_sweep(
    *,
    now: datetime | None = None,
    min_age: timedelta = timedelta(minutes=2),
    window: timedelta = timedelta(hours=6),
    limit: int = 200,
) -> int:
    """Lay out plans missed after routing (receiver failed, worker died); returns how many.

    Looks only at orders routed in the last ``window`` (by last update) and not in the last
    ``min_age``, so the normal after-commit path gets its chance first.
    """
    now = now or timezone.now()
    candidates = (
        Order.objects.filter(
            status__in=PLANNED_STATUSES,
            updated_at__lt=now - min_age,
            updated_at__gte=now - window,
            tracking__isnull=True,
        )
        .select_related("channel")
        .order_by("updated_at")[:limit]
    )
    laid_out = 0
    for order in candidates:
        if plan_instantiate(order=order):
            laid_out += 1
    return laid_out


def step_graph(order_id: int) -> dict[str, list[str]]:
    """The order's steps as ``{key: [upstream keys]}``, in plan order."""
    graph: dict[str, list[str]] = {}
    for key in (
        ServiceStep.objects.filter(order_id=order_id)
        .order_by("position")
        .values_list("key", flat=True)
    ):
        graph[key] = []
    Through = ServiceStep.upstream.through
    for down, up in Through.objects.filter(from_servicestep__order_id=order_id).values_list(
        "from_servicestep__key", "to_servicestep__key"
    ):
        graph[down].append(up)
    return graph


def deadlines_shift(*, step: ServiceStep, not_before: datetime) -> list[str]:
    """Move a step's deadline to at least ``not_before`` and re-plan its downstream deadlines.

    Only the step and its descendants change; returns the keys whose deadline moved.
    """
    if step.deadline and step.deadline >= not_before:
        return []
    graph = step_graph(step.order_id)
    affected = {step.key} | descendants(graph, step.key)
    steps = {
        s.key: s
        for s in ServiceStep.objects.select_for_update()
        .filter(order_id=step.order_id)
        .select_related("atom")
        .order_by("pk")
    }
    moved: list[str] = []
    for key in topological_order(graph):
        if key not in affected:
            continue
        row = steps[key]
        if key == step.key:
            new_due = max(not_before, row.deadline or not_before)
        else:
            upstream_deadlines = [steps[dep].deadline for dep in graph[key]]
            base = max((d for d in upstream_deadlines if d is not None), default=None)
            new_due = (
                max(row.deadline, base + row.atom.sla) if base and row.deadline else row.deadline
            )
        if (
            new_due
            and row.deadline != new_due
            and row.status
            in (
                StepStatus.WAITING,
                StepStatus.READY,
                StepStatus.RUNNING,
            )
        ):
            row.deadline = new_due
            row.save(update_fields=["deadline", "updated_at"])
            moved.append(key)
    return moved


@transaction.atomic
def tracking_revoke(*, tracking: OrderTracking, actor: str, reissue: bool = True) -> OrderTracking:
    """Revoke a status-page link; with ``reissue`` the order gets a new token at once.

    The old token stops working immediately: reissuing replaces it with a fresh random one
    (never reused), revoking alone marks the link dead until it is reissued.
    """
    locked = OrderTracking.objects.select_for_update().get(pk=tracking.pk)
    if reissue:
        locked.token = new_token()
        locked.revoked_at = None
    else:
        locked.revoked_at = timezone.now()
    locked.save(update_fields=["token", "revoked_at"])
    order_note(
        order=locked.order,
        actor=actor,
        kind="tracking_link",
        message=message("tracking.reissued" if reissue else "tracking.revoked"),
    )
    return locked
