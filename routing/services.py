"""Route orders with the optimizer and apply its decisions through ``oms`` services.

``order_route`` answers one order online; ``orders_route_batch`` routes the pending orders of a
merchant jointly so scarce stock and capacity go where they are worth most. Both store a
``RoutingDecision`` with its explanation, ask ``oms`` to reserve the stock (which can still
refuse when a concurrent order took it first: then the order is planned again on fresh stock)
and move the order to ``routed`` or, with the reason, to ``needs_attention``.

Fusion: before planning an order alone, ``order_route`` asks the customer master for the orders
of the same customer that can ship with it (``customers.selectors.merge_companions``: same
delivery address, within the merchant's merge window, not yet released). If there are any, the
orders are planned as one (all lines, the earliest promise, the stock and shipment slots the
routed ones hold counted as free), stored as one decision and applied by
``oms.services.orders.orders_consolidate`` as one shipment per warehouse. When the combined plan
is unroutable or can no longer be reserved, the order is routed alone, as before, and its
timeline says why. Batch routing does not merge.
"""

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, replace

from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone, translation

from customers.selectors import delivery_address_key, merge_companions, merge_window_minutes
from oms.exceptions import IllegalTransition, InsufficientStock
from oms.models import (
    Order,
    OrderLine,
    OrderStatus,
    Reservation,
    ReservationStatus,
    Shipment,
    ShipmentStatus,
    Warehouse,
)
from oms.selectors import local_midnight
from oms.services.inventory import Allocation
from oms.services.orders import (
    order_allocate,
    order_note,
    order_transition,
    orders_consolidate,
)
from oms.stored_text import Message, message
from routing import context
from routing.carriers import service_names, usual_carrier
from routing.engine import problem as p
from routing.engine.batch import BatchOptions, route_batch
from routing.engine.explain import explain
from routing.engine.plan import Plan
from routing.engine.problem import RoutingResult, SolverOptions
from routing.engine.router import Decision, plan_for_policy, route_order
from routing.explaining import facts_of, merchant_tz, merge_lead, render, stored_facts
from routing.holds import holds_consume
from routing.models import Lane, RoutingDecision, RoutingProfile
from routing.signals import before_route

logger = logging.getLogger(__name__)
ACTOR = "system:routing"
ROUTABLE = (OrderStatus.CREATED, OrderStatus.NEEDS_ATTENTION)
MAX_ATTEMPTS = 3


def _orders(ids) -> list[Order]:
    return list(
        Order.objects.filter(pk__in=ids)
        .select_related("customer", "channel", "merchant")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.select_related("product")))
    )


def _store(
    order: Order,
    decision: Decision,
    *,
    profile: RoutingProfile | None,
    outcome: str,
    duration_ms: float,
    mode: str,
    reason: str = "",
    lead: dict | None = None,
) -> RoutingDecision:
    """Store the decision with the facts of its explanation and, for search and the timeline,
    its sentences in English (pages render the facts in the reader's language)."""
    result, explanation = decision.result, decision.explanation
    facts = facts_of(explanation, weights=profile.weights_percent() if profile else None)
    facts["lead"] = lead
    with translation.override("en"):
        sentences = render(facts, tz=merchant_tz(order.merchant), outcome=outcome)
    return RoutingDecision.objects.create(
        order=order,
        outcome=outcome,
        profile=profile,
        profile_name=profile.name if profile else "built-in",
        profile_version=profile.version if profile else 0,
        method=result.method,
        optimal=result.optimal,
        objective=result.objective,
        cost=round(result.cost, 2),
        duration_ms=duration_ms,
        mode=mode,
        shipments=[
            {
                "warehouse": s.node_code,
                "carrier_service": s.carrier_service,
                "carrier": s.carrier,
                "weight_kg": s.weight_kg,
                "cost": round(s.cost, 2),
                "transit_hours": s.transit_hours,
                "lines": [{"sku": line.sku, "quantity": line.quantity} for line in s.lines],
            }
            for s in result.shipments
        ],
        winner=asdict(explanation.winner) if explanation.winner else {},
        runners_up=[asdict(view) for view in explanation.runners_up],
        rejected=facts["rejected"],
        explanation="\n".join(sentences),
        reason=(reason or result.reason)[:300],
        notes=list(result.notes),
        facts=stored_facts(facts),
    )


