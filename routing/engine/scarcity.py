"""Bid prices for scarce stock: what taking a unit now costs the orders still to come today.

An online router sees one order (or one window) at a time. Shipping a unit of a SKU from a
warehouse leaves one unit fewer there for the rest of the day; when the SKU is short, a later
order that needs it may then find none and go unrouted. The bid price of a unit of SKU ``s`` at
node ``k`` is the expected value of that unit to the rest of the day (network revenue
management: Talluri and van Ryzin's bid-price controls), in the objective's CNY:

    bid[k] = V * ( (1 - H) * P(D >= S) + H / N * sum_{j != k} P(D >= S - S_j) )

- ``S_j``: units of ``s`` node ``j`` can still ship today (usable stock for the SKU's
  temperature class, capped by the node's remaining unit capacity), over active nodes that may
  ship the class (cold chain for chilled and frozen); ``S`` their sum.
- ``D``: the SKU's demand over the rest of the day, Poisson with mean ``outlook.expected``
  (demand seen so far today, extrapolated over the hours left); ``P(D >= m)`` by the normal
  approximation with continuity correction.
- ``V``: what a unit a later order cannot get costs (``Prices.scarcity`` at the profile's
  weight on ``stock``; zero with all weight on money, so the money objective stays exact).
- ``H``: the chance that one of the ``N`` warehouses of the network stops for the rest of the
  day (``STOP_RISK``), each with the same chance ``H / N``.

The first term is the unit's value if every warehouse keeps working. It is the same at every
node, so it never changes which warehouse ships one order; in a batch it makes the master give
the last units to the orders that need fewest of them (an order some plan can serve is still
never left unrouted for it: ``batch._route_leftovers``). The second is the scenario where another
node ``j`` stops: then only the stock outside ``j`` is left, and a unit at ``k`` matters when the
rest of the day wants more than that. A unit at a node that holds a small share of the SKU is
the network's reserve if a large holder stops, so it is dearer than a unit at the large holder:
stock is drawn down where it is concentrated and kept where it is the only alternative. A unit
at ``k`` itself is worth nothing in the scenario where ``k`` stops.

The bid price is capped at ``V`` (a unit cannot be worth more than the sale it enables) and is
zero when the SKU is plentiful (``S`` far above ``D`` even without the largest holder).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

# The chance that one of the network's warehouses stops for the rest of a peak day (a fault, a
# cold-chain failure), spread evenly over the warehouses: about every other peak day.
STOP_RISK = 0.5


def demand_at_least(mean: float, units: float) -> float:
    """``P(D >= units)`` for Poisson demand with ``mean`` (normal approximation, continuity
    corrected; exact at the edges: 1 for ``units <= 0``, 0 for ``mean <= 0``)."""
    if units <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    z = (units - 0.5 - mean) / math.sqrt(mean)
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def bid_prices(
    supply: Mapping[str, float],
    expected: float,
    value: float,
    *,
    network_size: int | None = None,
    stop_risk: float = STOP_RISK,
) -> dict[str, float]:
    """Bid price of one unit at each node of ``supply`` (node code -> units it can ship).

    See the module docstring; ``value`` is ``V`` (CNY per unit), ``expected`` the mean demand
    over the rest of the day, ``network_size`` the number of nodes that may stop (at least those
    in ``supply``). Zero everywhere when ``value`` or ``expected`` is zero.
    """
    if value <= 0 or expected <= 0 or not supply:
        return dict.fromkeys(supply, 0.0)
    per_node = stop_risk / max(network_size or len(supply), len(supply))
    total = sum(supply.values())
    short = demand_at_least(expected, total)
    without = {code: demand_at_least(expected, total - units) for code, units in supply.items()}
    if_stopped = sum(without.values())
    return {
        code: min(
            value, value * ((1 - stop_risk) * short + per_node * (if_stopped - without[code]))
        )
        for code in supply
    }
