"""The order state machine.

``created -> routed -> released -> shipped -> delivered`` is the happy path. Routing may send an
order to ``needs_attention`` (unroutable, with a reason) instead; from there staff or a later
routing run can route it again. ``cancelled`` is reachable until the parcel has left, and it
releases every reservation. ``delivered`` and ``cancelled`` are final.
"""

from oms.models import OrderStatus as S

TRANSITIONS: dict[str, frozenset[str]] = {
    S.CREATED: frozenset({S.ROUTED, S.NEEDS_ATTENTION, S.CANCELLED}),
    S.NEEDS_ATTENTION: frozenset({S.ROUTED, S.CREATED, S.CANCELLED}),
    S.ROUTED: frozenset({S.RELEASED, S.NEEDS_ATTENTION, S.CANCELLED, S.CREATED}),
    S.RELEASED: frozenset({S.SHIPPED, S.CANCELLED}),
    S.SHIPPED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset(),
    S.CANCELLED: frozenset(),
}

# Orders in these states hold reservations.
HOLDS_STOCK = frozenset({S.ROUTED, S.RELEASED})


def can_transition(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())