def _allocations(
    order: Order, result: RoutingResult, *, together: Sequence[Order] = ()
) -> tuple[list[Allocation], dict[int, str]]:
    """The plan as quantities per order line and warehouse, and the carrier per warehouse.

    With ``together`` (a merged fulfilment, earliest order first) the lines of all those orders
    are filled in turn, so each order's reservations stay on its own lines.
    """
    codes = {s.node_code for s in result.shipments}
    warehouses = {
        w.code: w.pk
        for w in Warehouse.objects.filter(merchant_id=order.merchant_id, code__in=codes)
    }
    lines_by_sku: dict[str, list[OrderLine]] = {}
    for member in together or [order]:
        for line in member.lines.all():
            lines_by_sku.setdefault(line.product.sku, []).append(line)
    allocations: list[Allocation] = []
    for shipment in result.shipments:
        for shipped in shipment.lines:
            remaining = shipped.quantity
            for line in lines_by_sku[shipped.sku]:  # one SKU on several lines: fill them in turn
                already = sum(a.quantity for a in allocations if a.line_id == line.pk)
                take = min(remaining, line.quantity - already)
                if take > 0:
                    allocations.append(Allocation(line.pk, warehouses[shipment.node_code], take))
                    remaining -= take
    carriers = dict(
        Lane.objects.filter(warehouse_id__in=warehouses.values(), region=order.region).values_list(
            "warehouse_id", "carrier"
        )
    )
    # The carrier service the plan chose wins over the lane's label; its name is what the
    # parcel shows and what a service's daily capacity is counted by (``routing.carriers``).
    names = service_names(order.merchant_id)
    for shipment in result.shipments:
        if shipment.carrier_service:
            carriers[warehouses[shipment.node_code]] = names.get(
                shipment.carrier_service, shipment.carrier_service
            )
    return allocations, carriers


def _apply(
    order: Order,
    decision: Decision,
    *,
    profile: RoutingProfile | None,
    duration_ms: float,
    mode: str,
) -> tuple[Order, bool]:
    """Store the decision and apply it; returns (order, True) unless stock moved underneath."""
    result = decision.result
    if not result.routed:
        with transaction.atomic():
            stored = _store(
                order,
                decision,
                profile=profile,
                outcome=RoutingDecision.Outcome.UNROUTABLE,
                duration_ms=duration_ms,
                mode=mode,
            )
            # The order cannot use what its promise held: let others have it.
            holds_consume(merchant_id=order.merchant_id, external_ids=[order.external_id])
            current = Order.objects.select_for_update().get(pk=order.pk)
            if current.status == OrderStatus.CREATED:
                order_transition(
                    order=current,
                    to_status=OrderStatus.NEEDS_ATTENTION,
                    actor=ACTOR,
                    reason=message(
                        "routing.unroutable",
                        english=f"Unroutable: {result.reason}"[:300],
                        decision=stored.pk,
                    ),
                    data={"decision": stored.pk},
                )
        return current, True
    allocations, carriers = _allocations(order, result)
    try:
        with transaction.atomic():
            stored = _store(
                order,
                decision,
                profile=profile,
                outcome=RoutingDecision.Outcome.ROUTED,
                duration_ms=duration_ms,
                mode=mode,
            )
            sentences = stored.explanation.splitlines()
            routed = order_allocate(
                order=order,
                allocations=allocations,
                actor=ACTOR,
                reason=message(
                    "routing.explained",
                    english=(sentences[0] if sentences else "Routed.")[:300],
                    decision=stored.pk,
                    part="head",
                ),
                carrier_by_warehouse=carriers,
                data={"decision": stored.pk, "method": result.method},
            )
            # Its reservations and parcels now hold what its promise held.
            holds_consume(merchant_id=order.merchant_id, external_ids=[order.external_id])
            if len(sentences) > 1:
                order_note(
                    order=routed,
                    actor=ACTOR,
                    kind="routing",
                    message=message(
                        "routing.explained",
                        english=" ".join(sentences[1:]),
                        decision=stored.pk,
                        part="rest",
                    ),
                    data={"decision": stored.pk},
                )
        return routed, True
    except InsufficientStock as exc:
        logger.info(
            "order %s: stock moved while routing (%s); planning again", order.pk, exc.message
        )
        return order, False
    except IllegalTransition:
        return Order.objects.get(pk=order.pk), True


