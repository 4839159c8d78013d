"""Which delivery options can be promised for a cart: routing's own plans, with windows.

A promise is only as good as the plan routing will choose once the order carries it. So each
option is a fixed point: a plan P and a window W such that routing, given the order promised by
the end of W, chooses P again, and P's expected arrival lies inside W.

Search. Routing is asked for its plan under its default promise (48 h, what an order without a
promise is routed for); that answer also names the expected transits of the (warehouse, carrier
service) pairs that can ship part of the cart. For the fastest of those faster than the default
plan at each service level (economy, express, same-day, cold chain; warehouses without services
count as one level; the two fastest there), at most ``MAX_FAST_CANDIDATES``, and for the default, routing is asked for
its plan under the promise of the window of that transit; the plan's window is computed
(``windows.arrival_window``); routing is asked again under the window's promise; until the plan
repeats (at most ``MAX_ROUNDS`` times; a plan that never settles is not offered). So a service
is offered when routing itself would ship the cart with it under the promise it makes. Deadlines
between two at which routing chooses the same plan are not asked (``_worth_asking``). The settled plans are the options, minus those another
option beats on arrival, price and certainty at once. Tags name the cheapest, the fastest and
the most certain.

The promise an order carries is the window's end less ``ALLOWANCE_HOURS``: the minutes between
the promise and routing (checkout, payment, the queue). Certainty is the engine's on-time
probability of the plan under that promise (every parcel on time).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo

from routing.engine.problem import Order, RoutingContext
from routing.promise.engine_adapter import CandidatePlan, Solved, plan_for_promise, transit_spread
from routing.promise.windows import Window, arrival_window

DEFAULT_PROMISE_HOURS = 48.0  # routing's promise for an order that carries none
ALLOWANCE_HOURS = 0.5
MAX_FAST_CANDIDATES = 3  # the fastest of at most three service levels
MAX_ROUNDS = 3
MAX_OPTIONS = 4


@dataclass(frozen=True)
class PromiseOption:
    plan: CandidatePlan
    window: Window
    tags: tuple[str, ...] = ()

    @property
    def promised_hours(self) -> float:
        return self.window.latest_hours


@dataclass(frozen=True)
class PromiseAnswer:
    options: tuple[PromiseOption, ...]
    reason: str = ""  # the engine's reason when nothing can be promised
    routing_calls: int = 0


def window_for(transit_hours: float, *, now: datetime, tz: tzinfo) -> Window:
    return arrival_window(
        now=now,
        tz=tz,
        transit_hours=transit_hours,
        spread_hours=transit_spread(transit_hours),
        allowance_hours=ALLOWANCE_HOURS,
    )


def promise_options(
    order: Order,
    ctx: RoutingContext,
    *,
    now: datetime,
    tz: tzinfo,
    carriers: Mapping[str, str] | None = None,
) -> PromiseAnswer:
    """The options routing can keep for ``order`` (see the module docstring)."""
    solved: dict[float, Solved] = {}

    def plan_at(hours: float) -> CandidatePlan | None:
        key = round(hours, 4)
        if key not in solved:
            solved[key] = plan_for_promise(
                order, ctx, hours, carriers=carriers, with_transits=not solved
            )
        return solved[key].plan

    default = plan_at(DEFAULT_PROMISE_HOURS)
    first = solved[round(DEFAULT_PROMISE_HOURS, 4)]
    if default is None:
        return PromiseAnswer((), first.reason, 1)
    deadlines: list[float] = []
    levels: set[str] = set()
    # Only (warehouse, service) pairs faster than routing's default plan can make a faster
    # option; the fastest of each service level (transits come ascending).
    faster = [t for t in first.transits if t.hours < default.transit_hours - 1e-9]
    # Without carrier services (one level) the two fastest nodes are tried.
    second = faster[1:2] if len({t.level for t in faster}) == 1 else []
    for transit in faster:
        # The fastest of each service level.
        if transit.level in levels and transit not in second:
            continue
        levels.add(transit.level)
        hours = window_for(transit.hours, now=now, tz=tz).latest_hours - ALLOWANCE_HOURS
        if hours not in deadlines:
            deadlines.append(hours)
        if len(deadlines) == MAX_FAST_CANDIDATES:
            break
    if DEFAULT_PROMISE_HOURS not in deadlines:
        deadlines.append(DEFAULT_PROMISE_HOURS)
    deadlines = _worth_asking(plan_at, sorted(deadlines))

    settled: dict[tuple, PromiseOption] = {}
    for hours in deadlines:
        option = _settle(plan_at, hours, now=now, tz=tz)
        if option is not None and option.plan.key not in settled:
            settled[option.plan.key] = option
    if not settled:
        return PromiseAnswer((), "no plan settles on a promise routing would keep", len(solved))
    return PromiseAnswer(_tagged(_undominated(list(settled.values()))), "", len(solved))


def _worth_asking(plan_at, deadlines: list[float]) -> list[float]:
    """The ascending ``deadlines`` routing is asked about, by bisection: when routing chooses
    the same plan at two deadlines, the ones between them are not asked (a looser promise only
    lowers the lateness and certainty terms, so the plan that wins at both ends is expected to
    win between them). A deadline left out can only mean an option not offered, never a wrong
    one: every option offered is still settled (see the module docstring)."""

    def key(hours: float) -> tuple | None:
        plan = plan_at(hours)
        return plan.key if plan is not None else None

    asked = {0, len(deadlines) - 1}

    def between(lo: int, hi: int) -> None:
        if hi - lo < 2 or key(deadlines[lo]) == key(deadlines[hi]):
            return
        mid = (lo + hi) // 2
        asked.add(mid)
        between(lo, mid)
        between(mid, hi)

    between(0, len(deadlines) - 1)
    return [deadlines[i] for i in sorted(asked)]


def _settle(plan_at, hours: float, *, now: datetime, tz: tzinfo) -> PromiseOption | None:
    plan = plan_at(hours)
    for _round in range(MAX_ROUNDS):
        if plan is None:
            return None
        window = window_for(plan.transit_hours, now=now, tz=tz)
        again = plan_at(window.latest_hours - ALLOWANCE_HOURS)
        if again is not None and again.key == plan.key:
            return PromiseOption(again, window)
        plan = again
    return None


def _undominated(options: list[PromiseOption]) -> list[PromiseOption]:
    def beats(a: PromiseOption, b: PromiseOption) -> bool:
        no_worse = (
            a.window.latest <= b.window.latest
            and a.plan.shipping_price <= b.plan.shipping_price + 0.005
            and a.plan.certainty >= b.plan.certainty - 1e-9
        )
        better = (
            a.window.latest < b.window.latest
            or a.plan.shipping_price < b.plan.shipping_price - 0.005
            or a.plan.certainty > b.plan.certainty + 1e-9
        )
        return no_worse and better

    kept = [o for o in options if not any(beats(other, o) for other in options)]
    kept.sort(key=lambda o: (o.window.latest, o.plan.shipping_price, -o.plan.certainty))
    return kept[:MAX_OPTIONS]


def _tagged(options: list[PromiseOption]) -> tuple[PromiseOption, ...]:
    cheapest = min(options, key=lambda o: (round(o.plan.shipping_price, 2), o.window.latest))
    fastest = min(options, key=lambda o: (o.window.latest, o.plan.shipping_price))
    certain = max(options, key=lambda o: (round(o.plan.certainty, 4), -o.plan.shipping_price))
    out = []
    for option in options:
        tags = tuple(
            tag
            for tag, chosen in (
                ("cheapest", cheapest),
                ("fastest", fastest),
                ("most_certain", certain),
            )
            if chosen is option
        )
        out.append(PromiseOption(option.plan, option.window, tags))
    return tuple(out)