def order_route(*, order_id: int) -> Order | None:
    """Route one order if it still waits for routing; safe to call twice.

    Merged with the customer's other orders when they can ship together (see the module
    docstring); else, or when that fails, alone.
    """
    before_route.send(sender=Order, order_id=order_id)
    for attempt in range(MAX_ATTEMPTS):
        orders = _orders([order_id])
        if not orders or orders[0].status not in ROUTABLE:
            return orders[0] if orders else None
        order = orders[0]
        if attempt == 0:
            merged = _route_merged(order)
            if merged is not None:
                return merged
        started = time.perf_counter()
        profile = context.active_profile(merchant_id=order.merchant_id)
        engine_order = with_preference(context.engine_order(order), order, profile)
        ctx = context.routing_context(
            merchant_id=order.merchant_id,
            skus={line.sku for line in engine_order.lines},
            destination_region=order.region,
            profile=profile,
            destination_province=order.province,
            own_holds=[order.external_id],
            temperatures={line.sku: line.temperature for line in engine_order.lines},
        )
        decision = route_order(engine_order, ctx)
        duration_ms = (time.perf_counter() - started) * 1000
        order, settled = _apply(
            order, decision, profile=profile, duration_ms=duration_ms, mode="single"
        )
        if settled:
            return order
    return Order.objects.get(pk=order_id)


def with_preference(engine_order: p.Order, order: Order, profile: RoutingProfile | None) -> p.Order:
    """``engine_order`` with the customer's usual carrier and what the profile lets it cost."""
    premium = float(profile.carrier_preference_premium) if profile is not None else 0.0
    if premium <= 0:
        return engine_order
    carrier = usual_carrier(order)
    if not carrier:
        return engine_order
    return replace(engine_order, preferred_carrier=carrier, preference_premium=premium)


def _merged_engine_order(orders: Sequence[Order], trigger: Order) -> p.Order:
    """One engine order for several: all their lines, the earliest promise, VIP if any is."""
    now = timezone.now()
    parts = [context.engine_order(order, now=now) for order in orders]
    lines: dict[str, p.OrderLine] = {}
    for part in parts:
        for line in part.lines:
            known = lines.get(line.sku)
            lines[line.sku] = (
                replace(known, quantity=known.quantity + line.quantity) if known else line
            )
    base = parts[[o.pk for o in orders].index(trigger.pk)]
    return replace(
        base,
        lines=tuple(lines.values()),
        promised_hours=min(part.promised_hours for part in parts),
        vip=any(part.vip for part in parts),
    )


def _counting_held(ctx: p.RoutingContext, orders: Sequence[Order]) -> p.RoutingContext:
    """The context with what the routed orders hold counted as free again.

    Their reservations and pending shipments are given back when the merge is applied, so the
    combined plan may keep them where they are; without this a merge could look impossible
    (or be sent elsewhere) only because of the order's own earlier reservation.
    """
    routed = [order.pk for order in orders if order.status == OrderStatus.ROUTED]
    if not routed:
        return ctx
    midnight = local_midnight(orders[0].merchant_id, ctx.now or timezone.now())
    today = midnight.date()
    held: dict[str, list[p.StockBatch]] = defaultdict(list)
    for code, sku, quantity, expiry in Reservation.objects.filter(
        line__order_id__in=routed, status=ReservationStatus.ACTIVE
    ).values_list(
        "batch__warehouse__code", "batch__product__sku", "quantity", "batch__expiry_date"
    ):
        days = (expiry - today).days if expiry else None
        held[code].append(p.StockBatch(sku=sku, quantity=quantity, expires_in_days=days))
    slots = Counter(
        Shipment.objects.filter(
            order_id__in=routed, status=ShipmentStatus.PENDING, created_at__gte=midnight
        ).values_list("warehouse__code", flat=True)
    )
    nodes = tuple(
        replace(
            node,
            stock=node.stock + tuple(held[node.code]),
            remaining_capacity_orders=None
            if node.remaining_capacity_orders is None
            else node.remaining_capacity_orders + slots[node.code],
        )
        if node.code in held or node.code in slots
        else node
        for node in ctx.nodes
    )
    return replace(ctx, nodes=nodes)


def _route_merged(order: Order) -> Order | None:
    """Route ``order`` together with the orders it can ship with; None: route it alone."""
    companions = merge_companions(order)
    if not companions:
        return None
    started = time.perf_counter()
    companions = sorted(_orders([c.pk for c in companions]), key=lambda o: (o.created_at, o.pk))
    together = sorted([order, *companions], key=lambda o: (o.created_at, o.pk))
    profile = context.active_profile(merchant_id=order.merchant_id)
    engine_order = with_preference(_merged_engine_order(together, order), order, profile)
    ctx = context.routing_context(
        merchant_id=order.merchant_id,
        skus={line.sku for line in engine_order.lines},
        destination_region=order.region,
        profile=profile,
        destination_province=order.province,
        own_holds=[o.external_id for o in together],
        temperatures={line.sku: line.temperature for line in engine_order.lines},
    )
    decision = route_order(engine_order, _counting_held(ctx, companions))
    duration_ms = (time.perf_counter() - started) * 1000
    names = ", ".join(f"#{other.pk}" for other in companions)
    if not decision.result.routed:
        _not_merged(
            order,
            f"together they cannot be routed ({decision.result.reason})",
            names,
            why_text=message("routing.together_unroutable"),
        )
        return None
    window = merge_window_minutes(order.merchant)
    lead = merge_lead(
        order.created_at, [(other.pk, other.channel.name, other.created_at) for other in companions]
    )
    merge_reason = message(
        "routing.merge_rule",
        english=f"same customer #{order.customer_id}, same delivery address, "
        f"within {window} min, none released yet.",
        customer=order.customer_id,
        window=window,
    )
    rule = {
        "rule": "same unified customer, same normalised delivery address, received within "
        "the merge window, none released to a warehouse",
        "customer": order.customer_id,
        "address": delivery_address_key(order),
        "window_minutes": window,
        "channels": {str(o.pk): o.channel.code for o in together},
    }
    allocations, carriers = _allocations(order, decision.result, together=together)
    try:
        with transaction.atomic():
            stored = _store(
                order,
                decision,
                profile=profile,
                outcome=RoutingDecision.Outcome.ROUTED,
                duration_ms=duration_ms,
                mode="single",
                lead=lead,
            )
            sentences = stored.explanation.splitlines()
            consolidation = orders_consolidate(
                order=order,
                companions=companions,
                allocations=allocations,
                actor=ACTOR,
                routing_reason=message(
                    "routing.explained",
                    english=sentences[0][:300],
                    decision=stored.pk,
                    part="head",
                ),
                merge_reason=merge_reason,
                rule=rule,
                carrier_by_warehouse=carriers,
                data={"decision": stored.pk, "method": decision.result.method},
            )
            stored.consolidation = consolidation
            stored.save(update_fields=["consolidation"])
            # The plans the merged orders were routed by no longer hold: this one does.
            RoutingDecision.objects.filter(
                Q(order__in=[o.pk for o in together]) | Q(consolidation=consolidation),
                outcome=RoutingDecision.Outcome.ROUTED,
            ).exclude(pk=stored.pk).update(outcome=RoutingDecision.Outcome.SUPERSEDED)
            if len(sentences) > 1:
                order_note(
                    order=order,
                    actor=ACTOR,
                    kind="routing",
                    message=message(
                        "routing.explained",
                        english=" ".join(sentences[1:]),
                        decision=stored.pk,
                        part="rest",
                    ),
                    data={"decision": stored.pk, "consolidation": consolidation.pk},
                )
    except (InsufficientStock, IllegalTransition) as exc:
        current = Order.objects.get(pk=order.pk)
        if current.status not in ROUTABLE:
            return current  # another worker routed it meanwhile (merged from the other side)
        logger.info("order %s: not merged with %s (%s)", order.pk, names, exc.message)
        why_text = exc.text if isinstance(exc.text, Message) else None
        _not_merged(order, exc.message, names, why_text=why_text)
        return None
    return Order.objects.get(pk=order.pk)


def _not_merged(order: Order, why: str, names: str, *, why_text: Message | None = None) -> None:
    order_note(
        order=order,
        actor=ACTOR,
        kind="routing",
        message=message(
            "routing.not_merged",
            english=f"Not merged with order {names}: {why.rstrip('.')}. Routed on its own."[:500],
            orders=names,
            why={"msg": why_text.stored()} if why_text else why,
        ),
        data={"companions": names},
    )


def orders_route_batch(
    *,
    merchant_id: int,
    region: str | None = None,
    limit: int = 500,
    options: BatchOptions | None = None,
) -> dict[str, int]:
    """Route the merchant's waiting orders (oldest first) jointly; returns counts by outcome.

    Orders whose plan can no longer be reserved (stock moved meanwhile) are routed again one by
    one, so every order leaves this function decided.
    """
    ids = Order.objects.filter(merchant_id=merchant_id, status=OrderStatus.CREATED)
    if region:
        ids = ids.filter(region=region)
    ids = list(ids.order_by("created_at").values_list("pk", flat=True)[:limit])
    for order_id in ids:
        before_route.send(sender=Order, order_id=order_id)
    orders = _orders(ids)
    if not orders:
        return {}
    started = time.perf_counter()
    profile = context.active_profile(merchant_id=merchant_id)
    engine_orders = [
        with_preference(context.engine_order(order), order, profile) for order in orders
    ]
    skus = {line.sku for eo in engine_orders for line in eo.lines}
    ctx = context.routing_context(
        merchant_id=merchant_id,
        skus=skus,
        profile=profile,
        destination_provinces=sorted({order.province for order in orders if order.province}),
        own_holds=[order.external_id for order in orders],
        temperatures={line.sku: line.temperature for eo in engine_orders for line in eo.lines},
    )
    batch = route_batch(engine_orders, ctx, options or BatchOptions())
    per_order_ms = (time.perf_counter() - started) * 1000 / len(orders)
    counts: dict[str, int] = {}
    by_id = {str(order.pk): (order, eo) for order, eo in zip(orders, engine_orders, strict=True)}
    for result in batch.results:
        order, engine_order = by_id[result.order_id]
        # The model the batch solved this order on (the high-value one for high-value orders),
        # so the explanation speaks as route_order's would.
        solved = plan_for_policy(engine_order, ctx, SolverOptions())
        model = solved.model
        plan = _plan_of(model, result)
        decision = Decision(
            result, explain(model, plan, ctx, money_objective=solved.money_objective)
        )
        applied, settled = _apply(
            order, decision, profile=profile, duration_ms=per_order_ms, mode="batch"
        )
        if not settled:
            rerouted = order_route(order_id=order.pk)
            if rerouted is None:
                continue  # deleted meanwhile: nothing to count
            applied = rerouted
        counts[applied.status] = counts.get(applied.status, 0) + 1
    return counts


def _plan_of(model, result: RoutingResult):
    """The engine plan behind a batch result, for its explanation (None when unroutable)."""
    if not result.routed:
        return None
    index_of_node = {node.code: k for k, node in enumerate(model.nodes)}
    index_of_sku = {line.sku: li for li, line in enumerate(model.lines)}
    quantities: dict[tuple[int, int], int] = {}
    for shipment in result.shipments:
        for line in shipment.lines:
            key = (index_of_sku[line.sku], index_of_node[shipment.node_code])
            quantities[key] = quantities.get(key, 0) + line.quantity
    return Plan(
        quantities=quantities,
        objective=result.objective,
        method=result.method,
        optimal=result.optimal,
    )
